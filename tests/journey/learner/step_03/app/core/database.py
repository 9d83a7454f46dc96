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

IN_MEMORY_DATABASES = frozenset({"", ":memory:"})


def _engine_options(url: URL, settings: Settings) -> dict[str, Any]:
    """Pool options for the driver behind `url`.

    An in-memory SQLite database lives only as long as its one connection, so it
    gets a single shared connection and no pool sizing (SQLite's pools reject
    `pool_size`). File SQLite keeps SQLAlchemy's defaults; servers get the pool.
    """
    # Never put bound values (password hashes, tokens) into logged SQL or error texts.
    options: dict[str, Any] = {"echo": settings.DB_ECHO, "hide_parameters": True}

    if url.get_backend_name() != "sqlite":
        options["pool_size"] = settings.DB_POOL_SIZE
        options["max_overflow"] = settings.DB_MAX_OVERFLOW
        options["pool_timeout"] = settings.DB_POOL_TIMEOUT
        # Check a connection before handing it out: after a database restart the
        # pool still holds connections that are dead.
        options["pool_pre_ping"] = True
        return options

    in_memory = (url.database or "") in IN_MEMORY_DATABASES or url.query.get("mode") == "memory"
    if in_memory:
        options["poolclass"] = StaticPool
        options["connect_args"] = {"check_same_thread": False}
    return options


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """Turn on foreign key enforcement, which SQLite leaves off for each new connection."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


class DatabaseManager:
    """Owns the async engine and hands out sessions.

    Args:
        url: SQLAlchemy URL, e.g. ``sqlite+aiosqlite:///./app.db`` or
            ``postgresql+asyncpg://user:pass@host/db``. Defaults to ``DATABASE_URL``.
        config: settings to read pool and echo options from.
    """

    ping_timeout = 2.0  # seconds a readiness check may wait for the database

    def __init__(self, url: str | None = None, config: Settings = settings) -> None:
        self.url: URL = make_url(config.DATABASE_URL if url is None else url)
        self.engine: AsyncEngine = create_async_engine(
            self.url, **_engine_options(self.url, config)
        )
        if self.url.get_backend_name() == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _enable_sqlite_foreign_keys)
        # expire_on_commit=False: an async session cannot lazy-load expired attributes,
        # so objects must stay readable after the commit. autoflush=False: SQL is sent
        # when we flush or commit, not as a side effect of a query.
        self.session_factory: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False, autoflush=False
        )

    async def _select_one(self) -> None:
        async with self.engine.connect() as connection:
            result = await connection.execute(text("SELECT 1"))
            result.scalar_one()

    async def connect(self) -> None:
        """Check that the database answers; raises if it does not."""
        await self._select_one()
        logger.info("Database is reachable (backend: {})", self.url.get_backend_name())

    async def ping(self) -> bool:
        """Return whether the database answers `SELECT 1` within `ping_timeout` seconds."""
        try:
            await asyncio.wait_for(self._select_one(), timeout=self.ping_timeout)
        except Exception as error:  # refused, timed out, driver error: all mean "not ready"
            logger.warning("Database did not answer the ping: {}", error.__class__.__name__)
            return False
        return True

    async def disconnect(self) -> None:
        """Close every pooled connection."""
        logger.info("Closing the database connection pool")
        await self.engine.dispose()

    @asynccontextmanager
    async def get_session(self) -> AsyncIterator[AsyncSession]:
        """Open a session that commits if the block succeeds and rolls back if it raises.

        Use it as ``async with database_manager.get_session() as session: ...``.
        """
        async with self.session_factory() as session:
            try:
                yield session
            except Exception:
                await session.rollback()
                raise
            else:
                await session.commit()


database_manager = DatabaseManager()
