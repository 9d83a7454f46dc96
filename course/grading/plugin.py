"""The pytest plugin that turns `tests/step_NN/` into a grader.

- Every grading test carries `@pytest.mark.grade("D5", points)`: one deliverable
  of the step its folder belongs to (checked against the manifest at collection).
- The graded folder (`--target`, default `workspace/`) is snapshotted and `import
  app` resolves to the snapshot only (see `learner_code`).
- Each failure gets a plain message: what was expected, what was found; the
  docs link comes from the manifest.
- With `--grade-results FILE`, one JSON line per event is appended to FILE as the
  run goes, so a process that dies still leaves what it had done.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from course.grading.learner_code import (
    TIMEOUT_MESSAGE,
    LearnerImportError,
    Snapshot,
    describe_exception,
    install_finder,
    take_snapshot,
)
from course.manifest import REPO_ROOT, load_manifest

STEP_DIR = re.compile(r"step_(\d\d)$")
OUTPUT_LIMIT = 4000  # characters of captured output kept per test
SNAPSHOT_KEY = pytest.StashKey[Snapshot]()
RESULTS_KEY = pytest.StashKey[IO[str]]()


class GradingHooks:
    """Hooks that the grading tests' conftest files may implement."""

    @pytest.hookspec
    def pytest_grading_check_setup(self, request: pytest.FixtureRequest) -> None:
        """A grading check (of any step) is being set up; the learner's snapshot is ready.

        A step whose checks wait for slow work (step 8: subprocesses) may start that
        work here, in the background, so that it runs while the earlier steps are
        graded. Called from inside the check's set-up, under its timeout.
        """


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(GradingHooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grader")
    group.addoption(
        "--target",
        default=str(REPO_ROOT / "workspace"),
        help="project folder to grade (default: workspace/)",
    )
    group.addoption(
        "--grade-results", default=None, help="append one JSON line per grading event here"
    )
    group.addoption(
        "--grade-standby",
        type=int,
        default=None,
        metavar="FD",
        help="collect, then wait for a line on file descriptor FD before grading (at end of "
        "file, stop): a grading process kept ready ahead of time",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "grade(deliverable, points): the deliverable a grading test checks, and its worth",
    )
    results = config.getoption("--grade-results")
    if results:
        stream = open(results, "a", encoding="utf-8")  # noqa: SIM115 (closed in unconfigure)
        config.stash[RESULTS_KEY] = stream
        config.pluginmanager.register(ResultWriter(stream), "grade-results")


def pytest_unconfigure(config: pytest.Config) -> None:
    stream = config.stash.get(RESULTS_KEY, None)
    if stream is not None:
        stream.close()
    snapshot = config.stash.get(SNAPSHOT_KEY, None)
    if snapshot is not None:
        shutil.rmtree(snapshot.root.parent, ignore_errors=True)


def _emit(config: pytest.Config, record: dict[str, Any]) -> None:
    stream = config.stash.get(RESULTS_KEY, None)
    if stream is not None:
        stream.write(json.dumps(record) + "\n")
        stream.flush()


def step_of(item: pytest.Item) -> int | None:
    """The step number of a grading test, from its folder (None for other tests)."""
    for parent in Path(str(item.path)).parents:
        match = STEP_DIR.match(parent.name)
        if match:
            return int(match.group(1))
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    manifest = load_manifest()
    problems = []
    collected = []
    for item in items:
        step = step_of(item)
        if step is None:
            continue
        mark = item.get_closest_marker("grade")
        if mark is None or len(mark.args) != 2:
            problems.append(f"{item.nodeid}: needs @pytest.mark.grade(deliverable, points)")
            continue
        key, points = mark.args
        try:
            deliverable = manifest.deliverable(key)
        except KeyError as exc:
            problems.append(f"{item.nodeid}: {exc}")
            continue
        if deliverable.step != step:
            problems.append(f"{item.nodeid}: {key} belongs to step {deliverable.step}, not {step}")
        if not isinstance(points, int) or points < 1:
            problems.append(f"{item.nodeid}: points must be a positive integer")
        collected.append(
            {"nodeid": item.nodeid, "name": item.name, "step": step, "deliverable": key,
             "points": points}
        )  # fmt: skip
    if problems:
        raise pytest.UsageError("grading tests are mis-declared:\n  " + "\n  ".join(problems))
    _emit(config, {"event": "collected", "tests": collected})


# What the checks import sooner or later (the grader's own libraries and those of the
# `grade` dependency group). A process on standby imports them while it waits.
STANDBY_IMPORTS = (
    "asgi_lifespan", "fastapi", "pydantic_settings", "email_validator", "python_multipart",
    "loguru", "jwt", "pwdlib", "aiosqlite", "uvicorn.config",
)  # fmt: skip


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """On standby (`--grade-standby FD`): import what the checks need, then wait for the
    go; the checks, and the snapshot of the target, come after it."""
    fd = session.config.getoption("--grade-standby")
    if fd is None:
        return
    for name in STANDBY_IMPORTS:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    with os.fdopen(fd, "rb") as go:
        if not go.readline():
            pytest.exit("the grader no longer needs this grading process", returncode=0)


@pytest.fixture(scope="session")
def learner_snapshot(pytestconfig: pytest.Config) -> Iterator[Snapshot]:
    """A private copy of the graded folder, importable as `app`, in a clean environment."""
    target = Path(pytestconfig.getoption("--target"))
    snapshot = take_snapshot(target)
    pytestconfig.stash[SNAPSHOT_KEY] = snapshot
    install_finder(snapshot)
    workdir = Path(tempfile.mkdtemp(prefix="grade-cwd-"))
    # The learner's settings are read at import time: give them a private database
    # and a neutral environment before any learner module is imported.
    defaults = {
        "DATABASE_URL": os.environ.get("GRADE_DATABASE_URL")
        or f"sqlite+aiosqlite:///{workdir / 'grading.db'}",
        "ENVIRONMENT": "testing",
        "DEBUG": "true",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "text",
    }
    saved = {name: os.environ.get(name) for name in defaults}
    os.environ.update(defaults)
    cwd = Path.cwd()
    os.chdir(workdir)  # relative paths (./app.db, .env) land here, never in the target
    try:
        yield snapshot
    finally:
        os.chdir(cwd)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(workdir, ignore_errors=True)


def learner_message(excinfo: pytest.ExceptionInfo[BaseException], snapshot: Snapshot | None) -> str:
    """What a learner should read about a failed check."""
    exc = excinfo.value
    if isinstance(exc, AssertionError):
        # pytest appends its own "assert a == b" explanation after our message.
        text = str(exc).split("\nassert ")[0].strip()
        return text or "a check failed"
    if isinstance(exc, pytest.fail.Exception):
        text = str(exc.msg) if hasattr(exc, "msg") else str(exc)
        if text.startswith("Timeout"):
            return f"this check failed: {TIMEOUT_MESSAGE}"
        return text
    if isinstance(exc, LearnerImportError):
        return str(exc)
    if snapshot is not None:
        return "your code raised " + describe_exception(exc, snapshot)
    return f"{type(exc).__name__}: {exc}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report: pytest.TestReport = yield
    if step_of(item) is not None and report.failed and call.excinfo is not None:
        snapshot = item.config.stash.get(SNAPSHOT_KEY, None)
        message = learner_message(call.excinfo, snapshot)
        if report.when != "call":
            message = f"could not prepare this check: {message}"
        report.user_properties.append(("learner_message", message))
    return report


def _captured(report: pytest.TestReport) -> str:
    text = "".join(
        f"--- {name} ---\n{content}\n"
        for name, content in report.sections
        if name.startswith("Captured") and content.strip()
    )
    if len(text) > OUTPUT_LIMIT:
        text = f"[... {len(text) - OUTPUT_LIMIT} characters cut ...]\n" + text[-OUTPUT_LIMIT:]
    return text


class ResultWriter:
    """Appends one JSON line when a grading test starts and one when it ends."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.started: dict[str, float] = {}
        self.outcomes: dict[str, dict[str, str]] = {}

    def emit(self, record: dict[str, Any]) -> None:
        self.stream.write(json.dumps(record) + "\n")
        self.stream.flush()

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.started[nodeid] = time.monotonic()
        self.outcomes[nodeid] = {"status": "pass", "message": "", "output": ""}
        self.emit({"event": "start", "nodeid": nodeid})

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = self.outcomes.get(report.nodeid)
        if outcome is None:
            return
        if report.failed and outcome["status"] == "pass":
            outcome["status"] = "fail" if report.when == "call" else "error"
            outcome["message"] = str(dict(report.user_properties).get("learner_message", "failed"))
            outcome["output"] = _captured(report)
        elif report.skipped and outcome["status"] == "pass":
            outcome["status"] = "skip"
            outcome["message"] = (
                str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
            )
        if report.when == "teardown":
            duration = time.monotonic() - self.started.pop(report.nodeid)
            self.emit(
                {"event": "result", "nodeid": report.nodeid, **self.outcomes.pop(report.nodeid),
                 "duration": round(duration, 3)}
            )  # fmt: skip
