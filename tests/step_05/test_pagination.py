"""Step 5, pagination: pages of UserRepository.get_users, counted from 1.

COURSE-SPEC names no pagination helper functions, so their effect is graded: the
offset of each page, the total of all matches, and pages that never overlap.
"""

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from course.grading.fixtures import maybe_await

from .conftest import EMAILS, PEOPLE, Stored, page_result, user_repository


async def page(engine: AsyncEngine, **kwargs: Any) -> tuple[list[Any], int]:
    async with user_repository(engine) as repo:
        result = await maybe_await(repo.get_users(**kwargs))
    return page_result(result, f"get_users({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})")


@pytest.mark.grade("pagination", 1)
@pytest.mark.parametrize(
    ("number", "expected"),
    [(1, EMAILS[0:3]), (2, EMAILS[3:6]), (3, EMAILS[6:7]), (4, [])],
    ids=["first", "middle", "last-partial", "past-the-end"],
)
async def test_page_of_three_sorted_by_email(
    stored: Stored, number: int, expected: list[str]
) -> None:
    items, total = await page(
        stored.engine, page=number, limit=3, sort_by="email", sort_order="asc"
    )
    emails = [user.email for user in items]
    assert emails == expected, (
        f"expected page {number} with limit 3 (sorted by email) to hold {expected}, found {emails}"
    )
    assert total == len(EMAILS), (
        f"expected the total on page {number} to count all {len(EMAILS)} users, found {total}"
    )


@pytest.mark.grade("pagination", 1)
async def test_total_counts_the_matches_of_a_search_not_the_page(stored: Stored) -> None:
    items, total = await page(
        stored.engine, page=2, limit=2, search="ali", sort_by="email", sort_order="asc"
    )
    emails = [user.email for user in items]
    assert emails == [EMAILS[3]] and total == 3, (
        f"expected page 2 (limit 2) of search 'ali' to hold [{EMAILS[3]!r}] out of 3 matches, "
        f"found {emails} out of {total}"
    )


@pytest.mark.grade("pagination", 1)
async def test_pages_never_overlap_when_sort_values_tie(stored: Stored) -> None:
    seen: list[str] = []
    for number in (1, 2, 3, 4):
        items, _ = await page(stored.engine, page=number, limit=2, sort_by="role", sort_order="asc")
        seen.extend(user.email for user in items)
    repeated = sorted({email for email in seen if seen.count(email) > 1})
    assert not repeated and sorted(seen) == sorted(EMAILS), (
        "expected the pages sorted by role (many users share one) to list every user exactly "
        f"once; repeated: {repeated}, missing: {sorted(set(EMAILS) - set(seen))} "
        "(break ties with a unique column such as id)"
    )


@pytest.mark.grade("pagination", 1)
async def test_limit_is_respected_for_every_page_size(stored: Stored) -> None:
    sizes = {}
    for limit in (1, 5, 100):
        items, _ = await page(stored.engine, page=1, limit=limit)
        sizes[limit] = len(items)
    expected = {limit: min(limit, len(PEOPLE)) for limit in sizes}
    assert sizes == expected, (
        f"expected page 1 to hold min(limit, {len(PEOPLE)}) users for each limit, found "
        f"{sizes} (limit -> users)"
    )
