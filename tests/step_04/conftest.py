"""Helpers of the step 4 checks: the learner's models, stored with the grader's own session.

Rows are written through an ORM session of the grader's engine (the `schema`
fixture), not the learner's DatabaseManager: these checks are about the models,
and step 3's session handling has its own checks.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession


def user_model() -> Any:
    """The learner's User class."""
    from app.domain.models.user import User

    return User


def user_fields(**overrides: Any) -> dict[str, Any]:
    """Valid values for a new User (only the columns the spec names)."""
    fields: dict[str, Any] = {
        "email": f"model-{uuid.uuid4().hex[:10]}@example.com",
        "password_hash": "not-a-real-hash",
        "full_name": "Model Check",
    }
    fields.update(overrides)
    return fields


@asynccontextmanager
async def orm_session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """An ORM session on the grader's engine that commits when the block succeeds."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        yield session
        await session.commit()


async def insert_user(engine: AsyncEngine, **overrides: Any) -> Any:
    """Insert one user in its own committed transaction; return the instance."""
    user = user_model()(**user_fields(**overrides))
    async with orm_session(engine) as session:
        session.add(user)
    return user


async def load_user(engine: AsyncEngine, **where: Any) -> Any:
    """Read one user back in a fresh session (soft-deleted or not)."""
    from sqlalchemy import select

    user_class = user_model()
    query = select(user_class).filter_by(**where)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        return (await session.execute(query)).scalar_one_or_none()


def base_type(column: Any) -> Any:
    """The SQL type behind a column, looking through a TypeDecorator."""
    return getattr(column.type, "impl", column.type)


def plain(value: Any) -> Any:
    """An enum member's value, anything else as it is ("user" for UserRole.USER)."""
    return getattr(value, "value", value)


def as_utc_naive(value: datetime) -> datetime:
    """A datetime comparable with any other: aware ones converted to UTC, naive ones as UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None)


def session_model() -> Any:
    """The learner's UserSession class."""
    from app.domain.models.session import UserSession

    return UserSession


def assert_exported_and_registered(model: Any, module: str, table: str) -> None:
    """Fail unless the models package re-exports `model` and `Base.metadata` holds `table`.

    Importing `app.domain.models` must register every table, for Alembic and the app alike.
    """
    import app.domain.models as models
    from app.domain.models.base import Base

    name = getattr(model, "__name__", str(model))
    exported = getattr(models, name, None)
    assert exported is model, (
        f"expected app/domain/models/__init__.py to import and re-export {name} "
        f"(from app.domain.models.{module} import {name}), so that importing the models "
        f"package registers its table; found {exported!r}"
    )
    tables = sorted(Base.metadata.tables)
    assert table in tables, f"expected Base.metadata to hold the {table} table, found {tables}"
