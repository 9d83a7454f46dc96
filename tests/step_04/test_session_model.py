"""Step 4, session-model: the `UserSession` model and its `user_sessions` table.

A login is a row (step 6 starts, rotates and ends them). The table is read from the
learner's model; the foreign key's ON DELETE CASCADE is checked by behaviour, on an
SQLite database of the grader's own built from the learner's metadata with foreign keys
on: a user deleted for good takes their sessions along, and nobody else's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from .conftest import (
    as_utc_naive,
    assert_exported_and_registered,
    base_type,
    insert_user,
    orm_session,
    session_model,
    user_fields,
    user_model,
)

SPEC_COLUMNS = ["user_id", "refresh_token_id", "expires_at"]
BASE_COLUMNS = ["id", "created_at", "updated_at", "deleted_at"]


def session_table() -> sa.Table:
    """The learner's `user_sessions` table; a clear failure if UserSession maps none."""
    table = getattr(session_model(), "__table__", None)
    if not isinstance(table, sa.Table):
        pytest.fail("expected UserSession to be a mapped model with a table, found none")
    return table


def session_fields(user_id: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    """Valid values for a new UserSession of `user_id`."""
    fields: dict[str, Any] = {
        "user_id": user_id,
        "refresh_token_id": uuid.uuid4().hex,
        "expires_at": datetime.now(UTC) + timedelta(days=7),
    }
    fields.update(overrides)
    return fields


@pytest.mark.grade("session-model", 1)
def test_user_session_maps_the_user_sessions_table_with_the_spec_columns() -> None:
    model = session_model()
    table_name = getattr(model, "__tablename__", None)
    assert table_name == "user_sessions", (
        f"expected UserSession.__tablename__ to be 'user_sessions', found {table_name!r}"
    )
    columns = set(session_table().c.keys())
    missing = [name for name in SPEC_COLUMNS if name not in columns]
    assert not missing, f"expected the user_sessions table to have the columns {', '.join(missing)}"


@pytest.mark.grade("session-model", 1)
def test_user_session_inherits_the_base_model() -> None:
    from app.domain.models.base import BaseModel

    model = session_model()
    assert isinstance(model, type) and issubclass(model, BaseModel), (
        "expected UserSession to inherit from BaseModel (class UserSession(BaseModel)), "
        "so it gets the id, the timestamps and deleted_at"
    )
    columns = set(session_table().c.keys())
    missing = [name for name in BASE_COLUMNS if name not in columns]
    assert not missing, (
        f"expected user_sessions to have BaseModel's columns, missing {', '.join(missing)}"
    )


@pytest.mark.grade("session-model", 1)
@pytest.mark.parametrize("name", SPEC_COLUMNS)
def test_session_column_has_its_type(name: str) -> None:
    column = session_table().c.get(name)
    assert column is not None, f"expected a `{name}` column on user_sessions"
    kind = base_type(column)
    if name == "user_id":
        assert isinstance(kind, sa.Uuid), (
            f"expected `user_id` to be a Uuid column, the type of users.id, found {kind!r}"
        )
    elif name == "refresh_token_id":
        assert isinstance(kind, sa.String) and kind.length == 64, (
            f"expected `refresh_token_id` to be String(64), found {kind!r}"
        )
    else:
        assert isinstance(kind, sa.DateTime) and kind.timezone, (
            f"expected `expires_at` to be a timezone-aware DateTime, like the timestamps of "
            f"BaseModel (the same UTC type), found {kind!r}"
        )


@pytest.mark.grade("session-model", 1)
def test_session_columns_are_required() -> None:
    columns = session_table().c
    absent = [name for name in SPEC_COLUMNS if name not in columns]
    assert not absent, f"expected the columns {', '.join(absent)} on user_sessions"
    nullable = [name for name in SPEC_COLUMNS if columns[name].nullable]
    assert not nullable, f"expected NOT NULL columns, found nullable: {', '.join(nullable)}"


@pytest.mark.grade("session-model", 1)
def test_user_id_is_an_indexed_foreign_key_to_users_id() -> None:
    column = session_table().c.get("user_id")
    assert column is not None, "expected a `user_id` column on user_sessions"
    targets = sorted(key.target_fullname for key in column.foreign_keys)
    assert targets == ["users.id"], (
        f"expected `user_id` to be a foreign key to users.id (ForeignKey('users.id')), "
        f"found {targets or 'no foreign key'}"
    )
    indexed = bool(column.index) or any(
        next(iter(index.columns), None) is column for index in session_table().indexes
    )
    assert indexed, (
        "expected an index on `user_id` (index=True): every login, refresh and logout "
        "finds sessions by their user"
    )


@pytest.fixture
def sqlite_with_foreign_keys(tmp_path: Path) -> Iterator[sa.Engine]:
    """An SQLite file of the grader's own with the learner's two tables, foreign keys on."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'cascade.db'}")

    def foreign_keys_on(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    sa.event.listen(engine, "connect", foreign_keys_on)
    users = getattr(user_model(), "__table__", None)
    assert isinstance(users, sa.Table), "expected User to be a mapped model with a table"
    users.metadata.create_all(engine, tables=[users, session_table()])
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.mark.grade("session-model", 2)
def test_deleting_a_user_deletes_their_sessions(sqlite_with_foreign_keys: sa.Engine) -> None:
    engine = sqlite_with_foreign_keys
    user_class, session_class = user_model(), session_model()
    leaving, staying = user_class(**user_fields()), user_class(**user_fields())
    with Session(engine, expire_on_commit=False) as orm:
        orm.add_all([leaving, staying])
        orm.flush()
        orm.add_all(
            [session_class(**session_fields(leaving.id)) for _ in range(2)]
            + [session_class(**session_fields(staying.id))]
        )
        orm.commit()
    users, sessions = user_class.__table__, session_table()
    try:
        with engine.begin() as connection:
            connection.execute(users.delete().where(users.c.id == leaving.id))
    except IntegrityError as exc:
        pytest.fail(
            "expected deleting a user for good to delete their sessions too, found the database "
            f"refused the delete ({str(exc.orig)[:80]}): give the foreign key "
            "ondelete='CASCADE'"
        )
    with engine.connect() as connection:
        left = {
            owner: connection.execute(
                sa.select(sa.func.count()).select_from(sessions).where(sessions.c.user_id == owner)
            ).scalar_one()
            for owner in (leaving.id, staying.id)
        }
    assert left[leaving.id] == 0, (
        f"expected a user's sessions to go when the user is deleted for good, found "
        f"{left[leaving.id]} of 2 left: the foreign key needs ondelete='CASCADE'"
    )
    assert left[staying.id] == 1, (
        f"expected another user's session to stay, found {left[staying.id]} of 1 left"
    )


@pytest.mark.grade("session-model", 1)
async def test_a_session_is_stored_with_an_aware_expiry(schema: AsyncEngine) -> None:
    user = await insert_user(schema)
    expires = datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    created = session_model()(**session_fields(user.id, expires_at=expires))
    async with orm_session(schema) as session:
        session.add(created)
    assert isinstance(created.id, uuid.UUID), (
        f"expected a new session to get a uuid.UUID id when inserted, found {created.id!r}"
    )
    async with orm_session(schema) as session:
        stored = await session.get(session_model(), created.id)
        assert stored is not None, "expected to read the inserted session back by its id"
        value = stored.expires_at
        await session.delete(stored)  # the users go after the check; their sessions first
    assert isinstance(value, datetime) and value.utcoffset() is not None, (
        f"expected `expires_at` to read back timezone-aware, found {value!r} (use BaseModel's "
        "UTC datetime type, so that an expiry compares with datetime.now(UTC))"
    )
    assert as_utc_naive(value) == as_utc_naive(expires), (
        f"expected `expires_at` to read back as {expires.isoformat()}, found {value.isoformat()}"
    )


@pytest.mark.grade("session-model", 1)
def test_the_models_package_exports_user_session_and_registers_its_table() -> None:
    assert_exported_and_registered(session_model(), "session", "user_sessions")
