"""Step 4, failure-model: the `LoginFailure` model and its `login_failures` table.

One row per failed login, counted by step 6's throttling. The table is read from the
learner's model; that an unknown email can be stored (no foreign key) is checked by
storing one, on the grading database built from the learner's metadata.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from .conftest import assert_exported_and_registered, base_type, orm_session


def failure_model() -> Any:
    """The learner's LoginFailure class."""
    from app.domain.models.login_failure import LoginFailure

    return LoginFailure


def failure_table() -> sa.Table:
    """The learner's `login_failures` table; a clear failure if LoginFailure maps none."""
    table = getattr(failure_model(), "__table__", None)
    if not isinstance(table, sa.Table):
        pytest.fail("expected LoginFailure to be a mapped model with a table, found none")
    return table


def indexed_columns(table: sa.Table) -> list[tuple[str, ...]]:
    """The column names of each index on `table`, in index order (index=True ones too)."""
    return [tuple(column.name for column in index.columns) for index in table.indexes]


@pytest.mark.grade("failure-model", 1)
def test_login_failure_maps_login_failures_on_the_base_model() -> None:
    from app.domain.models.base import BaseModel

    model = failure_model()
    table_name = getattr(model, "__tablename__", None)
    assert table_name == "login_failures", (
        f"expected LoginFailure.__tablename__ to be 'login_failures', found {table_name!r}"
    )
    assert isinstance(model, type) and issubclass(model, BaseModel), (
        "expected LoginFailure to inherit from BaseModel (class LoginFailure(BaseModel)): "
        "its created_at is the failure's time"
    )


@pytest.mark.grade("failure-model", 1)
def test_email_is_a_required_string_of_255_without_a_foreign_key() -> None:
    column = failure_table().c.get("email")
    assert column is not None, "expected an `email` column on login_failures"
    kind = base_type(column)
    assert isinstance(kind, sa.String) and kind.length == 255, (
        f"expected `email` to be String(255), the length of users.email, found {kind!r}"
    )
    assert not column.nullable, "expected `email` to be NOT NULL (nullable=False)"
    assert not column.foreign_keys, (
        "expected `email` to have no foreign key: a failed login for an email that has no "
        "account is counted too, or guessing emails would never be slowed down"
    )


@pytest.mark.grade("failure-model", 1)
def test_one_emails_recent_failures_are_counted_through_an_index() -> None:
    found = indexed_columns(failure_table())
    assert ("email", "created_at") in found, (
        "expected an index on (email, created_at), ix_login_failures_email_created_at: "
        "every login counts one email's failures after a time, and without it that count "
        f"reads the whole table; found indexes on {found or 'nothing'}"
    )


@pytest.mark.grade("failure-model", 1)
def test_old_failures_are_purged_through_an_index() -> None:
    found = indexed_columns(failure_table())
    assert any(columns[0] == "created_at" for columns in found), (
        "expected an index that starts with created_at, ix_login_failures_created_at: "
        "every failed login deletes everyone's failures older than the window, a query on "
        f"created_at alone that (email, created_at) cannot serve; found indexes on {found}"
    )


@pytest.mark.grade("failure-model", 1)
async def test_a_failure_for_an_unknown_email_is_stored(schema: AsyncEngine) -> None:
    at = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
    created = failure_model()(email="nobody-has-this@example.com", created_at=at)
    try:
        async with orm_session(schema) as session:
            session.add(created)
    except IntegrityError as exc:
        pytest.fail(
            "expected a failure for an email no user has to be stored, found the database "
            f"refused it ({str(exc.orig)[:80]})"
        )
    table = failure_table()
    async with schema.begin() as connection:
        stored = (
            await connection.execute(sa.select(table.c.email).where(table.c.id == created.id))
        ).scalar_one_or_none()
        await connection.execute(table.delete())
    assert stored == "nobody-has-this@example.com", (
        f"expected to read the stored failure's email back, found {stored!r}"
    )


@pytest.mark.grade("failure-model", 1)
def test_the_models_package_exports_login_failure_and_registers_its_table() -> None:
    assert_exported_and_registered(failure_model(), "login_failure", "login_failures")
