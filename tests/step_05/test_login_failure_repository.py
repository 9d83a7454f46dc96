"""Step 5, failure-repository: LoginFailureRepository, the count of login throttling.

The checks store failures at chosen times with the grader's own connection and call the
learner's repository on a plain AsyncSession with autoflush off, as the app's sessions
are: a write must flush itself.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from course.grading.fixtures import maybe_await

from .conftest import unit_of_work

ADA = "ada@example.com"
ADA_FULL_WIDTH = "\uff21\uff24\uff21@Example.COM"  # full-width ADA: NFKC, then lower-case is ada@
LIMIT = 5
NOW = datetime.now(UTC)
SINCE = NOW - timedelta(minutes=15)


def failures_table() -> sa.Table:
    """The learner's `login_failures` table."""
    from app.domain.models.login_failure import LoginFailure

    table = getattr(LoginFailure, "__table__", None)
    if not isinstance(table, sa.Table):
        pytest.fail("expected LoginFailure to be a mapped model with a table (step 4)")
    return table


def repository(orm: AsyncSession) -> Any:
    """The learner's LoginFailureRepository on `orm`."""
    from app.repository.login_failure_repository import LoginFailureRepository

    return LoginFailureRepository(orm)


@pytest.fixture
async def tables(schema: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The `schema` tables; the failures are emptied first when the check ends."""
    yield schema
    async with schema.begin() as connection:
        await connection.execute(text("DELETE FROM login_failures"))


async def add_failures(engine: AsyncEngine, email: str, *ages: timedelta) -> list[datetime]:
    """Store one failure of `email` (as given) per age, `age` before NOW; their times."""
    times = [NOW - age for age in ages]
    rows = [{"id": uuid.uuid4(), "email": email, "created_at": at} for at in times]
    if rows:
        async with engine.begin() as connection:
            await connection.execute(failures_table().insert(), rows)
    return times


def minutes(*values: float) -> tuple[timedelta, ...]:
    """`timedelta(minutes=v)` for each value."""
    return tuple(timedelta(minutes=value) for value in values)


async def stored_emails(engine: AsyncEngine) -> list[str]:
    """The email of every stored failure, sorted."""
    table = failures_table()
    async with engine.connect() as connection:
        return sorted((await connection.execute(sa.select(table.c.email))).scalars())


async def call(engine: AsyncEngine, method: str, *args: Any, **kwargs: Any) -> Any:
    """One call of the learner's repository in its own committed unit of work."""
    async with unit_of_work(engine) as orm:
        return await maybe_await(getattr(repository(orm), method)(*args, **kwargs))


def utc(value: Any) -> Any:
    """`value` comparable with any other datetime (naive ones read as UTC)."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@pytest.mark.grade("failure-repository", 1)
def test_failure_key_normalises_and_cuts_to_the_column() -> None:
    from app.repository.login_failure_repository import failure_key

    found = failure_key(ADA_FULL_WIDTH)
    assert found == ADA, (
        f"expected failure_key({ADA_FULL_WIDTH!r}) to be {ADA!r} (normalize_email: NFKC, then "
        f"lower-case), found {found!r}: one account, one count"
    )
    long = "X" * 300 + "@example.com"
    cut = failure_key(long)
    assert cut == long.lower()[:255], (
        f"expected failure_key of a 312-character login name to be its first 255 characters, "
        f"lower-cased (the length of the email column), found {len(cut)} characters"
    )


@pytest.mark.grade("failure-repository", 1)
async def test_record_adds_one_failure_under_its_key_and_flushes(tables: AsyncEngine) -> None:
    async with unit_of_work(tables) as orm:
        await maybe_await(repository(orm).record(ADA_FULL_WIDTH, purge_before=SINCE))
        table = failures_table()
        seen = (await orm.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
        assert seen == 1, (
            f"expected record() to flush its row (the app's sessions do not autoflush), found "
            f"{seen} rows in the same session right after it"
        )
    async with tables.connect() as connection:
        rows = (await connection.execute(sa.select(table.c.email, table.c.created_at))).all()
    assert [row[0] for row in rows] == [ADA], (
        f"expected one failure stored under failure_key(email), {ADA!r}, found "
        f"{[row[0] for row in rows]}"
    )
    age = datetime.now(UTC) - utc(rows[0][1])
    assert abs(age) < timedelta(minutes=1), (
        f"expected the failure's created_at to be now, found {rows[0][1]!r}"
    )


@pytest.mark.grade("failure-repository", 1)
async def test_record_purges_every_emails_failures_before_the_window(
    tables: AsyncEngine,
) -> None:
    await add_failures(tables, "old@example.com", *minutes(30, 20))
    await add_failures(tables, ADA, *minutes(40, 5))
    await call(tables, "record", "new@example.com", purge_before=SINCE)
    left = await stored_emails(tables)
    assert left == [ADA, "new@example.com"], (
        "expected record() to delete the failures before purge_before of every email (the "
        "rows of an email never tried again would stay for ever) and keep the newer ones, "
        f"found {left} left of old@ x2 (30 and 20 min ago), ada@ (40 and 5 min ago) and "
        "the new one"
    )


BLOCKING_CASES = {
    # name: (ages in minutes of ada's failures, index of the expected time or None)
    "fewer-than-the-limit": (minutes(1, 2, 3, 4), None),
    "exactly-the-limit": (minutes(1, 2, 3, 4, 5), 4),
    "more-than-the-limit": (minutes(1, 2, 3, 4, 5, 6, 7), 4),
    "old-ones-do-not-count": (minutes(1, 2, 3, 4, 20, 30), None),
}
BLOCKING_EXPECTED = {
    "fewer-than-the-limit": "None (4 failures, the limit is 5)",
    "exactly-the-limit": "the time of the oldest of the 5",
    "more-than-the-limit": "the time of the 5th newest of 7 (it leaves the window first "
    "among those that keep the email blocked)",
    "old-ones-do-not-count": "None (4 failures after `since`, 2 before it)",
}


@pytest.mark.grade("failure-repository", 1)
@pytest.mark.parametrize("case", list(BLOCKING_CASES))
async def test_blocking_failure_is_the_limit_th_newest_after_since(
    tables: AsyncEngine, case: str
) -> None:
    ages, expected_index = BLOCKING_CASES[case]
    times = await add_failures(tables, ADA, *ages)
    # Other emails, sorting before and after ada@: neither ever counts.
    for other in ("aaron@example.com", "bob@example.com"):
        await add_failures(tables, other, *minutes(1, 2, 3, 4, 5, 6))
    found = await call(tables, "blocking_failure", ADA, SINCE, LIMIT)
    expected = None if expected_index is None else times[expected_index]
    assert utc(found) == expected, (
        f"expected blocking_failure(email, since, limit={LIMIT}) to return "
        f"{BLOCKING_EXPECTED[case]}, found {found!r} (other emails' failures never count)"
    )


@pytest.mark.grade("failure-repository", 1)
async def test_blocking_failure_counts_under_the_normalised_email(tables: AsyncEngine) -> None:
    times = await add_failures(tables, ADA, *minutes(1, 2, 3, 4, 5))
    found = await call(tables, "blocking_failure", ADA_FULL_WIDTH, SINCE, LIMIT)
    assert utc(found) == times[4], (
        f"expected blocking_failure({ADA_FULL_WIDTH!r}, ...) to count the failures stored "
        f"under {ADA!r} (failure_key), found {found!r}"
    )


@pytest.mark.grade("failure-repository", 1)
async def test_blocking_failure_is_one_query_that_reads_at_most_the_limit(
    tables: AsyncEngine,
) -> None:
    await add_failures(tables, ADA, *minutes(*range(1, 13)))
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(tables.sync_engine, "before_cursor_execute", seen)
    try:
        await call(tables, "blocking_failure", ADA, SINCE, LIMIT)
    finally:
        event.remove(tables.sync_engine, "before_cursor_execute", seen)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1 and "LIMIT" in selects[0].upper(), (
        "expected blocking_failure to be one SELECT with a LIMIT (ORDER BY created_at DESC, "
        f".limit(limit)): every login runs it, so it reads at most `limit` rows of the index, "
        f"never all of an email's failures; found {len(selects)} SELECT(s): "
        f"{[s[:120] for s in selects]}"
    )


@pytest.mark.grade("failure-repository", 1)
async def test_clear_deletes_only_that_emails_failures(tables: AsyncEngine) -> None:
    await add_failures(tables, ADA, *minutes(1, 2))
    await add_failures(tables, "aaron@example.com", *minutes(1))
    await add_failures(tables, "bob@example.com", *minutes(1))
    await call(tables, "clear", ADA_FULL_WIDTH)
    left = await stored_emails(tables)
    assert left == ["aaron@example.com", "bob@example.com"], (
        f"expected clear({ADA_FULL_WIDTH!r}) to delete the failures of {ADA!r} (failure_key) "
        f"and no one else's, found {left} left"
    )


@pytest.mark.grade("failure-repository", 1)
async def test_commit_makes_the_failure_stand_although_the_request_fails(
    tables: AsyncEngine,
) -> None:
    async with unit_of_work(tables, commit=False) as orm:
        failures = repository(orm)
        await maybe_await(failures.record(ADA, purge_before=SINCE))
        await maybe_await(failures.commit())
        await orm.rollback()  # the login then answers 401: the request's own work is undone
    left = await stored_emails(tables)
    assert left == [ADA], (
        "expected commit() to commit the session, so the recorded failure stands although "
        f"the login then fails; found {left} after a rollback"
    )
