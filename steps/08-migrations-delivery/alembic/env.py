"""Alembic environment: how `alembic upgrade`, `revision --autogenerate` and `check` run.

TODO(step 8): make Alembic use the application's own settings and models.
- The database URL comes from DATABASE_URL in the app settings
  (app.core.config.get_settings()), never from alembic.ini: the app and its
  migrations must not point at different databases.
- target_metadata is the models' metadata (Base.metadata, after importing the
  models), so that autogenerate and `alembic check` can compare models and tables.
- Online mode runs on an async engine, through `connection.run_sync(...)`.
- render_as_batch=True, so that SQLite can alter tables.
Read docs/steps/08-migrations-delivery.md.
"""

from logging.config import fileConfig

from alembic import context

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

# TODO(step 8): the models' metadata.
target_metadata = None


def run_migrations_offline() -> None:
    """Emit the migration SQL as a script instead of running it."""
    # TODO(step 8): configure the context with the URL and literal binds, then run.
    raise NotImplementedError


def run_migrations_online() -> None:
    """Connect with the async driver and run the migrations."""
    # TODO(step 8): create an async engine (NullPool), connect, and run the
    # migrations inside `await connection.run_sync(...)`; drive it with asyncio.run.
    raise NotImplementedError


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
