"""What the grader prints: learner text is never read as Rich markup, a root cause
shared by many checks is said once, links are printed whole on an 80-column
terminal, the last line gives the score and what is next, and watch mode says when
a step is complete. Built from hand-made results: no grading runs here."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from rich.console import Console

import course.batch
from course.__main__ import main
from course.batch import CRASHED, Outcome, Submission
from course.grading import runner
from course.grading.report import build_report, print_scoreboard, scoreboard_markdown
from course.grading.runner import GradingRun
from course.manifest import REPO_ROOT, load_manifest
from course.watch import Watcher, WatchState, render

MANIFEST = load_manifest()
REPORT_SCHEMA = json.loads(
    (REPO_ROOT / "course" / "grading" / "grade-report.schema.json").read_text()
)
LEAK = "[parameters: ('x', 1)]"  # SQLAlchemy's line of bound values: Rich markup to Rich
JOSE = (
    "importing app.core.security failed: ModuleNotFoundError: No module named 'jose' "
    "(in <module>, app/core/security.py line 1) — jose is not one of the libraries the grader "
    "runs your code with"
)
CHAINS = [
    f"could not prepare this check: importing app.main failed: importing app.api.v1.router "
    f"failed: importing app.api.deps failed: {JOSE}",
    JOSE,
    f"could not prepare this check: importing app.api.deps failed: {JOSE}",
    "expected `uvicorn app.main:app` to start and answer GET /api/v1/health, but it exited with "
    "code 1: ModuleNotFoundError: No module named 'jose' (in app/core/security.py line 1)",
]


def result(
    nodeid: str, deliverable: str, status: str = "pass", message: str = ""
) -> runner.TestResult:
    step = MANIFEST.deliverable(deliverable).step
    return runner.TestResult(
        nodeid, nodeid.rsplit("::", 1)[-1], step, deliverable, 2, status, message
    )


def a_run(target: Path, tests: list[runner.TestResult]) -> GradingRun:
    return GradingRun(target=target, steps=sorted({t.step for t in tests}), tests=tests)


def recorded(report: dict[str, Any], width: int, **options: str) -> str:
    console = Console(record=True, width=width)
    print_scoreboard(report, console, **options)
    return console.export_text()


def flat(text: str) -> str:
    """The text with its line breaks and runs of spaces made single spaces."""
    return " ".join(text.split())


@pytest.fixture
def jose_report(tmp_path: Path) -> dict[str, Any]:
    """Steps 2 and 6: one library that is not installed fails twelve checks in four
    deliverables; one more fails alone with a SQLAlchemy leak line."""
    tests = [result("tests/step_02/test_settings.py::test_ok", "D4")]
    deliverables = ["D3", "D16-health", "D14", "D13"]
    for n in range(12):
        message = CHAINS[n % len(CHAINS)]
        status = "error" if message.startswith("could not prepare") else "fail"
        tests.append(result(f"tests/step_0x.py::test_{n}", deliverables[n % 4], status, message))
    tests.append(
        result("tests/step_06/test_deps.py::test_leak", "D15", "fail",
               f"your code raised IntegrityError: NOT NULL constraint failed {LEAK}")
    )  # fmt: skip
    return build_report(a_run(tmp_path / "[class]" / "alice", tests), MANIFEST)


def test_learner_and_library_text_is_printed_not_read_as_markup(
    jose_report: dict[str, Any],
) -> None:
    text = recorded(jose_report, 200)
    assert LEAK in text, "a message's bracketed text must survive the scoreboard"
    assert "[class]/alice" in text, "the target's path must survive the scoreboard"
    markdown = scoreboard_markdown(jose_report)
    assert LEAK in markdown


def test_a_shared_root_cause_is_shown_once_and_the_json_keeps_every_message(
    jose_report: dict[str, Any],
) -> None:
    jsonschema.validate(json.loads(json.dumps(jose_report)), REPORT_SCHEMA)
    [cause] = jose_report["causes"]
    assert len(cause["tests"]) == 12 and cause["could_not_run"]
    assert cause["summary"] == "ModuleNotFoundError: No module named 'jose'"
    messages = {t["message"] for t in jose_report["tests"] if t["status"] != "pass"}
    assert set(CHAINS) <= messages, "grade-report.json keeps each check's own message"

    text = flat(recorded(jose_report, 80))
    assert text.count("12 checks could not run: importing app.core.security failed:") == 1
    assert text.count("importing app.core.security failed") == 1, "the chain is shown once"
    assert "importing app.main failed" not in text and "importing app.api.deps" not in text
    assert text.count("(see above)") == 4, "each deliverable it stops points at the cause"
    markdown = scoreboard_markdown(jose_report)
    assert markdown.count("importing app.core.security failed") == 1


def test_a_merge_conflict_is_still_the_one_cause(tmp_path: Path) -> None:
    from course.merge import Conflict

    tests = [result(f"tests/step_02/t.py::test_{n}", "D3", "fail", "boom") for n in range(3)]
    run = a_run(tmp_path, tests)
    run.conflicts = [Conflict("app/main.py", 7)]
    runner._blame_conflicts(run.tests, run.conflicts)
    report = build_report(run, MANIFEST)
    assert not report.get("causes")
    text = recorded(report, 200)
    assert "3 checks could not run: unresolved merge conflict in app/main.py (line 7)" in text
    assert (
        text.rstrip()
        .splitlines()[-1]
        .endswith("next: resolve the merge conflict in app/main.py (line 7)")
    )


def test_links_are_whole_and_the_last_line_says_the_score_and_what_is_next_at_80_columns(
    jose_report: dict[str, Any],
) -> None:
    lines = recorded(jose_report, 80).rstrip().splitlines()
    assert "Total" not in lines[-1]
    for step in jose_report["steps"]:
        for item in step["deliverables"]:
            if item["first_failure"]:
                assert any(item["docs"] in line for line in lines), f"{item['docs']} is cut"
    first = MANIFEST.deliverable("D3")
    assert lines[-1] == (
        f"{jose_report['points']}/{jose_report['max_points']} points "
        f"({jose_report['percent']:g}%); next: step 2, D3 {first.title} — "
        f"{MANIFEST.docs_link(first)}"
    )
    lines = recorded(jose_report, 80, footer="Reports: somewhere").rstrip().splitlines()
    assert lines[-2] == "Reports: somewhere", "a footer comes just before the last line"


def test_full_marks_on_some_steps_name_the_next_step(tmp_path: Path) -> None:
    report = build_report(a_run(tmp_path, [result("tests/step_02/t.py::test_ok", "D4")]), MANIFEST)
    last = recorded(report, 80).rstrip().splitlines()[-1]
    step = MANIFEST.step(3)
    assert last == (
        f"{report['points']}/{report['max_points']} points (100%); next: step 3, "
        f"{step.title} — {MANIFEST.docs_base}{step.docs}"
    )


def test_the_watch_panel_prints_the_learners_text(tmp_path: Path) -> None:
    watcher = Watcher(tmp_path / "[ws]", MANIFEST, steps=[2])
    test = {"name": "test_echo[param]", "message": f"found {LEAK}", "docs": "docs/x.md#[y]"}
    state = WatchState(current=2, first_failure=test)
    console = Console(record=True, width=120)
    render(state, watcher, console, reason="after saving [a].py")
    text = flat(console.export_text())
    for shown in ("[ws]", "test_echo[param]", LEAK, "docs/x.md#[y]", "after saving [a].py"):
        assert shown in text, f"{shown!r} must survive the watch screen"


def step_report(number: int, complete: bool) -> dict[str, Any]:
    """A report of one step, at full marks or not."""
    step = MANIFEST.step(number)
    points = step.points if complete else 0
    failing = [] if complete else [
        {"nodeid": "t::test_x", "step": number, "status": "fail", "name": "test_x",
         "message": "not yet", "docs": "docs/x.md"}
    ]  # fmt: skip
    entry = {"number": number, "title": step.title, "points": points,
             "max_points": step.points, "deliverables": []}  # fmt: skip
    return {"status": "fail", "steps": [entry], "tests": failing, "causes": []}


def test_watch_says_a_step_is_complete_before_moving_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    watcher = Watcher(tmp_path, MANIFEST, steps=[1, 2])
    graded: list[list[int]] = []
    said: list[str] = []

    def fake_grade(steps: list[int]) -> dict[str, Any]:
        graded.append(steps)
        return step_report(steps[-1], complete=steps == [1])

    def announce(number: int, line: str) -> None:
        said.append(line)
        assert graded == [[1]], "said as soon as the step is complete, before grading step 2"

    monkeypatch.setattr(watcher, "_grade", fake_grade)
    monkeypatch.setattr(watcher, "prepare", lambda steps: None)
    state = watcher.check(on_complete=announce)
    assert graded == [[1], [2]] and state.current == 2
    assert said and said[0].startswith("Step 1 complete") and "on to step 2" in said[0]
    console = Console(record=True, width=120)
    render(state, watcher, console)
    text = console.export_text()
    assert "Step 1 complete" in text
    assert text.index("Step 1 complete") < text.index(f"Step 2 · {MANIFEST.step(2).title}")

    again = watcher.check()
    assert not again.completed, "a step already complete is not announced again"


def test_batch_lines_print_the_submissions_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    classroom = tmp_path / "class"
    (classroom / "alice").mkdir(parents=True)
    out = tmp_path / "[reports]"

    def fake_batch(submissions: list[Submission], out_dir: Path, options: Any,
                   update: Any) -> list[Outcome]:  # fmt: skip
        outcomes = [
            Outcome(s, out_dir / s.name, status=CRASHED, detail=f"died: {LEAK}")
            for s in submissions
        ]
        update(outcomes, 0)
        return outcomes

    monkeypatch.setattr(course.batch, "grade_batch", fake_batch)
    assert main(["grade", "--class", str(classroom), "--reports", str(out)]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"alice: crashed died: \[parameters: \('x', 1\)\]", printed), printed
    assert f"{out.name}/gradebook.csv" in printed and f"{out.name}/dashboard.html" in printed
