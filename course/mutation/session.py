"""Run one Cosmic Ray session: a copy of the solution, its files mutated one change at a time.

The test command grades the copy on the unit's steps with `--strict`, on SQLite and then
on PostgreSQL (`course.mutation.verdict`): it exits 1 when a check fails on either, which
Cosmic Ray counts as the mutant killed. A session interrupted midway
goes on where it stopped when run again (`resume`).
"""

from __future__ import annotations

import ast
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import WorkerOutcome, WorkResult

from course.manifest import REPO_ROOT
from course.mutation.plan import Unit

COPY_IGNORE = shutil.ignore_patterns("__pycache__", "*.db", ".venv", ".pytest_cache")
# One grading of a unit's steps: its budget; Cosmic Ray's timeout a little above two.
GRADE_BUDGET_S = 300
TIMEOUT_S = 2 * GRADE_BUDGET_S + 60
IN_ANNOTATION = "in a type annotation: `str | None` made `str + None` is a crash, not a mistake"


class SessionError(Exception):
    """A session could not start: the unmutated copy fails its own grading."""


def config_text(unit: Unit, project: Path, reports: Path) -> str:
    """The session's Cosmic Ray configuration (TOML; JSON strings are TOML strings)."""
    steps = " ".join(f"--step {step}" for step in unit.steps)
    command = (
        f"{shlex.quote(sys.executable)} -m course.mutation.verdict {shlex.quote(str(project))} "
        f"{steps} "
        f"--strict --budget {GRADE_BUDGET_S} --reports {shlex.quote(str(reports))}"
    )
    paths = ", ".join(json.dumps(str(project / file)) for file in unit.files)
    return (
        "[cosmic-ray]\n"
        f"module-path = [{paths}]\n"
        f"timeout = {TIMEOUT_S}.0\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(command)}\n\n"
        '[cosmic-ray.distributor]\nname = "local"\n'
    )


class Session:
    """The files of one unit's session under `folder`."""

    def __init__(self, unit: Unit, folder: Path) -> None:
        self.unit = unit
        self.folder = folder
        self.project = folder / "project"
        self.config = folder / "cosmic-ray.toml"
        self.database = folder / "session.sqlite"
        self.log = folder / "cosmic-ray.log"

    def prepare(self, solution: Path) -> None:
        """A fresh copy of `solution`, the configuration, every mutant listed (none run)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        shutil.copytree(solution, self.project, ignore=COPY_IGNORE)
        self.config.write_text(
            config_text(self.unit, self.project, self.folder / "grade"), encoding="utf-8"
        )
        self._cosmic_ray("init", str(self.config), str(self.database))
        with use_db(str(self.database), WorkDB.Mode.open) as db:
            skip_annotations(db)

    def check_baseline(self) -> None:
        """Raise SessionError unless the unmutated copy passes every check of its steps."""
        baseline = self.folder / "baseline.sqlite"
        code = self._cosmic_ray("baseline", str(self.config), "--session-file", str(baseline))
        if code != 0:
            raise SessionError(
                f"the unmutated solution fails steps {self.unit.steps}: see {self.log}"
            )

    def resume(self) -> None:
        """Run every mutant that has no result yet."""
        self._cosmic_ray("exec", str(self.config), str(self.database))

    def _cosmic_ray(self, *args: str) -> int:
        with self.log.open("a", encoding="utf-8") as out:
            return subprocess.run(
                [sys.executable, "-m", "cosmic_ray.cli", *args],
                cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, check=False,
            ).returncode  # fmt: skip


Span = tuple[tuple[int, int], tuple[int, int]]


def annotation_spans(source: str) -> list[Span]:
    """The (line, column) span of every type annotation in `source`: parameters, returns
    and annotated assignments (lines from 1, columns from 0, as Cosmic Ray reports them)."""
    spans: list[Span] = []
    for node in ast.walk(ast.parse(source)):
        annotation: ast.expr | None = None
        if isinstance(node, ast.arg | ast.AnnAssign):
            annotation = node.annotation
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            annotation = node.returns
        if annotation is not None and annotation.end_lineno is not None:
            end = (annotation.end_lineno, annotation.end_col_offset or 0)
            spans.append(((annotation.lineno, annotation.col_offset), end))
    return spans


def skip_annotations(db: WorkDB) -> None:
    """Mark as skipped every pending mutant inside a type annotation."""
    spans: dict[str, list[Span]] = {}
    for item in list(db.pending_work_items):
        for mutation in item.mutations:
            path = str(mutation.module_path)
            if path not in spans:
                spans[path] = annotation_spans(Path(path).read_text(encoding="utf-8"))
            position = (mutation.start_pos[0], mutation.start_pos[1])
            if any(start <= position < end for start, end in spans[path]):
                db.set_result(
                    item.job_id,
                    WorkResult(output=IN_ANNOTATION, worker_outcome=WorkerOutcome.SKIPPED),
                )
                break
