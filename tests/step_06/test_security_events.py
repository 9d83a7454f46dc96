"""Step 6, security events: the services log failed logins, a reused refresh token, a
logout, password changes and an admin's changes to users, one record each.

A record is a security event if its `extra` has an `event` field; it must name the
user by `user_id` (and the admin by `actor_id`) and say how it ended (`outcome`), at
the level the page gives it, from the service that decided (the record's `name`), with
the ids in its message too, for the text format. No event may carry the user's email,
a password, a hash or a token. The services are called directly, so the client address
is set with `client_address` here; step 7 checks it through the app.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from course.grading.fixtures import add_user, maybe_await
from course.grading.hints import shown_value

from .conftest import (
    PASSWORD,
    auth_service,
    describe,
    services,
    status_of,
    stored_user,
    token_pair,
)

EVENTS_MODULE = "app/core/security_events.py"


class Events:
    """The Loguru records captured while a check runs, and the lines they serialize to."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.lines: list[str] = []

    def sink(self, message: Any) -> None:
        if "event" in message.record["extra"]:
            self.records.append(dict(message.record))
            self.lines.append(str(message))

    def named(self, event: str) -> list[dict[str, Any]]:
        """Each captured record of the event named `event`."""
        return [record for record in self.records if str(record["extra"]["event"]) == event]

    def found(self) -> str:
        names = [str(record["extra"]["event"]) for record in self.records]
        return f"found {names}" if names else "found no record with an `event` field"


@contextmanager
def capture_events() -> Iterator[Events]:
    from loguru import logger

    events = Events()
    sink_id = logger.add(events.sink, level=0, serialize=True)
    try:
        yield events
    finally:
        logger.remove(sink_id)


def the_event(
    events: Events, event: str, what: str, user_id: uuid.UUID | None, level: str, **fields: Any
) -> dict[str, Any]:
    """Exactly one `event` was logged, for `user_id` (and the `fields` given), at `level`,
    by a service, with the ids in its message; returns its `extra`."""
    found = events.named(event)
    assert len(found) == 1, (
        f"expected {what} to log one security event `{event}` (a record whose extra has "
        f"event={event!r}, with {EVENTS_MODULE}), {events.found()}"
    )
    record = found[0]
    extra: dict[str, Any] = record["extra"]
    found_level = record["level"].name
    assert found_level == level, (
        f"expected the `{event}` event of {what} to be logged at {level} (failures and "
        f"attacks are WARNINGs, what a user or an admin did is INFO), found {found_level}"
    )
    caller = str(record["name"])
    assert caller.startswith("app.service"), (
        f"expected the `{event}` event of {what} to name the service that logged it (the "
        f"record's module, `name`), found {caller!r}: log with logger.opt(depth=1) in "
        "security_event, so that the record names its caller, not security_event itself"
    )
    expected_user = str(user_id) if user_id is not None else None
    user = extra.get("user_id")
    assert (str(user) if user is not None else None) == expected_user, (
        f"expected the `{event}` event of {what} to carry user_id={shown_value(expected_user)}, "
        f"found {shown_value(user)}"
    )
    for name, value in fields.items():
        assert str(extra.get(name)) == str(value), (
            f"expected the `{event}` event of {what} to carry {name}={value}, "
            f"found {shown_value(extra.get(name))}"
        )
    outcome = extra.get("outcome")
    assert isinstance(outcome, str) and outcome != "", (
        f"expected the `{event}` event of {what} to say its outcome (a non-empty text in "
        f"`outcome`), found {shown_value(outcome)}"
    )
    message = str(record["message"])
    named = [str(value) for value in (user_id, fields.get("actor_id")) if value is not None]
    for value in (event, outcome, *named):
        assert value in message, (
            f"expected the message of the `{event}` event of {what} to name {value!r} as "
            f"well (the text format shows the message, not the fields), found {message!r}"
        )
    return extra


def assert_nothing_secret(events: Events, what: str, *secrets: str) -> None:
    leaked = [secret for secret in secrets for line in events.lines if secret and secret in line]
    assert not leaked, (
        f"expected the security events of {what} to name users by id only, never an email, "
        f"password, hash or token; found {shown_value(leaked[0])} in an event record"
    )


async def refused_login(email: str, password: str) -> int | None:
    """The status of the error login(email, password) raised (None if it succeeded)."""
    try:
        async with services() as (_, repository):
            await maybe_await(auth_service(repository).login(email, password))
    except NotImplementedError:
        raise
    except Exception as exc:
        status = status_of(exc)
        assert status is not None, f"expected a 401 or 403 error, found {describe(exc)}"
        return status
    return None


@pytest.mark.grade("security-events", 3)
async def test_failed_logins_are_events_naming_the_user_by_id_never_the_email(
    schema: AsyncEngine,
) -> None:
    user = await stored_user(schema)
    inactive = await stored_user(schema, is_active=False)
    unknown = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    cases = [
        ("a login with a wrong password", user.email, "wrong-password-1", user.id, 401),
        ("a login with an unknown email", unknown, PASSWORD, None, 401),
        ("a login to a deactivated account", inactive.email, PASSWORD, inactive.id, 403),
    ]
    for what, email, password, user_id, status in cases:
        with capture_events() as events:
            assert await refused_login(email, password) == status, (
                f"expected {what} to be refused with {status}"
            )
        the_event(events, "login_failed", what, user_id, "WARNING")
        assert_nothing_secret(events, what, email, password, email.split("@")[0])


CLIENT = "203.0.113.7"  # an address of the documentation range (RFC 5737)


@pytest.mark.grade("security-events", 1)
async def test_an_event_carries_the_client_address_of_its_block(schema: AsyncEngine) -> None:
    from app.core.security_events import client_address

    user = await stored_user(schema)

    async def client_of_a_failed_login(where: str) -> Any:
        with capture_events() as events:
            assert await refused_login(user.email, "wrong-password-1") == 401, (
                "expected a login with a wrong password to be refused with 401"
            )
        found = events.named("login_failed")
        assert len(found) == 1, f"expected one `login_failed` event {where}, {events.found()}"
        return found[0]["extra"].get("client")

    with client_address(CLIENT):
        with client_address(None):
            inner = await client_of_a_failed_login("inside client_address(None)")
        outer = await client_of_a_failed_login(f"inside client_address({CLIENT!r})")
    after = await client_of_a_failed_login("after the blocks")
    for where, found, expected in (
        ("inside client_address(None)", inner, "-"),
        (f"back in the block of client_address({CLIENT!r}) after an inner one", outer, CLIENT),
        ("outside any client_address block", after, "-"),
    ):
        assert found == expected, (
            f"expected the `client` of an event {where} to be {expected!r}, found "
            f"{shown_value(None if found is None else str(found))}: client_address(host) sets "
            "the context variable to host ('-' for None) and resets it with its token in a "
            "finally"
        )


@pytest.mark.grade("security-events", 1)
async def test_a_good_login_is_no_event(schema: AsyncEngine) -> None:
    user = await stored_user(schema)
    with capture_events() as events:
        assert await refused_login(user.email, PASSWORD) is None, "expected the login to work"
    assert events.records == [], (
        f"expected a successful login to log no security event, {events.found()}"
    )


async def login(email: str) -> tuple[str, str]:
    async with services() as (_, repository):
        return token_pair(await maybe_await(auth_service(repository).login(email, PASSWORD)))


async def refresh_raises(token: str) -> bool:
    try:
        async with services() as (_, repository):
            await maybe_await(auth_service(repository).refresh(token))
    except NotImplementedError:
        raise
    except Exception:
        return True
    return False


@pytest.mark.grade("security-events", 2)
async def test_a_reused_refresh_token_is_an_event(schema: AsyncEngine) -> None:
    user = await stored_user(schema)
    access, refresh_token = await login(user.email)
    with capture_events() as events:
        assert not await refresh_raises(refresh_token), "expected the first refresh to work"
        assert events.records == [], (
            f"expected a normal refresh (a rotation) to log no security event, {events.found()}"
        )
        assert await refresh_raises(refresh_token), "expected a reused refresh token to fail"
    the_event(events, "refresh_reused", "a reused refresh token", user.id, "WARNING")
    assert_nothing_secret(events, "a reused refresh token", user.email, access, refresh_token)


@pytest.mark.grade("security-events", 1)
async def test_logout_is_an_event_with_the_user_id(schema: AsyncEngine) -> None:
    from app.core.security import decode_access_token

    user = await stored_user(schema)
    access, refresh_token = await login(user.email)
    with capture_events() as events:
        async with services() as (_, repository):
            claims = await maybe_await(decode_access_token(access))
            await maybe_await(auth_service(repository).logout(claims))
    the_event(events, "logout", "AuthService.logout", user.id, "INFO")
    assert_nothing_secret(events, "a logout", user.email, access, refresh_token)


async def update_profile(user_id: uuid.UUID, **fields: Any) -> BaseException | None:
    from app.domain.schemas.user import UserSelfUpdate

    try:
        async with services() as (service, repository):
            user = await maybe_await(repository.get_by_id(user_id))
            await maybe_await(service.update_profile(user, UserSelfUpdate(**fields)))
    except NotImplementedError:
        raise
    except Exception as exc:
        return exc
    return None


@pytest.mark.grade("security-events", 2)
async def test_a_password_change_and_a_refused_one_are_events(schema: AsyncEngine) -> None:
    user = await stored_user(schema)
    new = "a-new-passphrase-1"
    with capture_events() as refused:
        error = await update_profile(user.id, password=new, current_password="not-the-password")
    assert error is not None and status_of(error) == 400, (
        "expected a wrong current_password to be refused with 400"
    )
    refusal = the_event(
        refused, "password_changed", "a refused password change", user.id, "WARNING"
    )
    with capture_events() as changed:
        error = await update_profile(user.id, password=new, current_password=PASSWORD)
    assert error is None, f"expected a password change to work, found {describe(error)}"
    change = the_event(changed, "password_changed", "a password change", user.id, "INFO")
    assert change.get("outcome") != refusal.get("outcome"), (
        "expected the outcome of a password change to differ from a refused one's, found "
        f"both {shown_value(change.get('outcome'))}"
    )
    with capture_events() as renamed:
        error = await update_profile(user.id, full_name="Renamed Person")
    assert error is None, f"expected a change of name to work, found {describe(error)}"
    assert renamed.records == [], (
        f"expected a change of name alone to log no security event, {renamed.found()}"
    )
    for events in (refused, changed):
        assert_nothing_secret(events, "a password change", user.email, new, PASSWORD)


@pytest.mark.grade("security-events", 2)
async def test_an_admins_changes_to_users_are_events_naming_the_admin(
    schema: AsyncEngine,
) -> None:
    from app.domain.schemas.user import UserUpdate

    from .test_services import delete, other_arguments

    admin = await add_user(schema, role="admin")
    user = await stored_user(schema)
    with capture_events() as updated:
        async with services() as (service, _):
            extra = other_arguments(service.update_user, skip=2, acting=admin)
            data = UserUpdate(role="moderator", is_active=False)
            await maybe_await(service.update_user(user.id, data, **extra))
    the_event(updated, "user_updated", "an admin's update_user", user.id, "INFO", actor_id=admin.id)
    with capture_events() as deleted:
        async with services() as (service, _):
            await delete(service, user.id, admin)
    the_event(deleted, "user_deleted", "an admin's delete_user", user.id, "INFO", actor_id=admin.id)
    for events in (updated, deleted):
        assert_nothing_secret(events, "an admin's change", user.email, admin.email)
