"""Merging batches: the reports of a class graded in parts equal those of one batch of it all.

Three submissions are graded once as one class and once as two batches (one, then two);
`gradebook merge` of the two must write what the one batch wrote. Steps 1 and 2 only.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from course.__main__ import main
from tests.grader.submissions import checkpoint_like, copy_solution, with_code

STEPS = ["--step", "1", "--step", "2", "--timeout", "10", "--budget", "120"]


def batch(folder: Path, out: Path) -> None:
    assert main(["grade", "--class", str(folder), *STEPS, "--reports", str(out)]) == 0


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(one batch of all three, the first part's reports, the second part's reports)."""
    root = tmp_path_factory.mktemp("merge")
    whole, first, second = root / "whole", root / "first", root / "second"
    copy_solution(whole / "alice")
    checkpoint_like(whole / "bob", "app/core/config.py")
    with_code(whole / "carol", "app/core/config.py", "def broken(:")
    (first / "alice").parent.mkdir(parents=True)
    (whole / "alice").rename(first / "alice")
    batch(first, root / "reports-first")
    for name in ("bob", "carol"):
        (second / name).parent.mkdir(parents=True, exist_ok=True)
        (whole / name).rename(second / name)
    batch(second, root / "reports-second")
    # The whole class, the same folders: the one batch the merge must equal.
    for part in (first, second):
        for folder in part.iterdir():
            folder.rename(whole / folder.name)
    batch(whole, root / "reports-whole")
    return root / "reports-whole", root / "reports-first", root / "reports-second"


def comparable(text: str) -> str:
    """`text` without what differs between two runs of the same grading: times and titles."""
    text = re.sub(r"Class grades · [^<\n]*", "Class grades", text)
    text = re.sub(r"\d+(\.\d+)? s\b", "N s", text)
    text = re.sub(r' (time|timestamp)="[^"]*"', r' \1="X"', text)
    return re.sub(r'"(duration_s|graded_at|target|path)": [^,\n]*', r'"\1": X', text)


def said(capsys: pytest.CaptureFixture[str]) -> str:
    """What the command printed, on one line (the console wraps long lines)."""
    return " ".join(capsys.readouterr().out.split())


def test_a_merge_of_two_batches_equals_one_batch_of_all(
    graded: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    whole, first, second = graded
    out = tmp_path / "merged"
    assert main(["gradebook", "merge", str(first), str(second), "--reports", str(out)]) == 0
    for name in ("gradebook.csv", "summary.md", "dashboard.html"):
        assert comparable((out / name).read_text()) == comparable((whole / name).read_text()), name
    for submission in ("alice", "bob", "carol"):
        for name in ("grade-report.json", "report.html", "junit.xml", "outcome.json"):
            merged, alone = out / submission / name, whole / submission / name
            assert comparable(merged.read_text()) == comparable(alone.read_text()), merged
    assert "merged from 2 batches" in (out / "summary.md").read_text()


def test_a_merge_keeps_each_submissions_status_and_points(
    graded: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, first, second = graded
    out = tmp_path / "merged"
    main(["gradebook", "merge", str(second), str(first), "--reports", str(out)])
    with (out / "gradebook.csv").open(newline="") as file:
        _, *rows = csv.DictReader(file)
    assert [row["name"] for row in rows] == ["alice", "bob", "carol"]
    assert [row["status"] for row in rows] == ["ok", "ok", "ok"]
    assert float(rows[0]["percent"]) == 100, "alice has the solution"
    assert float(rows[1]["percent"]) < 100, "bob has not written the settings"


def test_a_submission_in_two_batches_is_refused_not_counted_twice(
    graded: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, first, _ = graded
    out = tmp_path / "merged"
    assert main(["gradebook", "merge", str(first), str(first), "--reports", str(out)]) == 2
    assert "alice is in both" in said(capsys)
    assert not (out / "gradebook.csv").exists()


def test_batches_of_different_steps_do_not_merge(
    graded: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, first, second = graded
    outcome = second / "bob" / "outcome.json"
    other = tmp_path / "other"
    (other / "bob").mkdir(parents=True)
    (other / "bob" / "outcome.json").write_text(
        outcome.read_text().replace('"steps": [\n    1,\n    2\n  ]', '"steps": [\n    1\n  ]')
    )
    assert (
        main(["gradebook", "merge", str(first), str(other), "--reports", str(tmp_path / "m")]) == 2
    )
    assert "graded on different steps (1 and 1, 2)" in said(capsys)


def test_a_folder_without_batch_reports_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    assert (
        main(["gradebook", "merge", str(tmp_path / "empty"), "--reports", str(tmp_path / "m")]) == 2
    )
    assert "holds no graded submission" in said(capsys)
