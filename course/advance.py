"""Move a workspace from step N to step N+1 in place, keeping every line the learner wrote.

For each file, three versions meet:

- *yours*: the file in the workspace;
- *before*: the reference project at the end of step N (`course.checkpoints.build`);
- *after*: checkpoint N+1, which is *before* plus step N+1's scaffolding.

What changed from *before* to *after* (new files, new TODOs, new imports) is merged
into *yours* with `git merge-file`; a file step N+1 does not change is never touched.
The whole workspace is copied to a backup folder before anything is written.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from course.checkpoints import GUIDE, tree_files
from course.merge import conflict_markers, merge_file

STATE_FILE = ".checkpoint.toml"
# Not the learner's code, and too large or too local to copy into a backup.
BACKUP_IGNORED = ("__pycache__", ".venv", "venv", ".mypy_cache", ".ruff_cache", ".pytest_cache")
TODO = re.compile(rb"TODO\(step (\d+)\)")


@dataclass(frozen=True)
class WorkspaceState:
    """What the course knows of a workspace: the checkpoint it is on."""

    checkpoint: int

    @classmethod
    def read(cls, workspace: Path) -> WorkspaceState | None:
        """The workspace's state, or None if it has no (readable) state file."""
        try:
            data = tomllib.loads((workspace / STATE_FILE).read_text(encoding="utf-8"))
            return cls(checkpoint=int(data["checkpoint"]))
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError):
            return None

    def write(self, workspace: Path) -> None:
        """Record the state in the workspace."""
        (workspace / STATE_FILE).write_text(
            "# Written by `nox -s start` and `nox -s next`: the step this workspace is on.\n"
            "# The grader does not grade it; `nox -s next` reads it.\n"
            f"checkpoint = {self.checkpoint}\n",
            encoding="utf-8",
        )


def guess_checkpoint(workspace: Path) -> int | None:
    """The step a workspace without a state file seems to be on: its lowest TODO(step N)."""
    steps = {
        int(number)
        for content in tree_files(workspace).values()
        for number in TODO.findall(content)
    }
    return min(steps) if steps else None


class Action(StrEnum):
    """What `next` does with one file."""

    ADD = "add"  # new in step N+1 (or removed by the learner and needed again)
    UPDATE = "update"  # the learner never changed it: it becomes step N+1's version
    MERGE = "merge"  # the learner's file with step N+1's changes merged in cleanly
    CONFLICT = "conflict"  # merged, with conflict markers where both changed the same lines
    REMOVE = "remove"  # step N+1 no longer has it and the learner never changed it
    KEEP = "keep"  # step N+1 no longer has it, but the learner changed it: left alone


@dataclass(frozen=True)
class FileChange:
    """One file's part in a move to the next step."""

    path: str
    action: Action
    content: bytes | None = None  # what the file becomes (None: removed or kept)
    conflict_lines: tuple[int, ...] = ()


def plan(workspace: Path, before: Path, after: Path, label: str) -> list[FileChange]:
    """What moving `workspace` from `before` to `after` does to each file; writes nothing.

    `label` names step N+1 in conflict markers (`>>>>>>> step 4`).
    """
    yours, base, theirs = tree_files(workspace), tree_files(before), tree_files(after)
    changes = []
    if GUIDE in theirs and yours.get(GUIDE) != theirs[GUIDE]:
        # The step's guide is the course's text, not the learner's: it is replaced.
        changes.append(FileChange(GUIDE, Action.UPDATE, theirs[GUIDE]))
    for path in sorted((base.keys() | theirs.keys()) - {GUIDE}):
        change = _change(path, yours.get(path), base.get(path), theirs.get(path), label)
        if change is not None:
            changes.append(change)
    return changes


def _change(
    path: str, ours: bytes | None, base: bytes | None, theirs: bytes | None, label: str
) -> FileChange | None:
    if base == theirs or ours == theirs:
        return None  # step N+1 leaves it as it is, or the learner already has its version
    if theirs is None:
        if ours is None:
            return None
        return FileChange(path, Action.REMOVE if ours == base else Action.KEEP)
    if ours is None:
        return FileChange(path, Action.ADD, theirs)
    if ours == base:
        return FileChange(path, Action.UPDATE, theirs)
    merged = merge_file(ours, base or b"", theirs, label)
    if merged.conflicts:
        lines = tuple(conflict_markers(merged.content))
        return FileChange(path, Action.CONFLICT, merged.content, lines)
    return FileChange(path, Action.MERGE, merged.content)


def backup_path(workspace: Path) -> Path:
    """A new sibling folder for the workspace's backup: `workspace.backup-TIME`."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = workspace.with_name(f"{workspace.name}.backup-{stamp}")
    suffix = 1
    while candidate.exists():
        suffix += 1
        candidate = workspace.with_name(f"{workspace.name}.backup-{stamp}-{suffix}")
    return candidate


def back_up(workspace: Path) -> Path:
    """Copy the whole workspace (caches and virtual environments aside) next to it."""
    backup = backup_path(workspace)
    shutil.copytree(workspace, backup, ignore=shutil.ignore_patterns(*BACKUP_IGNORED))
    return backup


def apply(workspace: Path, changes: Iterable[FileChange]) -> None:
    """Write the planned changes into the workspace (back it up first)."""
    for change in changes:
        target = workspace / change.path
        if change.action is Action.REMOVE:
            target.unlink()
        elif change.content is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(change.content)
