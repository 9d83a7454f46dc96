"""Fixtures shared by every test.

Database tests run once per backend: SQLite always, and PostgreSQL too when
`TEST_POSTGRES_URL` names a server (for example
``postgresql+asyncpg://user:pass@localhost:5432/postgres``). Each run gets a fresh
database built by the real migrations, emptied after every test and dropped at the end.
HTTP tests go through the real ASGI app, lifespan included.
"""

import asyncio
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# The settings are read once, at import time: configure them before `app` is imported.
os.environ.update(
    ENVIRONMENT="testing",
    DEBUG="true",
    LOG_LEVEL="INFO",
    LOG_FORMAT="text",
    DATABASE_URL="sqlite+aiosqlite:///:memory:",
)

import httpx
import pytest
from alembic import command
from alembic.config import Config
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.database import DatabaseManager
from app.core.security import create_access_token, password_hash
from app.domain.models.session import UserSession
from app.domain.models.user import User, UserRole
from app.main import create_app
from app.repository.session_repository import SessionRepository
from app.repository.user_repository import UserRepository

SOLUTION_DIR = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]
DEFAULT_PASSWORD = "correct-horse-battery"

API = "/api/v1"


def pytest_report_header() -> str:
    """Say which databases this run covers."""
    return f"database backends: {', '.join(BACKENDS)}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Count the passed tests per database backend, so a run shows what it covered."""
    passed = Counter[str]()
    for report in terminalreporter.stats.get("passed", []):
        params = report.nodeid.partition("[")[2].rstrip("]").split("-")
        passed.update(backend for backend in BACKENDS if backend in params)
    summary = ", ".join(f"{backend}: {passed[backend]} passed" for backend in BACKENDS)
    terminalreporter.write_line(f"database tests per backend: {summary}")


def migrate(url: str, revision: str = "head", *, down: bool = False) -> None:
    """Run the project's Alembic migrations against `url`."""
    config = Config(str(SOLUTION_DIR / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    if down:
        command.downgrade(config, revision)
    else:
        command.upgrade(config, revision)


async def _admin_execute(server_url: str, statement: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def fresh_database_url(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str], str]]:
    """Return a factory of empty databases on a backend; all are removed at the end."""
    created: list[str] = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("db") / "test.db"
            return f"sqlite+aiosqlite:///{path}"
        assert POSTGRES_URL is not None
        name = f"test_{uuid.uuid4().hex[:12]}"
        try:
            asyncio.run(_admin_execute(POSTGRES_URL, f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # a set-but-unreachable server is an error, not a skip
            pytest.fail(f"TEST_POSTGRES_URL is set but unusable: {exc}", pytrace=False)
        created.append(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    yield make
    for name in created:
        assert POSTGRES_URL is not None
        asyncio.run(_admin_execute(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, fresh_database_url: Callable[[str], str]) -> str:
    """URL of this run's migrated database, one per backend."""
    url = fresh_database_url(request.param)
    migrate(url)
    return url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[DatabaseManager]:
    """A database manager on the test database, emptied after the test."""
    manager = DatabaseManager(database_url)
    yield manager
    async with manager.engine.begin() as connection:
        await connection.execute(text("DELETE FROM users"))
        await connection.execute(text("DELETE FROM login_failures"))  # not keyed to users
    await manager.disconnect()


@pytest.fixture
def app(database: DatabaseManager) -> FastAPI:
    """The application, serving from the test database."""
    return create_app(database=database)


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to `app` in-process, with its lifespan running."""
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
        ) as http,
    ):
        yield http


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the test app."""
    async with serve(app) as http:
        yield http


def assert_error(
    response: httpx.Response, status: int, message: str | None = None
) -> dict[str, Any]:
    """Assert `response` is the error envelope with `status` (and `message`); return its body."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"message", "detail", "status_code", "request_id"}
    assert body["status_code"] == status
    assert isinstance(body["message"], str)
    assert body["message"] != ""
    assert body["request_id"] == response.headers["X-Request-ID"]
    if message is not None:
        assert body["message"] == message
    return body


@dataclass
class TestUser:
    """A user created for a test, with what a client needs to act as them."""

    __test__ = False  # not a test class, despite the name

    id: uuid.UUID
    email: str
    password: str
    role: UserRole
    session_id: uuid.UUID  # a live login session, as if they had logged in

    @property
    def headers(self) -> dict[str, str]:
        """An Authorization header with a fresh access token of their session."""
        token = create_access_token(str(self.id), self.role.value, str(self.session_id))
        return {"Authorization": f"Bearer {token}"}


MakeUser = Callable[..., Awaitable[TestUser]]


@pytest.fixture(scope="session")
def default_password_hash() -> str:
    """One Argon2 hash of the default password, computed once: hashing is slow by design."""
    return password_hash.hash(DEFAULT_PASSWORD)


@pytest.fixture
def make_user(database: DatabaseManager, default_password_hash: str) -> MakeUser:
    """Return a coroutine function that stores a user and returns it as a `TestUser`."""

    async def make(
        role: UserRole = UserRole.USER,
        *,
        email: str | None = None,
        full_name: str = "Test User",
        is_active: bool = True,
    ) -> TestUser:
        email = email or f"{role.value}-{uuid.uuid4().hex[:8]}@example.com"
        async with database.get_session() as session:
            user = await UserRepository(session).create(
                User(
                    email=email.lower(),
                    password_hash=default_password_hash,
                    full_name=full_name,
                    role=role.value,
                    is_active=is_active,
                )
            )
            login = await SessionRepository(session).create(
                UserSession(
                    user_id=user.id,
                    refresh_token_id=uuid.uuid4().hex,
                    expires_at=datetime.now(UTC) + timedelta(days=1),
                )
            )
        return TestUser(
            id=user.id, email=user.email, password=DEFAULT_PASSWORD, role=role, session_id=login.id
        )

    return make


@pytest.fixture
async def admin(make_user: MakeUser) -> TestUser:
    """An administrator."""
    return await make_user(UserRole.ADMIN, full_name="Ada Admin")


@pytest.fixture
async def moderator(make_user: MakeUser) -> TestUser:
    """A moderator."""
    return await make_user(UserRole.MODERATOR, full_name="Mo Moderator")


@pytest.fixture
async def user(make_user: MakeUser) -> TestUser:
    """A plain user."""
    return await make_user(UserRole.USER, full_name="Uma User")
