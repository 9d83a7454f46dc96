"""Batch grading: a class folder of five submissions becomes a gradebook and a dashboard.

Only steps 1 and 2 are graded, with a short per-check timeout and budget, so the
hanging submission costs seconds, not minutes.
"""

from __future__ import annotations

import csv
import json
from html import escape
from pathlib import Path

import pytest

from course.__main__ import main
from course.grading.runner import Limits, grade
from course.manifest import load_manifest
from tests.grader.submissions import checkpoint_like, copy_solution, with_code

MANIFEST = load_manifest()


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Grade a class of five into a reports folder; return that folder."""
    root = tmp_path_factory.mktemp("class")
    submissions = root / "submissions"
    submissions.mkdir()
    copy_solution(submissions / "alice")
    checkpoint_like(submissions / "bob", "app/core/config.py")  # step 2's settings not written
    checkpoint_like(submissions / "carol", "app/api/v1/health_router.py")  # health not written
    with_code(submissions / "dave", "app/core/config.py", "def broken(:")
    with_code(submissions / "erin", "app/core/config.py", "while True:\n    pass")
    out = root / "reports"
    code = main(
        ["grade", "--class", str(submissions), "--step", "1", "--step", "2", "--timeout", "10",
         "--budget", "120", "--reports", str(out), "--summary-md", str(root / "summary.md")]
    )  # fmt: skip
    assert code == 0
    return out


def read_gradebook(out: Path) -> list[dict[str, str]]:
    with (out / "gradebook.csv").open(newline="") as file:
        return list(csv.DictReader(file))


def test_gradebook_has_a_points_row_and_one_row_per_submission(graded_class: Path) -> None:
    rows = read_gradebook(graded_class)
    points, *students = rows
    assert points["name"] == "POINTS POSSIBLE"
    assert int(points["step_01"]) == MANIFEST.step(1).points
    assert int(points["step_02"]) == MANIFEST.step(2).points
    assert [r["name"] for r in students] == ["alice", "bob", "carol", "dave", "erin"]
    status = {r["name"]: r["status"] for r in students}
    score = {r["name"]: float(r["percent"]) for r in students}
    assert status == {"alice": "ok", "bob": "ok", "carol": "ok", "dave": "ok", "erin": "timeout"}
    assert score["alice"] == 100.0
    assert 0 < score["bob"] < 100 and 0 < score["carol"] < 100
    assert score["dave"] < 100, "a syntax error in the settings must cost step 2"
    assert int(students[0]["step_02"]) == MANIFEST.step(2).points


def test_every_submission_has_its_reports_and_page(graded_class: Path) -> None:
    for name in ["alice", "bob", "carol", "dave", "erin"]:
        folder = graded_class / name
        report = json.loads((folder / "grade-report.json").read_text())
        assert report["schema_version"] == 1
        assert (folder / "junit.xml").stat().st_size > 0
        assert name in (folder / "report.html").read_text()


def test_dashboard_and_summary_mention_every_graded_step(graded_class: Path) -> None:
    html = (graded_class / "dashboard.html").read_text()
    summary = (graded_class / "summary.md").read_text()
    for number in (1, 2):
        assert f"Step {number}" in html
        assert escape(MANIFEST.step(number).title) in html
        assert MANIFEST.step(number).title in summary
    for name in ["alice", "bob", "carol", "dave", "erin"]:
        assert f'href="{name}/report.html"' in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', ""), "no network"
    assert "<script src" not in html and "<link" not in html
    appended = (graded_class.parent / "summary.md").read_text()
    assert "Pass rate per step" in appended, "--summary-md gets the class summary"


def test_output_limit_stops_a_flood_and_says_so(tmp_path: Path) -> None:
    target = with_code(tmp_path / "flood", "app/core/config.py", "print('x' * 3_000_000)")
    run = grade(target, MANIFEST, [2], work_dir=tmp_path / "out", limits=Limits(output_mb=1))
    messages = [t.message for t in run.tests if t.status == "error"]
    assert messages and all("more output than the grader allows" in m for m in messages)
    assert (tmp_path / "out" / "pytest.log").stat().st_size <= 1024 * 1024
