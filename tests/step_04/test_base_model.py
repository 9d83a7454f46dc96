"""Step 4, D8: `Base` and the abstract `BaseModel` every table inherits.

BaseModel is abstract, so its columns are checked on the table that inherits
them (`users`), and its behaviour by storing users.
"""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from .conftest import as_utc_naive, base_type, insert_user, load_user, orm_session, user_model

ALL_DIGIT_UUID = uuid.UUID("12345678-1234-5678-1234-567812345678")


@pytest.mark.grade("D8", 1)
def test_base_is_a_declarative_base_and_base_model_is_abstract() -> None:
    from app.domain.models.base import Base, BaseModel

    assert hasattr(Base, "registry") and isinstance(getattr(Base, "metadata", None), sa.MetaData), (
        "expected Base in app/domain/models/base.py to be a SQLAlchemy declarative base "
        "(class Base(DeclarativeBase)), found something else"
    )
    assert isinstance(BaseModel, type) and issubclass(BaseModel, Base), (
        "expected BaseModel to be a subclass of Base"
    )
    assert vars(BaseModel).get("__abstract__") is True, (
        "expected BaseModel to be abstract (__abstract__ = True): it must not be a table itself"
    )
    assert user_model().__mro__.count(BaseModel) == 1, "expected User to inherit from BaseModel"


@pytest.mark.grade("D8", 2)
def test_id_is_a_generic_uuid_primary_key_with_a_python_default() -> None:
    column = user_model().__table__.c.get("id")
    assert column is not None, "expected BaseModel to give every table an `id` column"
    assert column.primary_key, "expected `id` to be the primary key"
    kind = base_type(column)
    assert not isinstance(kind, sa.UUID), (
        "expected `id` to use the generic sqlalchemy.Uuid type, found a native UUID type "
        f"({type(kind).__module__}.{type(kind).__name__}): SQLite stores it as a number "
        "when the UUID has only digits"
    )
    assert isinstance(kind, sa.Uuid | sa.String), (
        f"expected `id` to be a sqlalchemy.Uuid column, found {type(kind).__name__}"
    )
    assert column.default is not None, (
        "expected `id` to have a Python-side default (default=uuid.uuid4): SQLite cannot "
        "generate UUIDs itself"
    )


@pytest.mark.grade("D8", 1)
@pytest.mark.parametrize("name", ["created_at", "updated_at"])
def test_timestamps_are_timezone_aware_with_server_defaults(name: str) -> None:
    column = user_model().__table__.c.get(name)
    assert column is not None, f"expected BaseModel to give every table a `{name}` column"
    kind = base_type(column)
    assert isinstance(kind, sa.DateTime) and kind.timezone, (
        f"expected `{name}` to be DateTime(timezone=True), found {kind!r}"
    )
    assert column.server_default is not None, (
        f"expected `{name}` to have a server default (server_default=func.now()), found none"
    )
    assert not column.nullable, (
        f"expected `{name}` to be NOT NULL (nullable=False): every row has its timestamps"
    )


@pytest.mark.grade("D8", 1)
def test_updated_at_is_refreshed_on_update_and_created_at_is_not() -> None:
    columns = user_model().__table__.c
    updated, created = columns.get("updated_at"), columns.get("created_at")
    assert updated is not None and created is not None, "expected created_at and updated_at"
    assert updated.onupdate is not None or updated.server_onupdate is not None, (
        "expected `updated_at` to change on every update (onupdate=func.now()), found no onupdate"
    )
    assert created.onupdate is None and created.server_onupdate is None, (
        "expected `created_at` to keep its value on update, found an onupdate on it"
    )


@pytest.mark.grade("D8", 1)
def test_deleted_at_is_a_nullable_timezone_aware_datetime() -> None:
    column = user_model().__table__.c.get("deleted_at")
    assert column is not None, "expected BaseModel to give every table a `deleted_at` column"
    kind = base_type(column)
    assert isinstance(kind, sa.DateTime) and kind.timezone, (
        f"expected `deleted_at` to be DateTime(timezone=True), found {kind!r}"
    )
    assert column.nullable, "expected `deleted_at` to be nullable (None = not deleted)"


@pytest.mark.grade("D8", 1)
def test_is_deleted_follows_deleted_at() -> None:
    user = user_model()(email="x@example.com", password_hash="h", full_name="X")
    assert user.is_deleted is False, (
        f"expected a new user's is_deleted to be False, found {user.is_deleted!r}"
    )
    user.deleted_at = datetime.now(UTC)
    assert user.is_deleted is True, (
        f"expected is_deleted to be True once deleted_at is set, found {user.is_deleted!r}"
    )


@pytest.mark.grade("D8", 2)
async def test_insert_generates_the_id_and_timezone_aware_timestamps(schema: AsyncEngine) -> None:
    before = datetime.now(UTC)
    inserted = await insert_user(schema)
    assert isinstance(inserted.id, uuid.UUID), (
        f"expected a new user to get a uuid.UUID id when inserted, found {inserted.id!r}"
    )
    stored = await load_user(schema, id=inserted.id)
    assert stored is not None, "expected to read the inserted user back by its id, found nothing"
    for name in ("created_at", "updated_at"):
        value = getattr(stored, name)
        assert isinstance(value, datetime), f"expected `{name}` to be filled in, found {value!r}"
        assert value.tzinfo is not None and value.utcoffset() is not None, (
            f"expected `{name}` to read back timezone-aware, found the naive {value!r} "
            "(SQLite keeps no zone: mark values read back as UTC, e.g. with a TypeDecorator)"
        )
        assert abs(value - before) < timedelta(minutes=5), (
            f"expected `{name}` to be the current UTC time, found {value.isoformat()}"
        )
    assert stored.deleted_at is None, f"expected deleted_at to be None, found {stored.deleted_at!r}"


@pytest.mark.grade("D8", 1)
async def test_update_moves_updated_at_and_keeps_created_at(schema: AsyncEngine) -> None:
    long_ago = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)
    inserted = await insert_user(schema, created_at=long_ago, updated_at=long_ago)
    user_class = user_model()
    async with orm_session(schema) as session:
        user = await session.get(user_class, inserted.id)
        assert user is not None, "expected to read the inserted user back by its id"
        user.full_name = "Renamed"
    stored = await load_user(schema, id=inserted.id)
    assert as_utc_naive(stored.created_at) == as_utc_naive(long_ago), (
        f"expected an update to keep created_at, found {stored.created_at} instead of {long_ago}"
    )
    assert as_utc_naive(stored.updated_at) > as_utc_naive(long_ago) + timedelta(days=365), (
        f"expected an update to set updated_at to the current time, it stayed {stored.updated_at}"
    )


@pytest.mark.grade("D8", 2)
async def test_an_all_digit_uuid_round_trips(schema: AsyncEngine) -> None:
    email = f"digits-{uuid.uuid4().hex[:8]}@example.com"
    try:
        await insert_user(schema, id=ALL_DIGIT_UUID, email=email)
        stored = await load_user(schema, email=email)
    except Exception as exc:  # the native UUID type on SQLite fails here, in the driver
        pytest.fail(
            f"expected a user with the id {ALL_DIGIT_UUID} to be stored and read back, found "
            f"{type(exc).__name__}: {str(exc)[:150]} (is `id` a postgresql.UUID? use "
            "sqlalchemy.Uuid)"
        )
    found = None if stored is None else stored.id
    assert found == ALL_DIGIT_UUID, (
        f"expected the id {ALL_DIGIT_UUID} to read back unchanged, found {found!r} "
        "(use sqlalchemy.Uuid, not postgresql.UUID: SQLite turns an all-digit UUID into a number)"
    )
