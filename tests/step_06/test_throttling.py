"""Step 6, throttling: failed logins are counted per email in the database, and a
full hashing queue answers 503 instead of waiting.

The services are called directly, each login on its own session of the learner's
database manager (as one request would be), so a failure's record must be
committed before its 401 to count. Failures are aged behind the learner's back
with the grader's engine instead of waiting.
"""

from __future__ import annotations

import asyncio
import os
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from course.grading.fixtures import learner_hash, maybe_await
from course.grading.learner_code import LearnerImportError

from .conftest import PASSWORD, auth_service, describe, services, status_of, stored_user

WRONG = "wrong-password-123"


def throttle_settings() -> tuple[int, int]:
    """(LOGIN_MAX_FAILURES, LOGIN_FAILURE_WINDOW_MINUTES) of the learner's settings."""
    from app.core.config import settings

    return int(settings.LOGIN_MAX_FAILURES), int(settings.LOGIN_FAILURE_WINDOW_MINUTES)


async def login_error(email: str, password: str) -> BaseException | None:
    """What AuthService.login(email, password) raised on its own session; None if it worked."""
    try:
        async with services() as (_, repository):
            await maybe_await(auth_service(repository).login(email, password))
    except (NotImplementedError, LearnerImportError):
        raise  # a stub or code that does not import: the grader's own message says so
    except Exception as exc:
        return exc
    return None


async def fail(email: str, times: int) -> None:
    """`times` logins of `email` with a wrong password; each must be a 401."""
    for attempt in range(1, times + 1):
        exc = await login_error(email, WRONG)
        assert exc is not None and status_of(exc) == 401, (
            f"expected failed login {attempt} of {times} for {email} to raise a 401, found "
            f"{describe(exc) if exc else 'a success'}"
        )


def retry_after_of(exc: BaseException | None, attempt: str) -> int:
    """The whole seconds of `Retry-After` of a 429; fails the check unless `exc` is one."""
    assert exc is not None and status_of(exc) == 429, (
        f"expected {attempt} to raise a 429 (TooManyRequestsException), found "
        f"{describe(exc) if exc else 'a success'}"
    )
    headers = dict(getattr(exc, "headers", None) or {})
    value = headers.get("Retry-After")
    assert value is not None and str(value).isdigit(), (
        f"expected the 429 to carry the header Retry-After in whole seconds, found {headers}"
    )
    return int(value)


@pytest.mark.grade("throttling", 3)
async def test_failed_logins_throttle_an_email_even_with_the_right_password(
    schema: AsyncEngine,
) -> None:
    limit, window = throttle_settings()
    user = await stored_user(schema)
    await fail(user.email, limit)
    seconds = retry_after_of(
        await login_error(user.email, PASSWORD),
        f"a login with the right password after {limit} failures",
    )
    assert window * 60 - 60 < seconds <= window * 60, (
        f"expected Retry-After to be the seconds until the oldest failure leaves the "
        f"{window}-minute window (about {window * 60}), found {seconds}"
    )


@pytest.mark.grade("throttling", 2)
async def test_an_unknown_email_is_throttled_alike(schema: AsyncEngine) -> None:
    limit, _ = throttle_settings()
    await fail("nobody-here@example.com", limit)
    retry_after_of(
        await login_error("nobody-here@example.com", PASSWORD),
        f"a login of an unknown email after {limit} failures",
    )


@pytest.mark.grade("throttling", 2)
async def test_a_throttled_login_verifies_no_password(
    schema: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pwdlib.hashers.argon2 import Argon2Hasher

    limit, _ = throttle_settings()
    user = await stored_user(schema)
    await fail(user.email, limit)
    await fail("nobody-here@example.com", limit)

    def must_not_run(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("hashing")

    monkeypatch.setattr(Argon2Hasher, "verify", must_not_run)
    monkeypatch.setattr(Argon2Hasher, "hash", must_not_run)
    for email in (user.email, "nobody-here@example.com"):
        exc = await login_error(email, PASSWORD)
        assert exc is not None and status_of(exc) == 429, (
            "expected a throttled login to answer 429 before verifying any password (so that "
            "its timing tells nothing), found "
            f"{describe(exc) if exc else 'a success'}"
        )


@pytest.mark.grade("throttling", 1)
async def test_the_count_is_per_normalised_email(schema: AsyncEngine) -> None:
    limit, _ = throttle_settings()
    user = await stored_user(schema, email="ada-throttle@example.com")
    other = await stored_user(schema, email="other-throttle@example.com")
    await fail("ADA-Throttle@Example.com", limit - 1)
    await fail("ada-throttle@example.com", 1)
    retry_after_of(
        await login_error(user.email, PASSWORD),
        f"a login after {limit} failures spelled ADA-Throttle@Example.com and "
        "ada-throttle@example.com (one email)",
    )
    assert await login_error(other.email, PASSWORD) is None, (
        "expected another email's login to work while one email is throttled"
    )


@pytest.mark.grade("throttling", 1)
async def test_a_successful_login_clears_the_count(schema: AsyncEngine) -> None:
    limit, _ = throttle_settings()
    user = await stored_user(schema)
    await fail(user.email, limit - 1)
    exc = await login_error(user.email, PASSWORD)
    assert exc is None, f"expected the login to work, found {describe(exc)}"
    await fail(user.email, limit - 1)
    exc = await login_error(user.email, PASSWORD)
    assert exc is None, (
        f"expected a successful login to clear the count: {limit - 1} failures, a success, "
        f"{limit - 1} failures, then the right password should work, found {describe(exc)}"
    )


# Far enough ahead for the login to reach the throttle before it passes.
SOON = 0.9


async def leave_window_in(schema: AsyncEngine, seconds: float) -> None:
    """Date every row of login_failures so that it leaves the window in `seconds`."""
    from app.domain.models.login_failure import LoginFailure

    _, window = throttle_settings()
    table = LoginFailure.__table__
    async with schema.begin() as connection:
        rows = (await connection.execute(table.select())).mappings().all()
        for row in rows:
            now = datetime.now(UTC)
            if row["created_at"].tzinfo is None:  # SQLite gives back naive UTC times
                now = now.replace(tzinfo=None)
            when = now - timedelta(minutes=window) + timedelta(seconds=seconds)
            await connection.execute(
                table.update().where(table.c.id == row["id"]).values(created_at=when)
            )


@pytest.mark.grade("throttling", 1)
async def test_the_login_works_again_after_the_window(schema: AsyncEngine) -> None:
    limit, window = throttle_settings()
    user = await stored_user(schema)
    await fail(user.email, limit)
    for left, expected in ((SOON + 1, 2), (SOON, 1)):
        await leave_window_in(schema, left)
        seconds = retry_after_of(
            await login_error(user.email, PASSWORD),
            f"a login after {limit} failures that leave the window in {left} s",
        )
        assert seconds == expected, (
            f"expected Retry-After: {expected} when the failures leave the window in {left} s "
            f"(the whole seconds until then, rounded up: math.ceil, and at least 1), found "
            f"{seconds}"
        )
    await leave_window_in(schema, -0.1)  # out of the window, without waiting for it
    exc = await login_error(user.email, PASSWORD)
    assert exc is None, (
        f"expected the login to work once the failures are older than {window} minutes, "
        f"found {describe(exc)}"
    )


@pytest.mark.grade("throttling", 2)
async def test_a_full_hashing_queue_answers_503_with_retry_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pwdlib.hashers.argon2 import Argon2Hasher

    from app.core import security
    from app.core.config import settings

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = usable or 1
    # More than 256 may wait: a bound that holds only for small numbers (CPython shares
    # the int objects up to 256, so `is` passes for them as == does) is caught too.
    per_core = 256 // cores + 1
    monkeypatch.setattr(settings, "HASHING_QUEUE_PER_CORE", per_core)
    running_and_waiting = cores + per_core * cores  # one per core runs, the rest waits
    release = threading.Event()

    def slow_verify(self: Any, *args: Any, **kwargs: Any) -> bool:
        release.wait(10)  # holds its core until the burst has been answered
        return True  # the answer does not matter here, and a real one costs a hash each

    monkeypatch.setattr(Argon2Hasher, "verify", slow_verify)
    hashed = await learner_hash(PASSWORD)
    burst = running_and_waiting + 3
    # All at once, as a burst of requests arrives: none is answered before the last starts.
    tasks = [
        asyncio.ensure_future(maybe_await(security.verify_password(PASSWORD, hashed)))
        for _ in range(burst)
    ]
    try:
        await asyncio.sleep(0.5)
    finally:
        release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    refused = [r for r in results if isinstance(r, BaseException)]
    statuses = sorted(status_of(r) or 0 for r in refused)
    assert statuses == [503] * 3, (
        f"expected {burst} verify_password calls at once, with HASHING_QUEUE_PER_CORE="
        f"{per_core} on {cores} cores, to run {cores}, queue {per_core * cores} (so many per "
        f"core) and refuse 3 with a 503, found {len(refused)} refused "
        f"({[describe(r) for r in refused][:3]})"
    )
    headers = dict(getattr(refused[0], "headers", None) or {})
    assert str(headers.get("Retry-After", "")) == "1", (
        f"expected the 503 to carry Retry-After: 1 (a second is enough for a core to free "
        f"up), found {headers}"
    )
