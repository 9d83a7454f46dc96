"""Units of work: a 2xx means committed, a failed commit is never a 2xx; engine setup."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool, StaticPool

from app.core.config import Settings
from app.core.database import SQLITE_LOCK_TIMEOUT, DatabaseManager
from app.domain.models.user import User
from tests.conftest import API, TestUser

ENVELOPE_KEYS = {"message", "detail", "status_code", "request_id"}


class CommitRefusedError(RuntimeError):
    """Raised by the `before_commit` hook to make every commit fail."""


def refuse_commit(_session: Session) -> None:
    raise CommitRefusedError("commit refused by test")


@contextmanager
def commits_fail() -> Iterator[None]:
    """Every session commit raises while the block runs (create fixtures' rows before)."""
    event.listen(Session, "before_commit", refuse_commit)
    try:
        yield
    finally:
        event.remove(Session, "before_commit", refuse_commit)


async def find_user(database_url: str, **where: Any) -> User | None:
    """Look a user up (soft-deleted ones included) through a separate engine."""
    other = DatabaseManager(database_url)
    try:
        async with other.session_factory() as session:
            query = select(User).filter_by(**where)
            return (await session.execute(query)).scalar_one_or_none()
    finally:
        await other.disconnect()


async def count_users(database: DatabaseManager) -> int:
    async with database.session_factory() as session:
        return (await session.execute(select(func.count()).select_from(User))).scalar_one()


def new_user(email: str) -> User:
    return User(email=email, password_hash="not-a-real-hash", full_name="Unit Of Work")


def assert_500_envelope(response: httpx.Response) -> None:
    assert response.status_code == 500
    body = response.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["status_code"] == 500
    assert body["message"] == "Internal server error"
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert "commit refused" not in response.text


# --- A 2xx means committed ---------------------------------------------------------


async def test_register_201_is_committed_and_visible_to_another_engine(
    client: httpx.AsyncClient, database_url: str
) -> None:
    response = await client.post(
        f"{API}/auth/register",
        json={"email": "Committed@Example.com", "password": "long-enough-1", "full_name": "C"},
    )
    assert response.status_code == 201
    stored = await find_user(database_url, email="committed@example.com")
    assert stored is not None
    assert str(stored.id) == response.json()["id"]


async def test_patch_me_200_is_committed(
    client: httpx.AsyncClient, database_url: str, user: TestUser
) -> None:
    response = await client.patch(
        f"{API}/users/me", json={"full_name": "Renamed User"}, headers=user.headers
    )
    assert response.status_code == 200
    stored = await find_user(database_url, id=user.id)
    assert stored is not None
    assert stored.full_name == "Renamed User"


async def test_delete_200_is_committed(
    client: httpx.AsyncClient, database_url: str, admin: TestUser, user: TestUser
) -> None:
    response = await client.delete(f"{API}/users/{user.id}", headers=admin.headers)
    assert response.status_code == 200
    stored = await find_user(database_url, id=user.id)
    assert stored is not None
    assert stored.deleted_at is not None


# --- A failing commit is never a 2xx -----------------------------------------------


async def test_register_with_failing_commit_is_500_and_stores_nothing(
    client: httpx.AsyncClient, database_url: str, database: DatabaseManager
) -> None:
    with commits_fail():
        response = await client.post(
            f"{API}/auth/register",
            json={"email": "never@example.com", "password": "long-enough-1", "full_name": "N"},
        )
    assert_500_envelope(response)
    assert await find_user(database_url, email="never@example.com") is None
    assert await count_users(database) == 0


async def test_patch_me_with_failing_commit_is_500_and_changes_nothing(
    client: httpx.AsyncClient, database_url: str, user: TestUser
) -> None:
    with commits_fail():
        response = await client.patch(
            f"{API}/users/me",
            json={
                "full_name": "Not Saved",
                "password": "new-password-123",
                "current_password": user.password,
            },
            headers=user.headers,
        )
    assert_500_envelope(response)
    stored = await find_user(database_url, id=user.id)
    assert stored is not None
    assert stored.full_name == "Uma User"
    login = await client.post(
        f"{API}/auth/login", data={"username": user.email, "password": user.password}
    )
    assert login.status_code == 200  # the old password still works


async def test_delete_with_failing_commit_is_500_and_user_stays(
    client: httpx.AsyncClient, database_url: str, admin: TestUser, user: TestUser
) -> None:
    with commits_fail():
        response = await client.delete(f"{API}/users/{user.id}", headers=admin.headers)
    assert_500_envelope(response)
    stored = await find_user(database_url, id=user.id)
    assert stored is not None
    assert stored.deleted_at is None
    again = await client.get(f"{API}/users/{user.id}", headers=admin.headers)
    assert again.status_code == 200


# --- DatabaseManager.get_session ---------------------------------------------------


async def test_get_session_commits_when_block_succeeds(
    database: DatabaseManager, database_url: str
) -> None:
    async with database.get_session() as session:
        session.add(new_user("uow-commit@example.com"))
    assert await find_user(database_url, email="uow-commit@example.com") is not None


async def test_get_session_rolls_back_when_block_raises(
    database: DatabaseManager, database_url: str
) -> None:
    async def add_then_fail() -> None:
        async with database.get_session() as session:
            session.add(new_user("uow-rollback@example.com"))
            await session.flush()  # the row reached the database...
            raise LookupError("abort the unit of work")

    with pytest.raises(LookupError):
        await add_then_fail()
    # ...and was rolled back.
    assert await find_user(database_url, email="uow-rollback@example.com") is None
    assert await count_users(database) == 0


async def test_get_session_rolls_back_and_raises_when_commit_fails(
    database: DatabaseManager, database_url: str
) -> None:
    async def add() -> None:
        async with database.get_session() as session:
            session.add(new_user("uow-refused@example.com"))
            await session.flush()

    with commits_fail(), pytest.raises(CommitRefusedError):
        await add()
    assert await find_user(database_url, email="uow-refused@example.com") is None


async def test_session_keeps_objects_readable_after_commit(database: DatabaseManager) -> None:
    async with database.get_session() as session:
        user = new_user("after-commit@example.com")
        session.add(user)
    # expire_on_commit is off: no lazy reload (which async sessions cannot do) is needed.
    assert user.email == "after-commit@example.com"
    assert isinstance(user.id, uuid.UUID)


def test_session_factory_disables_expire_on_commit_and_autoflush(
    database: DatabaseManager,
) -> None:
    assert database.session_factory.kw["expire_on_commit"] is False
    assert database.session_factory.kw["autoflush"] is False


# --- Engines per backend -----------------------------------------------------------


async def test_sqlite_session_connections_enforce_foreign_keys(database: DatabaseManager) -> None:
    if database.url.get_backend_name() != "sqlite":
        pytest.skip("foreign keys are a per-connection PRAGMA only on SQLite")
    async with database.session_factory() as session:
        assert (await session.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1


async def test_sqlite_rejects_row_violating_foreign_key(database: DatabaseManager) -> None:
    if database.url.get_backend_name() != "sqlite":
        pytest.skip("checks SQLite's foreign-key PRAGMA")
    async with database.engine.connect() as connection:
        await connection.execute(text("CREATE TEMP TABLE fk_parent (id INTEGER PRIMARY KEY)"))
        await connection.execute(
            text("CREATE TEMP TABLE fk_child (parent_id INTEGER REFERENCES fk_parent(id))")
        )
        with pytest.raises(Exception, match="FOREIGN KEY"):
            await connection.execute(text("INSERT INTO fk_child (parent_id) VALUES (42)"))


async def test_in_memory_sqlite_manager_creates_connects_and_disposes() -> None:
    manager = DatabaseManager(
        "sqlite+aiosqlite:///:memory:",
        config=Settings(DB_POOL_SIZE=3, DB_MAX_OVERFLOW=2, DB_POOL_TIMEOUT=5),
    )
    try:
        assert isinstance(manager.engine.pool, StaticPool)
        await manager.connect()
        assert await manager.ping() is True
        async with manager.session_factory() as session:
            assert (await session.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
    finally:
        await manager.disconnect()


async def test_in_memory_sqlite_is_shared_by_every_session() -> None:
    manager = DatabaseManager("sqlite+aiosqlite:///:memory:")
    try:
        async with manager.get_session() as session:
            await session.execute(text("CREATE TABLE shared (value TEXT)"))
            await session.execute(text("INSERT INTO shared VALUES ('seen')"))
        async with manager.session_factory() as session:
            assert (await session.execute(text("SELECT value FROM shared"))).scalar_one() == "seen"
    finally:
        await manager.disconnect()


async def test_file_sqlite_manager_accepts_pool_settings(tmp_path: Path) -> None:
    manager = DatabaseManager(
        f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}",
        config=Settings(DB_POOL_SIZE=3, DB_MAX_OVERFLOW=2),
    )
    try:
        await manager.connect()
        assert await manager.ping() is True
    finally:
        await manager.disconnect()


async def test_file_sqlite_connections_wait_for_the_write_lock(tmp_path: Path) -> None:
    """A burst of logins (each writes its session) queues for SQLite's one writer."""
    manager = DatabaseManager(f"sqlite+aiosqlite:///{tmp_path / 'lock.db'}")
    try:
        async with manager.engine.connect() as connection:
            waits_ms = (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one()
        assert waits_ms == SQLITE_LOCK_TIMEOUT * 1000
    finally:
        await manager.disconnect()


async def test_postgresql_manager_gets_configured_pool_without_connecting() -> None:
    manager = DatabaseManager(
        "postgresql+asyncpg://nobody:nothing@127.0.0.1:9/none",
        config=Settings(DB_POOL_SIZE=3, DB_MAX_OVERFLOW=4, DB_POOL_TIMEOUT=7),
    )
    try:
        pool = manager.engine.pool
        assert isinstance(pool, QueuePool)
        assert pool.size() == 3
        assert pool.timeout() == 7
        assert pool._max_overflow == 4
        assert pool._pre_ping is True
    finally:
        await manager.disconnect()


async def test_manager_reports_unreachable_database() -> None:
    manager = DatabaseManager("postgresql+asyncpg://nobody:nothing@127.0.0.1:9/none")
    try:
        assert await manager.ping() is False
        with pytest.raises(ConnectionRefusedError):
            await manager.connect()
    finally:
        await manager.disconnect()
