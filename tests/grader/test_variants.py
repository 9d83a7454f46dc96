"""Correct code written another way (`variants.py`) keeps full marks in its step."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from course.grading.report import build_report
from course.grading.runner import grade
from course.manifest import REPO_ROOT, load_manifest
from tests.grader.variants import VARIANTS, Variant

SOLUTION = REPO_ROOT / "solution"
MANIFEST = load_manifest()


def apply(variant: Variant, root: Path) -> None:
    for file, old, new in variant.edits:
        path = root / file
        text = path.read_text()
        assert text.count(old) == 1, f"{variant.name}: {old!r} must occur once in {file}"
        path.write_text(text.replace(old, new))


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_variant_keeps_full_marks_in_its_step(variant: Variant, tmp_path: Path) -> None:
    target = tmp_path / "submission"
    shutil.copytree(SOLUTION, target, ignore=shutil.ignore_patterns("__pycache__", "*.db"))
    apply(variant, target)
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
