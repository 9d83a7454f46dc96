"""Load untrusted learner code safely: a snapshot, a guarded `import app`, plain messages.

The grader never imports from the graded folder itself: it copies it to a
temporary snapshot (so nothing is written into it) and installs an import hook
that resolves `app` and `app.*` from the snapshot only, compiled from their
source every time (their bytecode is neither read nor written anywhere).
A module that fails to import fails every later import at once with the same
message, so one broken file costs seconds, not a timeout per test.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import shutil
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, ModuleType, TracebackType
from typing import Any

from course.grading.hints import (
    HINT,
    LEARNER_PACKAGE,
    database_hint,
    database_unreachable,
    library_hint,
    missing_library,
)

PACKAGE = LEARNER_PACKAGE
SNAPSHOT_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "venv", ".nox", "__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache",
    ".ruff_cache", "node_modules", "reports", "site", "*.db", "*.db-journal", "*.db-wal",
    "*.db-shm", "htmlcov",
)  # fmt: skip


TIMEOUT_MESSAGE = (
    "it did not finish in time: is there an infinite loop, or code that waits forever "
    "(for example a blocking call on the event loop)?"
)


class LearnerImportError(ImportError):
    """A module of the learner's code could not be imported."""


@dataclass(frozen=True)
class Snapshot:
    """A private copy of the graded folder."""

    original: Path
    root: Path

    def relative(self, path: str | Path) -> str | None:
        """`path` relative to the snapshot (as the learner knows it), or None if outside."""
        try:
            return Path(path).resolve().relative_to(self.root).as_posix()
        except ValueError:
            return None


def take_snapshot(target: Path) -> Snapshot:
    """Copy `target` to a fresh temporary folder."""
    base = Path(tempfile.mkdtemp(prefix="grade-"))
    root = base / (target.resolve().name or "target")
    if target.is_dir():
        shutil.copytree(target, root, ignore=SNAPSHOT_IGNORE, symlinks=True)
    else:
        root.mkdir()
    return Snapshot(original=target.resolve(), root=root.resolve())


def learner_frame(tb: TracebackType | None, snapshot: Snapshot) -> tuple[str, int, str] | None:
    """The innermost traceback frame in the learner's code: (file, line, function)."""
    found = None
    for frame, line in traceback.walk_tb(tb):
        relative = snapshot.relative(frame.f_code.co_filename)
        if relative is not None:
            found = (relative, line, frame.f_code.co_name)
    return found


def describe_exception(exc: BaseException, snapshot: Snapshot) -> str:
    """One or two plain sentences about an exception raised by learner code."""
    if isinstance(exc, LearnerImportError):
        return str(exc)
    if isinstance(exc, SyntaxError) and exc.filename:
        where = snapshot.relative(exc.filename) or exc.filename
        return f"{where}, line {exc.lineno}: {type(exc).__name__}: {exc.msg}"
    if type(exc).__name__ == "Failed" and str(exc).startswith("Timeout"):  # pytest-timeout
        return TIMEOUT_MESSAGE
    if isinstance(exc, SystemExit):
        return f"the code called sys.exit({exc.code!r}) (or exit()); a library must never do that"
    # Paths inside the private snapshot mean nothing to the learner: show them relative.
    text = str(exc).replace(f"{snapshot.root}/", "").strip().splitlines()
    summary = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    if database_unreachable(exc):
        # The URL is the cause, not the line that connected: point at the setting.
        return f"{summary} {HINT} {database_hint()}"
    found = learner_frame(exc.__traceback__, snapshot)
    if found is not None:
        file, line, function = found
        summary += f" (in {function}, {file} line {line})"
    library = missing_library(exc.name) if isinstance(exc, ModuleNotFoundError) else None
    if library is not None:
        summary += f" {HINT} " + library_hint(library, found[0] if found else None)
    return summary


class _SourceOnlyLoader(importlib.machinery.SourceFileLoader):
    """Compiles a learner module from its source; no bytecode is read or written.

    The grading process may keep a bytecode cache for the libraries (see
    `runner.bytecode_cache`); the learner's modules stay out of it.
    """

    def get_code(self, fullname: str) -> CodeType:
        path = self.get_filename(fullname)
        return self.source_to_code(self.get_data(path), path)


class _GuardedLoader(importlib.abc.Loader):
    """Runs a learner module and remembers if it failed."""

    def __init__(self, inner: importlib.abc.Loader, finder: LearnerFinder, name: str) -> None:
        self._inner = inner
        self._finder = finder
        self._name = name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        try:
            self._inner.exec_module(module)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            reason = describe_exception(exc, self._finder.snapshot)
            message = f"importing {self._name} failed: {reason}"
            self._finder.failures[self._name] = message
            raise LearnerImportError(message, name=self._name) from exc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class LearnerFinder(importlib.abc.MetaPathFinder):
    """Resolves `app` and `app.*` from the snapshot, and nowhere else."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.failures: dict[str, str] = {}

    def find_spec(
        self,
        fullname: str,
        path: Any = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != PACKAGE and not fullname.startswith(PACKAGE + "."):
            return None
        if fullname in self.failures:
            raise LearnerImportError(self.failures[fullname], name=fullname)
        search = [str(self.snapshot.root)] if fullname == PACKAGE else path
        spec = importlib.machinery.PathFinder.find_spec(fullname, search)
        if spec is None:
            file = fullname.replace(".", "/")
            raise ModuleNotFoundError(
                f"there is no module {fullname} (expected {file}.py or {file}/__init__.py)",
                name=fullname,
            )
        if isinstance(spec.loader, importlib.machinery.SourceFileLoader) and spec.origin:
            spec.loader = _SourceOnlyLoader(fullname, spec.origin)
        if spec.loader is not None and spec.origin not in (None, "namespace"):
            spec.loader = _GuardedLoader(spec.loader, self, fullname)
        return spec


def install_finder(snapshot: Snapshot) -> LearnerFinder:
    """Put the learner finder first on `sys.meta_path` and forget any cached `app`."""
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    finder = LearnerFinder(snapshot)
    sys.meta_path.insert(0, finder)
    return finder
