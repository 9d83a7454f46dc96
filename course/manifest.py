"""The course manifest (`course/course.toml`): steps and their deliverables."""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MANIFEST_PATH = Path(__file__).with_name("course.toml")
REPO_ROOT = MANIFEST_PATH.parent.parent


@dataclass(frozen=True)
class Deliverable:
    """One gradable unit of a step."""

    key: str
    title: str
    points: int
    anchor: str
    step: int

    @property
    def is_workflow(self) -> bool:
        """Whether it is one of the workflow's numbered deliverables (D1 ... D21)."""
        return self.key.startswith("D")


@dataclass(frozen=True)
class Step:
    """One of the eight steps."""

    number: int
    slug: str
    title: str
    docs: str
    goal: str
    files: tuple[str, ...]  # what the learner creates or edits: paths or glob patterns
    deliverables: tuple[Deliverable, ...]

    def declares(self, path: str) -> bool:
        """Whether `path` (relative to the project) is one of this step's files."""
        return any(fnmatch.fnmatchcase(path, pattern) for pattern in self.files)

    @property
    def points(self) -> int:
        """Points the step is worth."""
        return sum(d.points for d in self.deliverables)

    @property
    def test_dir(self) -> str:
        """Folder of the step's grading tests, relative to the repository."""
        return f"tests/step_{self.number:02d}"


@dataclass(frozen=True)
class Manifest:
    """The whole course."""

    title: str
    docs_base: str
    steps: tuple[Step, ...]

    def step(self, number: int) -> Step:
        """The step with this number."""
        for step in self.steps:
            if step.number == number:
                return step
        raise KeyError(f"no step {number}; the course has steps 1 to {len(self.steps)}")

    def deliverable(self, key: str) -> Deliverable:
        """The deliverable with this key."""
        for step in self.steps:
            for deliverable in step.deliverables:
                if deliverable.key == key:
                    return deliverable
        raise KeyError(f"no deliverable {key!r} in the course manifest")

    def docs_link(self, deliverable: Deliverable) -> str:
        """Where a learner reads about `deliverable`: page and anchor."""
        return f"{self.docs_base}{self.step(deliverable.step).docs}#{deliverable.anchor}"

    @property
    def points(self) -> int:
        """Points the whole course is worth."""
        return sum(step.points for step in self.steps)


@cache
def load_manifest(path: Path = MANIFEST_PATH) -> Manifest:
    """Read and check the manifest."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    steps = tuple(
        Step(
            number=raw["number"],
            slug=raw["slug"],
            title=raw["title"],
            docs=raw["docs"],
            goal=raw["goal"],
            files=tuple(raw["files"]),
            deliverables=tuple(Deliverable(step=raw["number"], **d) for d in raw["deliverables"]),
        )
        for raw in data["steps"]
    )
    keys = [d.key for s in steps for d in s.deliverables]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ValueError(f"{path}: deliverable keys must be unique, repeated: {duplicates}")
    if [s.number for s in steps] != list(range(1, len(steps) + 1)):
        raise ValueError(f"{path}: steps must be numbered 1, 2, 3, ... in order")
    return Manifest(title=data["title"], docs_base=data["docs_base"], steps=steps)
