"""Database engine and session management with SQLAlchemy 2.x async.

One `DatabaseManager` owns the engine (and so the connection pool) for the
lifetime of the app: `connect()` at start-up, `disconnect()` at shutdown, and
`get_session()` for each unit of work.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from loguru import logger
from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from app.core.config import Settings, settings

# Seconds a file SQLite connection waits for another connection's write to finish.
SQLITE_LOCK_TIMEOUT = 30.0


def _engine_options(url: URL, settings: Settings) -> dict[str, Any]:
    """Pool options for the driver behind `url`.

    An in-memory SQLite database lives only as long as its one connection, so it
    gets a single shared connection and no pool sizing (SQLite's pools reject
    `pool_size`). File SQLite keeps SQLAlchemy's defaults; servers get the pool.
    """
    # TODO(step 3): SQLite: StaticPool for :memory: only, no pool sizing; a server: DB_POOL_SIZE, DB_MAX_OVERFLOW, DB_POOL_TIMEOUT and pool_pre_ping=True; always hide_parameters
    raise NotImplementedError


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """Run `PRAGMA foreign_keys=ON` on a new SQLite connection (a `connect` event listener).

    SQLite ignores foreign keys unless each connection asks for them.
    """
    # TODO(step 3): implement this function (see its docstring)
    raise NotImplementedError


class DatabaseManager:
    """Owns the async engine and hands out sessions.

    Args:
        url: SQLAlchemy URL, e.g. ``sqlite+aiosqlite:///./app.db`` or
            ``postgresql+asyncpg://user:pass@host/db``. Defaults to ``DATABASE_URL``.
        config: settings to read pool and echo options from.
    """

    ping_timeout = 2.0  # seconds a readiness check may wait for the database

    def __init__(self, url: str | None = None, config: Settings = settings) -> None:
        """Create the engine for `url` (or `DATABASE_URL`) and the session factory.

        Nothing connects yet: the pool opens connections on first use, `connect()`
        checks one at start-up. The engine takes `_engine_options()`, and on SQLite
        `_enable_sqlite_foreign_keys` listens to every new connection. Sessions keep
        their objects readable after a commit (`expire_on_commit=False`: an async
        session cannot lazy-load them again) and write only when told
        (`autoflush=False`).
        """
        # TODO(step 3): create the async engine (pool options only where the driver takes them, hide_parameters) and the session factory (expire_on_commit and autoflush off)
        raise NotImplementedError

    async def connect(self) -> None:
        """Check that the database answers; raises if it does not."""
        # TODO(step 3): implement this function (see its docstring)
        raise NotImplementedError

    async def ping(self) -> bool:
        """Return whether the database answers `SELECT 1` within `ping_timeout` seconds."""
        # TODO(step 3): implement this function (see its docstring)
        raise NotImplementedError

    async def disconnect(self) -> None:
        """Close every pooled connection."""
        # TODO(step 3): implement this function (see its docstring)
        raise NotImplementedError

    @asynccontextmanager
    async def get_session(self) -> AsyncIterator[AsyncSession]:
        """Open a session that commits if the block succeeds and rolls back if it raises.

        Use it as ``async with database_manager.get_session() as session: ...``.
        """
        # TODO(step 3): open a session; commit if the block succeeds, roll back if it raises
        raise NotImplementedError


# TODO(step 3): create the one module-level `database_manager = DatabaseManager()`.
