"""Generate the eight starting checkpoints `steps/NN-…/` from `solution/`.

One source of truth: the solution is the finished project, and each step's
recipe (`course/checkpoints/NN.toml`) says how to take that step's work back
out. Checkpoint 8 is the solution with step 8 removed, checkpoint 7 is
checkpoint 8 with step 7 removed, and so on down to step 1.

A recipe can
- `stub` functions: keep the signature and docstring, replace the body with a
  `TODO(step N)` marker and `raise NotImplementedError` (found with `ast`, so a
  renamed function fails the generation instead of silently drifting);
- `replace` exact text (each `old` must occur exactly once);
- give `starter` files, stored under `course/checkpoints/NN/`, that replace
  whole files (pyproject.toml, .gitignore, Dockerfile ...);
- `delete` files the learner creates during the step.

`python -m course checkpoints` writes `steps/`; `--check` only compares.
"""

from __future__ import annotations

import ast
import fnmatch
import shutil
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from course.manifest import REPO_ROOT, Manifest, Step

RECIPES = Path(__file__).with_name("checkpoints")
SOLUTION = REPO_ROOT / "solution"
STEPS = REPO_ROOT / "steps"
# Local by-products of working in solution/: never part of a checkpoint.
IGNORED = (
    "__pycache__", "*.pyc", "*.db", ".pytest_cache", ".mypy_cache", ".ruff_cache",
    ".import_linter_cache", ".env", "*.egg-info", "build",
)  # fmt: skip
IGNORE = shutil.ignore_patterns(*IGNORED)


class RecipeError(Exception):
    """A recipe no longer fits the solution (a function or text it names is gone)."""


@dataclass
class Recipe:
    """How to take one step's work out of the project."""

    step: int
    stubs: dict[str, list[str]] = field(default_factory=dict)  # file -> qualified names
    hints: dict[str, str] = field(default_factory=dict)  # qualified name -> TODO text
    replaces: list[tuple[str, str, str]] = field(default_factory=list)  # file, old, new
    starters: list[str] = field(default_factory=list)  # files replaced by a starter
    deletes: list[str] = field(default_factory=list)  # files or folders removed

    @classmethod
    def load(cls, step: int) -> Recipe:
        """Read `course/checkpoints/NN.toml` (an empty recipe if there is none)."""
        path = RECIPES / f"{step:02d}.toml"
        if not path.exists():
            return cls(step)
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return cls(
            step=step,
            stubs={item["file"]: item["functions"] for item in data.get("stub", [])},
            hints={k: v for item in data.get("stub", []) for k, v in item.get("hints", {}).items()},
            replaces=[(r["file"], r["old"], r["new"]) for r in data.get("replace", [])],
            starters=data.get("starters", []),
            deletes=data.get("delete", []),
        )


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Every function of a module by qualified name (`Class.method`)."""
    found: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                found[prefix + child.name] = child
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")

    visit(tree, "")
    return found


def stub_functions(source: str, names: list[str], step: int, hints: dict[str, str]) -> str:
    """Replace the bodies of `names` with a TODO marker and `raise NotImplementedError`."""
    functions = _functions(ast.parse(source))
    lines = source.splitlines(keepends=True)
    edits = []
    for name in names:
        node = functions.get(name)
        if node is None:
            raise RecipeError(f"no function {name} to stub")
        body = node.body
        has_docstring = (
            isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        )
        first = body[1] if has_docstring and len(body) > 1 else body[0]
        if has_docstring and len(body) == 1:
            raise RecipeError(f"{name} has nothing but a docstring to stub")
        start = first.lineno - 1
        # Comments directly above the first statement belong to the body too.
        while start > 0 and lines[start - 1].strip().startswith("#"):
            start -= 1
        indent = " " * first.col_offset
        hint = hints.get(name, "implement this function (see its docstring)")
        stub = f"{indent}# TODO(step {step}): {hint}\n{indent}raise NotImplementedError\n"
        edits.append((start, node.end_lineno, stub))
    for start, end, stub in sorted(edits, reverse=True):
        lines[start:end] = [stub]
    return "".join(lines)


def apply_recipe(root: Path, recipe: Recipe) -> None:
    """Take the recipe's step out of the project at `root`, in place."""
    where = f"step {recipe.step} recipe"
    for file in recipe.deletes:  # first, so that starters can refill a folder
        path = root / file
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            raise RecipeError(f"{where}: nothing to delete at {file}")
    for file, old, new in recipe.replaces:
        path = root / file
        text = path.read_text(encoding="utf-8")
        if text.count(old) != 1:
            raise RecipeError(
                f"{where}: the text to replace occurs {text.count(old)} times in {file}:\n{old}"
            )
        path.write_text(text.replace(old, new), encoding="utf-8")
    for file, names in recipe.stubs.items():
        path = root / file
        try:
            stubbed = stub_functions(path.read_text(encoding="utf-8"), names, recipe.step,
                                     recipe.hints)  # fmt: skip
        except (RecipeError, FileNotFoundError) as exc:
            raise RecipeError(f"{where}, {file}: {exc}") from exc
        path.write_text(stubbed, encoding="utf-8")
    for file in recipe.starters:
        source = RECIPES / f"{recipe.step:02d}" / file
        if not source.exists():
            raise RecipeError(f"{where}: starter {source} is missing")
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, root / file)


def checkpoint_readme(step: Step, manifest: Manifest, project_readme: str | None) -> str:
    """The checkpoint's README: what to do in this step, then the project's own README."""
    files = "\n".join(f"- `{file}`" for file in step.files) or "- (see the step page)"
    deliverables = "\n".join(f"- **{d.key}** — {d.title}" for d in step.deliverables)
    header = f"""# Checkpoint {step.number}: {step.title}

This folder is the project at the start of step {step.number}: steps 1 to {step.number - 1} are
done, and this step's work is left for you, marked by `TODO` comments that name the step.

**Goal:** {step.goal}

**Deliverables:**
{deliverables}

**Files to create or edit:**
{files}

**Read:** [{step.docs}](../../{manifest.docs_base}{step.docs})

**Check your work** (from the repository root, after `nox -s start -- {step.number}`):

    nox -s grade -- --step {step.number}
"""
    if project_readme is None:
        return header
    return f"{header}\n---\n\n{project_readme}"


def generate(manifest: Manifest, destination: Path) -> None:
    """Write every checkpoint under `destination` (which must not exist)."""
    with tempfile.TemporaryDirectory() as scratch:
        state = Path(scratch) / "state"
        shutil.copytree(SOLUTION, state, ignore=IGNORE)
        destination.mkdir(parents=True)
        for step in reversed(manifest.steps):
            apply_recipe(state, Recipe.load(step.number))
            out = destination / step.slug
            shutil.copytree(state, out)
            readme = out / "README.md"
            project_readme = readme.read_text(encoding="utf-8") if readme.exists() else None
            readme.write_text(checkpoint_readme(step, manifest, project_readme), encoding="utf-8")


def tree_files(root: Path) -> dict[str, bytes]:
    """Every file under `root` by relative path, with its bytes (local by-products left out)."""
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not any(
            fnmatch.fnmatch(part, pattern) for part in relative.parts for pattern in IGNORED
        ):
            files[relative.as_posix()] = path.read_bytes()
    return files


def compare(expected: Path, actual: Path) -> list[str]:
    """How two trees differ: one line per path that is missing, extra or different."""
    want, have = tree_files(expected), tree_files(actual)
    return sorted(
        [f"{name} (missing from steps/)" for name in want.keys() - have.keys()]
        + [f"{name} (not generated: fix the recipe)" for name in have.keys() - want.keys()]
        + [f"{name} (differs)" for name in want.keys() & have.keys() if want[name] != have[name]]
    )
