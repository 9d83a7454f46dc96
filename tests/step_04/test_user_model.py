"""Step 4, D9: the `User` model and its `users` table.

Email uniqueness is checked by behaviour (COURSE-SPEC section 3): among users that
are not soft-deleted, no two may share an email in any letter case, and a deleted
user's email can be used again. A plain `unique=True` on the column does neither.
"""

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from .conftest import insert_user, load_user, orm_session, plain, user_model

SPEC_COLUMNS = ["email", "password_hash", "full_name", "role", "is_active"]


def unique_email() -> str:
    return f"twin-{uuid.uuid4().hex[:8]}@example.com"


@pytest.mark.grade("D9", 1)
def test_user_maps_the_users_table_with_the_spec_columns() -> None:
    user_class = user_model()
    table_name = getattr(user_class, "__tablename__", None)
    assert table_name == "users", f"expected User.__tablename__ to be 'users', found {table_name!r}"
    columns = set(user_class.__table__.c.keys())
    missing = [name for name in SPEC_COLUMNS if name not in columns]
    assert not missing, f"expected the users table to have the columns {', '.join(missing)}"


@pytest.mark.grade("D9", 1)
@pytest.mark.parametrize(("name", "length"), [("email", 255), ("full_name", 100), ("role", 20)])
def test_string_column_has_its_length(name: str, length: int) -> None:
    column = user_model().__table__.c.get(name)
    assert column is not None, f"expected a `{name}` column on users"
    assert isinstance(column.type, sa.String), (
        f"expected `{name}` to be a String column, found {column.type!r}"
    )
    assert column.type.length == length, (
        f"expected `{name}` to be String({length}), found String({column.type.length})"
    )


@pytest.mark.grade("D9", 1)
def test_every_user_column_is_required() -> None:
    columns = user_model().__table__.c
    names = ("email", "password_hash", "full_name", "role", "is_active")
    absent = [name for name in names if name not in columns]
    assert not absent, f"expected the columns {', '.join(absent)} on users"
    nullable = [name for name in names if columns[name].nullable]
    assert not nullable, (
        f"expected NOT NULL columns (nullable=False), found nullable: {', '.join(nullable)}; "
        "a default does not stop an UPDATE from writing NULL"
    )


@pytest.mark.grade("D9", 2)
async def test_new_user_defaults_to_role_user_and_active(schema: AsyncEngine) -> None:
    inserted = await insert_user(schema)
    stored = await load_user(schema, id=inserted.id)
    assert stored is not None, "expected to read the inserted user back by its id"
    assert plain(stored.role) == "user", (
        f"expected a new user's role to default to 'user', found {stored.role!r}"
    )
    assert stored.is_active is True, (
        f"expected a new user's is_active to default to True, found {stored.is_active!r}"
    )


@pytest.mark.grade("D9", 1)
async def test_two_live_users_cannot_share_an_email(schema: AsyncEngine) -> None:
    email = unique_email()
    await insert_user(schema, email=email)
    with pytest.raises(IntegrityError):
        await insert_user(schema, email=email)
        pytest.fail(f"expected a second live user with the email {email} to be refused")


@pytest.mark.grade("D9", 2)
async def test_email_uniqueness_ignores_letter_case(schema: AsyncEngine) -> None:
    email = unique_email()
    await insert_user(schema, email=email)
    with pytest.raises(IntegrityError):
        await insert_user(schema, email=email.upper())
        pytest.fail(
            f"expected {email.upper()} to be refused while {email} exists: uniqueness must "
            "ignore case (a unique index on lower(email))"
        )


@pytest.mark.grade("D9", 2)
async def test_a_soft_deleted_users_email_can_be_used_again(schema: AsyncEngine) -> None:
    email = unique_email()
    first = await insert_user(schema, email=email)
    async with orm_session(schema) as session:
        user = await session.get(user_model(), first.id)
        assert user is not None, "expected to read the inserted user back by its id"
        user.deleted_at = datetime.now(UTC)
    try:
        again = await insert_user(schema, email=email)
    except IntegrityError:
        pytest.fail(
            f"expected {email} to be free again once its user is soft-deleted, but the database "
            "refused it: the unique index must count only rows WHERE deleted_at IS NULL"
        )
    assert again.id != first.id, "expected the new user to get a new id"
    with pytest.raises(IntegrityError):
        await insert_user(schema, email=email)
        pytest.fail(f"expected {email} to stay unique among the users that are not deleted")


@pytest.mark.grade("D9", 1)
@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("\uff21\uff24\uff21@example.com", "ada@example.com"),  # full-width "ADA"
        ("  Ada@Example.COM ", "ada@example.com"),
        ("\ufb01n@example.com", "fin@example.com"),  # the "fi" ligature
    ],
    ids=["full-width", "case-and-spaces", "ligature"],
)
def test_normalize_email_gives_one_spelling(spelling: str, expected: str) -> None:
    import importlib

    module = importlib.import_module("app.domain.models.user")
    normalize_email = getattr(module, "normalize_email", None)
    assert callable(normalize_email), (
        "expected a function normalize_email(email) in app/domain/models/user.py: the "
        "schemas and step 5's repository import it from there"
    )
    found = normalize_email(spelling)
    assert found == expected, (
        f"expected normalize_email({spelling!r}) to be {expected!r} (Unicode NFKC, strip, "
        f"then lower-case), found {found!r}"
    )
