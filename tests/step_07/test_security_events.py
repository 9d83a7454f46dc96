"""Step 7, D17: a security event logged during a request carries the client's address
and the request's id.

The services (step 6) log the events; the middleware must give them what only the
request knows. The grader's HTTP client presents itself from a documentation address
(203.0.113.7, RFC 5737), so a constant cannot pass. A field counts by its value, in
whichever `extra` field it is (`client`, `client_ip`, ...), never by the message text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from course.grading.fixtures import API
from course.grading.hints import shown_value

from .conftest import assert_status, login, store_user

CLIENT_HOST = "203.0.113.7"
PASSWORD = "events-password-1"


@pytest.fixture
async def remote_client(schema: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the learner's app that the app sees coming from CLIENT_HOST."""
    from asgi_lifespan import LifespanManager

    from app.main import create_app

    async with (
        LifespanManager(create_app(), startup_timeout=15, shutdown_timeout=15) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app, client=(CLIENT_HOST, 40123)),
            base_url="http://grader",
        ) as http,
    ):
        yield http


def events_named(captured: Any, event: str) -> list[dict[str, Any]]:
    return [
        record
        for record in captured.records
        if str((record.get("extra") or {}).get("event")) == event
    ]


def check_event(captured: Any, event: str, what: str, response: httpx.Response) -> None:
    found = events_named(captured, event)
    assert len(found) == 1, (
        f"expected {what} to log one security event `{event}` (step 6), found {len(found)}"
    )
    extra = found[0].get("extra") or {}
    values = [str(value) for value in extra.values()]
    assert any(value == CLIENT_HOST or value.startswith(f"{CLIENT_HOST}:") for value in values), (
        f"expected the `{event}` event of {what} to carry the client's address {CLIENT_HOST} "
        "(from the ASGI scope's `client`, set for the request by a middleware) in its extra "
        f"fields, found {shown_value(extra)}"
    )
    request_id = response.headers.get("X-Request-ID", "<no X-Request-ID>")
    assert request_id in values, (
        f"expected the `{event}` event of {what} to carry the request id {request_id} in its "
        f"extra fields, found {shown_value(extra)}"
    )


@pytest.mark.grade("D17", 2)
async def test_security_events_carry_the_client_address_and_the_request_id(
    remote_client: httpx.AsyncClient, schema: AsyncEngine, capture_logs: Any
) -> None:
    user = await store_user(schema, password=PASSWORD)
    captured = capture_logs()
    refused = await login(remote_client, user.email, "wrong-password-1")
    assert_status(refused, 401, "POST /auth/login with a wrong password")
    check_event(captured, "login_failed", "a login with a wrong password", refused)
    response = await remote_client.post(f"{API}/auth/logout", headers=user.headers)
    assert response.status_code in (200, 204), (
        f"expected POST /auth/logout to answer 204, found {response.status_code}"
    )
    check_event(captured, "logout", "POST /auth/logout", response)
