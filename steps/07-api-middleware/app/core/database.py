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
    # hide_parameters: logged SQL and database errors never show the values bound
    # to a statement, which include password hashes.
    options: dict[str, Any] = {"echo": settings.DB_ECHO, "hide_parameters": True}
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            # SQLite lets one writer in at a time; the others wait for the lock this
            # long (sqlite3's default is 5 s) before failing with "database is locked".
            # Every login writes (its session), so a burst of them queues here.
            options.update(connect_args={"timeout": SQLITE_LOCK_TIMEOUT})
        return options
    options.update(
        pool_size=settings.DB_POOL_SIZE,
        max_overflow=settings.DB_MAX_OVERFLOW,
        pool_timeout=settings.DB_POOL_TIMEOUT,
        pool_pre_ping=True,  # a server restart leaves dead connections in the pool
    )
    return options


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """Run `PRAGMA foreign_keys=ON` on a new SQLite connection (a `connect` event listener).

    SQLite ignores foreign keys unless each connection asks for them.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
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
        """Create the engine for `url` (or `DATABASE_URL`) and the session factory.

        Nothing connects yet: the pool opens connections on first use, `connect()`
        checks one at start-up. The engine takes `_engine_options()`, and on SQLite
        `_enable_sqlite_foreign_keys` listens to every new connection. Sessions keep
        their objects readable after a commit (`expire_on_commit=False`: an async
        session cannot lazy-load them again) and write only when told
        (`autoflush=False`).
        """
        self.url = make_url(url or config.DATABASE_URL)
        self.engine: AsyncEngine = create_async_engine(
            self.url, **_engine_options(self.url, config)
        )
        if self.url.get_backend_name() == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _enable_sqlite_foreign_keys)
        self.session_factory = async_sessionmaker(
            bind=self.engine,
            class_=AsyncSession,
            expire_on_commit=False,  # objects stay readable after commit, no lazy reload
            autoflush=False,
        )

    async def connect(self) -> None:
        """Check that the database answers; raises if it does not."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        logger.info("Database connected ({})", self.url.get_backend_name())

    async def ping(self) -> bool:
        """Return whether the database answers `SELECT 1` within `ping_timeout` seconds."""
        try:
            async with asyncio.timeout(self.ping_timeout), self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:  # any failure means "not ready", whatever the driver
            logger.warning("Database ping failed: {}", type(exc).__name__)
            return False
        return True

    async def disconnect(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        logger.info("Database disconnected")

    @asynccontextmanager
    async def get_session(self) -> AsyncIterator[AsyncSession]:
        """Open a session that commits if the block succeeds and rolls back if it raises.

        Use it as ``async with database_manager.get_session() as session: ...``.
        """
        async with self.session_factory() as session:
            try:
                yield session
                await session.commit()
            except Exception:
                await session.rollback()
                raise


database_manager = DatabaseManager()
