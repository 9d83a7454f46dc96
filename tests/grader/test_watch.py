"""Watch mode: fixing a file in the workspace shows the new result."""

from __future__ import annotations

import io
import shutil
import threading
import time
from pathlib import Path

from rich.console import Console

from course.grading.runner import Standby, grade
from course.manifest import load_manifest
from course.watch import WatchState, watch
from tests.grader.submissions import SOLUTION, checkpoint_like

MANIFEST = load_manifest()
FILE = "app/api/v1/health_router.py"


def test_saving_a_fix_regrades_and_moves_on(tmp_path: Path) -> None:
    workspace = checkpoint_like(tmp_path / "workspace", FILE)
    results: list[WatchState] = []
    arrived = threading.Condition()
    stop = threading.Event()

    def on_result(state: WatchState) -> None:
        with arrived:
            results.append(state)
            arrived.notify_all()

    output = io.StringIO()
    thread = threading.Thread(
        target=watch,
        args=(workspace, MANIFEST),
        kwargs={"steps": [1, 2], "test_timeout": 10, "stop": stop, "on_result": on_result,
                "console": Console(file=output, width=120), "debounce_ms": 200},
    )  # fmt: skip
    thread.start()
    try:
        with arrived:
            assert arrived.wait_for(lambda: results, timeout=120), "no first result"
        first = results[0]
        assert first.current == 2, "step 1 is complete, so step 2 is the current step"
        assert first.first_failure is not None
        assert first.first_failure["docs"].startswith("docs/")
        assert "First failing check" in output.getvalue()
        assert "Step 1 complete" in output.getvalue(), "a complete step is named before the next"

        time.sleep(0.5)  # let the file watcher settle before the save
        saved = time.monotonic()
        (workspace / FILE).write_text((SOLUTION / FILE).read_text())
        with arrived:
            assert arrived.wait_for(lambda: len(results) > 1, timeout=120), "no new result"
        fixed = results[-1]
        assert fixed.current is None, "with step 2 fixed, every watched step is complete"
        assert "Every step is complete" in output.getvalue()
        assert "Step 2 complete" in output.getvalue()
        print(f"save to new result: {fixed.graded_at - saved:.1f} s")
    finally:
        stop.set()
        thread.join(timeout=30)


def test_a_standby_process_grades_the_files_as_they_are_when_released(tmp_path: Path) -> None:
    workspace = checkpoint_like(tmp_path / "workspace", FILE)
    reports = tmp_path / "reports"
    standby = Standby(workspace, MANIFEST, [2], work_dir=reports, test_timeout=10)
    try:
        deadline = time.monotonic() + 120
        events = standby.events_file
        while not (events.exists() and events.read_text()):  # it has collected, it waits
            assert time.monotonic() < deadline, "the standby process never collected"
            assert standby.process.poll() is None, "the standby process ended on its own"
            time.sleep(0.1)
        (workspace / FILE).write_text((SOLUTION / FILE).read_text())
        run = grade(workspace, MANIFEST, [2], work_dir=reports, test_timeout=10, standby=standby)
    finally:
        standby.close()
    assert run.error is None
    assert run.tests and all(test.status == "pass" for test in run.tests), (
        "the fix saved while the process waited must be graded"
    )


def test_a_standby_for_other_steps_is_closed_and_the_grading_runs_as_usual(
    tmp_path: Path,
) -> None:
    workspace = checkpoint_like(tmp_path / "workspace", FILE)
    reports = tmp_path / "reports"
    standby = Standby(workspace, MANIFEST, [1], work_dir=reports, test_timeout=10)
    run = grade(workspace, MANIFEST, [2], work_dir=reports, test_timeout=10, standby=standby)
    assert standby.process.poll() is not None, "the unused standby process must be stopped"
    assert {test.step for test in run.tests} == {2}
    assert any(test.status == "fail" for test in run.tests), "step 2 is not done in this copy"


def test_a_workspace_that_finished_its_step_is_told_to_move_on_with_next(tmp_path: Path) -> None:
    from course.advance import WorkspaceState
    from course.checkpoints import build
    from course.watch import Watcher, render

    stages = build(MANIFEST, tmp_path / "stages")
    workspace = tmp_path / "workspace"
    shutil.copytree(stages[2].end, workspace)
    WorkspaceState(2).write(workspace)
    watcher = Watcher(workspace, MANIFEST, test_timeout=10)
    assert watcher.steps == [1, 2], "a workspace on step 2 is watched up to step 2"
    try:
        state = watcher.check()
    finally:
        watcher.close()
    assert state.current is None and watcher.next_step_due
    assert "nox -s next" in state.completed[2]
    console = Console(record=True, width=100)
    render(state, watcher, console)
    assert "Carry on to step 3 with your own code: nox -s next" in console.export_text()

    # Started on a workspace that is on step 2, the watch does not announce step 1.
    assert list(state.completed) == [2]

    WorkspaceState(3).write(workspace)  # what `nox -s next` does
    watcher.follow_workspace()
    assert watcher.steps == [1, 2, 3] and not watcher.next_step_due
