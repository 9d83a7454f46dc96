"""Tamper evidence: the published digest is current, and any edit to a grading file shows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from course.grading.digest import PUBLISHED, Provenance, compute_digest, grading_files
from course.manifest import REPO_ROOT


def test_the_published_digest_is_the_digest_of_the_grading_files() -> None:
    assert PUBLISHED.read_text(encoding="utf-8").strip() == compute_digest(), (
        "the grading files changed: run `python -m course digest --write` (nox -s checkpoints)"
    )
    assert not Provenance.of_this_grader().modified


def copy_of_the_grading_files(root: Path) -> Path:
    for path in grading_files():
        target = root / path.relative_to(REPO_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return root


def test_editing_a_grading_test_changes_the_digest(tmp_path: Path) -> None:
    copy = copy_of_the_grading_files(tmp_path / "fork")
    assert compute_digest(copy) == compute_digest()
    check = copy / "tests/step_03/test_database.py"
    check.write_text(check.read_text().replace("assert ", "assert True or ", 1))
    assert compute_digest(copy) != compute_digest()


def test_a_new_file_among_the_grading_tests_changes_the_digest(tmp_path: Path) -> None:
    copy = copy_of_the_grading_files(tmp_path / "fork")
    (copy / "tests/step_01/conftest_extra.py").write_text("import pytest\n")
    assert compute_digest(copy) != compute_digest()


def test_line_endings_a_checkout_changes_leave_the_digest_alone(tmp_path: Path) -> None:
    copy = copy_of_the_grading_files(tmp_path / "fork")
    for path in copy.rglob("*.py"):
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert compute_digest(copy) == compute_digest()


def test_a_report_made_with_modified_tests_says_so_everywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.console import Console

    import course.grading.digest as digest
    from course.batch import Outcome, Submission
    from course.dashboard import write_pages
    from course.gradebook import class_stats, summary_markdown, write_csv
    from course.grading.report import (
        TESTS_MODIFIED,
        build_report,
        print_scoreboard,
        scoreboard_markdown,
    )
    from course.grading.runner import GradingRun
    from course.manifest import load_manifest

    manifest = load_manifest()
    published = tmp_path / "DIGEST"
    published.write_text("0" * 64 + "\n")
    monkeypatch.setattr(digest, "PUBLISHED", published)
    report = build_report(GradingRun(target=tmp_path, steps=[1]), manifest)
    assert report["grading"]["tests_modified"] is True
    assert report["grading"]["digest"] == compute_digest()
    console = Console(record=True, width=200)
    print_scoreboard(report, console)
    assert TESTS_MODIFIED in console.export_text()
    assert TESTS_MODIFIED in scoreboard_markdown(report)

    outcome = Outcome(Submission("alice", tmp_path), tmp_path / "alice", "ok", report=report)
    write_csv([outcome], manifest, [1], tmp_path / "gradebook.csv")
    assert (tmp_path / "gradebook.csv").read_text().splitlines()[2].endswith(",modified")
    stats = class_stats([outcome], manifest, [1])
    assert "grading tests modified" in summary_markdown([outcome], manifest, stats, "class")
    dashboard = write_pages([outcome], manifest, stats, tmp_path, "class")
    assert "tests modified" in dashboard.read_text()
