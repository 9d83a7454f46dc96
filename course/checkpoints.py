"""Generate the eight starting checkpoints `steps/NN-…/` from `solution/`.

One source of truth: the solution is the finished project, and each step's
recipe (`course/checkpoints/NN.toml`) says how to take that step back out, in
two parts:

- `[later]` takes out the scaffolding of step N+1 (its files, the TODOs it adds
  to older files): what is left is the reference project at the *end* of step N,
  the base `nox -s next` merges against;
- the rest makes step N the exercise: its functions stubbed, its files replaced
  by starters or removed. That is checkpoint N.

So the solution is the end of step 8, checkpoint 8 is that with step 8's work
taken out, the end of step 7 is checkpoint 8 without step 8's scaffolding, and
so on down to checkpoint 1.

A part can
- `stub` functions (exercise only): keep the signature and docstring, replace the
  body with a `TODO(step N)` marker and `raise NotImplementedError` (found with
  `ast`, so a renamed function fails the generation instead of silently drifting);
- `replace` exact text (each `old` must occur exactly once);
- give `starters`, stored under `course/checkpoints/NN/`, that replace whole files;
- `delete` files or folders.

Each checkpoint also gets `STEP.md`, the guide to its step.
`python -m course checkpoints` writes `steps/`; `--check` only compares.
"""

from __future__ import annotations

import ast
import fnmatch
import shutil
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course.manifest import REPO_ROOT, Manifest, Step

RECIPES = Path(__file__).with_name("checkpoints")
SOLUTION = REPO_ROOT / "solution"
STEPS = REPO_ROOT / "steps"
GUIDE = "STEP.md"
# Local by-products of working in solution/: never part of a checkpoint. Nor is its
# uv.lock: a checkpoint's project is the learner's, graded with the grader's own locked
# environment (the `grade` group of uv.lock at the root).
IGNORED = (
    "__pycache__", "*.pyc", "*.db", ".pytest_cache", ".mypy_cache", ".ruff_cache",
    ".import_linter_cache", ".env", "*.egg-info", "build", ".venv", "uv.lock",
)  # fmt: skip
IGNORE = shutil.ignore_patterns(*IGNORED)


class RecipeError(Exception):
    """A recipe no longer fits the solution (a function or text it names is gone)."""


@dataclass
class Edits:
    """One part of a recipe: what it deletes, replaces, stubs and replaces by starters."""

    deletes: list[str] = field(default_factory=list)  # files or folders removed
    replaces: list[tuple[str, str, str]] = field(default_factory=list)  # file, old, new
    stubs: dict[str, list[str]] = field(default_factory=dict)  # file -> qualified names
    hints: dict[str, str] = field(default_factory=dict)  # qualified name -> TODO text
    starters: list[str] = field(default_factory=list)  # files replaced by a starter

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Edits:
        """Read one part of a recipe from its TOML table."""
        stubs = data.get("stub", [])
        return cls(
            deletes=list(data.get("delete", [])),
            replaces=[(r["file"], r["old"], r["new"]) for r in data.get("replace", [])],
            stubs={item["file"]: item["functions"] for item in stubs},
            hints={k: v for item in stubs for k, v in item.get("hints", {}).items()},
            starters=list(data.get("starters", [])),
        )


@dataclass
class Recipe:
    """How to take one step back out of the project: its scaffolding, then its work."""

    step: int
    later: Edits = field(default_factory=Edits)  # step N+1's scaffolding -> end of step N
    exercise: Edits = field(default_factory=Edits)  # end of step N -> checkpoint N

    @classmethod
    def load(cls, step: int) -> Recipe:
        """Read `course/checkpoints/NN.toml` (an empty recipe if there is none)."""
        path = RECIPES / f"{step:02d}.toml"
        if not path.exists():
            return cls(step)
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        recipe = cls(step, later=Edits.parse(data.get("later", {})), exercise=Edits.parse(data))
        if recipe.later.stubs:
            raise RecipeError(f"step {step} recipe: [later] cannot stub; stubs are the exercise")
        both = set(recipe.later.starters) & set(recipe.exercise.starters)
        if both:
            raise RecipeError(f"step {step} recipe: starters in both parts: {sorted(both)}")
        return recipe


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


def apply_edits(root: Path, edits: Edits, step: int, part: str = "") -> None:
    """Apply one part of step `step`'s recipe to the project at `root`, in place."""
    where = f"step {step} recipe{f' [{part}]' if part else ''}"
    for file in edits.deletes:  # first, so that starters can refill a folder
        path = root / file
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            raise RecipeError(f"{where}: nothing to delete at {file}")
    for file, old, new in edits.replaces:
        path = root / file
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise RecipeError(f"{where}: no file {file} to replace text in") from exc
        if text.count(old) != 1:
            raise RecipeError(
                f"{where}: the text to replace occurs {text.count(old)} times in {file}:\n{old}"
            )
        path.write_text(text.replace(old, new), encoding="utf-8")
    for file, names in edits.stubs.items():
        path = root / file
        try:
            stubbed = stub_functions(path.read_text(encoding="utf-8"), names, step, edits.hints)
        except (RecipeError, FileNotFoundError) as exc:
            raise RecipeError(f"{where}, {file}: {exc}") from exc
        path.write_text(stubbed, encoding="utf-8")
    for file in edits.starters:
        source = RECIPES / f"{step:02d}" / file
        if not source.exists():
            raise RecipeError(f"{where}: starter {source} is missing")
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, root / file)


def step_guide(step: Step, manifest: Manifest) -> str:
    """The checkpoint's `STEP.md`: where the learner starts, what to do, how to check it."""
    files = "\n".join(f"- `{file}`" for file in step.files) or "- (see the step page)"
    deliverables = "\n".join(f"- **{d.key}** — {d.title}" for d in step.deliverables)
    if step.number == 1:
        done = "Nothing is done yet: this step lays the project out."
        where = """This folder is empty but for this guide: you create the project here.

    python -m nox -s start -- 1          # workspace/ from this checkpoint"""
    else:
        before = {2: "step 1 is", 3: "steps 1 and 2 are"}.get(
            step.number, f"steps 1 to {step.number - 1} are"
        )
        done = (
            f"{before[0].upper()}{before[1:]} done; this step's work is marked by "
            f"`TODO(step {step.number})`."
        )
        where = f"""- **Carrying on** from step {step.number - 1} in your own workspace: your code
  stays, and this step's new files and TODOs are merged into it (backed up first):

      python -m nox -s next

- **Catching up** from this checkpoint instead: your current workspace is moved to
  `workspace.backup-…` and `workspace/` starts from this checkpoint:

      python -m nox -s start -- {step.number} --force"""
    if step.number < len(manifest.steps):
        closing = (
            f"When the step is complete, `python -m nox -s next` takes you to step "
            f"{step.number + 1}."
        )
    else:
        closing = "This is the last step: with full marks here, the whole backend is yours."
    return f"""# Step {step.number}: {step.title}

{done}

## Where you start

{where}

## What to do

**Goal:** {step.goal}

**Deliverables:**
{deliverables}

**Files to create or edit:**
{files}

**Read:** `{manifest.docs_base}{step.docs}` in the repository, or this step's page on the
course site (`python -m nox -s docs -- serve`).

## Check your work

From the repository root:

    python -m nox -s grade -- --step {step.number}      # once
    python -m nox -s watch                   # on every save

{closing}
"""


@dataclass(frozen=True)
class Stage:
    """One step's two trees, as generated: where it starts and the reference's end of it."""

    step: Step
    checkpoint: Path  # the start of the step: the learner's checkpoint
    end: Path  # the reference project at the end of the step


def build(manifest: Manifest, scratch: Path) -> dict[int, Stage]:
    """Generate every checkpoint and every step's end state under `scratch`."""
    state = scratch / "state"
    shutil.copytree(SOLUTION, state, ignore=IGNORE)
    stages: dict[int, Stage] = {}
    for step in reversed(manifest.steps):
        recipe = Recipe.load(step.number)
        apply_edits(state, recipe.later, step.number, "later")
        end = scratch / "end" / step.slug
        shutil.copytree(state, end)
        apply_edits(state, recipe.exercise, step.number)
        checkpoint = scratch / "checkpoints" / step.slug
        shutil.copytree(state, checkpoint)
        (checkpoint / GUIDE).write_text(step_guide(step, manifest), encoding="utf-8")
        stages[step.number] = Stage(step, checkpoint, end)
    return stages


def generate(manifest: Manifest, destination: Path) -> None:
    """Write every checkpoint under `destination` (which must not exist)."""
    with tempfile.TemporaryDirectory() as scratch:
        stages = build(manifest, Path(scratch))
        destination.mkdir(parents=True)
        for stage in stages.values():
            shutil.copytree(stage.checkpoint, destination / stage.step.slug)


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
