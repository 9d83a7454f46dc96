"""Step 5, D12: UserRepository's lookups, search, sort whitelist and query count."""

from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from course.grading.fixtures import maybe_await

from .conftest import EMAILS, PEOPLE, Stored, page_result, user_repository

SORT_FIELDS = {"email": 0, "full_name": 1, "role": 2, "created_at": 3, "updated_at": 4}


async def get_users(engine: AsyncEngine, **kwargs: Any) -> tuple[list[Any], int]:
    async with user_repository(engine) as repo:
        result = await maybe_await(repo.get_users(**kwargs))
    return page_result(result, f"get_users({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})")


def expected_order(field: str, descending: bool) -> list[str]:
    """The emails of PEOPLE sorted by one field (ties kept together, in any order)."""
    position = SORT_FIELDS[field]
    return [p[0] for p in sorted(PEOPLE, key=lambda p: p[position], reverse=descending)]


@pytest.mark.grade("D12", 1)
async def test_get_by_email_finds_a_live_user(stored: Stored) -> None:
    async with user_repository(stored.engine) as repo:
        found = await maybe_await(repo.get_by_email(EMAILS[4]))
        unknown = await maybe_await(repo.get_by_email("nobody@example.com"))
    assert found is not None and found.id == stored.people.ids[4], (
        f"expected get_by_email({EMAILS[4]!r}) to return that user, found {found!r}"
    )
    assert unknown is None, (
        f"expected get_by_email of an unknown email to be None, found {unknown!r}"
    )


@pytest.mark.grade("D12", 1)
async def test_get_by_email_ignores_letter_case(stored: Stored) -> None:
    async with user_repository(stored.engine) as repo:
        found = await maybe_await(repo.get_by_email(EMAILS[4].upper()))
    assert found is not None and found.id == stored.people.ids[4], (
        f"expected get_by_email({EMAILS[4].upper()!r}) to find {EMAILS[4]} (emails compare "
        f"without case), found {found!r}"
    )


def full_width(email: str) -> str:
    """`email` with its ASCII letters and digits in their full-width forms (U+FF01 on)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in email)


@pytest.mark.grade("D12", 1)
async def test_email_lookups_normalise_the_unicode_width(stored: Stored) -> None:
    spelling = full_width(EMAILS[4].upper())
    async with user_repository(stored.engine) as repo:
        found = await maybe_await(repo.get_by_email(spelling))
        exists = await maybe_await(repo.email_exists(spelling))
    assert found is not None and found.id == stored.people.ids[4], (
        f"expected get_by_email({spelling!r}) to find {EMAILS[4]}: the repository normalises "
        f"every email it looks up (NFKC, then lower-case; login's username reaches it as it was "
        f"typed), found {found!r}"
    )
    assert exists, f"expected email_exists({spelling!r}) to be True for {EMAILS[4]}"


@pytest.mark.grade("D12", 1)
async def test_get_by_email_skips_soft_deleted_users(stored: Stored) -> None:
    async with user_repository(stored.engine) as repo:
        found = await maybe_await(repo.get_by_email("alina@example.com"))
    assert found is None, f"expected get_by_email to skip a soft-deleted user, found {found!r}"


@pytest.mark.grade("D12", 2)
async def test_email_exists_counts_only_live_users_in_any_case(stored: Stored) -> None:
    async with user_repository(stored.engine) as repo:
        answers = {
            email: await maybe_await(repo.email_exists(email))
            for email in (EMAILS[1], EMAILS[1].upper(), "nobody@example.com", "alina@example.com")
        }
    expected = {
        EMAILS[1]: True,
        EMAILS[1].upper(): True,
        "nobody@example.com": False,
        "alina@example.com": False,
    }
    wrong = {email: answer for email, answer in answers.items() if bool(answer) != expected[email]}
    assert not wrong, (
        f"expected email_exists to be True for live users in any letter case and False for "
        f"unknown or soft-deleted ones; wrong answers: {wrong}"
    )


@pytest.mark.grade("D12", 1)
@pytest.mark.parametrize(
    ("search", "expected"),
    [("ALI", [0, 2, 3]), ("rosalind", [2]), ("%", [4]), ("_", [5])],
    ids=["name-or-email", "case-insensitive-name", "percent-is-literal", "underscore-is-literal"],
)
async def test_get_users_searches_names_and_emails(
    stored: Stored, search: str, expected: list[int]
) -> None:
    items, total = await get_users(stored.engine, page=1, limit=50, search=search)
    found = sorted(stored.people.index(user) for user in items)
    names = [
        f"{PEOPLE[i][1]} <{PEOPLE[i][0]}>" if i >= 0 else "(a soft-deleted user)" for i in found
    ]
    wanted = [f"{PEOPLE[i][1]} <{PEOPLE[i][0]}>" for i in expected]
    hint = " (escape % and _ in the LIKE pattern)" if search in "%_" else ""
    assert found == expected, (
        f"expected search={search!r} to find {wanted} (case-insensitive substring of name or "
        f"email, soft-deleted users skipped), found {names}{hint}"
    )
    assert total == len(expected), f"expected the total to be {len(expected)}, found {total}"


@pytest.mark.grade("D12", 1)
@pytest.mark.parametrize("field", list(SORT_FIELDS))
async def test_get_users_sorts_by_a_whitelisted_field(stored: Stored, field: str) -> None:
    for order in ("asc", "desc"):
        items, _ = await get_users(stored.engine, page=1, limit=50, sort_by=field, sort_order=order)
        found = [user.email for user in items]
        expected = expected_order(field, descending=order == "desc")
        if field == "role":  # ties: compare the roles only
            role_of = {p[0]: p[2] for p in PEOPLE}
            found, expected = [role_of.get(e) for e in found], [role_of[e] for e in expected]
        assert found == expected, (
            f"expected get_users(sort_by={field!r}, sort_order={order!r}) to return "
            f"{expected}, found {found}"
        )


@pytest.mark.grade("D12", 2)
async def test_get_users_never_sorts_by_a_column_outside_the_whitelist(stored: Stored) -> None:
    items, _ = await get_users(stored.engine, page=1, limit=50, sort_by="email", sort_order="asc")
    assert [user.email for user in items] == sorted(EMAILS), (
        "expected get_users(sort_by='email', sort_order='asc') to list every user by email, "
        f"found {[user.email for user in items]}"
    )
    by_hash = [p[0] for p in sorted(PEOPLE, key=lambda p: p[5])]
    for order, expected in (("asc", by_hash), ("desc", by_hash[::-1])):
        try:
            items, _ = await get_users(
                stored.engine, page=1, limit=50, sort_by="password_hash", sort_order=order
            )
        except AssertionError:
            raise
        except Exception:  # refusing is right (ValueError, an AppException, ...)
            continue
        found = [user.email for user in items]
        assert found != expected, (
            "expected get_users(sort_by='password_hash') to be refused (or ignored), but it "
            "sorted by the password hash: only created_at, updated_at, email, full_name and role "
            "may be sorted on"
        )


@pytest.mark.grade("D12", 1)
async def test_get_users_runs_a_fixed_small_number_of_queries(stored: Stored) -> None:
    counts = []
    for limit in (2, 7):
        statements: list[str] = []

        def count(*args: Any, statements: list[str] = statements) -> None:
            statements.append(str(args[2])[:60])

        async with user_repository(stored.engine, warm=True) as repo:
            event.listen(stored.engine.sync_engine, "before_cursor_execute", count)
            try:
                page_result(await maybe_await(repo.get_users(page=1, limit=limit)), "get_users()")
            finally:
                event.remove(stored.engine.sync_engine, "before_cursor_execute", count)
        counts.append(len(statements))
    assert counts[0] == counts[1] and counts[1] <= 3, (
        f"expected get_users to run the same few queries (at most 3) whatever the page size, "
        f"found {counts[0]} for limit=2 and {counts[1]} for limit=7"
    )
