"""The sandbox: a hostile submission reaches nothing, the solution still earns full marks.

The hostile submission is the solution with one more module, imported by app/main.py,
that tries what a submission must never do on the grading machine: connect to a TCP
port and to a Unix socket the test opened, read files the test planted outside the
snapshot (in /tmp and in the home folder), write outside its temporary folder (the
repository, the graded folder, /tmp), read the test's secrets from the environment
(its own and other processes'), see the test's process. It then fails the import with
what each attempt got, so every check that imports the app carries it in its message.

Full marks on SQLite inside the sandbox: `test_solution_and_manifest`'s SQLite test,
which asserts the isolation the machine offers. Tests that need the sandbox skip where
there is none, and fail on CI (CI=true), which must run them.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from course.__main__ import main
from course.databases import grading_database
from course.grading import runner
from course.grading.report import build_report
from course.grading.runner import BUBBLEWRAP, NO_ISOLATION, Standby, grade, isolation
from course.manifest import REPO_ROOT, load_manifest
from course.pgcluster import socket_cluster_problem
from tests.grader.submissions import SOLUTION, copy_solution

MANIFEST = load_manifest()
SCHEMA = json.loads((REPO_ROOT / "course/grading/grade-report.schema.json").read_text())
SECRET_NAME = "GRADER_SANDBOX_TEST_SECRET"
MARK = "HOSTILE "
# The machine's own PostgreSQL socket (Debian), tried when there is one.
MACHINE_POSTGRES = Path("/run/postgresql/.s.PGSQL.5432")

HOSTILE = '''"""Tries what a submission must not do; fails the import with what it got."""

import json
import os
import socket


def attempt(action):
    try:
        return "got: " + repr(action())[:200]
    except BaseException as exc:  # noqa: BLE001
        return f"blocked: {{type(exc).__name__}}: {{exc}}"[:300]


def tcp():
    with socket.create_connection(("127.0.0.1", {port}), timeout=3) as conn:
        conn.sendall(b"hostile\\n")
        return "connected"


def unix(path):
    def connect():
        with socket.socket(socket.AF_UNIX) as conn:
            conn.settimeout(3)
            conn.connect(path)
            return "connected"
    return connect


def read(path):
    def go():
        with open(path, encoding="utf-8") as file:
            return file.read()
    return go


def write(path):
    def go():
        with open(path, "w", encoding="utf-8") as file:
            file.write("written by the submission")
        return "written"
    return go


def variable(name):
    def go():
        if name not in os.environ:
            raise KeyError(f"{{name}} is not set")
        return os.environ[name]
    return go


def other_environments():
    found = []
    for pid in (entry for entry in os.listdir("/proc") if entry.isdigit()):
        try:
            with open(f"/proc/{{pid}}/environ", "rb") as file:
                data = file.read()
        except OSError:
            continue
        if {secret!r}.encode() in data or b"TEST_POSTGRES_URL" in data:
            found.append(pid)
    if not found:
        raise LookupError("in no process's environment")
    return found


def host_process():
    with open("/proc/{pid}/cmdline", "rb") as file:
        return file.read()[:80]


outcomes = {{
    "tcp": attempt(tcp),
    "unix": attempt(unix({unix!r})),
    "machine_postgres": attempt(unix({machine_postgres!r})),
    "read_tmp": attempt(read({planted_tmp!r})),
    "read_home": attempt(read({planted_home!r})),
    "write_repository": attempt(write({write_repository!r})),
    "write_target": attempt(write({write_target!r})),
    "write_tmp": attempt(write({write_tmp!r})),
    "env_secret": attempt(variable({secret!r})),
    "env_test_postgres_url": attempt(variable("TEST_POSTGRES_URL")),
    "other_environments": attempt(other_environments),
    "host_process": attempt(host_process),
}}
raise RuntimeError({mark!r} + json.dumps(outcomes))
'''


@dataclass
class Trap:
    """What the test opened and planted for the hostile submission, and what it caught."""

    target: Path
    port: int
    connections: list[str]
    unix: Path
    planted: list[Path]
    writes: list[Path]


@pytest.fixture
def sandbox() -> None:
    """Skip where no sandbox can be made; on CI, fail instead."""
    problem = runner.sandbox_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must grade in the sandbox, but {problem}")
        pytest.skip(f"no sandbox here: {problem}")


@pytest.fixture
def trap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Trap]:
    """A hostile submission, and the listeners, files and secrets it goes for."""
    tag = uuid.uuid4().hex[:8]
    monkeypatch.setenv(SECRET_NAME, f"secret-{tag}")
    monkeypatch.setenv("TEST_POSTGRES_URL", f"postgresql+asyncpg://u:secret-{tag}@127.0.0.1/x")
    listener = socket.create_server(("127.0.0.1", 0))
    connections: list[str] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                connections.append(conn.recv(100).decode(errors="replace"))

    threading.Thread(target=accept, daemon=True).start()
    short = Path(tempfile.mkdtemp(prefix="sbx-"))  # a Unix socket path has 108 bytes at most
    unix = short / "host.sock"
    unix_listener = socket.socket(socket.AF_UNIX)
    unix_listener.bind(str(unix))
    unix_listener.listen()
    planted_tmp = tmp_path / "planted-secret.txt"
    planted_tmp.write_text(f"secret-{tag}")
    planted_home = Path.home() / f".grader-sandbox-test-{tag}"
    planted_home.write_text(f"secret-{tag}")
    target = copy_solution(tmp_path / "class" / "mallory")  # a class of one, for the batch
    writes = [REPO_ROOT / f".sandbox-test-{tag}", target / "written-by-submission",
              tmp_path / "written-by-submission"]  # fmt: skip
    (target / "app" / "hostile.py").write_text(
        HOSTILE.format(
            port=listener.getsockname()[1], unix=str(unix), machine_postgres=str(MACHINE_POSTGRES),
            planted_tmp=str(planted_tmp), planted_home=str(planted_home),
            write_repository=str(writes[0]), write_target=str(writes[1]),
            write_tmp=str(writes[2]), secret=SECRET_NAME, pid=os.getpid(), mark=MARK,
        )
    )  # fmt: skip
    main_py = target / "app" / "main.py"
    main_py.write_text("import app.hostile  # noqa: F401\n" + main_py.read_text())
    try:
        yield Trap(target, listener.getsockname()[1], connections, unix,
                   [planted_tmp, planted_home], writes)  # fmt: skip
    finally:
        listener.close()
        unix_listener.close()
        planted_home.unlink(missing_ok=True)
        for path in writes:
            path.unlink(missing_ok=True)
        unix.unlink(missing_ok=True)
        short.rmdir()


def outcomes(report: dict[str, Any]) -> dict[str, str]:
    """What the hostile module's attempts got, from the first check message that says."""
    for test in report["tests"]:
        message = test["message"] or ""
        if MARK in message:
            found, _ = json.JSONDecoder().raw_decode(message[message.index(MARK) + len(MARK) :])
            return dict(found)
    raise AssertionError(f"no check reported the hostile module's attempts: {report['tests']}")


def graded(how: str, trap: Trap, tmp_path: Path) -> dict[str, Any]:
    """Grade step 2 of the hostile submission the way `how` says; return the report."""
    out = tmp_path / "reports"
    if how == "grade":
        run = grade(trap.target, MANIFEST, [2], work_dir=out, test_timeout=20)
        return build_report(run, MANIFEST)
    if how == "standby":  # watch mode's way
        standby = Standby(trap.target, MANIFEST, [2], work_dir=out, test_timeout=20)
        try:
            run = grade(trap.target, MANIFEST, [2], work_dir=out, test_timeout=20,
                        standby=standby)  # fmt: skip
        finally:
            standby.close()
        return build_report(run, MANIFEST)
    # A batch: every submission graded by a `python -m course grade` of its own.
    classroom = trap.target.parent
    code = main(["grade", "--class", str(classroom), "--step", "2", "--reports", str(out)])
    assert code == 0
    report: dict[str, Any] = json.loads((out / "mallory" / "grade-report.json").read_text())
    return report


@pytest.mark.usefixtures("sandbox")
@pytest.mark.parametrize("how", ["grade", "standby", "batch"])
def test_a_hostile_submission_reaches_nothing(how: str, trap: Trap, tmp_path: Path) -> None:
    report = graded(how, trap, tmp_path)
    jsonschema.validate(report, SCHEMA)
    assert report["status"] == "fail", "the grading finishes, with the attempts as failures"
    assert report["isolation"] == BUBBLEWRAP
    got = outcomes(report)
    print(json.dumps(got, indent=2))
    # A write into /tmp lands in the sandbox's own /tmp, gone when it ends (checked below).
    leaked = {name: what for name, what in got.items()
              if not what.startswith("blocked: ") and name != "write_tmp"}  # fmt: skip
    assert not leaked, f"the sandbox let these through: {leaked}"
    assert "ConnectionRefusedError" in got["tcp"], "the sandbox's own loopback has no listener"
    assert "FileNotFoundError" in got["read_tmp"] and "FileNotFoundError" in got["read_home"]
    assert "Read-only file system" in got["write_repository"]
    assert "Read-only file system" in got["write_target"]
    assert not trap.connections, "nothing reached the test's TCP port"
    for path in trap.writes:
        assert not path.exists(), f"the submission wrote {path}"


def test_without_a_sandbox_the_report_and_the_scoreboard_say_isolation_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(runner, "sandbox_problem", lambda: "bubblewrap (bwrap) is not installed")
    monkeypatch.setenv("COLUMNS", "200")
    out, summary = tmp_path / "reports", tmp_path / "summary.md"
    code = main(["grade", str(SOLUTION), "--step", "1", "--reports", str(out),
                 "--summary-md", str(summary)])  # fmt: skip
    assert code == 0
    report = json.loads((out / "grade-report.json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["isolation"] == NO_ISOLATION
    assert report["points"] == report["max_points"], "unsandboxed grading still grades"
    printed = capsys.readouterr().out
    assert "isolation: none" in printed and "bwrap) is not installed" in printed
    assert "isolation: none" in summary.read_text()


def test_a_control_run_without_the_sandbox_lets_the_attempts_through(
    trap: Trap, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hostile module would get through without the sandbox: its checks are real."""
    monkeypatch.setattr(runner, "sandbox_problem", lambda: "switched off for the control run")
    report = graded("grade", trap, tmp_path)
    assert report["isolation"] == NO_ISOLATION
    got = outcomes(report)
    assert got["tcp"].startswith("got: "), got
    assert got["read_tmp"].startswith("got: "), got
    assert got["write_tmp"].startswith("got: ") and trap.writes[2].exists(), got
    # The environment is the grader's own even without a sandbox.
    assert got["env_secret"].startswith("blocked: "), got
    assert got["env_test_postgres_url"].startswith("blocked: "), got


@pytest.mark.usefixtures("sandbox")
def test_the_grading_process_gets_only_the_graders_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_NAME, "secret")
    monkeypatch.setenv("TEST_POSTGRES_URL", "postgresql+asyncpg://u:p@127.0.0.1/x")
    socket_folder = "/tmp/grade-pg-test/socket"
    url = f"postgresql+asyncpg://grader@/grade?host={socket_folder}"
    env = runner.grading_environment(url)
    assert set(env) <= {"PATH", "HOME", "LANG", "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
                        "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX",
                        "GRADE_DATABASE_URL"}  # fmt: skip
    command = runner.sandbox_command(["python"], env)
    for option in ("--clearenv", "--unshare-net", "--unshare-pid", "--die-with-parent",
                   "--new-session"):  # fmt: skip
        assert option in command
    assert command[command.index("--cap-drop") + 1] == "ALL"
    pairs = set(itertools.pairwise(command))
    assert ("--ro-bind", "/") in pairs and ("--tmpfs", "/tmp") in pairs
    assert ("--tmpfs", str(Path.home().resolve())) in pairs or any(
        Path.home().resolve().is_relative_to(path) for flag, path in pairs if flag == "--tmpfs"
    )
    assert "secret" not in " ".join(command) and "u:p@" not in " ".join(command)
    with pytest.raises(ValueError, match="Unix socket"):
        grade(SOLUTION, MANIFEST, [1], work_dir=tmp_path,
              database_url="postgresql+asyncpg://u:p@127.0.0.1:5432/x")  # fmt: skip


@pytest.mark.skipif(
    not os.environ.get("TEST_POSTGRES_URL") and socket_cluster_problem() is not None,
    reason="neither TEST_POSTGRES_URL nor the PostgreSQL server binaries",
)
def test_solution_earns_full_marks_on_postgresql(tmp_path: Path) -> None:
    """In the sandbox where there is one: a private cluster, reached through its socket."""
    with grading_database(sandboxed=isolation() == BUBBLEWRAP) as url:
        run = grade(SOLUTION, MANIFEST, work_dir=tmp_path, database_url=url)
    report = build_report(run, MANIFEST)
    jsonschema.validate(report, SCHEMA)
    assert report["isolation"] == isolation()
    if isolation() == BUBBLEWRAP:
        assert "?host=/" in url, "in the sandbox PostgreSQL is reached through a socket"
    failed = [f"{t.nodeid}: {t.message}" for t in run.tests if t.status != "pass"]
    assert not failed, "the solution must pass every check:\n" + "\n".join(failed)
    assert report["points"] == report["max_points"] == MANIFEST.points
