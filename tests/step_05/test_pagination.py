"""Step 5, pagination: pages of UserRepository.get_users, counted from 1.

Their effect is graded: the offset of each page, the total of all matches, and pages
that never overlap; and the helpers the checkpoint defines in app/utils/pagination.py
(`page_offset`, `total_pages`, `escape_like`) directly, since step 7's list endpoint
reports `total_pages` and no check of this step would otherwise see it.
"""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from course.grading.fixtures import maybe_await

from .conftest import EMAILS, PEOPLE, T0, Stored, page_result, user_model, user_repository

TIED_USERS = 12  # created at one moment, before every user of PEOPLE
TIED_LIMIT = 4


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


async def move_in_storage(engine: AsyncEngine, ids: list[Any], to_the_end: bool) -> None:
    """Move rows in the table's storage without changing a value, as other requests'
    writes do between two page requests: an UPDATE writes a new row version elsewhere
    (PostgreSQL); SQLite keeps rows in rowid order, so there their rowid moves, to the
    end or to the front."""
    table = user_model().__table__
    if engine.dialect.name == "sqlite":
        sets = f"rowid = rowid {'+' if to_the_end else '-'} 1000000000"
    else:
        sets = "is_active = is_active"
    statement = text(f"UPDATE {table.name} SET {sets} WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True, type_=table.c.id.type)
    )
    async with engine.begin() as connection:
        await connection.execute(statement, {"ids": ids})


@pytest.mark.grade("pagination", 1)
async def test_pages_never_overlap_when_sort_values_tie(stored: Stored) -> None:
    """Users created in one batch share created_at: only a unique tie-breaker (the id)
    puts them in one order. Without it the database returns tied rows in the order it
    finds them, scanning the table (ANALYZE: with statistics, as in production, no index
    helps here), and that order changes between two page requests when other writes move
    rows. Walking every page must still list every user exactly once, whichever way the
    rows move (two walks: moved to the end, then to the front)."""
    users = [
        user_model()(
            id=uuid.uuid4(),
            email=f"tied{number:02d}@example.com",
            full_name="Tied Batch",
            role="user",
            is_active=True,
            password_hash="$argon2id$fake-tied",
            created_at=T0 - timedelta(days=1),
            updated_at=T0 - timedelta(days=1),
        )
        for number in range(TIED_USERS)
    ]
    email_of = {user.id: user.email for user in users}
    async with AsyncSession(stored.engine, expire_on_commit=False) as session:
        session.add_all(users)
        await session.commit()
    async with stored.engine.begin() as connection:
        await connection.execute(text("ANALYZE"))
    try:
        for to_the_end in (True, False):
            seen: list[Any] = []
            for number in range(1, TIED_USERS // TIED_LIMIT + 3):
                items, _ = await page(
                    stored.engine,
                    page=number,
                    limit=TIED_LIMIT,
                    search="tied",
                    sort_by="created_at",
                    sort_order="desc",
                )
                if not items:
                    break
                seen.extend(user.id for user in items)
                await move_in_storage(stored.engine, [user.id for user in items], to_the_end)
            repeated = sorted({email_of.get(i, str(i)) for i in seen if seen.count(i) > 1})
            missing = sorted(email_of[i] for i in set(email_of) - set(seen))
            assert not repeated and not missing, (
                f"expected the pages of get_users(search='tied', sort_by='created_at', "
                f"limit={TIED_LIMIT}) over {TIED_USERS} users created at the same moment to "
                f"list every user exactly once, found repeated: {repeated}, missing: "
                f"{missing}. Tied rows come back in whatever order the database finds them, "
                "which other writes change between two requests: break ties with a unique "
                "column, order_by(sort column, Model.id)"
            )
    finally:
        async with stored.engine.begin() as connection:
            await connection.execute(
                text("DELETE FROM users WHERE id IN :ids").bindparams(
                    bindparam("ids", expanding=True, type_=user_model().__table__.c.id.type)
                ),
                {"ids": list(email_of)},
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


TOTAL_PAGES = [((0, 20), 0), ((1, 20), 1), ((20, 20), 1), ((21, 20), 2), ((41, 20), 3),
               ((100, 1), 100), ((5, 100), 1)]  # fmt: skip
PAGE_OFFSETS = [((1, 20), 0), ((2, 20), 20), ((3, 7), 14)]


@pytest.mark.grade("pagination", 1)
def test_the_helpers_count_pages_and_offsets() -> None:
    from app.utils.pagination import page_offset, total_pages

    wrong = [f"total_pages({t}, {n}) = {total_pages(t, n)}, expected {e}"
             for (t, n), e in TOTAL_PAGES if total_pages(t, n) != e]  # fmt: skip
    wrong += [f"page_offset({p}, {n}) = {page_offset(p, n)}, expected {e}"
              for (p, n), e in PAGE_OFFSETS if page_offset(p, n) != e]  # fmt: skip
    assert not wrong, "expected whole pages, the last one partly full: " + "; ".join(wrong)


# Terms, and the texts a LIKE '%' || escaped || '%' must and must not match.
LIKE_CASES = [
    ("50%", "a 50% cut", "a 500 cut"),
    ("a_b", "xa_by", "xaZby"),
    ("back\\slash", "two back\\slashes", "one back\\Xslash"),
    ("end\\", "the end\\", "the end"),
]


@pytest.mark.grade("pagination", 1)
@pytest.mark.parametrize(("term", "matching", "other"), LIKE_CASES)
def test_escape_like_makes_every_character_of_a_term_literal(
    term: str, matching: str, other: str
) -> None:
    import sqlite3

    from app.utils.pagination import escape_like

    pattern = escape_like(term)
    with sqlite3.connect(":memory:") as connection:

        def like(text_value: str) -> bool:
            query = "SELECT ? LIKE '%' || ? || '%' ESCAPE '\\'"
            try:
                return bool(connection.execute(query, (text_value, pattern)).fetchone()[0])
            except sqlite3.OperationalError:
                return False

        found = like(matching), like(other)
    assert found == (True, False), (
        f"expected escape_like({term!r}) = {pattern!r}, used as LIKE '%' || it || '%' ESCAPE "
        f"'\\', to match {matching!r} and not {other!r}, found {found}: `%`, `_` and the "
        "escape character itself must each be escaped"
    )
