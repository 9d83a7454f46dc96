"""Course consistency: the checkpoints under steps/ form a staircase to the solution.

- they are exactly what the generator makes from solution/ and the recipes;
- checkpoint N earns full marks on steps 1 ... N-1 and loses points on step N;
- from checkpoint N to N+1 (the solution after step 8) only declared files change;
- checkpoint N holds TODO(step N) markers only, in files step N declares: a learner
  never meets a later step's TODO, and `nox -s next` brings each one when it is due;
- every checkpoint's finished steps import cleanly.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from course.advance import TODO
from course.checkpoints import GUIDE, SOLUTION, STEPS, compare, generate, tree_files
from course.grading.report import build_report
from course.grading.runner import grade
from course.manifest import load_manifest

MANIFEST = load_manifest()
NUMBERS = [step.number for step in MANIFEST.steps]


def checkpoint(number: int) -> Path:
    """The folder of checkpoint `number`; 9 stands for the solution (after step 8)."""
    if number > len(MANIFEST.steps):
        return SOLUTION
    return STEPS / MANIFEST.step(number).slug


def test_checkpoints_are_generated_from_the_solution(tmp_path: Path) -> None:
    generate(MANIFEST, tmp_path / "steps")
    differences = compare(tmp_path / "steps", STEPS)
    assert not differences, "steps/ is out of date; run `nox -s checkpoints`:\n" + "\n".join(
        differences
    )


@pytest.mark.parametrize("number", NUMBERS)
def test_checkpoint_is_graded_as_a_staircase(number: int, tmp_path: Path) -> None:
    steps = list(range(1, number + 1))
    run = grade(checkpoint(number), MANIFEST, steps, work_dir=tmp_path)
    report = build_report(run, MANIFEST)
    assert run.error is None, run.error
    for step in report["steps"]:
        if step["number"] < number:
            failing = [
                f"{t.nodeid}: {t.message}"
                for t in run.tests
                if t.step == step["number"] and t.status != "pass"
            ]
            assert not failing, f"checkpoint {number} must pass step {step['number']}:\n" + (
                "\n".join(failing)
            )
        else:
            assert step["points"] < step["max_points"], (
                f"checkpoint {number} must leave step {number} to do, yet earns full marks"
            )


@pytest.mark.parametrize("number", NUMBERS)
def test_only_the_declared_files_change_to_the_next_checkpoint(number: int) -> None:
    before, after = tree_files(checkpoint(number)), tree_files(checkpoint(number + 1))
    changed = {
        name
        for name in before.keys() | after.keys()
        if before.get(name) != after.get(name) and name != GUIDE
    }
    step = MANIFEST.step(number)
    following = MANIFEST.step(number + 1) if number < len(MANIFEST.steps) else None
    undeclared = sorted(
        name
        for name in changed
        if not step.declares(name) and not (following and following.declares(name))
    )
    assert not undeclared, (
        f"from checkpoint {number} to {number + 1} these files change, but neither step "
        f"declares them in course/course.toml: {undeclared}"
    )


@pytest.mark.parametrize("number", NUMBERS)
def test_todo_markers_belong_to_this_step_only(number: int) -> None:
    step = MANIFEST.step(number)
    problems = []
    for name, content in tree_files(checkpoint(number)).items():
        if name == GUIDE:
            continue
        for marker in {int(m) for m in TODO.findall(content)}:
            if marker != number:
                problems.append(f"{name}: TODO(step {marker}) in checkpoint {number}")
            elif not step.declares(name):
                problems.append(
                    f"{name}: TODO(step {number}) in a file step {number} does not declare"
                )
    assert not problems, "\n".join(problems)
    markers = {
        int(m) for content in tree_files(checkpoint(number)).values() for m in TODO.findall(content)
    }
    assert number == 1 or number in markers, (
        f"checkpoint {number} has no TODO(step {number}) marker to guide the learner"
    )


def test_the_solution_has_no_todo_markers_or_stubs() -> None:
    leftovers = [
        name
        for name, content in tree_files(SOLUTION).items()
        if name.endswith(".py") and (TODO.search(content) or b"NotImplementedError" in content)
    ]
    assert not leftovers, f"the finished solution must not contain stubs: {leftovers}"


IMPORT_ALL = """
import importlib, pathlib, sys
failed = []
for path in sorted(pathlib.Path("app").rglob("*.py")):
    name = ".".join(path.with_suffix("").parts).removesuffix(".__init__")
    try:
        importlib.import_module(name)
    except BaseException as exc:
        failed.append(f"{path.as_posix()}: {type(exc).__name__}: {exc}")
print("\\n".join(failed))
"""


@pytest.mark.parametrize("number", NUMBERS[1:])
def test_finished_steps_import_cleanly(number: int, tmp_path: Path) -> None:
    root = checkpoint(number)
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "DATABASE_URL":
             f"sqlite+aiosqlite:///{tmp_path / 'import.db'}", "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    step = MANIFEST.step(number)
    failures = [
        line
        for line in result.stdout.splitlines()
        if line.strip() and not step.declares(line.split(":", 1)[0])
    ]
    assert result.returncode == 0, result.stderr[-2000:]
    assert not failures, (
        f"in checkpoint {number}, modules of finished steps fail to import:\n" + "\n".join(failures)
    )


# Commands that work only once step 8 is done (migrations, seed script, Makefile, Docker).
AFTER_STEP_8 = re.compile(r"\balembic\b|scripts[./]seed|^\s*make\b|docker compose")
UPGRADED_PIP = re.compile(r"pip install (-U|--upgrade) pip")


@pytest.mark.parametrize("number", NUMBERS)
def test_a_checkpoints_readme_gives_only_commands_that_work_at_its_step(number: int) -> None:
    readme = checkpoint(number) / "README.md"
    if not readme.exists():
        return  # checkpoint 1: the learner writes the README
    blocks = re.findall(r"```(?:bash|sh|console)\n(.*?)```", readme.read_text(), re.DOTALL)
    problems = []
    for block in blocks:
        for line in block.splitlines():
            command = line.split("#", 1)[0]
            if AFTER_STEP_8.search(command):
                problems.append(f"{line.strip()!r} works only after step 8")
            if "--group" in command and not UPGRADED_PIP.search(block):
                problems.append(f"{line.strip()!r}: a fresh venv's pip (23) has no --group")
    assert not problems, f"checkpoint {number}'s README.md:\n" + "\n".join(problems)
