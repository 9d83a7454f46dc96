"""Tamper evidence: one digest of everything that decides a grade.

In a learner's fork the classroom workflow grades with the fork's own grading tests
and grader, which the learner can edit. Every grade report records the digest of
those files; the course publishes the digest of its own (`course/grading/DIGEST`,
kept current by `python -m course digest --write` and checked by the course's tests),
so a report made with modified tests says so.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from course.manifest import MANIFEST_PATH, REPO_ROOT

PUBLISHED = Path(__file__).with_name("DIGEST")
# What decides a grade: the grading tests and their conftest files, the grader, the
# manifest (points), and the pytest configuration they run under.
GRADING_FILES = (
    "tests/step_*/**/*.py",
    "tests/conftest.py",
    "tests/__init__.py",
    "course/grading/**/*.py",
    "course/grading/*.json",
    "course/manifest.py",
    "course/merge.py",
    "course/course.toml",
    "pyproject.toml",
)


def grading_files(root: Path = REPO_ROOT) -> list[Path]:
    """The files the digest covers, in a fixed order."""
    found = {
        path
        for pattern in GRADING_FILES
        for path in root.glob(pattern)
        if path.is_file() and "__pycache__" not in path.parts
    }
    return sorted(found, key=lambda path: path.relative_to(root).as_posix())


def compute_digest(root: Path = REPO_ROOT) -> str:
    """SHA-256 over each file's path and text (line endings normalised, as git may change them)."""
    digest = hashlib.sha256()
    for path in grading_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()


@cache
def grader_digest() -> str:
    """The digest of this grader's own files, computed once per process.

    Every report carries it, and watch mode builds one on every save: the course's
    grading files do not change under a running grader, so reading them once is enough.
    """
    return compute_digest()


def course_version(manifest_path: Path = MANIFEST_PATH) -> str:
    """The course's version, from its manifest."""
    return str(tomllib.loads(manifest_path.read_text(encoding="utf-8"))["version"])


@dataclass(frozen=True)
class Provenance:
    """What a grade was made with: the course version and the digest of its grading files."""

    course_version: str
    digest: str
    published: str

    @property
    def modified(self) -> bool:
        """Whether the grading files differ from the ones the course published."""
        return self.digest != self.published

    @classmethod
    def of_this_grader(cls) -> Provenance:
        """The provenance of the grader running now."""
        published = PUBLISHED.read_text(encoding="utf-8").strip() if PUBLISHED.exists() else ""
        return cls(course_version(), grader_digest(), published)
