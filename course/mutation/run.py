"""`python -m course mutation`: run the sessions of the chosen steps, then write the table."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from cosmic_ray.work_db import WorkDB, use_db

from course.manifest import REPO_ROOT, load_manifest
from course.mutation import table
from course.mutation.plan import Unit, units
from course.mutation.results import Mutant, StepResult, load_results, load_triage, session_mutants
from course.mutation.session import Session

SOLUTION = REPO_ROOT / "solution"
WORK = REPO_ROOT / "reports" / "mutation"


def sessions(chosen: Sequence[Unit], work: Path) -> list[Session]:
    """One session per file, so that `jobs` of them can run side by side."""
    return [
        Session(Unit(steps=unit.steps, files=(file,)), work / unit.name / file.replace("/", "."))
        for unit in chosen
        for file in unit.files
    ]


def mutants_of(session: Session) -> list[Mutant]:
    """What a finished session found."""
    with use_db(str(session.database), WorkDB.Mode.open) as db:
        return list(session_mutants(db, session.project))


def mutate(
    steps: set[int] | None,
    jobs: int,
    *,
    work: Path = WORK,
    solution: Path = SOLUTION,
    only: Sequence[str] = (),
) -> list[StepResult]:
    """Grade every mutant of the files counted in `steps` (default: all), `jobs` at a time.

    `only` restricts the run to those files. The unmutated copy of each set of steps is
    graded first: a solution that fails its own checks would make every mutant look killed.
    """
    planned = sessions(units(load_manifest(), solution, steps), work)
    if only:
        planned = [session for session in planned if session.unit.files[0] in only]
    for session in planned:
        session.prepare(solution)
    baselines = {session.unit.steps: session for session in planned}.values()
    with ThreadPoolExecutor(max(jobs, 1)) as pool:
        list(pool.map(Session.check_baseline, baselines))
        list(pool.map(Session.resume, planned))
    tool = f"cosmic-ray {importlib.metadata.version('cosmic-ray')}"
    date = datetime.now(UTC).isoformat(timespec="seconds")
    results = []
    for number in sorted({session.unit.step for session in planned}):
        found = [m for s in planned if s.unit.step == number for m in mutants_of(s)]
        results.append(StepResult(step=number, tool=tool, date=date, mutants=tuple(found)))
    return results


def main(steps: set[int] | None, jobs: int, *, report_only: bool = False) -> int:
    """Run (unless `report_only`), write each step's result and the table; print the table."""
    if not report_only:
        for result in mutate(steps, jobs):
            print(f"wrote {result.write().relative_to(REPO_ROOT)}")
    results, triage = load_results(), load_triage()
    text = table.render(load_manifest(), results, triage)
    print(f"wrote {table.write(text).relative_to(REPO_ROOT)}")
    details = table.write(table.render_details(results, triage), table.DETAILS)
    print(f"wrote {details.relative_to(REPO_ROOT)}")
    print(text)
    return 0
