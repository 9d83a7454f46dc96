"""Security events: each is one log record with its fields, and never an email or a secret."""

import json
import uuid
from typing import Any

import httpx

from tests.conftest import API, MakeUser, TestUser
from tests.integration.test_logging import Capture, capture_logs

# httpx's in-process transport reports this client address to the app.
CLIENT = "127.0.0.1"
FIELDS = {"event", "outcome", "user_id", "actor_id", "client", "request_id"}


def events(capture: Capture, event: str | None = None) -> list[dict[str, Any]]:
    """The `extra` fields of the captured security events (of `event`, if given)."""
    return [
        record["extra"]
        for record in capture.records
        if FIELDS.issubset(record["extra"]) and event in (None, record["extra"]["event"])
    ]


def event_lines(capture: Capture) -> list[str]:
    return [line for line in capture.lines if FIELDS.issubset(json.loads(line)["record"]["extra"])]


def the_event(
    capture: Capture, event: str, response: httpx.Response, user_id: uuid.UUID | None
) -> dict[str, Any]:
    """Assert exactly one `event` was logged, for `user_id`, in `response`'s request."""
    found = events(capture, event)
    assert len(found) == 1, found
    extra = found[0]
    assert extra["user_id"] == (str(user_id) if user_id is not None else None)
    assert extra["client"] == CLIENT
    assert extra["request_id"] == response.headers["X-Request-ID"]
    assert isinstance(extra["outcome"], str)
    assert extra["outcome"] != ""
    return extra


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(f"{API}/auth/login", data={"username": email, "password": password})


async def test_wrong_password_is_a_login_failed_event_with_the_user_id(
    client: httpx.AsyncClient, user: TestUser
) -> None:
    with capture_logs() as capture:
        response = await login(client, user.email, "wrong-Password-123")
    assert response.status_code == 401
    the_event(capture, "login_failed", response, user.id)
    assert user.email not in "".join(event_lines(capture))


async def test_unknown_email_is_a_login_failed_event_without_user_or_email(
    client: httpx.AsyncClient,
) -> None:
    email = "nobody-here@example.com"
    with capture_logs() as capture:
        response = await login(client, email, "any-Password-123")
    assert response.status_code == 401
    the_event(capture, "login_failed", response, None)
    assert all(email not in line and "nobody-here" not in line for line in event_lines(capture))


async def test_login_to_a_deactivated_account_is_a_login_failed_event(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    inactive = await make_user(is_active=False)
    with capture_logs() as capture:
        response = await login(client, inactive.email, inactive.password)
    assert response.status_code == 403
    extra = the_event(capture, "login_failed", response, inactive.id)
    assert events(capture) == [extra]  # this one event, no other


async def test_a_good_login_is_no_event(client: httpx.AsyncClient, user: TestUser) -> None:
    with capture_logs() as capture:
        response = await login(client, user.email, user.password)
    assert response.status_code == 200
    assert events(capture) == []


async def test_a_reused_refresh_token_is_an_event(
    client: httpx.AsyncClient, user: TestUser
) -> None:
    first = (await login(client, user.email, user.password)).json()["refresh_token"]
    with capture_logs() as capture:
        rotated = await client.post(f"{API}/auth/refresh", json={"refresh_token": first})
        assert rotated.status_code == 200
        assert events(capture) == []  # a normal rotation is no event
        reuse = await client.post(f"{API}/auth/refresh", json={"refresh_token": first})
        assert reuse.status_code == 401
        again = await client.post(f"{API}/auth/refresh", json={"refresh_token": first})
        assert again.status_code == 401
    # The session ended at the first reuse; the second finds nothing left to end.
    the_event(capture, "refresh_reused", reuse, user.id)


async def test_logout_is_an_event_with_the_user_id(
    client: httpx.AsyncClient, user: TestUser
) -> None:
    with capture_logs() as capture:
        response = await client.post(f"{API}/auth/logout", headers=user.headers)
    assert response.status_code == 204
    the_event(capture, "logout", response, user.id)


async def test_password_change_and_a_refused_one_are_events(
    client: httpx.AsyncClient, user: TestUser
) -> None:
    new_password = "brand-New-pass-123"
    with capture_logs() as capture:
        refused = await client.patch(
            f"{API}/users/me",
            json={"password": new_password, "current_password": "not-The-current-1"},
            headers=user.headers,
        )
        assert refused.status_code == 400
        refused_event = the_event(capture, "password_changed", refused, user.id)
        changed = await client.patch(
            f"{API}/users/me",
            json={"password": new_password, "current_password": user.password},
            headers=user.headers,
        )
        assert changed.status_code == 200
    found = events(capture, "password_changed")
    assert len(found) == 2, found
    changed_event = found[1]
    assert changed_event["user_id"] == str(user.id)
    assert changed_event["request_id"] == changed.headers["X-Request-ID"]
    assert changed_event["outcome"] != refused_event["outcome"]
    lines = "".join(event_lines(capture))
    assert new_password not in lines
    assert user.password not in lines


async def test_a_name_change_is_no_event(client: httpx.AsyncClient, user: TestUser) -> None:
    with capture_logs() as capture:
        response = await client.patch(
            f"{API}/users/me", json={"full_name": "New Name"}, headers=user.headers
        )
    assert response.status_code == 200
    assert events(capture) == []


async def test_an_admin_changing_role_and_active_state_is_an_event(
    client: httpx.AsyncClient, admin: TestUser, user: TestUser
) -> None:
    with capture_logs() as capture:
        response = await client.patch(
            f"{API}/users/{user.id}",
            json={"role": "moderator", "is_active": False},
            headers=admin.headers,
        )
    assert response.status_code == 200
    extra = the_event(capture, "user_updated", response, user.id)
    assert extra["actor_id"] == str(admin.id)
    assert user.email not in "".join(event_lines(capture))


async def test_an_admin_deleting_a_user_is_an_event(
    client: httpx.AsyncClient, admin: TestUser, user: TestUser
) -> None:
    with capture_logs() as capture:
        response = await client.delete(f"{API}/users/{user.id}", headers=admin.headers)
    assert response.status_code == 200
    extra = the_event(capture, "user_deleted", response, user.id)
    assert extra["actor_id"] == str(admin.id)
    assert user.email not in "".join(event_lines(capture))


async def test_a_throttled_login_is_an_event_without_user_or_email(
    client: httpx.AsyncClient, user: TestUser
) -> None:
    for _ in range(5):
        assert (await login(client, user.email, "wrong-Password-123")).status_code == 401
    with capture_logs() as capture:
        response = await login(client, user.email, user.password)
    assert response.status_code == 429
    assert events(capture, "login_failed") == []  # refused before any verification
    extra = the_event(capture, "login_throttled", response, None)
    assert extra["outcome"] == "throttled"
    assert user.email not in "".join(event_lines(capture))
