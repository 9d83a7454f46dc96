"""What a mutation run found, step by step, and the triage of what survived.

Each step's mutants are kept in `docs/mutation/step-N.json` (committed, written by the
run); `course/mutation-triage.toml` says which survivors are equivalent or not taught,
and why. The table on the site is rendered from both, so a triage can be edited and the
table regenerated without running the mutants again.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

from cosmic_ray.work_db import WorkDB
from cosmic_ray.work_item import TestOutcome, WorkerOutcome

from course.manifest import REPO_ROOT

RESULTS = REPO_ROOT / "docs" / "mutation"
TRIAGE = REPO_ROOT / "course" / "mutation-triage.toml"
GOAL = 0.9


class Outcome(StrEnum):
    """What grading made of one mutant."""

    KILLED = "killed"  # a check failed
    SURVIVED = "survived"  # every check passed
    SKIPPED = "skipped"  # not run: inside a type annotation, or no change at all
    ERROR = "error"  # the test command could not run


class Verdict(StrEnum):
    """Why a survivor does not count against the grading tests."""

    EQUIVALENT = "equivalent"  # the mutated code behaves the same
    NOT_TAUGHT = "not-taught"  # a difference the course does not teach or grade


@dataclass(frozen=True)
class Mutant:
    """One change Cosmic Ray made, and what grading made of it."""

    file: str  # relative to the project
    line: int
    operator: str
    occurrence: int
    code: str  # the unchanged source line, stripped
    outcome: Outcome


@dataclass(frozen=True)
class Triage:
    """A survivor explained: every mutant of `operator` on the line `code` of `file`."""

    file: str
    operator: str
    code: str
    verdict: Verdict
    reason: str

    def covers(self, mutant: Mutant) -> bool:
        """Whether this explains `mutant`."""
        return (mutant.file, mutant.operator, mutant.code) == (self.file, self.operator, self.code)


@dataclass(frozen=True)
class StepResult:
    """The mutants of the files a step's row counts."""

    step: int
    tool: str  # "cosmic-ray 8.7.0"
    date: str  # ISO 8601, when the run ended
    mutants: tuple[Mutant, ...]

    def write(self, folder: Path = RESULTS) -> Path:
        """Write `step-N.json` in `folder`; return its path."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"step-{self.step}.json"
        data = asdict(self)
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: Path) -> StepResult:
        """The result a run wrote to `path`."""
        data = json.loads(path.read_text(encoding="utf-8"))
        mutants = tuple(
            Mutant(**{**mutant, "outcome": Outcome(mutant["outcome"])})
            for mutant in data["mutants"]
        )
        return cls(step=data["step"], tool=data["tool"], date=data["date"], mutants=mutants)


@dataclass
class Score:
    """A step's row of the table, with the triage applied."""

    step: int
    mutants: int = 0  # run: killed, survived or error
    killed: int = 0
    errors: int = 0
    equivalent: int = 0
    not_taught: int = 0
    survivors: list[Mutant] = field(default_factory=list)  # not explained by the triage

    @property
    def counted(self) -> int:
        """The mutants that a check should kill: all but the explained survivors."""
        return self.mutants - self.equivalent - self.not_taught

    @property
    def ratio(self) -> float:
        """Killed of the counted mutants (1.0 when there are none)."""
        return self.killed / self.counted if self.counted else 1.0


def score(result: StepResult, triage: Sequence[Triage]) -> Score:
    """`result`'s row: every survivor explained by `triage` moved to its verdict."""
    row = Score(step=result.step)
    for mutant in result.mutants:
        if mutant.outcome is Outcome.SKIPPED:
            continue
        row.mutants += 1
        if mutant.outcome is Outcome.KILLED:
            row.killed += 1
        elif mutant.outcome is Outcome.ERROR:
            row.errors += 1
        else:
            verdict = next((t.verdict for t in triage if t.covers(mutant)), None)
            if verdict is Verdict.EQUIVALENT:
                row.equivalent += 1
            elif verdict is Verdict.NOT_TAUGHT:
                row.not_taught += 1
            else:
                row.survivors.append(mutant)
    return row


def load_triage(path: Path = TRIAGE) -> list[Triage]:
    """The triaged survivors of `course/mutation-triage.toml`."""
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return [
        Triage(
            file=entry["file"],
            operator=entry["operator"],
            code=entry["code"],
            verdict=Verdict(entry["verdict"]),
            reason=entry["reason"],
        )
        for entry in data.get("survivor", [])
    ]


def load_results(folder: Path = RESULTS) -> list[StepResult]:
    """Every step's last result, by step."""
    found = [StepResult.read(path) for path in folder.glob("step-*.json")]
    return sorted(found, key=lambda result: result.step)


def outcome_of(worker: WorkerOutcome, test: TestOutcome | None) -> Outcome:
    """A Cosmic Ray result as an Outcome."""
    if worker in (WorkerOutcome.SKIPPED, WorkerOutcome.NO_TEST):
        return Outcome.SKIPPED
    if worker is not WorkerOutcome.NORMAL or test is TestOutcome.INCOMPETENT:
        return Outcome.ERROR
    return Outcome.KILLED if test is TestOutcome.KILLED else Outcome.SURVIVED


def session_mutants(db: WorkDB, project: Path) -> Iterable[Mutant]:
    """The mutants of a finished session whose files are under `project`."""
    lines: dict[Path, list[str]] = {}
    for item, result in db.completed_work_items:
        for mutation in item.mutations:
            path = Path(mutation.module_path)
            if path not in lines:
                lines[path] = path.read_text(encoding="utf-8").splitlines()
            row = mutation.start_pos[0]
            yield Mutant(
                file=path.relative_to(project).as_posix(),
                line=row,
                operator=mutation.operator_name,
                occurrence=mutation.occurrence,
                code=lines[path][row - 1].strip(),
                outcome=outcome_of(result.worker_outcome, result.test_outcome),
            )
