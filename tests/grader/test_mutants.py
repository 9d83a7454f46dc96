"""Mutation check: every plausible mistake in `mutants.py` costs points in its step,
while the unmodified solution keeps full marks there."""

from __future__ import annotations

from pathlib import Path

import pytest

from course.grading.report import build_report
from course.grading.runner import grade
from course.manifest import load_manifest
from tests.grader.mutants import MUTANTS, Mutant
from tests.grader.submissions import edited_solution

MANIFEST = load_manifest()


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_costs_points_in_its_step(mutant: Mutant, tmp_path: Path) -> None:
    target = edited_solution(mutant.name, mutant.edits, tmp_path / "submission")
    run = grade(target, MANIFEST, [mutant.step], work_dir=tmp_path / "reports")
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
