"""Three-way merges of a learner's file with the course's changes, and the conflicts left.

The merge itself is git's (`git merge-file`), the one a learner meets in every
project: on a conflict it writes the standard markers, which editors highlight
and offer to resolve.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

YOURS = "your code"
# A marker line is the marker alone or followed by a space and a label, at the start of a line.
MARKER = re.compile(rb"^(<{7}|={7}|>{7})(?: .*)?$", re.MULTILINE)
# Folders that hold no learner source: never scanned for conflict markers.
SKIPPED = frozenset({".git", ".venv", "venv", "__pycache__", "node_modules", ".mypy_cache"})


class MergeError(Exception):
    """git could not merge (it is missing, or failed for another reason than conflicts)."""


@dataclass(frozen=True)
class Merged:
    """The result of one three-way merge."""

    content: bytes
    conflicts: int  # how many conflicting regions carry markers


def merge_file(ours: bytes, base: bytes, theirs: bytes, theirs_label: str) -> Merged:
    """Merge the changes from `base` to `theirs` into `ours` with `git merge-file`."""
    with tempfile.TemporaryDirectory(prefix="course-merge-") as scratch:
        paths = [Path(scratch) / name for name in ("ours", "base", "theirs")]
        for path, content in zip(paths, (ours, base, theirs), strict=True):
            path.write_bytes(content)
        try:
            result = subprocess.run(
                ["git", "merge-file", "-p", "-L", YOURS, "-L", "before", "-L", theirs_label,
                 *map(str, paths)],
                capture_output=True, check=False,
            )  # fmt: skip
        except FileNotFoundError as exc:
            raise MergeError("git is not installed; it does the merging") from exc
    # The exit status is the number of conflicts (capped at 127); negative on an error.
    if result.returncode < 0 or result.returncode > 127:
        raise MergeError(result.stderr.decode(errors="replace").strip() or "git merge-file failed")
    return Merged(result.stdout, result.returncode)


@dataclass(frozen=True)
class Conflict:
    """An unresolved conflict: the file and the line of its first marker."""

    path: str  # relative to the project, with forward slashes
    line: int

    def __str__(self) -> str:
        return f"{self.path} (line {self.line})"


def conflict_markers(content: bytes) -> list[int]:
    """The lines of the `<<<<<<<` markers followed by a `=======` and a `>>>>>>>`."""
    starts: list[int] = []
    expect = b"<<<<<<<"
    opened = 0
    for match in MARKER.finditer(content):
        kind = match.group(1)
        line = content.count(b"\n", 0, match.start()) + 1
        if kind == b"<<<<<<<":
            expect, opened = b"=======", line
        elif kind == expect == b"=======":
            expect = b">>>>>>>"
        elif kind == expect == b">>>>>>>":
            starts.append(opened)
            expect = b"<<<<<<<"
    return starts


def find_conflicts(root: Path) -> list[Conflict]:
    """Every unresolved merge conflict in the text files under `root`, in path order."""
    found: list[Conflict] = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or SKIPPED.intersection(relative.parts):
            continue
        try:
            content = path.read_bytes()
        except OSError:
            continue
        if b"\0" in content[:8192]:  # binary
            continue
        found.extend(Conflict(relative.as_posix(), line) for line in conflict_markers(content))
    return found
