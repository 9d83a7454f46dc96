"""The User model: its columns, and what the database does with them on each backend."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import True_

from app.core.database import DatabaseManager
from app.domain.models.user import User

ALL_DIGIT_UUID = uuid.UUID("12345678-1234-5678-1234-567812345678")


async def insert_user(database: DatabaseManager, **values: Any) -> User:
    """Store one user in its own committed session and return it."""
    fields: dict[str, Any] = {
        "email": f"model-{uuid.uuid4().hex[:8]}@example.com",
        "password_hash": "not-a-real-hash",
        "full_name": "Model Test",
        **values,
    }
    async with database.get_session() as session:
        user = User(**fields)
        session.add(user)
        await session.flush()
    return user


async def load_user(database: DatabaseManager, user_id: uuid.UUID) -> User | None:
    """Read a user back from the database in a new session, deleted or not."""
    async with database.get_session() as session:
        return await session.get(User, user_id)


def base_type(column: sa.Column[Any]) -> Any:
    """The SQL type behind a column, looking through a TypeDecorator."""
    return getattr(column.type, "impl", column.type)


def test_user_table_has_exactly_the_spec_columns() -> None:
    assert User.__tablename__ == "users"
    assert set(User.__table__.c.keys()) == {
        "id",
        "email",
        "password_hash",
        "full_name",
        "role",
        "is_active",
        "created_at",
        "updated_at",
        "deleted_at",
    }


def test_user_id_is_a_generic_uuid_primary_key_generated_client_side() -> None:
    column = User.__table__.c.id
    assert type(column.type) is sa.Uuid
    assert not isinstance(column.type, postgresql.UUID)
    assert column.primary_key
    assert column.default is not None
    assert column.default.is_callable


@pytest.mark.parametrize(
    ("name", "length"), [("email", 255), ("password_hash", 255), ("full_name", 100)]
)
def test_user_string_columns_have_their_length_and_are_required(name: str, length: int) -> None:
    column = User.__table__.c[name]
    assert isinstance(column.type, sa.String)
    assert column.type.length == length
    assert column.nullable is False


def test_user_role_is_a_required_string_20_defaulting_to_user() -> None:
    column = User.__table__.c.role
    assert isinstance(column.type, sa.String)
    assert column.type.length == 20
    assert column.nullable is False
    assert column.default is not None
    assert column.default.arg == "user"
    assert column.server_default is not None
    assert column.server_default.arg == "user"


def test_user_is_active_is_a_required_boolean_defaulting_to_true() -> None:
    column = User.__table__.c.is_active
    assert isinstance(column.type, sa.Boolean)
    assert column.nullable is False
    assert column.default is not None
    assert column.default.arg is True
    assert column.server_default is not None
    assert isinstance(column.server_default.arg, True_)


def test_user_timestamps_are_timezone_aware_with_server_defaults() -> None:
    columns = User.__table__.c
    for name in ("created_at", "updated_at"):
        assert isinstance(base_type(columns[name]), sa.DateTime)
        assert base_type(columns[name]).timezone is True
        assert columns[name].nullable is False
        assert columns[name].server_default is not None
    assert columns.created_at.onupdate is None
    assert columns.updated_at.onupdate is not None


def test_user_deleted_at_is_a_nullable_timezone_aware_datetime() -> None:
    column = User.__table__.c.deleted_at
    assert isinstance(base_type(column), sa.DateTime)
    assert base_type(column).timezone is True
    assert column.nullable is True


def test_user_declares_the_partial_unique_index_on_lower_email() -> None:
    indexes = {index.name: index for index in User.__table__.indexes}
    assert set(indexes) == {"uq_users_email_active"}
    index = indexes["uq_users_email_active"]
    assert index.unique is True
    assert [str(expression) for expression in index.expressions] == ["lower(users.email)"]
    assert str(index.dialect_options["postgresql"]["where"]) == "deleted_at IS NULL"
    assert str(index.dialect_options["sqlite"]["where"]) == "deleted_at IS NULL"


def test_is_deleted_follows_deleted_at() -> None:
    user = User(email="x@example.com", password_hash="h", full_name="X")
    assert user.is_deleted is False
    user.deleted_at = datetime.now(UTC)
    assert user.is_deleted is True
    user.deleted_at = None
    assert user.is_deleted is False


async def test_insert_fills_defaults_and_timezone_aware_server_timestamps(
    database: DatabaseManager,
) -> None:
    before = datetime.now(UTC)
    inserted = await insert_user(database)

    # Loaded in the INSERT itself: readable after the session closed, no lazy load.
    assert inserted.created_at.tzinfo is not None
    assert inserted.updated_at.tzinfo is not None

    stored = await load_user(database, inserted.id)
    assert stored is not None
    assert isinstance(stored.id, uuid.UUID)
    assert stored.role == "user"
    assert stored.is_active is True
    assert stored.deleted_at is None
    assert stored.is_deleted is False
    assert stored.created_at.utcoffset() == timedelta(0)
    assert stored.updated_at.utcoffset() == timedelta(0)
    assert stored.created_at == inserted.created_at
    assert stored.updated_at == stored.created_at
    # The server clock, read as UTC, agrees with ours.
    assert abs(stored.created_at - before) < timedelta(minutes=1)


async def test_update_moves_updated_at_forward_and_keeps_created_at(
    database: DatabaseManager,
) -> None:
    inserted = await insert_user(database)
    if database.url.get_backend_name() == "sqlite":
        await asyncio.sleep(1.1)  # SQLite's CURRENT_TIMESTAMP counts whole seconds

    async with database.get_session() as session:
        user = await session.get(User, inserted.id)
        assert user is not None
        user.full_name = "Renamed"

    stored = await load_user(database, inserted.id)
    assert stored is not None
    assert stored.full_name == "Renamed"
    assert stored.created_at == inserted.created_at
    assert stored.updated_at > inserted.updated_at
    assert stored.updated_at.tzinfo is not None


async def test_all_digit_uuid_round_trips(database: DatabaseManager) -> None:
    await insert_user(database, id=ALL_DIGIT_UUID, email="digits@example.com")

    stored = await load_user(database, ALL_DIGIT_UUID)
    assert stored is not None
    assert stored.id == ALL_DIGIT_UUID
    assert stored.email == "digits@example.com"

    async with database.get_session() as session:
        found = (
            await session.execute(sa.select(User.id).where(User.email == "digits@example.com"))
        ).scalar_one()
    assert found == ALL_DIGIT_UUID
    assert isinstance(found, uuid.UUID)


async def test_two_live_users_cannot_share_an_email_in_any_case(database: DatabaseManager) -> None:
    await insert_user(database, email="twin@example.com")
    with pytest.raises(IntegrityError):
        await insert_user(database, email="TWIN@Example.com")


async def test_soft_deleted_users_email_can_be_used_again(database: DatabaseManager) -> None:
    first = await insert_user(database, email="reuse@example.com")
    async with database.get_session() as session:
        user = await session.get(User, first.id)
        assert user is not None
        user.deleted_at = datetime.now(UTC)

    again = await insert_user(database, email="reuse@example.com")
    assert again.id != first.id

    # Uniqueness still holds among the live rows.
    with pytest.raises(IntegrityError):
        await insert_user(database, email="Reuse@example.com")


@pytest.mark.parametrize("role", ["admin", "moderator", "user"])
async def test_role_check_constraint_accepts_the_three_roles(
    database: DatabaseManager, role: str
) -> None:
    inserted = await insert_user(database, role=role)
    stored = await load_user(database, inserted.id)
    assert stored is not None
    assert stored.role == role


async def test_role_check_constraint_rejects_superuser(database: DatabaseManager) -> None:
    with pytest.raises(IntegrityError):
        await insert_user(database, role="superuser")
