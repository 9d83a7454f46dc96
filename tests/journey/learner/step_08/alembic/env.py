"""Alembic environment: how `alembic upgrade`, `revision --autogenerate` and `check` run.

- The database URL is the app's own DATABASE_URL (settings and .env), so the app
  and its migrations can never disagree; `alembic -x url=...` overrides it.
- `target_metadata` is the models' metadata, which autogenerate and `alembic check`
  compare with the database.
- Online mode uses the async driver the app uses (aiosqlite, asyncpg): Alembic
  itself is synchronous, so the migrations run inside `connection.run_sync()`.
- Batch mode is on, because SQLite can only alter a table by copying it.
"""

import asyncio
from logging.config import fileConfig

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import app.domain.models.user  # noqa: F401  (registers the users table on Base.metadata)
from alembic import context
from app.core.config import get_settings
from app.domain.models.base import Base

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _database_url() -> str:
    """Which database to migrate: `-x url=...`, else a URL set by code, else DATABASE_URL."""
    x_arguments = context.get_x_argument(as_dictionary=True)
    if x_arguments.get("url"):
        return x_arguments["url"]
    # Set only when a program drives Alembic through its API with a URL of its own.
    configured = config.get_main_option("sqlalchemy.url")
    if configured:
        return configured
    return get_settings().DATABASE_URL


def run_migrations_offline() -> None:
    """Emit the migration SQL as a script instead of running it."""
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_on_connection(connection: Connection) -> None:
    """The synchronous part: Alembic on the sync face of an async connection."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode copies the table instead.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    # NullPool: a one-off command has no use for a pool of connections.
    engine = create_async_engine(_database_url(), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_on_connection)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    """Connect with the async driver and run the migrations."""
    asyncio.run(_run_async())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
