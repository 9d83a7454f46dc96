"""Step 5, D12: the user repository's lock on the active admins, on tables of its own.

(The checks of test_user_repository.py share one stored set of users that only they
read; this one writes.)
"""

import asyncio
import uuid

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from course.grading.fixtures import database_url, maybe_await

from .conftest import People, make_user, user_repository


@pytest.mark.grade("D12", 1)
async def test_lock_active_admin_ids_lists_the_live_active_admins_only(
    people: People, schema: AsyncEngine
) -> None:
    from sqlalchemy.ext.asyncio import AsyncSession

    inactive = make_user(("idle.admin@example.com", "Idle Admin", "admin", 0, 0, 0))
    inactive.is_active = False
    async with AsyncSession(schema) as session:
        session.add(inactive)
        await session.commit()
    async with user_repository(schema) as repo:
        method = getattr(repo, "lock_active_admin_ids", None)
        assert callable(method), (
            "expected UserRepository.lock_active_admin_ids() (step 6's last-admin rule "
            "counts the admins it returns)"
        )
        ids = list(await maybe_await(method()))
    expected = [people.ids[3]]  # the one live, active admin of PEOPLE
    assert sorted(ids) == expected, (
        f"expected lock_active_admin_ids() to return the ids of the live, active admins "
        f"only ({expected}: not the soft-deleted admin, not the deactivated one), found {ids}"
    )


async def another_writer_waits(admin_id: uuid.UUID) -> bool:
    """Whether a write to the admin's row, from a connection of its own, has to wait:
    it gives up after 0.3 s (SQLite's busy timeout, PostgreSQL's lock_timeout)."""
    from app.domain.models.base import Base

    users = Base.metadata.tables["users"]
    url = database_url()
    sqlite = url.startswith("sqlite")
    engine = create_async_engine(
        url, poolclass=NullPool, connect_args={"timeout": 0.3} if sqlite else {}
    )
    try:
        async with engine.begin() as connection:
            if not sqlite:
                await connection.execute(text("SET LOCAL lock_timeout = '300ms'"))
            touch = update(users).where(users.c.id == admin_id)
            await asyncio.wait_for(
                connection.execute(touch.values(full_name=users.c.full_name)), timeout=10
            )
    except (DBAPIError, TimeoutError):
        return True  # "database is locked", "canceling statement due to lock timeout"
    finally:
        await engine.dispose()
    return False


@pytest.mark.grade("D12", 1)
async def test_lock_active_admin_ids_holds_the_admins_until_the_transaction_ends(
    people: People, schema: AsyncEngine
) -> None:
    admin_id = people.ids[3]
    async with user_repository(schema) as repo:
        await maybe_await(repo.lock_active_admin_ids())
        waited = await another_writer_waits(admin_id)
    assert waited, (
        "expected lock_active_admin_ids() to keep the admins locked until its transaction "
        "ends, found another connection free to write the admin's row meanwhile: on "
        "PostgreSQL select with .with_for_update(); on SQLite, which has no row locks, run "
        "an UPDATE that matches no row first, so the transaction holds the write lock"
    )
    assert not await another_writer_waits(admin_id), (
        "expected the admin's row free again once the transaction of "
        "lock_active_admin_ids() ended, found the write still waiting"
    )
