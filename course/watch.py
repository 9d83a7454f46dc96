"""Watch mode: re-grade the step being worked on each time a file is saved.

Like rustlings' watch: the screen shows the current step (the lowest one not at
full marks), its progress, and the first failing check with its hint and where
to read. Only that step is graded, plus a quick guard: the earlier steps whose
files changed, so a regression sends the learner back. When the step is
complete, it says so ("Step N complete") and grades the next one at once. A
workspace that records its step (`.checkpoint.toml`, written by `nox -s start` and
`nox -s next`) is watched up to that step: when it is complete, the screen says to
move on with `nox -s next`, and the watch follows the workspace once it has.

A save must feel instant: while the learner edits, a grading process for the
current step is already started and waiting (`Standby`), so a save costs the
step's checks, not Python's and pytest's start-up.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from course.advance import WorkspaceState
from course.grading.report import build_report
from course.grading.runner import Standby, grade
from course.manifest import Manifest

IGNORED_SUFFIXES = (".db", ".db-journal", ".sqlite", ".sqlite3", ".log", ".pyc")


@dataclass
class WatchState:
    """What the learner sees after one grading."""

    current: int | None  # the step being worked on; None when every step is complete
    reports: dict[int, dict[str, Any]] = field(default_factory=dict)  # step -> step entry
    first_failure: dict[str, Any] | None = None  # a test entry of the report
    graded_at: float = 0.0  # time.monotonic() when the result was ready
    completed: dict[int, str] = field(default_factory=dict)  # newly complete step -> its line
    cause: dict[str, Any] | None = None  # the report's shared cause of first_failure, if any


def watched_file(path: str) -> bool:
    """Whether a change to `path` should trigger a re-grade (not databases, logs, caches)."""
    name = Path(path).name
    return "__pycache__" not in path and not name.endswith(IGNORED_SUFFIXES)


class Watcher:
    """Grades the current step of `target` and keeps track of the complete ones."""

    def __init__(
        self,
        target: Path,
        manifest: Manifest,
        *,
        steps: Sequence[int] | None = None,
        test_timeout: float = 20,
    ) -> None:
        self.target = target.resolve()
        self.manifest = manifest
        self.chosen = sorted(steps) if steps else None
        self.checkpoint: int | None = None  # the step the workspace says it is on
        self.steps: list[int] = []
        self.follow_workspace()
        self.test_timeout = test_timeout
        self.complete: set[int] = set()
        self.graded_once = False  # the first grading tells nothing of steps the workspace left
        self.work_dir = Path(tempfile.mkdtemp(prefix="watch-"))
        self.standby: Standby | None = None

    def follow_workspace(self) -> None:
        """Watch the steps up to the one the workspace is on (all, if it does not say)."""
        state = None if self.chosen else WorkspaceState.read(self.target)
        self.checkpoint = state.checkpoint if state else None
        last = self.checkpoint or len(self.manifest.steps)
        self.steps = self.chosen or [s.number for s in self.manifest.steps if s.number <= last]

    @property
    def next_step_due(self) -> bool:
        """Every watched step is complete, and the workspace has a step after them."""
        last = len(self.manifest.steps)
        return (
            self.checkpoint is not None
            and self.checkpoint < last
            and all(n in self.complete for n in self.steps)
        )

    def _grade(self, steps: list[int]) -> dict[str, Any]:
        standby, self.standby = self.standby, None  # used if it is for these steps
        run = grade(
            self.target, self.manifest, steps, work_dir=self.work_dir,
            test_timeout=self.test_timeout, standby=standby,
        )  # fmt: skip
        return build_report(run, self.manifest)

    def prepare(self, steps: list[int]) -> None:
        """Start the process for the next grading of `steps` now; it waits for the save."""
        self.close()
        self.standby = Standby(
            self.target, self.manifest, steps, work_dir=self.work_dir,
            test_timeout=self.test_timeout,
        )  # fmt: skip

    def close(self) -> None:
        """Stop the process kept ready, if any."""
        if self.standby is not None:
            self.standby.close()
            self.standby = None

    def steps_owning(self, paths: Iterable[str]) -> set[int]:
        """The watched steps that declare one of the changed `paths` as their file."""
        owners: set[int] = set()
        for path in paths:
            try:
                relative = Path(path).resolve().relative_to(self.target).as_posix()
            except ValueError:
                continue
            owners |= {n for n in self.steps if self.manifest.step(n).declares(relative)}
        return owners

    def check(
        self, changed: Iterable[str] = (), on_complete: Callable[[int, str], None] | None = None
    ) -> WatchState:
        """Grade the current step and the guarded ones; move on while steps are complete.

        `on_complete(step, line)` is told at once of each step that becomes complete,
        before the next step is graded.
        """
        self.follow_workspace()  # `nox -s next` may have moved it on since
        opening, self.graded_once = not self.graded_once, True
        # The guard: a complete step whose file changed is graded again with the current one.
        guard = self.steps_owning(changed) & self.complete
        completed: dict[int, str] = {}
        while True:
            current = next((n for n in self.steps if n not in self.complete), None)
            todo = sorted(guard | ({current} if current else set()))
            if not todo:
                return WatchState(current=None, graded_at=time.monotonic(), completed=completed)
            report = self._grade(todo)
            entries = {s["number"]: s for s in report["steps"]}
            for number, entry in entries.items():
                if report["status"] != "error" and entry["points"] == entry["max_points"]:
                    behind = opening and number < (self.checkpoint or 0)
                    if number not in self.complete and not behind:
                        completed[number] = self.completion(number, entry)
                        if on_complete:
                            on_complete(number, completed[number])
                    self.complete.add(number)
                else:
                    self.complete.discard(number)
            guard = set()
            current = next((n for n in self.steps if n not in self.complete), None)
            if current is None or current in entries:
                failing = [
                    t for t in report["tests"]
                    if t["step"] == current and t["status"] in ("fail", "error")
                ]  # fmt: skip
                if current is not None:
                    self.prepare([current])  # the next save most likely grades it again
                first = failing[0] if failing else None
                causes = report.get("causes") or []
                return WatchState(
                    current=current,
                    reports=entries,
                    first_failure=first,
                    graded_at=time.monotonic(),
                    completed=completed,
                    cause=next((c for c in causes if first and first["nodeid"] in c["tests"]),
                               None),
                )  # fmt: skip
            # The current step was complete: go straight on to the next one.

    def completion(self, number: int, entry: dict[str, Any]) -> str:
        """The line that says step `number` is complete, and what comes next."""
        step = self.manifest.step(number)
        following = next((n for n in self.steps if n > number and n not in self.complete), None)
        if following:
            then = f": on to step {following}"
        elif self.checkpoint == number and number < len(self.manifest.steps):
            then = f": nox -s next moves your workspace on to step {number + 1}"
        else:
            then = ""
        return (
            f"Step {number} complete ({step.title}, {entry['points']}/{entry['max_points']} "
            f"points){then}"
        )


def render(state: WatchState, watcher: Watcher, console: Console, reason: str = "") -> None:
    """Clear the screen and show the steps just completed, the current step, its progress
    and the first hint. Learner text is printed as text, never read as Rich markup."""
    console.clear()
    done = len(watcher.complete & set(watcher.steps))
    header = Text.assemble(
        (f"Watching {watcher.target}", "bold"), f"  ·  {done}/{len(watcher.steps)} steps complete"
    )
    if reason:
        header.append(f"  ·  {reason}", style="dim")
    console.print(header)
    for line in state.completed.values():
        console.print(Text(f"✔ {line}", style="green bold"))
    if state.current is None:
        if watcher.next_step_due:
            number = watcher.checkpoint or 0
            console.print(Panel(
                Text(f"Step {number} is complete. Carry on to step {number + 1} with your own "
                     "code: nox -s next (in another terminal; this watch follows).",
                     style="green bold"),
                expand=False,
            ))  # fmt: skip
        else:
            console.print(Panel("[green bold]Every step is complete. Well done![/]", expand=False))
        return
    step = watcher.manifest.step(state.current)
    entry = state.reports.get(state.current)
    table = Table.grid(padding=(0, 2))
    if entry:
        table.add_row(
            Text(f"Step {step.number} · {step.title}", style="bold"),
            ProgressBar(total=entry["max_points"] or 1, completed=entry["points"], width=30),
            f"{entry['points']}/{entry['max_points']} points",
        )
        for item in entry["deliverables"]:
            passed = item["status"] == "pass"
            mark = Text("✔", style="green") if passed else Text("✘", style="red")
            table.add_row(Text.assemble("  ", mark, f" {item['key']} {item['title']}"), "",
                          f"{item['points']}/{item['max_points']}")  # fmt: skip
    console.print(table)
    if state.first_failure:
        test = state.first_failure
        message = test["message"] or "failed"
        if state.cause is not None:
            # The root error many checks share: said once, with how many it stops.
            others = len(state.cause["tests"]) - 1
            plural = "s" if others != 1 else ""
            message = (
                f"{state.cause['message']}\n\n(the same error fails {others} other check{plural})"
            )
        console.print(
            Panel(
                Group(
                    Text(test["name"], style="bold"),
                    Text(),
                    Text(message),
                    Text(),
                    Text.assemble(("Read: ", "dim"), test["docs"]),
                ),
                title="First failing check",
                border_style="red",
                expand=False,
            )
        )
    console.print("[dim]Save a file to check again. Ctrl-C to stop.[/]")


def watch(
    target: Path,
    manifest: Manifest,
    *,
    steps: Sequence[int] | None = None,
    test_timeout: float = 20,
    console: Console | None = None,
    stop: threading.Event | None = None,
    on_result: Callable[[WatchState], None] | None = None,
    debounce_ms: int = 400,
) -> None:
    """Grade, show, and grade again on every save until `stop` is set (or Ctrl-C)."""
    from watchfiles import watch as watch_files

    console = console or Console()
    watcher = Watcher(target, manifest, steps=steps, test_timeout=test_timeout)

    def announce(_step: int, line: str) -> None:
        # At once: grading the next step takes a while, and the screen is redrawn after it.
        console.print(Text(f"✔ {line}", style="green bold"))

    try:
        state = watcher.check(on_complete=announce)
        render(state, watcher, console)
        if on_result:
            on_result(state)
        for changes in watch_files(
            watcher.target,
            watch_filter=lambda _, path: watched_file(path),
            debounce=debounce_ms,
            stop_event=stop,
            raise_interrupt=False,
        ):
            paths = sorted({path for _, path in changes})
            shown = ", ".join(Path(p).name for p in paths[:3])
            console.print(Text(f"Changed: {shown} · grading ...", style="dim"))
            state = watcher.check(paths, on_complete=announce)
            render(state, watcher, console, f"after saving {shown}")
            if on_result:
                on_result(state)
    except KeyboardInterrupt:
        pass
    finally:
        watcher.close()
