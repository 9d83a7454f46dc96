"""Fixtures for the grading tests: the learner's project, its database, its API.

Grading tests import learner code inside the test (never at module level), so a
broken file fails the checks that need it and nothing else.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from course.grading.learner_code import Snapshot

API = "/api/v1"
PASSWORD = "grading-password-1"


# The error envelope before step 7; step 7 adds "request_id".
ENVELOPE = ("message", "detail", "status_code")


def assert_error_envelope(
    response: httpx.Response,
    status: int,
    what: str,
    *,
    keys: tuple[str, ...] = ENVELOPE,
    message: str | None = None,
) -> dict[str, Any]:
    """`response` is the JSON error envelope with `status` (and `message`); return its body."""
    assert response.status_code == status, (
        f"expected {what} to answer {status}, found {response.status_code}: {response.text[:200]}"
    )
    try:
        body = response.json()
    except ValueError:
        body = None
    assert isinstance(body, dict), (
        f"expected {what} to answer the JSON error envelope, found {response.text[:200]!r}"
    )
    missing = [key for key in keys if key not in body]
    assert not missing, (
        f"expected {what} to answer the envelope {{{', '.join(keys)}}}, "
        f"found {body} (missing {missing})"
    )
    assert isinstance(body["message"], str) and body["message"], (
        f"expected the envelope of {what} to have a message, found {body['message']!r}"
    )
    assert body["status_code"] == status, (
        f"expected the envelope of {what} to say status_code {status}, found {body['status_code']}"
    )
    if message is not None:
        assert body["message"] == message, (
            f"expected the message {message!r} from {what}, found {body['message']!r}"
        )
    return body


@dataclass(frozen=True)
class Project:
    """The learner's project, as a read-only snapshot."""

    root: Path

    def path(self, relative: str) -> Path:
        """Absolute path of a file of the project."""
        return self.root / relative

    def exists(self, relative: str) -> bool:
        """Whether the project has this file or folder."""
        return self.path(relative).exists()

    def read(self, relative: str) -> str:
        """The text of a file; a clear failure if it is missing."""
        path = self.path(relative)
        if not path.is_file():
            pytest.fail(f"expected the file {relative}, but the project has none")
        return path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="session")
def project(learner_snapshot: Snapshot) -> Project:
    """The learner's project."""
    return Project(learner_snapshot.root)


async def maybe_await(value: Any) -> Any:
    """Await `value` if it is awaitable: lets a check accept sync or async learner code."""
    if inspect.isawaitable(value):
        return await value
    return value


def database_url() -> str:
    """The URL of the grading database (private to this grading run)."""
    return os.environ["DATABASE_URL"]


@pytest.fixture
async def raw_engine() -> AsyncIterator[AsyncEngine]:
    """An engine of the grader's own on the grading database, to look behind the learner's back."""
    engine = create_async_engine(database_url(), poolclass=NullPool)
    yield engine
    await engine.dispose()


# The model modules of step 4 besides the user's, registered when the project has them.
OPTIONAL_MODELS = ("app.domain.models.session", "app.domain.models.login_failure")

# The learner's metadata whose tables were last built, per database URL.
_built: dict[str, MetaData] = {}


def _register_learner_tables() -> None:
    """Import the learner's model modules, so each registers its table on the metadata.

    `users` always; `user_sessions` and `login_failures` when the project has their
    modules (step 4 on). A model that does not import is left to its own checks: the
    checks of the other tables go on without it.
    """
    import importlib
    import importlib.util

    import app.domain.models.user  # noqa: F401  (registers the users table)

    for name in OPTIONAL_MODELS:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if found:
            with contextlib.suppress(Exception):
                importlib.import_module(name)


async def _reset_database(engine: AsyncEngine) -> None:
    """Empty tables built from the learner's models.

    The tables are built (dropped and created) once, and again for another metadata
    (the models imported anew) or when emptying them fails (a table went missing);
    otherwise they are only emptied, which costs a fraction of the DDL.
    """
    _register_learner_tables()
    from app.domain.models.base import Base

    metadata = Base.metadata
    url = engine.url.render_as_string(hide_password=False)
    if url in _built and _built[url] is metadata:
        try:
            async with engine.begin() as connection:
                for table in reversed(metadata.sorted_tables):
                    await connection.execute(table.delete())
            return
        except DBAPIError:
            pass
    _built.pop(url, None)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.drop_all)
        await connection.run_sync(metadata.create_all)
    _built[url] = metadata


async def count_email(engine: AsyncEngine, email: str) -> int:
    """Rows (soft-deleted ones included) whose email is `email` in any letter case."""
    async with engine.connect() as connection:
        result = await connection.execute(
            text("SELECT count(*) FROM users WHERE lower(email) = :email"),
            {"email": email.lower()},
        )
        return int(result.scalar_one())


@pytest.fixture
async def schema(raw_engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """Empty tables built from the learner's models; yields the grader's engine."""
    await _reset_database(raw_engine)
    yield raw_engine
    async with raw_engine.begin() as connection:
        await connection.execute(text("DELETE FROM users"))


@pytest.fixture
async def client(learner_snapshot: Snapshot) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on a fresh `create_app()`, with its lifespan running."""
    from asgi_lifespan import LifespanManager

    from app.main import create_app

    application = create_app()
    async with (
        LifespanManager(application, startup_timeout=15, shutdown_timeout=15) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://grader"
        ) as http,
    ):
        yield http


# A well-formed Argon2id hash that matches no password: users stored behind the
# learner's back carry it unless a check needs them to log in (Argon2 costs 30-80 ms).
FAKE_HASH = "$argon2id$v=19$m=19456,t=2,p=1$not-a-real-salt$not-a-real-digest"


async def add_user(
    engine: AsyncEngine,
    *,
    role: str = "user",
    email: str | None = None,
    full_name: str = "Grader Person",
    password_hash: str = FAKE_HASH,
    is_active: bool = True,
    deleted: bool = False,
    user_id: uuid.UUID | None = None,
) -> Any:
    """Store a user with the grader's own ORM session, behind the learner's back.

    Returns the learner's `User` instance. The hash is `FAKE_HASH` unless one is
    given (see `learner_hash` for a real one); the id is random unless given.
    """
    from app.domain.models.user import User

    user = User(
        id=user_id or uuid.uuid4(),
        email=email or f"{role}-{uuid.uuid4().hex[:10]}@example.com",
        password_hash=password_hash,
        full_name=full_name,
        role=role,
        is_active=is_active,
    )
    if deleted:
        user.deleted_at = datetime.now(UTC)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        session.add(user)
        await session.commit()
    return user


async def add_session(
    engine: AsyncEngine,
    user_id: uuid.UUID,
    *,
    refresh_token_id: str | None = None,
    lifetime: timedelta = timedelta(days=1),
    ended: bool = False,
) -> Any:
    """Store a login session of `user_id` with the grader's own ORM session.

    Returns the learner's `UserSession` instance: live for `lifetime` (negative: it
    has expired), or already ended (soft-deleted) when `ended`.
    """
    from app.domain.models.session import UserSession

    now = datetime.now(UTC)
    login = UserSession(
        id=uuid.uuid4(),
        user_id=user_id,
        refresh_token_id=refresh_token_id or uuid.uuid4().hex,
        expires_at=now + lifetime,
    )
    if ended:
        login.deleted_at = now
    async with AsyncSession(engine, expire_on_commit=False) as session:
        session.add(login)
        await session.commit()
    return login


async def session_headers(engine: AsyncEngine, user_id: uuid.UUID, role: str) -> dict[str, str]:
    """An Authorization header with the learner's access token of a new live session."""
    from app.core.security import create_access_token

    login = await add_session(engine, user_id)
    token = await maybe_await(create_access_token(str(user_id), role, str(login.id)))
    return {"Authorization": f"Bearer {token}"}


_learner_hashes: dict[str, str] = {}


async def learner_hash(password: str) -> str:
    """The learner's `hash_password(password)`, made once per grading session.

    For users who must log in with a real password in checks that are not about the
    hashing itself: a hash the learner's code made verifies like any other, and each
    costs an Argon2 run. Checks about hashing call `hash_password` themselves.
    """
    if password not in _learner_hashes:
        from app.core.security import hash_password

        _learner_hashes[password] = await maybe_await(hash_password(password))
    return _learner_hashes[password]


@dataclass
class ApiUser:
    """A user of the learner's API, with a bearer token."""

    id: str
    email: str
    password: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header."""
        return {"Authorization": f"Bearer {self.token}"}


MakeApiUser = Callable[..., Awaitable[ApiUser]]


@pytest.fixture
def make_api_user(client: httpx.AsyncClient, schema: AsyncEngine) -> MakeApiUser:
    """Register a user through the API, give them a role in the database, log them in."""

    async def make(role: str = "user", *, email: str | None = None) -> ApiUser:
        email = email or f"{role}-{uuid.uuid4().hex[:8]}@example.com"
        response = await client.post(
            f"{API}/auth/register",
            json={"email": email, "password": PASSWORD, "full_name": f"A {role}"},
        )
        assert response.status_code == 201, (
            f"expected POST {API}/auth/register to create a user (201), "
            f"found {response.status_code}: {response.text[:300]}"
        )
        user_id = response.json()["id"]
        if role != "user":
            async with schema.begin() as connection:
                await connection.execute(
                    text("UPDATE users SET role = :role WHERE lower(email) = :email"),
                    {"role": role, "email": email.lower()},
                )
        login = await client.post(
            f"{API}/auth/login", data={"username": email, "password": PASSWORD}
        )
        assert login.status_code == 200, (
            f"expected POST {API}/auth/login to log in a fresh user (200), "
            f"found {login.status_code}: {login.text[:300]}"
        )
        return ApiUser(user_id, email.lower(), PASSWORD, role, login.json()["access_token"])

    return make


@asynccontextmanager
async def learner_session(manager: Any) -> AsyncIterator[Any]:
    """A session from the learner's `DatabaseManager.get_session()`, however it is written.

    The workflow writes `get_session` as an async generator (a FastAPI dependency);
    an async context manager is just as right. Both commit when the block succeeds
    and roll back when it raises: an exception in the block is passed into the
    generator so its own `except` clause runs.
    """
    produced = manager.get_session()
    if hasattr(produced, "__aenter__"):
        async with produced as session:
            yield session
        return
    if not inspect.isasyncgen(produced):
        pytest.fail(
            "expected DatabaseManager.get_session() to be an async generator or an async "
            f"context manager that yields a session, found {type(produced).__name__}"
        )
    session = await produced.__anext__()
    try:
        yield session
    except BaseException as exc:
        with contextlib.suppress(StopAsyncIteration, type(exc)):
            await produced.athrow(exc)
        raise
    else:
        with contextlib.suppress(StopAsyncIteration):
            await produced.__anext__()


@pytest.fixture(autouse=True)
def _learner_code_for_grading_tests(request: pytest.FixtureRequest) -> None:
    """Make `import app` resolve to the snapshot in every grading test, fixtures or not.

    The plugin's `usefixtures("learner_snapshot")` marker is added after pytest has
    computed each test's fixtures, so a test that asks for no fixture would not get
    the snapshot; this does it. Fixtures of a wider scope that import learner code
    must still ask for `learner_snapshot` (or `project`) themselves. It then calls the
    `pytest_grading_check_setup` hook (step 8 starts its subprocesses there).
    """
    from course.grading.plugin import step_of

    if step_of(request.node) is not None:
        request.getfixturevalue("learner_snapshot")
        request.config.hook.pytest_grading_check_setup(request=request)


@asynccontextmanager
async def serve(
    application: Any, *, raise_app_exceptions: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on an app the check built itself (e.g. `create_app()` plus throwaway
    routes), with its lifespan running.

    With `raise_app_exceptions=False` an exception escaping the app does not reach the
    check: the client gets what a real server would send (the response already started,
    or a 500), which is what a check of "2xx only after the commit" must look at.
    """
    from asgi_lifespan import LifespanManager

    async with (
        LifespanManager(application, startup_timeout=15, shutdown_timeout=15) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(
                app=manager.app, raise_app_exceptions=raise_app_exceptions
            ),
            base_url="http://grader",
        ) as http,
    ):
        yield http


def http_scope(method: str, path: str) -> dict[str, Any]:
    """The ASGI scope of one HTTP request to `path`, for checks that call an ASGI app
    directly to see every message it sends (a client shows only the response)."""
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": [(b"host", b"grader")], "server": ("grader", 80),
        "client": ("127.0.0.1", 50000), "state": {},
    }  # fmt: skip


def run_coroutine(coroutine: Any) -> Any:
    """Run a coroutine to completion from synchronous code, on a loop of its own.

    A worker thread keeps it away from the session's event loop (which may be
    running, or must not be replaced).
    """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class ScratchDatabases:
    """Empty extra databases on the grading backend, for tools run in subprocesses.

    SQLite: a file in a temporary folder. PostgreSQL: a new database on the grading
    server (named after the grading database), dropped at the end of the session.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        # Read once: background threads create databases while checks change the environment.
        self.url = database_url()
        self.created: list[str] = []

    async def _execute(self, statement: str) -> None:
        engine = create_async_engine(self.url, poolclass=NullPool,
                                     isolation_level="AUTOCOMMIT")  # fmt: skip
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    def create(self, name: str) -> str:
        """The URL of a new, empty database; `name` is a short [a-z0-9_] label."""
        from sqlalchemy import make_url

        url = make_url(self.url)
        if url.get_backend_name() == "sqlite":
            path = self.folder / f"{name}-{uuid.uuid4().hex[:6]}.db"
            return url.set(database=str(path)).render_as_string(hide_password=False)
        database = f"{url.database}_{name}"[:63]
        run_coroutine(self._execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        run_coroutine(self._execute(f'CREATE DATABASE "{database}"'))
        self.created.append(database)
        return url.set(database=database).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        """Drop the PostgreSQL databases made by `create` (SQLite files go with the folder)."""
        for database in self.created:
            with contextlib.suppress(Exception):
                run_coroutine(self._execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        self.created.clear()


@pytest.fixture(scope="session")
def scratch_databases(
    learner_snapshot: Snapshot, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ScratchDatabases]:
    """Make empty databases on the grading backend: `scratch_databases.create("name")`."""
    databases = ScratchDatabases(tmp_path_factory.mktemp("scratch-db"))
    yield databases
    databases.drop_all()
