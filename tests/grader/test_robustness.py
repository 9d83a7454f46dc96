"""The grader survives broken learner code: each breakage becomes failed checks with a
clear message, the run finishes within its budget, and the report is written."""

from __future__ import annotations

import json
import shutil
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from course.grading.report import build_report, write_json, write_junit
from course.grading.runner import GradingRun, grade
from course.manifest import REPO_ROOT, load_manifest

SOLUTION = REPO_ROOT / "solution"
MANIFEST = load_manifest()
REPORT_SCHEMA = json.loads(
    (REPO_ROOT / "course" / "grading" / "grade-report.schema.json").read_text()
)


def broken_copy(tmp_path: Path, file: str, code: str, *, prepend: bool = True) -> Path:
    """A copy of the solution with `code` added to the top (or bottom) of `file`."""
    target = tmp_path / "submission"
    shutil.copytree(SOLUTION, target, ignore=shutil.ignore_patterns("__pycache__", "*.db"))
    path = target / file
    original = path.read_text()
    path.write_text(code + "\n" + original if prepend else original + "\n" + code + "\n")
    return target


def grade_and_report(
    target: Path, steps: list[int], tmp_path: Path, **options: float
) -> tuple[GradingRun, dict[str, object]]:
    out = tmp_path / "reports"
    run = grade(target, MANIFEST, steps, work_dir=out, **options)  # type: ignore[arg-type]
    report = build_report(run, MANIFEST)
    write_json(report, out / "grade-report.json")
    write_junit(report, out / "junit.xml")
    written = json.loads((out / "grade-report.json").read_text())
    jsonschema.validate(written, REPORT_SCHEMA)
    ET.parse(out / "junit.xml")  # well-formed JUnit XML
    return run, report


def failures(run: GradingRun, step: int) -> list[str]:
    return [t.message for t in run.tests if t.step == step and t.status != "pass"]


def step_points(report: dict[str, object], step: int) -> tuple[int, int]:
    for entry in report["steps"]:  # type: ignore[attr-defined]
        if entry["number"] == step:
            return entry["points"], entry["max_points"]
    raise AssertionError(f"step {step} not in report")


@pytest.mark.parametrize(
    ("name", "file", "code", "expected"),
    [
        ("syntax error", "app/core/config.py", "def broken(:", "SyntaxError"),
        ("import-time exception", "app/core/config.py", "raise RuntimeError('boom at import')",
         "RuntimeError: boom at import"),
        ("sys.exit at import", "app/core/config.py", "import sys\nsys.exit(3)", "sys.exit(3)"),
        ("missing package", "app/core/config.py", "import not_a_real_package_xyz",
         "not_a_real_package_xyz"),
    ],
)  # fmt: skip
def test_broken_module_fails_its_checks_with_a_clear_message(
    tmp_path: Path, name: str, file: str, code: str, expected: str
) -> None:
    target = broken_copy(tmp_path, file, code)
    run, report = grade_and_report(target, [1, 2], tmp_path)
    assert run.error is None, f"the grader itself failed on a {name}: {run.error}"
    assert step_points(report, 1) == (step_points(report, 1)[1],) * 2, "step 1 must be unaffected"
    messages = failures(run, 2)
    assert messages, f"a {name} in {file} must fail the step 2 checks"
    assert all(expected in m for m in messages), f"unclear messages for a {name}: {messages[:3]}"
    assert all("Traceback" not in m for m in messages)


def test_infinite_loop_at_import_costs_one_timeout_not_one_per_check(tmp_path: Path) -> None:
    target = broken_copy(tmp_path, "app/core/config.py", "while True:\n    pass")
    start = time.monotonic()
    run, _ = grade_and_report(target, [2], tmp_path, test_timeout=3)
    elapsed = time.monotonic() - start
    messages = failures(run, 2)
    assert messages, "an infinite loop at import must fail the step 2 checks"
    assert all("did not finish in time" in m for m in messages), messages[:3]
    assert elapsed < 45, f"an import loop must not cost a timeout per check ({elapsed:.0f} s)"


def test_os_exit_kills_a_check_and_the_rest_still_run(tmp_path: Path) -> None:
    target = broken_copy(tmp_path, "app/core/config.py", "import os\nos._exit(7)")
    run, report = grade_and_report(target, [1, 2], tmp_path)
    assert run.error is None, run.error
    died = [t for t in run.tests if "grading process died" in t.message]
    assert died, "the check that was running when the process died must say so"
    assert "exit code 7" in died[0].message
    assert step_points(report, 1)[0] == step_points(report, 1)[1], "step 1 must still be graded"
    assert all(t.status in ("pass", "fail", "error") for t in run.tests)


def test_printing_ten_megabytes_is_cut_in_the_report(tmp_path: Path) -> None:
    target = broken_copy(tmp_path, "app/core/config.py", "print('x' * 10_000_000)")
    run, _ = grade_and_report(target, [2], tmp_path)
    report_size = (tmp_path / "reports" / "grade-report.json").stat().st_size
    assert report_size < 1_000_000, f"the report must not carry 10 MB of output ({report_size} B)"
    assert run.error is None


def test_missing_target_folder_grades_to_zero_with_messages(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    run, report = grade_and_report(empty, [1, 2], tmp_path)
    assert run.error is None, run.error
    assert report["points"] == 0
    assert all(t.message for t in run.tests), "every failed check needs a message"


def test_grading_never_writes_into_the_target(tmp_path: Path) -> None:
    target = broken_copy(tmp_path, "app/core/config.py", "", prepend=False)
    before = sorted(p.relative_to(target).as_posix() for p in target.rglob("*"))
    grade_and_report(target, [1, 2, 3], tmp_path)
    after = sorted(p.relative_to(target).as_posix() for p in target.rglob("*"))
    assert after == before, f"grading wrote into the target: {sorted(set(after) - set(before))}"
