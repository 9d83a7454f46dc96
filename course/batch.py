"""Batch grading: many submissions, each graded in its own process, in parallel.

Every submission is graded by `python -m course grade` in a child process of its
own, so a submission that breaks the grader itself (not only its pytest run)
costs that submission and nothing else. The parent only schedules, watches the
clock, shows progress and reads the reports the children wrote.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course.grading.runner import OUTPUT_LIMIT
from course.manifest import REPO_ROOT, load_manifest

# Grading statuses of a submission (the gradebook's `status` column).
OK = "ok"  # grading ran; the points say how good the work is
TIMEOUT = "timeout"  # a check or the whole submission ran out of time: code that hangs
CRASHED = "crashed"  # the process running the code (or the grader itself) died
OUTPUT = "output-limit"  # the code wrote more output than allowed
ERROR = "error"  # the grading tests could not even be collected
PROBLEMS = (TIMEOUT, CRASHED, OUTPUT, ERROR)

# Seconds a grading child may run beyond its budget (start-up, reports) before it is killed.
GRACE = 60
# Beside each submission's reports: how its grading ended, so a later run (`course.class_reports`)
# can rebuild the class's gradebook and dashboard from the folders alone.
OUTCOME_FILE = "outcome.json"
REPORT_FILE = "grade-report.json"


@dataclass(frozen=True)
class Submission:
    """One folder to grade, under a name unique in the batch."""

    name: str
    path: Path


@dataclass
class Outcome:
    """What grading one submission produced."""

    submission: Submission
    out_dir: Path
    status: str = CRASHED
    report: dict[str, Any] | None = None
    duration: float = 0.0
    detail: str = ""  # why the status is not `ok`, in a few words
    steps: list[int] = field(default_factory=list)  # the steps it was graded on

    def save(self) -> None:
        """Write `outcome.json` into the submission's report folder."""
        record = {
            "name": self.submission.name, "path": str(self.submission.path),
            "status": self.status, "detail": self.detail, "duration_s": self.duration,
            "steps": self.steps,
        }  # fmt: skip
        (self.out_dir / OUTCOME_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, out_dir: Path) -> Outcome:
        """The outcome saved in `out_dir`, with its grading report if there is one.

        Raises OSError or ValueError for a folder without a readable `outcome.json`.
        """
        record = json.loads((out_dir / OUTCOME_FILE).read_text(encoding="utf-8"))
        report_file = out_dir / REPORT_FILE
        report = None
        if report_file.exists():
            report = json.loads(report_file.read_text(encoding="utf-8"))
        return cls(
            submission=Submission(str(record["name"]), Path(record["path"])), out_dir=out_dir,
            status=str(record["status"]), report=report, duration=float(record["duration_s"]),
            detail=str(record["detail"]), steps=[int(n) for n in record["steps"]],
        )  # fmt: skip


@dataclass
class BatchOptions:
    """How each submission is graded."""

    steps: Sequence[int] = ()  # default: every step
    test_timeout: float = 20
    budget: float = 600
    memory_mb: int | None = 4096
    output_mb: int | None = 100
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    database: str = "sqlite"


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "submission"


def discover(targets: Sequence[Path], classes: Sequence[Path]) -> list[Submission]:
    """The submissions: each target, and each sub-folder of each class folder.

    Names are the folder names, made safe for file names and unique (a suffix
    tells two folders of the same name apart).
    """
    folders = [Path(t).resolve() for t in targets]
    for folder in classes:
        folders += sorted(
            p.resolve() for p in Path(folder).iterdir() if p.is_dir() and not p.name.startswith(".")
        )
    submissions: list[Submission] = []
    taken: set[str] = set()
    for folder in folders:
        base = name = _safe_name(folder.name)
        counter = 2
        while name in taken:
            name, counter = f"{base}-{counter}", counter + 1
        taken.add(name)
        submissions.append(Submission(name, folder))
    return submissions


def classify(report: dict[str, Any]) -> tuple[str, str]:
    """The grading status of a finished report, and the first message that explains it."""
    if report["status"] == "error":
        return ERROR, (report.get("message") or "").splitlines()[0] if report.get("message") else ""
    checks = [(t.get("message") or "") for t in report["tests"] if t["status"] == "error"]
    checks += [(t.get("message") or "") for t in report["tests"] if t["status"] == "fail"]
    rules = [
        (OUTPUT, lambda m: OUTPUT_LIMIT in m),
        (TIMEOUT, lambda m: "grading budget" in m or "time budget" in m),
        (CRASHED, lambda m: "grading process died" in m),
        (TIMEOUT, lambda m: "did not finish in time" in m),
    ]
    for status, matches in rules:
        for message in checks:
            if matches(message):
                return status, message
    return OK, ""


def _command(submission: Submission, out_dir: Path, options: BatchOptions) -> list[str]:
    command = [
        sys.executable, "-m", "course", "grade", str(submission.path), "--reports", str(out_dir),
        "--timeout", str(options.test_timeout), "--budget", str(options.budget),
        "--database", options.database,
    ]  # fmt: skip
    for number in options.steps:
        command += ["--step", str(number)]
    if options.memory_mb:
        command += ["--memory", str(options.memory_mb)]
    if options.output_mb:
        command += ["--max-output", str(options.output_mb)]
    return command


def _finish(outcome: Outcome, code: int | None, killed: bool) -> None:
    report_file = outcome.out_dir / REPORT_FILE
    if killed:
        outcome.status, outcome.detail = TIMEOUT, "the grader ran past the submission's budget"
        return
    try:
        outcome.report = json.loads(report_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        log = outcome.out_dir / "grader.log"
        tail = log.read_text(encoding="utf-8", errors="replace")[-400:] if log.exists() else ""
        outcome.status = CRASHED
        outcome.detail = f"the grader exited with code {code} without a report. {tail}".strip()
        return
    outcome.status, outcome.detail = classify(outcome.report)


def grade_batch(
    submissions: Sequence[Submission],
    out_dir: Path,
    options: BatchOptions,
    on_update: Callable[[list[Outcome], int], None] | None = None,
) -> list[Outcome]:
    """Grade every submission into `out_dir/<name>/`; return the outcomes in input order.

    Each folder gets the submission's reports and its `outcome.json` (`Outcome.save`).

    `on_update(finished, running)` is called whenever a submission starts or ends,
    for the progress bar.
    """
    pending = list(submissions)
    running: dict[subprocess.Popen[bytes], tuple[Outcome, float]] = {}
    finished: list[Outcome] = []
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    steps = sorted(options.steps) or [step.number for step in load_manifest().steps]
    deadline = options.budget + GRACE
    while pending or running:
        while pending and len(running) < max(options.jobs, 1):
            submission = pending.pop(0)
            outcome = Outcome(submission, out_dir / submission.name, steps=list(steps))
            outcome.out_dir.mkdir(parents=True, exist_ok=True)
            with (outcome.out_dir / "grader.log").open("wb") as log:
                process = subprocess.Popen(
                    _command(submission, outcome.out_dir, options), cwd=REPO_ROOT, env=env,
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )  # fmt: skip
            running[process] = (outcome, time.monotonic())
            if on_update:
                on_update(finished, len(running))
        time.sleep(0.1)
        for process, (outcome, started) in list(running.items()):
            code = process.poll()
            killed = code is None and time.monotonic() - started > deadline
            if code is None and not killed:
                continue
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            outcome.duration = round(time.monotonic() - started, 2)
            _finish(outcome, code, killed)
            outcome.save()
            del running[process]
            finished.append(outcome)
            if on_update:
                on_update(finished, len(running))
    order = {s.name: i for i, s in enumerate(submissions)}
    return sorted(finished, key=lambda o: order[o.submission.name])
