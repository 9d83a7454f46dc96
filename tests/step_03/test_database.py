"""Step 3, D5: `DatabaseManager` and `database_manager` (app/core/database.py).

Commit and rollback are checked on a throwaway table (the User model is step 4's),
seen through the grader's own engine: a second connection, as another request would.
The learner's engine is found by type (an AsyncEngine attribute), not by name.
"""

from __future__ import annotations

import contextlib
import inspect
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Integer, String, make_url, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from course.grading.fixtures import learner_session, maybe_await, serve
from course.grading.hints import DATABASE_UNREACHABLE, HINT, database_hint
from tests.step_03.conftest import (
    SCRATCH_TABLE,
    learner_engines,
    patched_settings,
    scratch_names,
    unreachable_database,
)

SECRET_PARAMETER = "grading-secret-parameter-7f3a"


class ScratchBase(DeclarativeBase):
    """The grader's own models, independent of the learner's."""


class ScratchItem(ScratchBase):
    __tablename__ = SCRATCH_TABLE

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(50))


@pytest.fixture
async def manager() -> Any:
    """The learner's `database_manager`, connected as the app's start-up would.

    A failing connect() costs only its own check: the others go on without it.
    """
    from app.core.database import database_manager

    with contextlib.suppress(Exception):
        await maybe_await(database_manager.connect())
    return database_manager


@pytest.mark.grade("D5", 2)
async def test_connect_runs_a_query_on_the_database(manager: Any) -> None:
    await maybe_await(manager.connect())  # the database answers: no error
    with unreachable_database():
        try:
            await maybe_await(manager.connect())
        except NotImplementedError:
            raise
        except Exception:
            return
    pytest.fail(
        "expected connect() to run a query (SELECT 1) and so raise when the database is "
        "unreachable, found it returned quietly"
    )


@pytest.mark.grade("D5", 1)
async def test_disconnect_closes_the_pooled_connections(manager: Any) -> None:
    await maybe_await(manager.connect())
    [engine, *_] = learner_engines()
    await maybe_await(manager.disconnect())
    checked_in = getattr(engine.sync_engine.pool, "checkedin", lambda: 0)()
    assert checked_in == 0, (
        "expected disconnect() to dispose the engine (close every pooled connection), "
        f"found {checked_in} connection(s) still in the pool"
    )


@pytest.mark.grade("D5", 2)
async def test_get_session_commits_when_the_block_succeeds(
    scratch_table: str, raw_engine: AsyncEngine, manager: Any
) -> None:
    async with learner_session(manager) as session:
        await session.execute(text(f"INSERT INTO {scratch_table} (id, name) VALUES (1, 'kept')"))
    names = await scratch_names(raw_engine)
    assert names == ["kept"], (
        "expected get_session() to commit when the block succeeds (a second connection sees "
        f"the row), found {names}"
    )


@pytest.mark.grade("D5", 2)
async def test_get_session_rolls_back_when_the_block_raises(
    scratch_table: str, raw_engine: AsyncEngine, manager: Any
) -> None:
    try:
        async with learner_session(manager) as session:
            await session.execute(
                text(f"INSERT INTO {scratch_table} (id, name) VALUES (1, 'dropped')")
            )
            raise LookupError("the unit of work fails")
    except LookupError:
        pass
    else:
        pytest.fail(
            "expected get_session() to let the block's exception through after rolling back, "
            "found it swallowed"
        )
    names = await scratch_names(raw_engine)
    assert names == [], (
        f"expected get_session() to roll back when the block raises (nothing stored), found {names}"
    )


@pytest.mark.grade("D5", 2)
async def test_objects_stay_readable_after_the_session_commits(
    scratch_table: str, manager: Any
) -> None:
    item = ScratchItem(id=1, name="still readable")
    async with learner_session(manager) as session:
        session.add(item)
    try:
        name = item.name  # with expire_on_commit on, this would need a lazy reload
    except Exception as exc:
        pytest.fail(
            "expected an object to stay readable after get_session() commits "
            f"(expire_on_commit=False), found {type(exc).__name__} on reading it"
        )
    assert name == "still readable", f"expected the object's name to be kept, found {name!r}"


@pytest.mark.grade("D5", 1)
async def test_session_does_not_autoflush(manager: Any) -> None:
    async with learner_session(manager) as session:
        autoflush = session.sync_session.autoflush
    assert autoflush is False, (
        "expected the session factory to set autoflush=False, found autoflush on"
    )


@pytest.mark.grade("D5", 1)
async def test_foreign_keys_are_enforced(raw_engine: AsyncEngine, manager: Any) -> None:
    """On SQLite each connection must ask for it (PRAGMA foreign_keys=ON); PostgreSQL
    always does."""
    parent, child = "grading_step3_parent", "grading_step3_child"
    async with raw_engine.begin() as connection:
        await connection.execute(text(f"DROP TABLE IF EXISTS {child}"))
        await connection.execute(text(f"DROP TABLE IF EXISTS {parent}"))
        await connection.execute(text(f"CREATE TABLE {parent} (id INTEGER PRIMARY KEY)"))
        await connection.execute(
            text(
                f"CREATE TABLE {child} (id INTEGER PRIMARY KEY, "
                f"parent_id INTEGER REFERENCES {parent}(id))"
            )
        )
    try:
        async with learner_session(manager) as session:  # a valid pair is stored
            await session.execute(text(f"INSERT INTO {parent} (id) VALUES (1)"))
            await session.execute(text(f"INSERT INTO {child} (id, parent_id) VALUES (1, 1)"))
        try:
            async with learner_session(manager) as session:
                await session.execute(text(f"INSERT INTO {child} (id, parent_id) VALUES (2, 42)"))
        except IntegrityError:
            return
        pytest.fail(
            "expected a row pointing to a missing parent to be refused (foreign keys on; on "
            "SQLite: PRAGMA foreign_keys=ON for each connection), found it stored"
        )
    finally:
        async with raw_engine.begin() as connection:
            await connection.execute(text(f"DROP TABLE IF EXISTS {child}"))
            await connection.execute(text(f"DROP TABLE IF EXISTS {parent}"))


@pytest.mark.grade("D5", 1)
async def test_database_errors_do_not_show_bound_values(
    scratch_table: str, raw_engine: AsyncEngine, manager: Any
) -> None:
    """A database error's text goes into logs; the values bound to the statement (a
    password hash, say) must not (create_async_engine(..., hide_parameters=True)).

    The error must be a real statement error on a reachable database: the first row is
    stored with the grader's own engine, then the learner's session inserts its id again
    with a secret bound value, which the database refuses (IntegrityError). A connection
    that fails carries no bound values, so it proves nothing and fails the check.
    """
    async with raw_engine.begin() as connection:
        await connection.execute(
            text(f"INSERT INTO {scratch_table} (id, name) VALUES (1, 'first')")
        )
    statement = text(f"INSERT INTO {scratch_table} (id, name) VALUES (:id, :name)")
    try:
        async with learner_session(manager) as session:
            await session.execute(statement, {"id": 1, "name": SECRET_PARAMETER})
    except DBAPIError as exc:
        error = str(exc)
        failure: DBAPIError = exc
    else:
        pytest.fail("expected a duplicate primary key to raise a database error, found none")
    assert SECRET_PARAMETER not in error, (
        "expected database errors not to show the bound values (hide_parameters=True), "
        f"found them in: {error[:200]}"
    )
    if not isinstance(failure, IntegrityError):
        cause = str(failure.orig or failure).strip().splitlines()[0][:200]
        unreachable = DATABASE_UNREACHABLE.search(cause)
        pytest.fail(
            "expected a duplicate primary key to raise IntegrityError through "
            "database_manager.get_session(), so that the error holds a statement and its "
            f"bound values, found {type(failure).__name__}: {cause}"
            + (f" {HINT} the statement never reached the database: {database_hint()}"
               if unreachable else "")
        )  # fmt: skip


def build_manager(url: str, **settings: Any) -> tuple[Any, str]:
    """`DatabaseManager` built for `url` (passed as its URL argument, whatever it is
    called, and as DATABASE_URL) with these settings; and the call, for messages."""
    from app.core.database import DatabaseManager

    names = list(inspect.signature(DatabaseManager).parameters)
    argument = next((name for name in names if "url" in name.lower() or name == "dsn"), None)
    call = f"DatabaseManager({argument}={url!r})" if argument else "DatabaseManager()"
    try:
        with patched_settings(DATABASE_URL=url, **settings):
            return DatabaseManager(**({argument: url} if argument else {})), call
    except NotImplementedError:
        raise
    except Exception as exc:
        hint = (
            " (pass pool_size, max_overflow and pool_timeout only to server databases: "
            "SQLite's pools do not take them)"
            if "pool_size" in str(exc) or "max_overflow" in str(exc)
            else ""
        )
        pytest.fail(f"expected {call} to build a manager, found {type(exc).__name__}: "
                    f"{str(exc)[:200]}{hint}")  # fmt: skip


def engines_of(manager: Any) -> list[AsyncEngine]:
    """The engines a manager holds, found by type: any attribute name will do."""
    return [value for value in vars(manager).values() if isinstance(value, AsyncEngine)]


@pytest.mark.grade("D5", 1)
@pytest.mark.parametrize("kind", ["in-memory", "file"])
async def test_database_manager_works_on_sqlite_in_memory_and_in_a_file(
    kind: str, tmp_path: Path
) -> None:
    """`DatabaseManager(url)` on SQLite: `:memory:` (tests use it) and a file. Pool sizing
    is for servers: SQLite's in-memory pool (StaticPool) rejects `pool_size` with a
    TypeError. In memory, the one connection must be shared, or the data vanish."""
    url = (
        "sqlite+aiosqlite:///:memory:"
        if kind == "in-memory"
        else f"sqlite+aiosqlite:///{tmp_path / 'grading-step3.db'}"
    )
    built, call = build_manager(url)
    engines: list[AsyncEngine] = []
    try:
        await maybe_await(built.connect())
        engines = engines_of(built)
        for engine in engines:
            assert engine.url.database == make_url(url).database, (
                f"expected {call} to connect to that URL (or DATABASE_URL, when no URL is "
                f"given), found an engine on {engine.url.render_as_string()}"
            )
        async with learner_session(built) as session:
            await session.execute(text("CREATE TABLE grading_sqlite (id INTEGER PRIMARY KEY)"))
            await session.execute(text("INSERT INTO grading_sqlite (id) VALUES (7)"))
        async with learner_session(built) as session:
            rows = (await session.execute(text("SELECT id FROM grading_sqlite"))).scalars().all()
        assert list(rows) == [7], (
            f"expected a second session of {call} to see the row the first committed, found "
            f"{list(rows)}"
            + (" (in memory each new connection is a new, empty database: share one, "
               "StaticPool)" if kind == "in-memory" else "")
        )  # fmt: skip
    finally:
        with contextlib.suppress(Exception):
            await maybe_await(built.disconnect())
        for engine in engines:
            await engine.dispose()


@pytest.mark.grade("D5", 1)
async def test_sessions_on_a_sqlite_file_have_connections_of_their_own(tmp_path: Path) -> None:
    """StaticPool is for `:memory:` only. On a file it would hand every session the same
    connection, so two requests at once would share one transaction: one's rollback
    would undo the other's writes."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'grading-step3-pool.db'}"
    built, call = build_manager(url)
    try:
        async with learner_session(built) as first, learner_session(built) as second:
            connections = [
                (await session.connection()).sync_connection.connection.dbapi_connection
                for session in (first, second)
            ]
        assert connections[0] is not connections[1], (
            f"expected two sessions open at once on a SQLite file ({call}) to use two "
            "connections, found them sharing one: keep StaticPool for ':memory:' only"
        )
    finally:
        with contextlib.suppress(Exception):
            await maybe_await(built.disconnect())
        for engine in engines_of(built):
            await engine.dispose()


# Nothing listens there; building the engine opens no connection, so none is needed.
SERVER_URL = "postgresql+asyncpg://grader:unused@127.0.0.1:9/grading"
POOL_SETTINGS = {"DB_POOL_SIZE": 3, "DB_MAX_OVERFLOW": 4, "DB_POOL_TIMEOUT": 7.0}


@pytest.mark.grade("D5", 1)
async def test_a_server_database_gets_the_pool_of_the_settings() -> None:
    """pool_size, max_overflow and pool_timeout come from the settings; pool_pre_ping
    tests each connection as it leaves the pool, so one a server restart has closed is
    replaced instead of failing the request."""
    built, call = build_manager(SERVER_URL, **POOL_SETTINGS)
    engines = engines_of(built)
    try:
        assert engines, f"expected {call} to hold an AsyncEngine, found none"
        pool: Any = engines[0].sync_engine.pool
        found = {
            "DB_POOL_SIZE": pool.size() if hasattr(pool, "size") else None,
            "DB_MAX_OVERFLOW": getattr(pool, "_max_overflow", None),
            "DB_POOL_TIMEOUT": getattr(pool, "_timeout", None),
        }
        assert found == POOL_SETTINGS, (
            f"expected {call} on a server database to size its pool from the settings "
            f"(pool_size, max_overflow, pool_timeout) {POOL_SETTINGS}, found {found}"
        )
        assert getattr(pool, "_pre_ping", False) is True, (
            f"expected {call} on a server database to set pool_pre_ping=True, found it off: "
            "after a database restart the pool would hand out dead connections"
        )
    finally:
        for engine in engines:
            await engine.dispose()


@pytest.mark.grade("D5", 2)
async def test_lifespan_connects_and_disconnects_the_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.core.database import DatabaseManager
    from app.main import create_app

    calls: list[str] = []

    def spy(name: str) -> Any:
        original = getattr(DatabaseManager, name)
        if inspect.iscoroutinefunction(original):

            async def async_spy(self: Any, *args: Any, **kwargs: Any) -> Any:
                calls.append(name)
                return await original(self, *args, **kwargs)

            return async_spy

        def sync_spy(self: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            return original(self, *args, **kwargs)

        return sync_spy

    for name in ("connect", "disconnect"):
        monkeypatch.setattr(DatabaseManager, name, spy(name))
    application = create_app()
    async with serve(application):
        started = list(calls)
    assert started == ["connect"], (
        f"expected the lifespan to call connect() once at start-up, found calls {started}"
    )
    assert calls == ["connect", "disconnect"], (
        f"expected the lifespan to call disconnect() at shutdown, found calls {calls}"
    )
