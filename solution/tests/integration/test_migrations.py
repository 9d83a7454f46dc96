"""Alembic migrations: from empty to head, in agreement with the models, up and down again.

Each test gets an EMPTY database on the backend of this run's `database_url` (which is
already migrated, so it only serves `alembic check`).
"""

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, make_url, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import SOLUTION_DIR, migrate

INDEX_NAME = "uq_users_email_active"

# name -> (type as the backend reports it, nullable, server default as reflected)
EXPECTED_COLUMNS: dict[str, dict[str, tuple[str, bool, str | None]]] = {
    "sqlite": {
        "id": ("CHAR(32)", False, None),
        "email": ("VARCHAR(255)", False, None),
        "password_hash": ("VARCHAR(255)", False, None),
        "full_name": ("VARCHAR(100)", False, None),
        "role": ("VARCHAR(20)", False, "'user'"),
        "is_active": ("BOOLEAN", False, "1"),
        "created_at": ("DATETIME", False, "CURRENT_TIMESTAMP"),
        "updated_at": ("DATETIME", False, "CURRENT_TIMESTAMP"),
        "deleted_at": ("DATETIME", True, None),
    },
    "postgresql": {
        "id": ("UUID", False, None),
        "email": ("VARCHAR(255)", False, None),
        "password_hash": ("VARCHAR(255)", False, None),
        "full_name": ("VARCHAR(100)", False, None),
        "role": ("VARCHAR(20)", False, "'user'::character varying"),
        "is_active": ("BOOLEAN", False, "true"),
        "created_at": ("TIMESTAMP WITH TIME ZONE", False, "now()"),
        "updated_at": ("TIMESTAMP WITH TIME ZONE", False, "now()"),
        "deleted_at": ("TIMESTAMP WITH TIME ZONE", True, None),
    },
}

EXPECTED_INDEX_SQL = {
    "sqlite": (
        "CREATE UNIQUE INDEX uq_users_email_active ON users (lower(email)) WHERE deleted_at IS NULL"
    ),
    "postgresql": (
        "CREATE UNIQUE INDEX uq_users_email_active ON public.users USING btree "
        "(lower((email)::text)) WHERE (deleted_at IS NULL)"
    ),
}


def backend_of(url: str) -> str:
    """The backend a URL points at, as `fresh_database_url` names it."""
    return "sqlite" if make_url(url).get_backend_name() == "sqlite" else "postgresql"


@pytest.fixture
def empty_url(database_url: str, fresh_database_url: Callable[[str], str]) -> str:
    """An empty database on the same backend as this run's `database_url`."""
    return fresh_database_url(backend_of(database_url))


def alembic_config() -> Config:
    return Config(str(SOLUTION_DIR / "alembic.ini"))


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def run_alembic(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the Alembic command line in the solution folder, as a developer would."""
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=SOLUTION_DIR,
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass
class Schema:
    """What a database holds, as far as these tests care."""

    tables: set[str]
    columns: dict[str, tuple[str, bool, str | None]]
    index_sql: str | None
    check_constraints: set[str]
    primary_key: tuple[str | None, list[str]]
    revision: str | None


def _read_schema(connection: Connection) -> Schema:
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    revision = None
    if "alembic_version" in tables:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if "users" not in tables:
        return Schema(tables, {}, None, set(), (None, []), revision)
    columns = {
        column["name"]: (
            column["type"].compile(dialect=connection.dialect),
            column["nullable"],
            column["default"],
        )
        for column in inspector.get_columns("users")
    }
    if connection.dialect.name == "sqlite":
        index_query = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"
    else:
        index_query = "SELECT indexdef FROM pg_indexes WHERE indexname = :name"
    index_sql = connection.execute(text(index_query), {"name": INDEX_NAME}).scalar()
    checks = {check["name"] for check in inspector.get_check_constraints("users")}
    pk: dict[str, Any] = dict(inspector.get_pk_constraint("users"))
    return Schema(
        tables, columns, index_sql, checks, (pk["name"], pk["constrained_columns"]), revision
    )


def read_schema(url: str) -> Schema:
    """Inspect the database at `url` through its async driver."""

    async def run() -> Schema:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(_read_schema)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_upgrade_head_from_empty_creates_users_table_columns_and_partial_unique_index(
    empty_url: str,
) -> None:
    backend = backend_of(empty_url)
    result = run_alembic("-x", f"url={empty_url}", "upgrade", "head")
    assert result.returncode == 0, result.stderr

    schema = read_schema(empty_url)
    assert schema.tables == {"alembic_version", "users", "user_sessions", "login_failures"}
    assert schema.revision == head_revision()
    assert schema.columns == EXPECTED_COLUMNS[backend]
    assert schema.primary_key == ("pk_users", ["id"])
    assert schema.check_constraints == {"ck_users_role"}
    assert schema.index_sql == EXPECTED_INDEX_SQL[backend]


def test_alembic_check_finds_no_difference_between_models_and_migrations(
    database_url: str,
) -> None:
    result = run_alembic("-x", f"url={database_url}", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No new upgrade operations detected" in result.stdout + result.stderr


def test_every_revision_upgrades_downgrades_and_upgrades_again(empty_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    revisions = list(reversed(list(script.walk_revisions("base", "heads"))))
    assert revisions, "no migrations found"
    assert revisions[0].down_revision is None

    for revision in revisions:
        migrate(empty_url, revision.revision)
        assert read_schema(empty_url).revision == revision.revision

        migrate(empty_url, "-1", down=True)
        schema = read_schema(empty_url)
        assert schema.revision == revision.down_revision
        if revision.down_revision is None:  # back at base: the app's tables are gone
            assert schema.tables <= {"alembic_version"}

        migrate(empty_url, revision.revision)
        assert read_schema(empty_url).revision == revision.revision

    final = read_schema(empty_url)
    assert final.revision == head_revision()
    assert final.columns == EXPECTED_COLUMNS[backend_of(empty_url)]


def test_alembic_reads_the_database_url_from_the_app_settings(empty_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": empty_url}
    result = run_alembic("upgrade", "head", env=env)
    assert result.returncode == 0, result.stderr

    schema = read_schema(empty_url)
    assert schema.tables == {"alembic_version", "users", "user_sessions", "login_failures"}
    assert schema.revision == head_revision()


def test_offline_upgrade_prints_the_sql_without_touching_the_database(empty_url: str) -> None:
    result = run_alembic("-x", f"url={empty_url}", "upgrade", "head", "--sql")
    assert result.returncode == 0, result.stderr

    sql = result.stdout
    assert "CREATE TABLE users (" in sql
    assert "CREATE TABLE user_sessions (" in sql
    assert "CREATE TABLE login_failures (" in sql
    assert (
        "CREATE UNIQUE INDEX uq_users_email_active ON users (lower(email)) "
        "WHERE deleted_at IS NULL;" in sql
    )
    assert "INSERT INTO alembic_version (version_num) VALUES ('0001')" in sql
    head = head_revision()
    assert f"UPDATE alembic_version SET version_num='{head}'" in sql  # noqa: S608 (no query)
    assert read_schema(empty_url).tables == set()


def session_table(url: str, table: str = "user_sessions") -> dict[str, Any]:
    """How `table` looks in the database at `url`: columns, keys, indexes."""

    def read(connection: Connection) -> dict[str, Any]:
        inspector = inspect(connection)
        return {
            "columns": {c["name"]: c["nullable"] for c in inspector.get_columns(table)},
            "foreign_keys": [
                (fk["constrained_columns"], fk["referred_table"], fk["options"].get("ondelete"))
                for fk in inspector.get_foreign_keys(table)
            ],
            "indexes": {ix["name"]: ix["column_names"] for ix in inspector.get_indexes(table)},
        }

    async def run() -> dict[str, Any]:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(read)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_the_second_migration_adds_sessions_keyed_to_users(empty_url: str) -> None:
    migrate(empty_url, "head")
    table = session_table(empty_url)
    assert table["columns"] == {
        "id": False,
        "user_id": False,
        "refresh_token_id": False,
        "expires_at": False,
        "created_at": False,
        "updated_at": False,
        "deleted_at": True,
    }
    # A user removed for good takes their sessions along (soft deletion ends them).
    assert table["foreign_keys"] == [(["user_id"], "users", "CASCADE")]
    assert table["indexes"] == {"ix_user_sessions_user_id": ["user_id"]}


def run_sql(url: str, statement: str, **params: Any) -> Any:
    """Run one statement on `url` in its own transaction; return its first value, if any."""

    async def run() -> Any:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(text(statement), params)
                return result.scalar() if result.returns_rows else None
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_the_second_migration_keeps_the_users_up_and_down(empty_url: str) -> None:
    migrate(empty_url, "0001")
    user_id = uuid.uuid4()
    run_sql(
        empty_url,
        "INSERT INTO users (id, email, password_hash, full_name) VALUES (:id, :e, 'x', 'K')",
        id=user_id.hex if backend_of(empty_url) == "sqlite" else user_id,
        e="kept@example.com",
    )
    migrate(empty_url, "0002")
    migrate(empty_url, "0001", down=True)
    assert read_schema(empty_url).tables == {"alembic_version", "users"}
    migrate(empty_url, "0002")
    assert read_schema(empty_url).tables == {"alembic_version", "users", "user_sessions"}
    assert run_sql(empty_url, "SELECT count(*) FROM users") == 1


def test_the_third_migration_adds_login_failures_indexed_by_email_and_time(
    empty_url: str,
) -> None:
    migrate(empty_url, "head")
    table = session_table(empty_url, "login_failures")
    assert table["columns"] == {
        "id": False,
        "email": False,
        "created_at": False,
        "updated_at": False,
        "deleted_at": True,
    }
    # Not keyed to users: unknown emails are counted too.
    assert table["foreign_keys"] == []
    assert table["indexes"] == {
        "ix_login_failures_email_created_at": ["email", "created_at"],
        "ix_login_failures_created_at": ["created_at"],
    }


def test_the_third_migration_keeps_users_and_sessions_up_and_down(empty_url: str) -> None:
    migrate(empty_url, "0002")
    user_id = uuid.uuid4()
    run_sql(
        empty_url,
        "INSERT INTO users (id, email, password_hash, full_name) VALUES (:id, :e, 'x', 'K')",
        id=user_id.hex if backend_of(empty_url) == "sqlite" else user_id,
        e="kept@example.com",
    )
    migrate(empty_url, "0003")
    migrate(empty_url, "0002", down=True)
    assert read_schema(empty_url).tables == {"alembic_version", "users", "user_sessions"}
    migrate(empty_url, "0003")
    assert read_schema(empty_url).tables == {
        "alembic_version",
        "users",
        "user_sessions",
        "login_failures",
    }
    assert run_sql(empty_url, "SELECT count(*) FROM users") == 1
