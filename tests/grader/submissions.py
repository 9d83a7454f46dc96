"""Build submissions for the batch and watch tests from copies of the solution."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from course.manifest import REPO_ROOT

SOLUTION = REPO_ROOT / "solution"


def copy_solution(dest: Path) -> Path:
    """A clean copy of the solution at `dest`."""
    shutil.copytree(SOLUTION, dest, ignore=shutil.ignore_patterns("__pycache__", "*.db"))
    return dest


def edited_solution(name: str, edits: tuple[tuple[str, str, str], ...], dest: Path) -> Path:
    """A copy of the solution with text replacements `(file, old, new)`, each old text once."""
    copy_solution(dest)
    for file, old, new in edits:
        path = dest / file
        text = path.read_text()
        assert text.count(old) == 1, f"{name}: {old!r} must occur once in {file}"
        path.write_text(text.replace(old, new))
    return dest


def stub_functions(path: Path) -> None:
    """Replace the body of every function in `path` by `raise NotImplementedError`.

    This is what a starting checkpoint looks like: the signatures and docstrings are
    there, the work is not.
    """
    source = path.read_text()
    lines = source.splitlines(keepends=True)
    every = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    # A nested function goes with its parent's body.
    functions = [
        node
        for node in every
        if not any(o.lineno < node.lineno <= (o.end_lineno or 0) for o in every if o is not node)
    ]
    # Bottom up, so the line numbers of the functions still to edit stay right.
    for node in sorted(functions, key=lambda n: n.lineno, reverse=True):
        body = node.body
        docstring = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
        first = body[1] if docstring and len(body) > 1 else body[0]
        if docstring and len(body) == 1:
            continue
        start, end = first.lineno - 1, (node.end_lineno or first.lineno)
        indent = " " * first.col_offset
        lines[start:end] = [f"{indent}raise NotImplementedError\n"]
    path.write_text("".join(lines))


def checkpoint_like(dest: Path, *files: str) -> Path:
    """A solution copy with the functions of `files` stubbed out."""
    copy_solution(dest)
    for file in files:
        stub_functions(dest / file)
    return dest


def with_code(dest: Path, file: str, code: str) -> Path:
    """A solution copy with `code` put at the top of `file`."""
    copy_solution(dest)
    path = dest / file
    path.write_text(code + "\n" + path.read_text())
    return dest
