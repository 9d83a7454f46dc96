"""Execute the course notebooks against the solution on SQLite (nbclient).

    python -m course.notebooks [PREFIX ...]    # e.g. `03` runs notebooks/03-*.ipynb only

Each notebook runs in a fresh kernel (`python3`: the interpreter running this module,
which needs ipykernel) whose working folder is a temporary copy of solution/, with a
temporary SQLite database. Nothing is written into solution/ or into the notebooks.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from course.manifest import REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks"
SOLUTION = REPO_ROOT / "solution"


def notebook_paths(prefixes: Iterable[str] = ()) -> list[Path]:
    """The course notebooks, in step order; only those starting with a prefix, if given."""
    prefixes = tuple(prefixes)
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
    return [p for p in paths if not prefixes or p.name.startswith(prefixes)]


def execute(path: Path, timeout: float = 120) -> None:
    """Run every cell of one notebook; raise `nbclient.exceptions.CellExecutionError` on error.

    `timeout` bounds each cell, in seconds.
    """
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="notebook-run-") as scratch:
        work = Path(scratch) / "solution"
        shutil.copytree(
            SOLUTION,
            work,
            ignore=shutil.ignore_patterns("*.db", ".env", "__pycache__", ".*_cache"),
        )
        saved = {name: os.environ.get(name) for name in ("DATABASE_URL", "LOG_LEVEL")}
        os.environ["DATABASE_URL"] = f"sqlite+aiosqlite:///{Path(scratch) / 'app.db'}"
        os.environ["LOG_LEVEL"] = "WARNING"
        try:
            client = NotebookClient(
                notebook,
                timeout=timeout,
                kernel_name="python3",
                resources={"metadata": {"path": str(work)}},
            )
            client.execute()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def main(argv: list[str]) -> int:
    from nbclient.exceptions import CellExecutionError

    paths = notebook_paths(argv)
    if not paths:
        print(f"no notebook under {NOTEBOOKS} matches {argv}")
        return 2
    failed = []
    for path in paths:
        start = time.perf_counter()
        try:
            execute(path)
        except CellExecutionError as exc:
            failed.append(path.name)
            print(f"FAILED {path.name}\n{exc}")
            continue
        print(f"ok     {path.name} ({time.perf_counter() - start:.1f} s)")
    print(f"{len(paths) - len(failed)} of {len(paths)} notebooks ran without error")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
