"""Step 8 runs the learner's project as a developer would: Alembic, the seed script and
uvicorn, each in a subprocess, in a private copy of the project, on scratch databases.

Subprocesses are the slow part of the grader, so the work is done once per session,
in parallel, and early: three jobs run in background threads (the Alembic probe;
`alembic upgrade head` then a server session; the seed runs on tables built from the
models), and each check waits only for the job it reads. The jobs start with step 8's
first check, not earlier: beside steps 2 to 7 their threads and subprocesses disturbed
the checks that time the event loop, and the checks that re-import the learner's modules.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, Table, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from course.grading.fixtures import API, ScratchDatabases
from course.grading.hints import (
    DATABASE_UNREACHABLE,
    HINT,
    database_hint,
    library_hint,
    missing_library,
)
from course.grading.learner_code import Snapshot
from course.grading.runner import LEARNER_SETTINGS, bytecode_cache

HERE = Path(__file__).resolve().parent
# Generous on purpose: these run whole Python processes, which a busy 2-core machine
# (an instructor grading a class in parallel) can slow down many times over.
CHECK_TIMEOUT = 120  # seconds a step 8 check may wait (the grader's default is 20 s)
PROCESS_TIMEOUT = 45  # seconds one command may run
PROBE_TIMEOUT = 60  # seconds the Alembic probe (a dozen commands) may run
BOOT_TIMEOUT = 45  # seconds uvicorn may take to answer its first request
SCENARIO_TIMEOUT = 30  # seconds for all the requests of the run & verify session
DOTENV_VERSION = "8.8.8-from-dotenv"  # only in the copy's .env: proves .env is read
ADMIN_EMAIL = "seed-admin@example.com"
ADMIN_PASSWORD = "grader-seed-admin-password-42"
USER_PASSWORD = "grader-run-verify-password-1"
DEMO_USERS = 3
# Production settings the settings accept: the seed script must still refuse --demo.
PRODUCTION_SETTINGS = {
    "ENVIRONMENT": "production",
    "DEBUG": "false",
    "JWT_SECRET_KEY": "grader-production-access-secret-" + "a" * 16,
    "JWT_REFRESH_SECRET_KEY": "grader-production-refresh-secret-" + "b" * 16,
}


# --- subprocesses -----------------------------------------------------------------------


def gist(text: str, root: Path) -> str:
    """The exception of a Python traceback and where it happened, or the last lines."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "(no output)"
    if any(line.startswith("Traceback (most recent call last)") for line in lines) or any(
        line.startswith(("SyntaxError", "IndentationError")) for line in lines
    ):
        where, file = "", None
        for line in lines:
            match = re.match(r'File "([^"]+)", line (\d+)', line)
            if match and match.group(1).startswith(str(root)):
                file = Path(match.group(1)).relative_to(root).as_posix()
                where = f" (in {file} line {match.group(2)})"
        last = lines[-1][:300]
        if DATABASE_UNREACHABLE.search(last):
            return f"{last} {HINT} {database_hint()}"  # the URL is the cause, not the line
        missing = re.match(r"ModuleNotFoundError: No module named '([\w.]+)'", last)
        library = missing_library(missing.group(1)) if missing else None
        if library is not None:
            return f"{last}{where} {HINT} {library_hint(library, file)}"
        return f"{last}{where}"
    return " | ".join(lines[-4:])[-500:].replace(str(root) + "/", "")


@dataclass
class Completed:
    """What a finished subprocess left."""

    args: list[str]
    returncode: int | None  # None: killed after PROCESS_TIMEOUT
    stdout: str
    stderr: str
    root: Path  # where it ran: paths under it are shown relative
    timeout: float

    def tail(self) -> str:
        """The gist of its output."""
        return gist(self.stderr.strip() or self.stdout.strip(), self.root)

    def describe(self) -> str:
        """One sentence for a learner."""
        shown = ["python" if arg == sys.executable else arg for arg in self.args]
        command = " ".join(shown)
        if self.returncode is None:
            return f"`{command}` did not finish within {self.timeout:g} s (an infinite loop?)"
        return f"`{command}` exited with code {self.returncode}: {self.tail()}"


class Workshop:
    """The private copy of the project, its scratch databases, and the background jobs."""

    def __init__(self, root: Path, databases: ScratchDatabases) -> None:
        self.root = root
        self.databases = databases
        # Taken now: checks running meanwhile may change the environment for a while.
        self.environ = {k: v for k, v in os.environ.items() if k not in LEARNER_SETTINGS}
        self.pycache = bytecode_cache()
        self.processes: list[subprocess.Popen[bytes]] = []
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()

    def env(self, **settings: str) -> dict[str, str]:
        """A clean environment for the learner's code: the grader's settings, then `settings`."""
        env = dict(self.environ)
        env.update(
            PYTHONPATH=str(self.root),
            PYTHONDONTWRITEBYTECODE="1",
            PYTHONUNBUFFERED="1",
            ENVIRONMENT="testing",
            DEBUG="false",
            LOG_LEVEL="INFO",
            LOG_FORMAT="text",
        )
        if self.pycache:
            env.pop("PYTHONDONTWRITEBYTECODE")
            env["PYTHONPYCACHEPREFIX"] = self.pycache
        env.update(settings)
        return env

    def start(self, args: list[str], env: dict[str, str], stdout: Any, stderr: Any) -> Any:
        process = subprocess.Popen(
            args,
            cwd=self.root,
            env=env,
            stdout=stdout,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
        )
        with self.lock:
            self.processes.append(process)
        return process

    def run(
        self, args: list[str], env: dict[str, str], timeout: float = PROCESS_TIMEOUT
    ) -> Completed:
        """Run a command in the copy and wait for it (killed after `timeout` seconds)."""
        process = self.start(args, env, subprocess.PIPE, subprocess.PIPE)
        try:
            out, err = process.communicate(timeout=timeout)
            code: int | None = process.returncode
        except subprocess.TimeoutExpired:
            kill(process)
            out, err = process.communicate()
            code = None

        def decode(data: bytes) -> str:
            return data.decode("utf-8", errors="replace")

        return Completed(args, code, decode(out), decode(err), self.root, timeout)

    def job(self, name: str, work: Callable[[], Any]) -> None:
        """Start `work` in a background thread, once."""
        with self.lock:
            if name not in self.jobs:
                self.jobs[name] = Job(name, work)

    def result(self, name: str) -> Any:
        """Wait for a background job; fail this check with its error if it failed."""
        job = self.jobs[name]
        # Not Thread.join(): a join interrupted by the per-check timeout can leave the
        # thread marked as finished while it still runs.
        while not job.done.wait(timeout=0.2):
            pass
        if job.error is not None:
            pytest.fail(job.error)
        return job.value

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                kill(process)
        for job in self.jobs.values():
            job.done.wait(timeout=15)
        if self.pycache:  # forget this copy's own bytecode; keep the libraries'
            prefix = Path(self.pycache)
            mine = prefix / self.root.relative_to(self.root.anchor)
            shutil.rmtree(mine, ignore_errors=True)
            for parent in mine.parents:
                if parent == prefix or not parent.is_relative_to(prefix):
                    break
                with contextlib.suppress(OSError):
                    parent.rmdir()  # only when empty


@dataclass
class Job:
    """A function running in a background thread, and what came of it."""

    name: str
    work: Callable[[], Any]
    value: Any = None
    error: str | None = None
    thread: threading.Thread = field(init=False)
    done: threading.Event = field(init=False, default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._run, name=f"grade-{self.name}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self._work()
        finally:
            self.done.set()

    def _work(self) -> None:
        try:
            self.value = self.work()
        except BaseException as exc:  # reported to every check that reads this job
            if isinstance(exc, pytest.fail.Exception):
                self.error = str(exc.msg) if hasattr(exc, "msg") else str(exc)
            else:
                last = traceback.format_exception_only(type(exc), exc)[-1].strip()
                self.error = f"the grader's run of your project failed: {last[:400]}"


def kill(process: subprocess.Popen[Any]) -> None:
    # The commands stay in the grader's process group (no new session), so a runner
    # that kills the group on a timeout takes them along.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- databases ------------------------------------------------------------------------


def learner_metadata() -> MetaData:
    """The learner's Base.metadata with the users table registered."""
    import app.domain.models.user  # noqa: F401
    from app.domain.models.base import Base

    return Base.metadata


def imported_metadata() -> MetaData | None:
    """The learner's Base.metadata if a check has imported their models already, else None.

    Imports nothing: importing learner code belongs inside the checks that grade it.
    """
    if "app.domain.models.user" not in sys.modules:
        return None
    base = getattr(sys.modules.get("app.domain.models.base"), "Base", None)
    metadata = getattr(base, "metadata", None)
    return metadata if isinstance(metadata, MetaData) else None


def create_tables(url: str, metadata: MetaData, tables: list[Table]) -> None:
    """Build the learner's tables from their models (independent of their migrations)."""

    async def run() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(metadata.create_all, tables=tables)
        finally:
            await engine.dispose()

    asyncio.run(run())


def read_users(url: str) -> list[dict[str, Any]]:
    """Every row of users (soft-deleted or not), values as text, sorted by email."""

    async def run() -> list[dict[str, Any]]:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                rows = (await connection.execute(text("SELECT * FROM users"))).mappings().all()
        finally:
            await engine.dispose()
        return sorted(
            ({k: None if v is None else str(v) for k, v in row.items()} for row in rows),
            key=lambda row: str(row.get("email")),
        )

    return asyncio.run(run())


def execute(url: str, statement: str, **params: Any) -> None:
    async def run() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.begin() as connection:
                await connection.execute(text(statement), params)
        finally:
            await engine.dispose()

    asyncio.run(run())


# --- the jobs -------------------------------------------------------------------------


def alembic_job(workshop: Workshop) -> Callable[[], dict[str, Any]]:
    def work() -> dict[str, Any]:
        url = workshop.databases.create("alembic")
        other_url = workshop.databases.create("alembic_x")  # for `alembic -x url=...`
        result_file = workshop.root.parent / "alembic-probe.json"  # pytest's temporary folder
        completed = workshop.run(
            [sys.executable, str(HERE / "alembic_probe.py"), str(result_file), other_url],
            workshop.env(DATABASE_URL=url),
            timeout=PROBE_TIMEOUT,
        )
        report: dict[str, Any] = {}
        if result_file.exists():
            with contextlib.suppress(json.JSONDecodeError):
                report = json.loads(result_file.read_text(encoding="utf-8"))
        report["process"] = completed
        report["url"] = url
        return report

    return work


@dataclass
class SeedRuns:
    """Two runs of the seed script on one database, and the users after each; then, on an
    empty database, a run with ENVIRONMENT=production and its users, and a run there
    without --demo (the admin alone) and its users."""

    first: Completed
    after_first: list[dict[str, Any]]
    second: Completed
    after_second: list[dict[str, Any]]
    production: Completed | None = None  # None: not run (the first run hung)
    after_production: list[dict[str, Any]] = field(default_factory=list)
    production_admin: Completed | None = None
    after_production_admin: list[dict[str, Any]] = field(default_factory=list)


def seed_job(workshop: Workshop, metadata: MetaData) -> Callable[[], SeedRuns]:
    tables = list(metadata.sorted_tables)  # listed here, in the checks' thread

    def work() -> SeedRuns:
        url = workshop.databases.create("seed")
        create_tables(url, metadata, tables)
        # A developer seeds demo users in development, the settings' default environment.
        env = workshop.env(
            DATABASE_URL=url,
            FIRST_ADMIN_EMAIL=ADMIN_EMAIL,
            FIRST_ADMIN_PASSWORD=ADMIN_PASSWORD,
            ENVIRONMENT="development",
        )
        args = [sys.executable, "-m", "scripts.seed", "--demo", str(DEMO_USERS)]
        first = workshop.run(args, env)
        after_first = read_users(url)
        if first.returncode is None:  # it hangs: do not wait for it twice
            return SeedRuns(first, after_first, first, after_first)
        second = workshop.run(args, env)
        after_second = read_users(url)
        production_url = workshop.databases.create("seed-production")
        create_tables(production_url, metadata, tables)
        production_env = env | PRODUCTION_SETTINGS | {"DATABASE_URL": production_url}
        production = workshop.run(args, production_env)
        after_production = read_users(production_url)
        # Then the admin alone, which production allows, on the database left empty
        # (unless the refusal hung: no second wait for the same hang).
        admin_alone = None
        if production.returncode is not None:
            admin_alone = workshop.run(args[:3], production_env)
        return SeedRuns(
            first,
            after_first,
            second,
            after_second,
            production,
            after_production,
            admin_alone,
            read_users(production_url),
        )

    return work


@dataclass
class Reply:
    """One HTTP exchange with the server (status None: no answer)."""

    status: int | None
    body: str
    headers: dict[str, str]

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def field(self, name: str) -> Any:
        data = self.json()
        return data.get(name) if isinstance(data, dict) else None

    def show(self) -> str:
        return "no answer" if self.status is None else f"{self.status} {self.body[:200]}"


@dataclass
class ServerRun:
    """A uvicorn session: did it start, what it answered, what it printed."""

    started: bool
    problem: str = ""
    replies: dict[str, Reply] = field(default_factory=dict)
    request_id: str = ""
    secrets: list[str] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    migration: Completed | None = None  # the `alembic upgrade head` before it


def scenario(base_url: str, db_url: str, run: ServerRun) -> None:
    """Health, then a user's round trip, then an admin's CRUD, over real HTTP."""
    replies = run.replies
    tag = uuid.uuid4().hex[:8]
    deadline = time.monotonic() + SCENARIO_TIMEOUT
    with httpx.Client(base_url=base_url + API, timeout=10) as http:

        def call(name: str, method: str, path: str, **kwargs: Any) -> Reply:
            if time.monotonic() > deadline:
                reply = Reply(
                    None, f"not sent: the requests before took over {SCENARIO_TIMEOUT} s", {}
                )
                replies[name] = reply
                return reply
            try:
                response = http.request(method, path, **kwargs)
                reply = Reply(response.status_code, response.text, dict(response.headers))
            except httpx.HTTPError as exc:
                reply = Reply(None, f"{type(exc).__name__}: {exc}", {})
            replies[name] = reply
            return reply

        def bearer(reply: Reply) -> dict[str, str]:
            token = reply.field("access_token")
            if isinstance(token, str):
                run.secrets.append(token)
                refresh = reply.field("refresh_token")
                if isinstance(refresh, str):
                    run.secrets.append(refresh)
            return {"Authorization": f"Bearer {token}"}

        run.request_id = f"grader-verify-{tag}"
        call("health", "GET", "/health", headers={"X-Request-ID": run.request_id})
        email = f"verify-{tag}@example.com"
        call(
            "register",
            "POST",
            "/auth/register",
            json={"email": email, "password": USER_PASSWORD, "full_name": "Run Verify"},
        )
        user = bearer(
            call(
                "login", "POST", "/auth/login", data={"username": email, "password": USER_PASSWORD}
            )
        )
        call("me", "GET", "/users/me", headers=user)
        call("patch_me", "PATCH", "/users/me", json={"full_name": "Renamed Verify"}, headers=user)
        call("me_again", "GET", "/users/me", headers=user)

        admin_email = f"verify-admin-{tag}@example.com"
        call(
            "register_admin",
            "POST",
            "/auth/register",
            json={"email": admin_email, "password": USER_PASSWORD, "full_name": "Verify Admin"},
        )
        execute(
            db_url, "UPDATE users SET role = 'admin' WHERE lower(email) = :email", email=admin_email
        )
        admin = bearer(
            call(
                "login_admin",
                "POST",
                "/auth/login",
                data={"username": admin_email, "password": USER_PASSWORD},
            )
        )
        created = call(
            "create",
            "POST",
            "/users",
            headers=admin,
            json={
                "email": f"verify-made-{tag}@example.com",
                "password": USER_PASSWORD,
                "full_name": "Made By Admin",
                "role": "moderator",
            },
        )
        user_id = created.field("id") or "00000000-0000-4000-8000-000000000000"
        call("list", "GET", "/users", params={"limit": 50}, headers=admin)
        call("get", "GET", f"/users/{user_id}", headers=admin)
        call(
            "update",
            "PATCH",
            f"/users/{user_id}",
            json={"full_name": "Updated Name"},
            headers=admin,
        )
        call("delete", "DELETE", f"/users/{user_id}", headers=admin)
        call("get_deleted", "GET", f"/users/{user_id}", headers=admin)


def table_names(url: str) -> list[str]:
    async def run() -> list[str]:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(lambda c: inspect(c).get_table_names())
        finally:
            await engine.dispose()

    return asyncio.run(run())


def server_job(workshop: Workshop) -> Callable[[], ServerRun]:
    """Migrate a database as a developer would (`alembic upgrade head`), then serve it."""

    def work() -> ServerRun:
        url = workshop.databases.create("server")
        migrated = workshop.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"], workshop.env(DATABASE_URL=url)
        )
        if migrated.returncode != 0:
            pytest.fail(f"the server needs a migrated database, but {migrated.describe()}")
        if "users" not in table_names(url):
            pytest.fail(
                "the server needs a migrated database, but `alembic upgrade head` built no "
                "users table in the database that DATABASE_URL names"
            )
        port = free_port()
        logs = workshop.root.parent / "server-logs"  # pytest's temporary folder
        logs.mkdir(exist_ok=True)
        env = workshop.env(DATABASE_URL=url, LOG_FORMAT="json")
        with (logs / "stdout").open("wb") as out, (logs / "stderr").open("wb") as err:
            process = workshop.start(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "app.main:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                env,
                out,
                err,
            )
        base_url = f"http://127.0.0.1:{port}"
        run = ServerRun(started=False, migration=migrated)
        deadline = time.monotonic() + BOOT_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            try:
                httpx.get(f"{base_url}{API}/health", timeout=2)
            except httpx.HTTPError:
                time.sleep(0.1)
                continue
            run.started = True
            break
        if run.started:
            try:
                scenario(base_url, url, run)
            finally:
                process.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=5)
        elif process.poll() is not None:
            output = (logs / "stderr").read_text(encoding="utf-8", errors="replace")
            output = output.strip() or (logs / "stdout").read_text(
                encoding="utf-8", errors="replace"
            )
            run.problem = f"it exited with code {process.returncode}: {gist(output, workshop.root)}"
        else:
            run.problem = f"it did not answer GET {API}/health within {BOOT_TIMEOUT} s"
        if process.poll() is None:
            kill(process)
        run.stdout = (logs / "stdout").read_text(encoding="utf-8", errors="replace")
        run.stderr = (logs / "stderr").read_text(encoding="utf-8", errors="replace")
        return run

    return work


# --- fixtures -------------------------------------------------------------------------


WORKSHOP = pytest.StashKey[Workshop]()
USES_WORKSHOP = pytest.StashKey[bool]()


def copy_project(snapshot: Snapshot, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the project to run tools in; its .env is the grader's."""
    root = tmp_path_factory.mktemp("step8") / "project"
    shutil.copytree(snapshot.root, root, symlinks=True)
    (root / ".env").write_text(f"VERSION={DOTENV_VERSION}\n", encoding="utf-8")
    return root


def open_workshop(request: pytest.FixtureRequest) -> Workshop:
    """The session's workshop; made on first use, its Alembic and server jobs started."""
    workshop = request.config.stash.get(WORKSHOP, None)
    if workshop is None:
        root = copy_project(
            request.getfixturevalue("learner_snapshot"),
            request.getfixturevalue("tmp_path_factory"),
        )
        workshop = Workshop(root, request.getfixturevalue("scratch_databases"))
        workshop.job("alembic", alembic_job(workshop))
        workshop.job("server", server_job(workshop))
        request.config.stash[WORKSHOP] = workshop
        request.config.add_cleanup(workshop.stop)  # if no step 8 check ever asks for it
    return workshop


def pytest_grading_check_setup(request: pytest.FixtureRequest) -> None:
    """Start step 8's jobs with step 8's first check, before its fixtures are set up.

    The seed job needs the learner's models: it starts as soon as a check has imported
    them (they are never imported from here), at the latest with the `workshop` fixture.
    """
    if request.node.path.parent != HERE:
        return
    config = request.config
    if USES_WORKSHOP not in config.stash:
        config.stash[USES_WORKSHOP] = any(
            item.path.parent == HERE and "workshop" in getattr(item, "fixturenames", ())
            for item in request.session.items
        )
    if not config.stash[USES_WORKSHOP]:
        return
    workshop = open_workshop(request)
    if "seed" not in workshop.jobs:
        metadata = imported_metadata()
        if metadata is not None:
            workshop.job("seed", seed_job(workshop, metadata))


@pytest.fixture(scope="session")
def work_copy(learner_snapshot: Snapshot, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the project to run tools in; its .env is the grader's."""
    return copy_project(learner_snapshot, tmp_path_factory)


@pytest.fixture(scope="session")
def workshop(
    request: pytest.FixtureRequest, scratch_databases: ScratchDatabases
) -> Iterator[Workshop]:
    """Every step 8 job, started (see `pytest_grading_check_setup`); stops what is left
    at the end."""
    workshop = open_workshop(request)
    if "seed" not in workshop.jobs:
        try:
            metadata = learner_metadata()
        except Exception as exc:  # the seed checks report it
            reason = f"{type(exc).__name__}: {str(exc)[:300]}"

            def broken() -> Any:
                pytest.fail(f"the seed checks need the users table, but your models fail: {reason}")

            workshop.job("seed", broken)
        else:
            workshop.job("seed", seed_job(workshop, metadata))
    yield workshop
    workshop.stop()


@pytest.fixture
def alembic_report(workshop: Workshop) -> dict[str, Any]:
    """What the Alembic probe found (see alembic_probe.py)."""
    report: dict[str, Any] = workshop.result("alembic")
    return report


@pytest.fixture
def seed_runs(workshop: Workshop) -> SeedRuns:
    runs: SeedRuns = workshop.result("seed")
    return runs


@pytest.fixture
def server_run(workshop: Workshop) -> ServerRun:
    run: ServerRun = workshop.result("server")
    return run


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Step 8's checks wait for subprocesses: give them CHECK_TIMEOUT, not the default."""
    for item in items:
        if item.path.parent == HERE:
            item.add_marker(pytest.mark.timeout(CHECK_TIMEOUT))
