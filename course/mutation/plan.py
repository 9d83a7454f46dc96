"""Which solution files are mutated, and which steps' grading tests judge each one."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from course.manifest import Manifest

# The code a learner writes and the grader judges: the app, its migrations, its script.
MUTATED_FOLDERS = ("app", "alembic", "scripts")


@dataclass(frozen=True)
class Unit:
    """Files mutated in one Cosmic Ray session: those owned by the same steps."""

    steps: tuple[int, ...]  # every step whose files include them, in order
    files: tuple[str, ...]  # relative to the project

    @property
    def step(self) -> int:
        """The step whose row of the table counts these files: the last one that owns them,
        since that step's grading tests judge them finished."""
        return self.steps[-1]

    @property
    def name(self) -> str:
        """A folder name for the session's files: `steps-2-7`."""
        return "steps-" + "-".join(str(step) for step in self.steps)


def mutated_files(project: Path) -> list[str]:
    """The Python files of `project` that are mutated, relative to it, sorted."""
    found = [
        path.relative_to(project).as_posix()
        for folder in MUTATED_FOLDERS
        for path in (project / folder).rglob("*.py")
        if "__pycache__" not in path.parts
    ]
    return sorted(found)


def units(manifest: Manifest, project: Path, steps: set[int] | None = None) -> list[Unit]:
    """The sessions that mutate `project`, one per set of owning steps.

    With `steps`, only the units counted in those steps' rows. A file no step owns is
    not mutated: no grading test judges it.
    """
    owners: defaultdict[tuple[int, ...], list[str]] = defaultdict(list)
    for file in mutated_files(project):
        owning = tuple(step.number for step in manifest.steps if step.declares(file))
        if owning:
            owners[owning].append(file)
    found = [Unit(steps=owning, files=tuple(files)) for owning, files in sorted(owners.items())]
    return [unit for unit in found if steps is None or unit.step in steps]
