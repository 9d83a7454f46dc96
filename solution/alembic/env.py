"""Alembic environment: runs migrations with the app's own async engine settings.

The URL comes from `DATABASE_URL` in the app settings (an `-x url=...` option
overrides it), and the target metadata from the models, so `alembic check` can
compare the two.
"""

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.config import get_settings
from app.domain.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def database_url() -> str:
    """The URL to migrate.

    In order: `alembic -x url=...`, a `sqlalchemy.url` set by a program calling
    Alembic, and otherwise the app's DATABASE_URL (the usual case).
    """
    return (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or get_settings().DATABASE_URL
    )


def configure(**options: object) -> None:
    """Options shared by offline and online runs."""
    context.configure(
        target_metadata=target_metadata,
        # Batch mode recreates a table to alter it, which is the only way SQLite
        # can change most column definitions.
        render_as_batch=True,
        compare_type=True,
        **options,  # type: ignore[arg-type]
    )


def run_migrations_offline() -> None:
    """Emit the migration SQL as a script instead of running it."""
    configure(url=database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    """Run the migrations on a synchronous view of an async connection."""
    configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    """Connect with the async driver and run the migrations through `run_sync`."""
    engine = create_async_engine(database_url(), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
