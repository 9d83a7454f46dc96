"""Login throttling and the bounded hashing queue.

After LOGIN_MAX_FAILURES failed logins for one email within the window, that email
answers 429 with `Retry-After`, whether or not it has an account and whatever the
password, until enough failures leave the window; the count is in the database.
When too many hashes wait for a core, a login answers 503 with `Retry-After`.
"""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.core import security
from app.core.config import settings
from app.core.database import DatabaseManager
from app.domain.models.login_failure import LoginFailure
from app.main import create_app
from app.service import auth_service
from tests.conftest import API, MakeUser, TestUser, assert_error, serve

TOO_MANY = "Too many failed logins for this email; try again later"
WINDOW_SECONDS = settings.LOGIN_FAILURE_WINDOW_MINUTES * 60


async def log_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(f"{API}/auth/login", data={"username": email, "password": password})


async def fail(
    client: httpx.AsyncClient, email: str, times: int = settings.LOGIN_MAX_FAILURES
) -> None:
    """Fail `times` logins for `email` with a wrong password; each answers 401."""
    for _ in range(times):
        response = await log_in(client, email, "wrong-password-123")
        assert_error(response, 401, "Incorrect email or password")


def assert_throttled(response: httpx.Response) -> int:
    """Assert `response` is the 429 envelope with `Retry-After`; return its seconds."""
    assert_error(response, 429, TOO_MANY)
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= WINDOW_SECONDS
    return retry_after


async def failures_of(database: DatabaseManager, email: str) -> int:
    async with database.get_session() as session:
        query = select(func.count()).select_from(LoginFailure).where(LoginFailure.email == email)
        return (await session.execute(query)).scalar_one()


async def age_failures(database: DatabaseManager, by: timedelta) -> None:
    """Move every recorded failure `by` into the past, instead of waiting.

    Row by row in Python: SQLite has no arithmetic on timestamps.
    """
    async with database.get_session() as session:
        for failure in (await session.execute(select(LoginFailure))).scalars():
            failure.created_at -= by


async def test_five_failures_throttle_a_known_email_even_with_the_right_password(
    client: httpx.AsyncClient, user: TestUser, database: DatabaseManager
) -> None:
    await fail(client, user.email)
    assert await failures_of(database, user.email) == settings.LOGIN_MAX_FAILURES

    response = await log_in(client, user.email, user.password)
    retry_after = assert_throttled(response)
    assert retry_after > WINDOW_SECONDS - 60  # the failures are seconds old
    assert "access_token" not in response.text
    # A throttled attempt is not a failure: it does not push the cooldown further.
    assert await failures_of(database, user.email) == settings.LOGIN_MAX_FAILURES


async def test_an_unknown_email_is_throttled_alike(client: httpx.AsyncClient) -> None:
    await fail(client, "ghost@example.com")
    response = await log_in(client, "ghost@example.com", "any-password-123")
    assert_throttled(response)
    assert "WWW-Authenticate" not in response.headers


async def test_a_throttled_login_neither_looks_up_nor_verifies(
    client: httpx.AsyncClient, user: TestUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fail(client, user.email)
    await fail(client, "nobody@example.com")

    async def must_not_run(*args: Any) -> Any:
        raise AssertionError("a throttled login must not hash: its timing would tell")

    monkeypatch.setattr(auth_service, "verify_password", must_not_run)
    monkeypatch.setattr(auth_service, "spend_verify_time", must_not_run)
    assert_throttled(await log_in(client, user.email, user.password))
    assert_throttled(await log_in(client, "nobody@example.com", user.password))


async def test_the_count_is_per_normalised_email(
    client: httpx.AsyncClient, make_user: MakeUser, database: DatabaseManager
) -> None:
    ada = await make_user(email="ada@example.com")
    other = await make_user(email="other@example.com")
    await fail(client, "ADA@example.com", 3)
    await fail(client, " ada@EXAMPLE.com ", 2)
    assert await failures_of(database, "ada@example.com") == 5

    assert_throttled(await log_in(client, "ada@example.com", ada.password))
    # Another email is not affected.
    assert (await log_in(client, other.email, other.password)).status_code == 200


async def test_a_successful_login_clears_the_count(
    client: httpx.AsyncClient, user: TestUser, database: DatabaseManager
) -> None:
    await fail(client, user.email, settings.LOGIN_MAX_FAILURES - 1)
    assert (await log_in(client, user.email, user.password)).status_code == 200
    assert await failures_of(database, user.email) == 0

    await fail(client, user.email, settings.LOGIN_MAX_FAILURES - 1)
    assert (await log_in(client, user.email, user.password)).status_code == 200


async def test_the_login_works_again_after_the_window(
    client: httpx.AsyncClient, user: TestUser, database: DatabaseManager
) -> None:
    await fail(client, user.email)
    await age_failures(database, timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES - 5))
    retry_after = assert_throttled(await log_in(client, user.email, user.password))
    assert 4 * 60 < retry_after <= 5 * 60  # when the oldest failure leaves the window

    await age_failures(database, timedelta(minutes=6))
    assert (await log_in(client, user.email, user.password)).status_code == 200


async def test_retry_after_waits_for_enough_failures_to_leave(
    client: httpx.AsyncClient, user: TestUser, database: DatabaseManager
) -> None:
    # Two old failures and five new ones (as concurrent attempts can leave): the
    # oldest leaving is not enough, the email stays blocked until the fifth-newest does.
    await fail(client, user.email, 2)
    await age_failures(database, timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES - 1))
    async with database.get_session() as session:
        session.add_all(LoginFailure(email=user.email) for _ in range(settings.LOGIN_MAX_FAILURES))
    assert assert_throttled(await log_in(client, user.email, user.password)) > WINDOW_SECONDS - 60


async def test_old_failures_of_every_email_are_purged_when_one_is_recorded(
    client: httpx.AsyncClient, database: DatabaseManager
) -> None:
    await fail(client, "old@example.com", 2)
    await age_failures(database, timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES + 1))
    await fail(client, "new@example.com", 1)
    assert await failures_of(database, "old@example.com") == 0
    assert await failures_of(database, "new@example.com") == 1


@pytest.fixture
async def second_app_client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A second instance of the app, with its own engine, on the same database."""
    other = DatabaseManager(database_url)
    try:
        async with serve(create_app(database=other)) as http:
            yield http
    finally:
        await other.disconnect()


async def test_two_app_instances_share_the_count(
    client: httpx.AsyncClient, second_app_client: httpx.AsyncClient, user: TestUser
) -> None:
    await fail(client, user.email, 3)
    await fail(second_app_client, user.email, settings.LOGIN_MAX_FAILURES - 3)
    assert_throttled(await log_in(client, user.email, user.password))
    assert_throttled(await log_in(second_app_client, user.email, user.password))


async def test_a_full_hashing_queue_answers_503_instead_of_waiting(
    client: httpx.AsyncClient, user: TestUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "HASHING_QUEUE_PER_CORE", 1)
    limiter = security._hashing_limiter
    cores = int(limiter.total_tokens)
    # Hold every token, so that no hash can start: the logins pile up.
    holders = [object() for _ in range(cores)]
    for holder in holders:
        limiter.acquire_on_behalf_of_nowait(holder)
    pending: list[asyncio.Task[httpx.Response]] = []
    try:
        capacity = cores + security.hashing_queue_limit()  # running + waiting
        pending = [
            asyncio.create_task(log_in(client, user.email, user.password)) for _ in range(capacity)
        ]
        async with asyncio.timeout(10):
            while security._hashing_pending < capacity:  # noqa: ASYNC110 (no event to await)
                await asyncio.sleep(0.01)

        response = await log_in(client, user.email, user.password)
        assert_error(response, 503, security.HASHING_BUSY)
        assert response.headers["Retry-After"] == str(security.HASHING_RETRY_AFTER_SECONDS)
        registered = await client.post(
            f"{API}/auth/register",
            json={"email": "new@example.com", "password": "long-enough-1", "full_name": "N"},
        )
        assert_error(registered, 503, security.HASHING_BUSY)
    finally:
        for holder in holders:
            limiter.release_on_behalf_of(holder)
    # The queued logins were only delayed: they all succeed.
    assert [r.status_code for r in await asyncio.gather(*pending)] == [200] * len(pending)
    assert security._hashing_pending == 0
