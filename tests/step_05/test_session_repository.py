"""Step 5, session-repository: SessionRepository, the data access of login sessions.

A session is live while its row is not soft-deleted and its `expires_at` is ahead.
The checks store users and sessions with the grader's own ORM session (the `schema`
fixture's engine) and call the learner's repository on a plain AsyncSession with
autoflush off, as the app's sessions are: a write must flush itself. The one check
of a race runs on the learner's own `database_manager`, whose two sessions hold two
connections to the grading database (a file on SQLite).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event, select, text
from sqlalchemy.exc import ArgumentError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from course.grading.fixtures import add_user, learner_session, maybe_await

from .conftest import unit_of_work

ENDED_AT = datetime(2029, 6, 1, 12, 0, tzinfo=UTC)
LOWEST_ID = uuid.UUID(int=1)
HIGHEST_ID = uuid.UUID(int=2**128 - 1)
SPENT = "spent-token-id"  # a refresh token id that is no session's current one


def session_model() -> Any:
    """The learner's UserSession class."""
    from app.domain.models.session import UserSession

    return UserSession


@dataclass(frozen=True)
class Logins:
    """Stored users and sessions; each session's current refresh token id is `token(id)`."""

    alice: uuid.UUID
    bob: uuid.UUID
    gone: uuid.UUID  # a soft-deleted user
    live: uuid.UUID  # alice's, live
    ended: uuid.UUID  # alice's, soft-deleted at ENDED_AT
    expired: uuid.UUID  # alice's, expired a minute ago
    bobs: uuid.UUID  # bob's, live
    gones: uuid.UUID  # the soft-deleted user's, live
    # Users whose ids sort before and after everyone's, each with a live session whose id
    # does too: a query that compares ids with < or > instead of = meets one of them.
    lowest: uuid.UUID
    highest: uuid.UUID
    lowests: uuid.UUID
    highests: uuid.UUID

    @staticmethod
    def token(session_id: uuid.UUID) -> str:
        """The refresh token id a session was stored with."""
        return f"token-{session_id.hex[:12]}"


async def add_session(
    engine: AsyncEngine,
    user_id: uuid.UUID,
    *,
    expires_in: timedelta = timedelta(days=7),
    ended: bool = False,
    session_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Store one session of `user_id` behind the learner's back; return its id."""
    session_id = session_id or uuid.uuid4()
    row = session_model()(
        id=session_id,
        user_id=user_id,
        refresh_token_id=Logins.token(session_id),
        expires_at=datetime.now(UTC) + expires_in,
    )
    if ended:
        row.deleted_at = ENDED_AT
    async with AsyncSession(engine, expire_on_commit=False) as orm:
        orm.add(row)
        await orm.commit()
    return session_id


@pytest.fixture
async def tables(schema: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The `schema` tables; the sessions are emptied first when the check ends."""
    yield schema
    async with schema.begin() as connection:
        await connection.execute(text("DELETE FROM user_sessions"))


@pytest.fixture
async def logins(tables: AsyncEngine) -> Logins:
    """Alice with a live, an ended and an expired session; Bob and a soft-deleted user
    with a live one each."""
    alice, bob = (await add_user(tables)).id, (await add_user(tables)).id
    gone = (await add_user(tables, deleted=True)).id
    lowest = (await add_user(tables, user_id=LOWEST_ID)).id
    highest = (await add_user(tables, user_id=HIGHEST_ID)).id
    return Logins(
        alice=alice,
        bob=bob,
        gone=gone,
        live=await add_session(tables, alice),
        ended=await add_session(tables, alice, ended=True),
        expired=await add_session(tables, alice, expires_in=timedelta(minutes=-1)),
        bobs=await add_session(tables, bob),
        gones=await add_session(tables, gone),
        lowest=lowest,
        highest=highest,
        lowests=await add_session(tables, lowest, session_id=LOWEST_ID),
        highests=await add_session(tables, highest, session_id=HIGHEST_ID),
    )


@dataclass(frozen=True)
class Row:
    """What the table holds for one session."""

    refresh_token_id: str
    deleted_at: datetime | None


async def stored(engine: AsyncEngine, session_id: uuid.UUID) -> Row | None:
    """A session's row as committed (soft-deleted or not), read in a fresh session."""
    async with AsyncSession(engine) as orm:
        return await current(orm, session_id)


async def current(orm: AsyncSession, session_id: uuid.UUID) -> Row | None:
    """A session's row as `orm` sees it now (its flushed writes included)."""
    model = session_model()
    query = select(model.refresh_token_id, model.deleted_at).where(model.id == session_id)
    found = (await orm.execute(query)).first()
    return None if found is None else Row(found[0], found[1])


def utc(value: datetime | None) -> datetime | None:
    """`value` comparable with any other datetime (naive ones read as UTC)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def repository(orm: AsyncSession) -> Any:
    """The learner's SessionRepository on `orm`."""
    from app.repository.session_repository import SessionRepository

    return SessionRepository(orm)


async def call(engine: AsyncEngine, method: str, *args: Any, **kwargs: Any) -> Any:
    """One call of the learner's repository in its own committed unit of work."""
    async with unit_of_work(engine) as orm:
        return await maybe_await(getattr(repository(orm), method)(*args, **kwargs))


def rotation(logins: Logins, session_id: uuid.UUID, new: str, **override: Any) -> dict[str, Any]:
    """The arguments of rotate() presenting the session's current token (or `override`)."""
    owner = logins.bob if session_id == logins.bobs else logins.alice
    arguments: dict[str, Any] = {
        "session_id": session_id,
        "user_id": owner,
        "used_token_id": Logins.token(session_id),
        "new_token_id": new,
    }
    arguments.update(override)
    return arguments


async def rotate(engine: AsyncEngine, arguments: dict[str, Any]) -> Any:
    """rotate(session_id, user_id, used_token_id=..., new_token_id=...) in its own unit of work."""
    async with unit_of_work(engine) as orm:
        return await maybe_await(
            repository(orm).rotate(
                arguments["session_id"],
                arguments["user_id"],
                used_token_id=arguments["used_token_id"],
                new_token_id=arguments["new_token_id"],
            )
        )


@pytest.mark.grade("session-repository", 1)
async def test_session_repository_extends_the_base_repository_and_creates_sessions(
    tables: AsyncEngine,
) -> None:
    from app.repository.base import BaseRepository
    from app.repository.session_repository import SessionRepository

    assert issubclass(SessionRepository, BaseRepository), (
        "expected SessionRepository to inherit from BaseRepository (BaseRepository[UserSession])"
    )
    user = await add_user(tables)
    fields = {
        "user_id": user.id,
        "refresh_token_id": "first-token",
        "expires_at": datetime.now(UTC),
    }
    # The forms BaseRepository.create may take (the D11 checks accept each of them).
    forms: list[tuple[str, Callable[[Any], Any]]] = [
        ("create(UserSession(...))", lambda repo: repo.create(session_model()(**fields))),
        ("create({...})", lambda repo: repo.create(dict(fields))),
        ("create(**fields)", lambda repo: repo.create(**fields)),
    ]
    errors: list[str] = []
    created: Any = None
    for label, form in forms:
        try:
            async with unit_of_work(tables) as orm:
                created = await maybe_await(form(repository(orm)))
            break
        except (TypeError, AttributeError, KeyError, ArgumentError, InvalidRequestError) as exc:
            errors.append(f"{label}: {type(exc).__name__}: {str(exc)[:100]}")
    else:
        pytest.fail(f"expected SessionRepository.create to work; every form failed: {errors}")
    assert isinstance(getattr(created, "id", None), uuid.UUID), (
        f"expected SessionRepository.create to return the stored session with its id, "
        f"found {created!r}"
    )
    row = await stored(tables, created.id)
    assert row is not None and row.refresh_token_id == "first-token", (
        f"expected create() to store the session (found {row} after commit)"
    )


@pytest.mark.grade("session-repository", 2)
async def test_get_live_user_returns_the_user_of_a_live_session(
    tables: AsyncEngine, logins: Logins
) -> None:
    found = await call(tables, "get_live_user", logins.live, logins.alice)
    assert found is not None and getattr(found, "id", None) == logins.alice, (
        f"expected get_live_user(<a live session>, <its user>) to return that user, found {found!r}"
    )


REFUSED_USERS: dict[str, Callable[[Logins], tuple[uuid.UUID, uuid.UUID]]] = {
    "ended-session": lambda at: (at.ended, at.alice),
    "expired-session": lambda at: (at.expired, at.alice),
    "another-users-session": lambda at: (at.live, at.bob),
    "a-session-of-a-user-with-a-lower-id": lambda at: (at.live, at.lowest),
    "a-session-of-a-user-with-a-higher-id": lambda at: (at.live, at.highest),
    "soft-deleted-user": lambda at: (at.gones, at.gone),
    "unknown-session": lambda at: (uuid.uuid4(), at.alice),
}
REFUSED_USER_REASONS = {
    "ended-session": "an ended session (deleted_at set)",
    "expired-session": "an expired session (expires_at passed)",
    "another-users-session": "a live session with another user's id (a token's sid and sub "
    "must belong together)",
    "a-session-of-a-user-with-a-lower-id": "a live session with the id of a user whose id "
    "sorts before its owner's (compare the user id with ==)",
    "a-session-of-a-user-with-a-higher-id": "a live session with the id of a user whose id "
    "sorts after its owner's (compare the user id with ==)",
    "soft-deleted-user": "a live session of a soft-deleted user",
    "unknown-session": "an unknown session id",
}


@pytest.mark.grade("session-repository", 1)
@pytest.mark.parametrize("case", list(REFUSED_USERS))
async def test_get_live_user_is_none_unless_the_session_and_user_are_live(
    tables: AsyncEngine, logins: Logins, case: str
) -> None:
    session_id, user_id = REFUSED_USERS[case](logins)
    found = await call(tables, "get_live_user", session_id, user_id)
    assert found is None, (
        f"expected get_live_user to return None for {REFUSED_USER_REASONS[case]}, found {found!r}"
    )


@pytest.mark.grade("session-repository", 1)
async def test_get_live_user_runs_one_query(tables: AsyncEngine, logins: Logins) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2])[:80])

    async with unit_of_work(tables, commit=False) as orm:
        repo = repository(orm)
        await orm.execute(text("SELECT 1"))  # the session holds its connection now
        event.listen(tables.sync_engine, "before_cursor_execute", count)
        try:
            found = await maybe_await(repo.get_live_user(logins.live, logins.alice))
        finally:
            event.remove(tables.sync_engine, "before_cursor_execute", count)
    assert found is not None, "expected get_live_user to find the user of a live session"
    assert len(statements) == 1, (
        f"expected get_live_user to run one query (the user joined with the session), found "
        f"{len(statements)}: {statements}"
    )


@pytest.mark.grade("session-repository", 2)
async def test_rotate_replaces_the_current_token_id_once(
    tables: AsyncEngine, logins: Logins
) -> None:
    first = rotation(logins, logins.live, "next-token")
    rotated = await rotate(tables, first)
    assert rotated is not None and getattr(rotated, "id", None) == logins.live, (
        f"expected rotate() with the session's current token id to return the session, "
        f"found {rotated!r}"
    )
    assert rotated.refresh_token_id == "next-token", (
        f"expected the returned session to carry the new token id 'next-token', found "
        f"{rotated.refresh_token_id!r}"
    )
    row = await stored(tables, logins.live)
    assert row is not None and row.refresh_token_id == "next-token", (
        f"expected rotate() to store the new token id 'next-token', found {row}"
    )
    again = await rotate(tables, {**first, "new_token_id": "replayed-token"})
    row = await stored(tables, logins.live)
    assert again is None and row is not None and row.refresh_token_id == "next-token", (
        f"expected a second rotate() with the same (now spent) token id to return None and "
        f"change nothing, found {again!r} and the row {row}: the UPDATE must require "
        "refresh_token_id == used_token_id"
    )
    following = await rotate(tables, {**first, "used_token_id": "next-token", "new_token_id": "3"})
    assert following is not None and following.refresh_token_id == "3", (
        f"expected rotate() with the new current token id to work in its turn, found {following!r}"
    )


REFUSED_ROTATIONS: dict[str, Callable[[Logins], dict[str, Any]]] = {
    "spent-token-id": lambda at: rotation(at, at.live, "new", used_token_id=SPENT),
    "ended-session": lambda at: rotation(at, at.ended, "new"),
    "expired-session": lambda at: rotation(at, at.expired, "new"),
    "another-users-id": lambda at: rotation(at, at.live, "new", user_id=at.bob),
    "a-lower-users-id": lambda at: rotation(at, at.live, "new", user_id=at.lowest),
    "a-higher-users-id": lambda at: rotation(at, at.live, "new", user_id=at.highest),
}
REFUSED_ROTATION_REASONS = {
    "spent-token-id": "a token id that is not the session's current one",
    "ended-session": "an ended session",
    "expired-session": "an expired session",
    "another-users-id": "another user's id",
    "a-lower-users-id": "the id of a user whose id sorts before the owner's",
    "a-higher-users-id": "the id of a user whose id sorts after the owner's",
}


@pytest.mark.grade("session-repository", 1)
@pytest.mark.parametrize("case", list(REFUSED_ROTATIONS))
async def test_rotate_refuses_what_is_not_the_live_current_token(
    tables: AsyncEngine, logins: Logins, case: str
) -> None:
    arguments = REFUSED_ROTATIONS[case](logins)
    before = await stored(tables, arguments["session_id"])
    rotated = await rotate(tables, arguments)
    after = await stored(tables, arguments["session_id"])
    assert rotated is None and after == before, (
        f"expected rotate() with {REFUSED_ROTATION_REASONS[case]} to return None and change "
        f"nothing, found {rotated!r} and the row {after} (before: {before})"
    )


async def session_manager() -> Any:
    """The learner's `database_manager`, connected as the app's start-up would."""
    from app.core.database import database_manager

    with contextlib.suppress(Exception):
        await maybe_await(database_manager.connect())
    return database_manager


def await_in_sync_code() -> Callable[[Awaitable[Any]], Any] | None:
    """SQLAlchemy's bridge from its sync internals back to the event loop (await_ in 2.1,
    await_only before)."""
    from sqlalchemy import util

    return getattr(util, "await_", None) or getattr(util, "await_only", None)


@contextlib.contextmanager
def updates_meet(wait: float = 2.0) -> Any:
    """Hold each connection's first UPDATE of user_sessions until the other's arrives.

    Two rotations then both read (if they read first) before either writes: a rotation
    that compares in Python and then writes can no longer win by luck of timing. A
    connection held up longer (SELECT ... FOR UPDATE waiting for the other's lock)
    goes on after `wait` seconds.
    """
    bridge = await_in_sync_code()
    arrived: set[int] = set()
    both = asyncio.Event()

    def hold(connection: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        words = statement.lstrip().upper()
        if not words.startswith("UPDATE") or "USER_SESSIONS" not in words:
            return
        if id(connection) in arrived or bridge is None:
            return
        arrived.add(id(connection))
        if len(arrived) >= 2:
            both.set()
            return
        waiting = asyncio.wait_for(both.wait(), wait)
        try:
            bridge(waiting)
        except Exception:  # TimeoutError, or no event loop to wait on: go on
            waiting.close()

    event.listen(sa.engine.Engine, "before_cursor_execute", hold)
    try:
        yield
    finally:
        event.remove(sa.engine.Engine, "before_cursor_execute", hold)


@pytest.mark.grade("session-repository", 3)
async def test_two_concurrent_rotations_of_one_token_have_exactly_one_winner(
    tables: AsyncEngine, logins: Logins
) -> None:
    manager = await session_manager()

    async def attempt(new: str) -> str:
        async with learner_session(manager) as orm:
            rotated = await maybe_await(
                repository(orm).rotate(
                    logins.live,
                    logins.alice,
                    used_token_id=Logins.token(logins.live),
                    new_token_id=new,
                )
            )
        return "won" if rotated is not None else "lost"

    with updates_meet():
        outcomes = await asyncio.gather(
            attempt("racer-a"), attempt("racer-b"), return_exceptions=True
        )
    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    if failures and "won" not in outcomes:
        raise failures[0]  # the learner's own error, with where it happened
    results = [
        outcome if isinstance(outcome, str) else f"raised {type(outcome).__name__}"
        for outcome in outcomes
    ]
    row = await stored(tables, logins.live)
    racers = ("racer-a", "racer-b")
    winners = [new for new, outcome in zip(racers, results, strict=True) if outcome == "won"]
    assert len(winners) == 1, (
        f"expected exactly one of two concurrent rotate() calls with the same token id to "
        f"win, found {results} (each in its own session of database_manager, then committed): "
        "compare and replace in one conditional UPDATE ... WHERE refresh_token_id = "
        "<the used one>, not a read and then a write"
    )
    assert row is not None and row.refresh_token_id == winners[0], (
        f"expected the winner's token id {winners[0]!r} to be stored, found {row}"
    )


@pytest.mark.grade("session-repository", 2)
async def test_end_soft_deletes_an_open_session_and_says_whether_it_was_open(
    tables: AsyncEngine, logins: Logins
) -> None:
    ended = await call(tables, "end", logins.live)
    row = await stored(tables, logins.live)
    assert ended in (True, 1), f"expected end(<an open session>) to return True, found {ended!r}"
    assert row is not None and row.deleted_at is not None, (
        f"expected end() to soft-delete the session (set deleted_at, keep the row), found {row}"
    )
    answers = {
        "the same session again": await call(tables, "end", logins.live),
        "an ended session": await call(tables, "end", logins.ended),
        "an unknown session": await call(tables, "end", uuid.uuid4()),
    }
    wrong = {what: answer for what, answer in answers.items() if answer}
    assert not wrong, f"expected end() to return False for a session that is not open: {wrong}"
    others = {
        "bob's": logins.bobs, "the lowest id's": logins.lowests,
        "the highest id's": logins.highests,
    }  # fmt: skip
    touched = [whose for whose, other in others.items() if (await stored(tables, other)) is None
               or (await stored(tables, other)).deleted_at is not None]  # fmt: skip
    assert not touched, f"expected end() to end that session only, found {touched} ended too"
    before = await stored(tables, logins.ended)
    assert before is not None and utc(before.deleted_at) == ENDED_AT, (
        f"expected end() to leave an ended session as it was (deleted_at {ENDED_AT}), found "
        f"{before}: soft-delete only the rows WHERE deleted_at IS NULL"
    )


@pytest.mark.grade("session-repository", 2)
async def test_end_all_ends_only_that_users_open_sessions(
    tables: AsyncEngine, logins: Logins
) -> None:
    carol = (await add_user(tables)).id
    open_ones = [await add_session(tables, carol) for _ in range(2)]
    closed = await add_session(tables, carol, ended=True)
    count = await call(tables, "end_all", carol)
    assert count == 2, (
        f"expected end_all(<a user with 2 open sessions and 1 ended>) to return 2, found {count!r}"
    )
    rows = [await stored(tables, session_id) for session_id in open_ones]
    assert all(row is not None and row.deleted_at is not None for row in rows), (
        f"expected end_all() to soft-delete every open session of the user, found {rows}"
    )
    row = await stored(tables, closed)
    assert row is not None and utc(row.deleted_at) == ENDED_AT, (
        f"expected end_all() to leave an ended session as it was, found {row}"
    )
    others = {
        "bob's": await stored(tables, logins.bobs),
        "alice's": await stored(tables, logins.live),
        "the lowest id's": await stored(tables, logins.lowests),
        "the highest id's": await stored(tables, logins.highests),
    }
    touched = {whose: row for whose, row in others.items() if row is None or row.deleted_at}
    assert not touched, f"expected end_all() to leave other users' sessions open, found {touched}"
    again = await call(tables, "end_all", carol)
    assert again == 0, (
        f"expected end_all() of a user with no open session to return 0, found {again!r}"
    )


WRITES: dict[str, Callable[[Any, Logins], Any]] = {
    "rotate": lambda repo, at: repo.rotate(
        at.live, at.alice, used_token_id=Logins.token(at.live), new_token_id="flushed-token"
    ),
    "end": lambda repo, at: repo.end(at.live),
    "end_all": lambda repo, at: repo.end_all(at.alice),
}


@pytest.mark.grade("session-repository", 1)
@pytest.mark.parametrize("method", list(WRITES))
async def test_writes_flush_but_do_not_commit(
    tables: AsyncEngine, logins: Logins, method: str
) -> None:
    before = await stored(tables, logins.live)
    async with unit_of_work(tables, commit=False) as orm:
        await maybe_await(WRITES[method](repository(orm), logins))
        seen = await current(orm, logins.live)
        await orm.rollback()
    after = await stored(tables, logins.live)
    assert seen != before, (
        f"expected {method}() to flush its write (the session's next query sees it), found "
        f"the row unchanged {seen}: the app's sessions have autoflush off, so flush() or "
        "execute the UPDATE"
    )
    assert after == before, (
        f"expected {method}() not to commit (a rollback of the request undoes it), found the "
        f"row {after} after the rollback (before: {before}): the unit of work commits, not "
        "the repository"
    )


@pytest.mark.grade("session-repository", 1)
async def test_commit_commits_the_sessions_writes(tables: AsyncEngine, logins: Logins) -> None:
    async with unit_of_work(tables, commit=False) as orm:
        repo = repository(orm)
        await maybe_await(repo.end(logins.live))
        await maybe_await(repo.commit())
        await orm.rollback()  # what a failing request does next
    row = await stored(tables, logins.live)
    assert row is not None and row.deleted_at is not None, (
        f"expected commit() to commit the session's writes (an ended session stays ended "
        f"after the request rolls back), found {row}"
    )
