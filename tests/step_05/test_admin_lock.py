"""Step 5, D12: the user repository's lock on the active admins, on tables of its own.

(The checks of test_user_repository.py share one stored set of users that only they
read; this one writes.)
"""

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from course.grading.fixtures import maybe_await

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
