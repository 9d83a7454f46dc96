"""Run the grading tests against one target in a separate pytest process.

The process may die with the learner's code (`os._exit()`, a crash in C code) or
run out of time. Results are streamed to a file as they happen, so the runner
knows which check was running; it records that check as an error and starts a
new process for the checks that are left, a few times at most.

The process, and everything the learner's code and the checks start, runs in a
sandbox where bubblewrap can make one (`sandbox_command`): no network but its own
loopback, no other processes, a read-only file system with a private /tmp and the
home folder hidden, and an environment holding only what the grader sets. Where it
cannot, grading runs unsandboxed and the run says so (`GradingRun.isolation`).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from course.manifest import REPO_ROOT, Manifest
from course.merge import Conflict, find_conflicts

MAX_RESTARTS = 3
# The only pytest plugins the grading tests use. Installed plugins are not loaded
# (PYTEST_DISABLE_PLUGIN_AUTOLOAD): the environment may hold many more, the course's own
# test tools among them (schemathesis pulls in hypothesis), and loading them all would
# cost each grading process seconds.
PLUGINS = ("pytest_asyncio.plugin", "pytest_timeout")
OUTPUT_LIMIT = "the code under test wrote more output than the grader allows"
# The learner's settings must come from the grader, not from the shell it runs in.
LEARNER_SETTINGS = frozenset(
    {
        "PROJECT_NAME", "PROJECT_DESCRIPTION", "VERSION", "DEBUG", "ENVIRONMENT", "API_V1_PREFIX",
        "HOST", "PORT", "WORKERS", "RELOAD", "DATABASE_URL", "DB_ECHO", "DB_POOL_SIZE",
        "DB_MAX_OVERFLOW", "DB_POOL_TIMEOUT", "JWT_SECRET_KEY", "JWT_REFRESH_SECRET_KEY",
        "JWT_ALGORITHM", "JWT_ACCESS_TOKEN_EXPIRE_MINUTES", "JWT_REFRESH_TOKEN_EXPIRE_DAYS",
        "JWT_ISSUER", "JWT_AUDIENCE", "JWT_LEEWAY_SECONDS", "SESSION_LIFETIME_DAYS",
        "CORS_ORIGINS", "CORS_ALLOW_CREDENTIALS", "CORS_ALLOW_METHODS", "CORS_ALLOW_HEADERS",
        "LOG_LEVEL", "LOG_FORMAT", "FIRST_ADMIN_EMAIL", "FIRST_ADMIN_PASSWORD",
        "MAX_REQUEST_BODY_BYTES", "HSTS_ENABLED", "LOGIN_MAX_FAILURES",
        "LOGIN_FAILURE_WINDOW_MINUTES", "HASHING_QUEUE_PER_CORE",
    }
)  # fmt: skip


@dataclass
class TestResult:
    """The outcome of one grading test."""

    nodeid: str
    name: str
    step: int
    deliverable: str
    points: int
    status: str = "error"  # pass | fail | error | skip
    message: str = ""
    output: str = ""
    duration: float = 0.0


@dataclass
class GradingRun:
    """Everything one grading run produced."""

    target: Path
    steps: list[int]
    tests: list[TestResult] = field(default_factory=list)
    error: str | None = None  # set when the grader itself could not run
    duration: float = 0.0
    conflicts: list[Conflict] = field(default_factory=list)  # unresolved merge conflicts
    isolation: str = "none"  # how the learner's code ran: "bubblewrap" (sandboxed) or "none"


def conflict_message(conflicts: list[Conflict]) -> str:
    """One sentence for every check that unresolved merge conflicts keep from running."""
    where = ", ".join(map(str, conflicts[:3])) + (" ..." if len(conflicts) > 3 else "")
    return (
        f"unresolved merge conflict in {where}: keep what both sides need between "
        "<<<<<<< and >>>>>>>, delete the marker lines, then grade again (checks are "
        "not graded while a conflict is left)"
    )


def _blame_conflicts(tests: list[TestResult], conflicts: list[Conflict]) -> None:
    """Give every failed check the conflict as its cause: the one thing to fix first.

    A conflicted module does not even parse, and what imports it fails in many ways;
    one message instead of that cascade. The check's own message moves to its output.
    """
    message = conflict_message(conflicts)
    for test in tests:
        if test.status in ("fail", "error"):
            test.output = "\n".join(filter(None, [test.message, test.output]))
            test.message = message


def _read_events(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a line cut short by a dying process
    return events


def bytecode_cache() -> str | None:
    """Where grading processes cache bytecode, if the environment has none of its own.

    A normal virtualenv has compiled bytecode next to its sources: then None, and
    nothing is written anywhere. One without (uv installs without UV_COMPILE_BYTECODE)
    would compile pytest, SQLAlchemy and FastAPI again in every grading process, for
    seconds each; a per-user cache folder outside any project avoids that. A cache
    folder already in use (PYTHONPYCACHEPREFIX) is kept. The learner's modules are
    never cached (see `learner_code`). In the sandbox the cache is read-only (no
    submission writes bytecode another one loads): only unsandboxed runs fill it.
    """
    if sys.pycache_prefix:
        return sys.pycache_prefix
    spec = importlib.util.find_spec("sqlalchemy")
    if spec is None or not spec.origin:
        return None
    if Path(importlib.util.cache_from_source(spec.origin)).exists():
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "clean-fastapi-grader" / "pycache"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    return str(folder)


# --- the sandbox ------------------------------------------------------------------------

BUBBLEWRAP = "bubblewrap"  # GradingRun.isolation: the learner's code ran in the sandbox
NO_ISOLATION = "none"  # ... it ran with the grader's own rights, network and files
BWRAP = "bwrap"  # the bubblewrap command, looked up on PATH
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
# Namespaces of its own: a network with nothing but its loopback, no process but its
# own, and its own System V IPC, host name and cgroup view.
NAMESPACES = ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
              "--unshare-cgroup-try")  # fmt: skip
# Folders the sandbox sees empty (a fresh tmpfs each), besides the home folder: where
# other processes keep their files and sockets (the machine's PostgreSQL listens in
# /run/postgresql; a read-only mount does not stop connecting to a Unix socket).
HIDDEN = ("/tmp", "/var/tmp", "/run", "/var/run", "/home", "/root")
# Each of those tmpfs holds at most this much: files there are memory, which RLIMIT_AS
# does not count (a grading writes a few MB: the snapshot, copies, SQLite databases).
TMPFS_BYTES = 1024 * 1024 * 1024


def grading_environment(database_url: str | None) -> dict[str, str]:
    """The whole environment of a grading process: only what the grader sets.

    Nothing comes from the caller's environment (its secrets, TEST_POSTGRES_URL, the
    learner's settings): the search path, the home folder (empty in the sandbox), the
    locale, pytest's and Python's switches, and the grading database, if any.
    """
    env = {
        "PATH": f"{Path(sys.executable).parent}:{SYSTEM_PATH}",
        "HOME": str(Path.home()),
        "LANG": "C.UTF-8",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    cache = bytecode_cache()
    if cache:
        env["PYTHONPYCACHEPREFIX"] = cache
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    if database_url:
        env["GRADE_DATABASE_URL"] = database_url
    return env


def _outermost(paths: Sequence[Path]) -> list[Path]:
    """The existing `paths`, resolved, without those inside another one (shortest first)."""
    found = sorted({p.resolve() for p in paths if p.exists()}, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in found:
        if not any(path.is_relative_to(other) for other in kept):
            kept.append(path)
    return kept


def _runtime_paths() -> list[Path]:
    """What the grading process reads to run at all: the course, Python, its libraries."""
    paths = [REPO_ROOT, Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix),
             Path(sys.base_exec_prefix), Path(sys.executable).resolve().parent.parent]  # fmt: skip
    paths += [Path(entry) for entry in sys.path if entry]
    return paths


def sandbox_command(
    args: Sequence[str],
    env: dict[str, str],
    *,
    readable: Sequence[Path] = (),
    writable: Sequence[Path] = (),
) -> list[str]:
    """`args` run in a bubblewrap sandbox, with exactly `env` as its environment.

    The file system is the machine's, read-only, except that /tmp (a fresh tmpfs), the
    home folder and the other `HIDDEN` folders are empty; of what they hold, the sandbox
    sees only what the grading process needs to run (the repository, Python) and
    `readable`, read-only, and `writable`, read-write. `--die-with-parent` ends the
    sandbox with the thread that started it; killing bwrap ends every process inside.
    """
    hidden = _outermost([Path(p) for p in (*HIDDEN, env["HOME"])])
    command = [
        shutil.which(BWRAP) or BWRAP, "--ro-bind", "/", "/", *NAMESPACES, "--die-with-parent",
        "--new-session", "--cap-drop", "ALL", "--proc", "/proc", "--dev", "/dev",
    ]  # fmt: skip
    for path in hidden:
        command += ["--size", str(TMPFS_BYTES), "--tmpfs", str(path)]
    inside = [p for p in _outermost([*_runtime_paths(), *readable])
              if any(p.is_relative_to(h) for h in hidden)]  # fmt: skip
    for path in inside:
        command += ["--ro-bind", str(path), str(path)]
    for path in _outermost(writable):
        command += ["--bind", str(path), str(path)]
    command += ["--chdir", str(REPO_ROOT), "--clearenv"]
    for name, value in env.items():
        command += ["--setenv", name, value]
    return [*command, "--", *args]


@functools.cache
def sandbox_problem() -> str | None:
    """Why grading processes cannot run in the sandbox here, or None if they can.

    A probe, once per process: Python started in the sandbox as a grading process would
    be (bwrap missing, or the kernel refusing the namespaces, fails it).
    """
    if shutil.which(BWRAP) is None:
        return "bubblewrap (bwrap) is not installed"
    env = grading_environment(None)
    try:
        probe = subprocess.run(
            sandbox_command([sys.executable, "-c", "pass"], env), env=env,
            stdin=subprocess.DEVNULL, capture_output=True, timeout=30,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not be run: {exc}"
    if probe.returncode != 0:
        said = probe.stderr.decode("utf-8", errors="replace").strip().splitlines()
        return f"bwrap failed (exit code {probe.returncode}): {said[-1] if said else ''}".strip()
    return None


def isolation() -> str:
    """How grading processes run on this machine: BUBBLEWRAP, or NO_ISOLATION."""
    return NO_ISOLATION if sandbox_problem() else BUBBLEWRAP


def _database_folders(database_url: str | None) -> list[Path]:
    """The folders a grading database needs in the sandbox: its Unix socket's, if any.

    The sandbox has no network: a PostgreSQL server is reachable only through a socket
    in a folder of its own (`postgresql+asyncpg://user@/db?host=/that/folder`, see
    `course.databases.grading_database`), never over TCP.
    """
    if not database_url or not urlsplit(database_url).scheme.startswith("postgresql"):
        return []
    hosts = parse_qs(urlsplit(database_url).query).get("host", [])
    folders = [Path(host) for host in hosts if host.startswith("/")]
    if not folders:
        raise ValueError(
            "a grading process in the sandbox reaches PostgreSQL only through a Unix socket "
            f"(...?host=/socket/folder), not {_without_password(database_url)}: "
            "see course.databases.grading_database"
        )
    return folders


def _without_password(url: str) -> str:
    """`url` without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


@dataclass(frozen=True)
class Limits:
    """Resource limits for the pytest process that runs the learner's code.

    Set in the child between fork and exec (`preexec_fn`), so they bind the
    learner's code and whatever it starts, never the grader itself.
    """

    memory_mb: int | None = None  # address space (RLIMIT_AS)
    output_mb: int | None = None  # size of any file it writes, the log included (RLIMIT_FSIZE)

    def apply(self) -> None:
        """Set the limits in the current process (runs in the forked child)."""
        if self.memory_mb:
            size = self.memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (size, size))
        if self.output_mb:
            size = self.output_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def _start_pytest(
    args: list[str],
    *,
    target: Path,
    events_file: Path,
    database_url: str | None,
    log: Path,
    limits: Limits | None = None,
    pass_fds: tuple[int, ...] = (),
) -> tuple[subprocess.Popen[bytes], str]:
    """Start a grading process, its output appended to `log`; return it and its isolation.

    The one place that decides how a grading process starts (`grade`, `Standby`, and so
    watch mode and every submission of a batch): in its own process group, with the
    grader's environment only, in the sandbox wherever there can be one. It reads the
    target and the database's socket folder, and writes only the events file.
    """
    how = isolation()
    sandboxed = how == BUBBLEWRAP
    env = grading_environment(database_url)
    command = list(args)
    if sandboxed:
        cache = env.get("PYTHONPYCACHEPREFIX")
        # The bytecode cache is read-only in there: no submission writes what others load.
        readable = [target, *_database_folders(database_url), *([Path(cache)] if cache else [])]
        command = sandbox_command(args, env, readable=readable, writable=[events_file.parent])
    # Only a grading run that asks for limits pays for preexec_fn (it is not thread-safe).
    preexec = limits.apply if limits and (limits.memory_mb or limits.output_mb) else None
    with log.open("a", encoding="utf-8") as out:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=preexec,
            pass_fds=pass_fds,
        )  # fmt: skip
    return process, how


def _finish_pytest(process: subprocess.Popen[bytes], timeout: float) -> tuple[int | None, bool]:
    """Wait for pytest, then end its process group; return (exit code, timed out)."""
    try:
        code, timed_out = process.wait(timeout=max(timeout, 1)), False
    except subprocess.TimeoutExpired:
        code, timed_out = None, True
    # Whatever the learner's code or a check started (servers, subprocesses) goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return code, timed_out


def _pytest_args(target: Path, events_file: Path, test_timeout: float) -> list[str]:
    return [
        sys.executable, "-m", "pytest", f"--target={target}", f"--grade-results={events_file}",
        f"--timeout={test_timeout}", "-q", "--no-header", "--tb=short", "-p", "no:cacheprovider",
        *(arg for plugin in PLUGINS for arg in ("-p", plugin)), "-W", "ignore",
    ]  # fmt: skip


def _selection(manifest: Manifest, steps: Sequence[int] | None) -> list[int]:
    return sorted(steps or [step.number for step in manifest.steps])


class Standby:
    """A grading process started ahead of time, for `grade(..., standby=...)`.

    It loads pytest and the grading tests, collects them, imports the libraries the
    checks use, and then waits; the grading itself, from the snapshot of the target
    on, starts only when `grade` lets it go, so it grades the files as they are then.
    Watch mode keeps one ready between saves: a save then costs only the checks.
    """

    def __init__(
        self,
        target: Path,
        manifest: Manifest,
        steps: Sequence[int] | None = None,
        *,
        work_dir: Path,
        test_timeout: float = 20,
        database_url: str | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.steps = _selection(manifest, steps)
        self.key = (target.resolve(), self.steps, work_dir.resolve(), test_timeout, database_url,
                    limits)  # fmt: skip
        work_dir.mkdir(parents=True, exist_ok=True)
        self.log = work_dir / "pytest.log"
        self.log.unlink(missing_ok=True)
        self.events_file = Path(tempfile.mkdtemp(prefix="grade-events-")) / "events.jsonl"
        selection = [manifest.step(n).test_dir for n in self.steps]
        read, self._go = os.pipe()
        try:
            args = _pytest_args(target.resolve(), self.events_file, test_timeout)
            self.process, self.isolation = _start_pytest(
                [*args, f"--grade-standby={read}", *selection], target=target.resolve(),
                events_file=self.events_file, database_url=database_url, log=self.log,
                limits=limits, pass_fds=(read,),
            )  # fmt: skip
        except BaseException:
            os.close(self._go)
            raise
        finally:
            os.close(read)

    def release(self) -> bool:
        """Let the process grade; False if it is no longer there to do it."""
        if self.process.poll() is not None:
            return False
        try:
            os.write(self._go, b"go\n")
        except OSError:
            return False
        return True

    def close(self) -> None:
        """Stop the process if it still runs; forget its files."""
        with contextlib.suppress(OSError):
            os.close(self._go)
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        shutil.rmtree(self.events_file.parent, ignore_errors=True)


def grade(
    target: Path,
    manifest: Manifest,
    steps: Sequence[int] | None = None,
    *,
    work_dir: Path,
    test_timeout: float = 20,
    budget: float = 600,
    database_url: str | None = None,
    limits: Limits | None = None,
    standby: Standby | None = None,
    checks: Sequence[str] = (),
) -> GradingRun:
    """Grade `target` on `steps` (default: all); never raises for broken learner code.

    `checks`, pytest node ids of grading tests of those steps, runs only them (the
    mutants' test asks for the checks a mistake must fail); the default is every check.

    `budget` bounds the whole run in seconds; `limits` caps the memory and the
    output of the process that runs the learner's code. A `standby` started with the
    same target, steps and options does the first attempt (any other is closed).
    The run's `isolation` says whether the code ran in the sandbox; there, a PostgreSQL
    `database_url` must name a Unix socket (`course.databases.grading_database`).
    """
    start = time.monotonic()
    if isolation() == BUBBLEWRAP:
        _database_folders(database_url)  # raises for a database the sandbox cannot reach
    steps = _selection(manifest, steps)
    run = GradingRun(target=target.resolve(), steps=steps, conflicts=find_conflicts(target))
    key = (run.target, steps, work_dir.resolve(), test_timeout, database_url, limits)
    if standby is not None and (checks or standby.key != key or not standby.release()):
        standby.close()
        standby = None
    if standby is not None:
        log, events_file = standby.log, standby.events_file
    else:
        work_dir.mkdir(parents=True, exist_ok=True)
        log = work_dir / "pytest.log"
        log.unlink(missing_ok=True)
        # Private to this run, so two gradings of one target cannot mix their events.
        events_file = Path(tempfile.mkdtemp(prefix="grade-events-")) / "events.jsonl"

    base_args = _pytest_args(run.target, events_file, test_timeout)
    selection = list(checks) or [f"{manifest.step(n).test_dir}" for n in steps]
    results: dict[str, TestResult] = {}
    order: list[str] = []

    for attempt in range(MAX_RESTARTS + 1):
        left = budget - (time.monotonic() - start)
        if standby is not None and attempt == 0:
            run.isolation = standby.isolation
            code, timed_out = _finish_pytest(standby.process, left)
        else:
            process, run.isolation = _start_pytest(
                base_args + selection, target=run.target, events_file=events_file,
                database_url=database_url, log=log, limits=limits,
            )  # fmt: skip
            code, timed_out = _finish_pytest(process, left)
        flooded = bool(
            limits and limits.output_mb and log.stat().st_size >= limits.output_mb * 1024 * 1024
        )
        running: str | None = None
        for event in _read_events(events_file):
            kind = event["event"]
            if kind == "collected" and not order:
                for test in event["tests"]:  # type: ignore[attr-defined]
                    result = TestResult(**test)
                    results[result.nodeid] = result
                    order.append(result.nodeid)
            elif kind == "start":
                running = str(event["nodeid"])
            elif kind == "result":
                result = results[str(event["nodeid"])]
                result.status = str(event["status"])
                result.message = str(event["message"])
                result.output = str(event["output"])
                result.duration = float(event["duration"])  # type: ignore[arg-type]
                running = None
        events_file.unlink(missing_ok=True)
        if not order:
            tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
            run.error = (
                f"the grading tests could not be collected (pytest exit code {code}):\n{tail}"
            )
            break
        if running is not None:
            crashed = results[running]
            crashed.status = "error"
            crashed.message = (
                "grading stopped while this check ran: it took longer than the whole grading "
                "budget" if timed_out else
                f"grading stopped while this check ran: {OUTPUT_LIMIT} ({limits.output_mb} MB)"
                if flooded and limits else
                f"the grading process died while this check ran (exit code {code}): does your "
                "code call os._exit(), or crash Python?"
            )  # fmt: skip
        pending = [n for n in order if results[n].status == "error" and not results[n].message]
        # A full log would stop every new process at its first line, so no restart then.
        if not pending or timed_out or flooded or attempt == MAX_RESTARTS:
            for nodeid in pending:
                results[nodeid].message = (
                    "not run: the grading time budget ran out" if timed_out else
                    f"not run: {OUTPUT_LIMIT}" if flooded else
                    "not run: the grading process kept dying (see the check marked before)"
                )  # fmt: skip
            break
        selection = pending

    shutil.rmtree(events_file.parent, ignore_errors=True)
    if standby is not None:
        standby.close()
    if limits and limits.output_mb:
        # Python ignores SIGXFSZ, so a flood usually shows as EFBIG in the code under test
        # (pytest captures output in a file) rather than as a dead process: name the cause.
        for result in results.values():
            if "File too large" in result.message and OUTPUT_LIMIT not in result.message:
                result.message += f" ({OUTPUT_LIMIT}: {limits.output_mb} MB)"
    run.tests = [results[nodeid] for nodeid in order]
    if run.conflicts:
        _blame_conflicts(run.tests, run.conflicts)
    run.duration = round(time.monotonic() - start, 2)
    return run
