"""Mutation check: every plausible mistake in `mutants.py` fails the checks written for it.

Each mutant is graded on those checks only (`grade(..., checks=...)`): that they fail
proves the mistake costs points in its step, at a fraction of the time of the whole
step. The unmodified solution keeps full marks on every check (`test_solution_and_manifest`).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from course.grading.report import build_report
from course.grading.runner import grade
from course.manifest import REPO_ROOT, load_manifest
from tests.grader.mutants import MUTANTS, Mutant
from tests.grader.submissions import edited_solution

MANIFEST = load_manifest()


@cache
def check_files(step: int) -> dict[str, str]:
    """Each grading test function of `step`, by name: the file that defines it."""
    folder = REPO_ROOT / MANIFEST.step(step).test_dir
    found: dict[str, str] = {}
    for path in sorted(folder.glob("test_*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found[node.name] = path.relative_to(REPO_ROOT).as_posix()
    return found


def check_ids(mutant: Mutant) -> list[str]:
    """The pytest node ids of the checks `mutant` must fail (each of its parameters)."""
    files = check_files(mutant.step)
    unknown = [name for name in mutant.fails if name not in files]
    assert not unknown, f"'{mutant.name}' names no check of step {mutant.step}: {unknown}"
    return [f"{files[name]}::{name}" for name in mutant.fails]


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_fails_the_checks_written_for_it(mutant: Mutant, tmp_path: Path) -> None:
    target = edited_solution(mutant.name, mutant.edits, tmp_path / "submission")
    run = grade(
        target, MANIFEST, [mutant.step], work_dir=tmp_path / "reports", checks=check_ids(mutant)
    )
    report = build_report(run, MANIFEST)
    assert run.error is None, run.error
    [step] = report["steps"]
    assert step["points"] < step["max_points"], (
        f"the mistake '{mutant.name}' went unnoticed by the step {mutant.step} checks"
    )
    failed = {t.name.split("[")[0] for t in run.tests if t.status in ("fail", "error")}
    unnoticed = [name for name in mutant.fails if name not in failed]
    assert not unnoticed, f"the mistake '{mutant.name}' went unnoticed by {unnoticed}"


def test_there_are_at_least_25_mutants_and_every_step_has_some() -> None:
    assert len(MUTANTS) >= 25
    assert {m.step for m in MUTANTS} >= set(range(2, 9))


def test_every_mutant_names_the_checks_it_must_fail() -> None:
    unnamed = [m.name for m in MUTANTS if not m.fails]
    assert not unnamed, f"mutants without `fails=`: {unnamed}"
    for mutant in MUTANTS:
        check_ids(mutant)
