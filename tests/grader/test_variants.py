"""Correct code written another way (`variants.py`) keeps full marks in its step."""

from __future__ import annotations

from pathlib import Path

import pytest

from course.grading.report import build_report
from course.grading.runner import grade
from course.manifest import load_manifest
from tests.grader.submissions import edited_solution
from tests.grader.variants import VARIANTS, Variant

MANIFEST = load_manifest()


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_variant_keeps_full_marks_in_its_step(variant: Variant, tmp_path: Path) -> None:
    target = edited_solution(variant.name, variant.edits, tmp_path / "submission")
    run = grade(target, MANIFEST, [variant.step], work_dir=tmp_path / "reports")
    report = build_report(run, MANIFEST)
    assert run.error is None, run.error
    [step] = report["steps"]
    failed = [f"{t.name}: {t.message[:300]}" for t in run.tests if t.status in ("fail", "error")]
    assert step["points"] == step["max_points"], (
        f"the correct variant '{variant.name}' lost points in step {variant.step}: {failed}"
    )


def test_every_variant_changes_the_solution() -> None:
    for variant in VARIANTS:
        assert variant.edits and all(old != new for _, old, new in variant.edits), variant.name
