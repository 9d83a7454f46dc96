"""Helpers of the step 5 checks: a known set of users, and the learner's repositories.

The repositories get a plain AsyncSession on the grader's engine (the `schema`
fixture): these checks are about data access, not step 3's session handling.
Writes are committed by the check, as a request would; a repository that commits
by itself is fine too.

The users are chosen so that every sort order is a different permutation, the
search term "ALI" matches some names and some emails, and one soft-deleted user
matches everything that should skip it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from course.grading.fixtures import _reset_database as reset_database
from course.grading.fixtures import database_url
from course.grading.learner_code import Snapshot

T0 = datetime(2030, 1, 1, tzinfo=UTC)

# email, full_name, role, created_at rank, updated_at rank, password_hash rank
PEOPLE = [
    ("alice@example.com", "Dora Lane", "user", 2, 6, 4),
    ("bob@example.com", "Adam Brook", "moderator", 5, 2, 6),
    ("carla@example.com", "Fiona Rosalind", "user", 0, 4, 1),
    ("d.malik@example.com", "Bella Kern", "admin", 6, 0, 3),
    ("eve@example.com", "Gus 100% Real", "user", 3, 1, 0),
    ("frank_under@example.com", "Chris Dale", "moderator", 1, 5, 5),
    ("gina@example.com", "Ethan Vale", "user", 4, 3, 2),
]
DELETED = ("alina@example.com", "Alina 100% Gone_Away", "admin", 7, 7, 7)
EMAILS = [person[0] for person in PEOPLE]


@dataclass
class People:
    """The stored users: `ids[i]` is the id of PEOPLE[i]."""

    ids: list[uuid.UUID]
    deleted_id: uuid.UUID

    def index(self, user: Any) -> int:
        """Which of PEOPLE a returned user is (-1 for the soft-deleted one)."""
        if user.id == self.deleted_id:
            return -1
        return self.ids.index(user.id)


def user_model() -> Any:
    from app.domain.models.user import User

    return User


def make_user(person: tuple[Any, ...], deleted: bool = False) -> Any:
    email, full_name, role, created, updated, hashed = person
    return user_model()(
        id=uuid.uuid4(),
        email=email,
        full_name=full_name,
        role=role,
        is_active=True,
        password_hash=f"$argon2id$fake-{hashed}",
        created_at=T0 + timedelta(hours=created),
        updated_at=T0 + timedelta(hours=updated),
        deleted_at=T0 + timedelta(days=1) if deleted else None,
    )


async def store_people(engine: AsyncEngine) -> People:
    """Store PEOPLE and one soft-deleted user."""
    users = [make_user(person) for person in PEOPLE]
    gone = make_user(DELETED, deleted=True)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        session.add_all([*users, gone])
        await session.commit()
    return People([user.id for user in users], gone.id)


@pytest.fixture
async def people(schema: AsyncEngine) -> People:
    """PEOPLE and one soft-deleted user, stored in fresh tables, for a check that writes."""
    return await store_people(schema)


@dataclass
class Stored:
    """The grader's engine on tables holding PEOPLE, shared by read-only checks."""

    engine: AsyncEngine
    people: People


@pytest.fixture(scope="module")
async def stored(learner_snapshot: Snapshot) -> AsyncIterator[Stored]:
    """PEOPLE stored once for a whole module of checks that only read."""
    engine = create_async_engine(database_url(), poolclass=NullPool)
    try:
        await reset_database(engine)
        yield Stored(engine, await store_people(engine))
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM users"))
    finally:
        await engine.dispose()


@asynccontextmanager
async def user_repository(
    engine: AsyncEngine, commit: bool = False, warm: bool = False
) -> AsyncIterator[Any]:
    """The learner's UserRepository on a fresh session; commits at the end if asked.

    `warm` runs a `SELECT 1` first, so the session already holds its connection.
    """
    from app.repository.user_repository import UserRepository

    async with AsyncSession(engine, expire_on_commit=False) as session:
        if warm:
            await session.execute(text("SELECT 1"))
        yield UserRepository(session)
        if commit:
            await session.commit()


def page_result(result: Any, call: str) -> tuple[list[Any], int]:
    """Check a `(items, total)` answer and return it."""
    assert isinstance(result, tuple | list) and len(result) == 2, (
        f"expected {call} to return (items, total), found {type(result).__name__}: "
        f"{str(result)[:120]}"
    )
    items, total = result
    assert isinstance(total, int), f"expected the total of {call} to be an int, found {total!r}"
    return list(items), total


@asynccontextmanager
async def unit_of_work(engine: AsyncEngine, commit: bool = True) -> AsyncIterator[AsyncSession]:
    """A fresh session with autoflush off (as the app's); commits at the end if asked."""
    async with AsyncSession(engine, expire_on_commit=False, autoflush=False) as orm:
        yield orm
        if commit:
            await orm.commit()
