"""Step 7, production hardening: the request body limit, the security headers on every
response, HSTS when enabled, `Cache-Control: no-store` on the auth routes, and a start
refused in production while the first admin still has the default password.

Bodies are sent through httpx's ASGITransport, which hands the app one chunk at a time
as the app asks for it: a body given as a generator has no Content-Length (it streams,
as a chunked upload does), and counting what the generator gave tells how much the app
read. A setting is changed on the learner's settings object before `create_app()`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from enum import Enum
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from course.grading.fixtures import API, http_scope, serve

from .conftest import PROBE, assert_error, assert_status, login, probe_app, store_user

ONE_MEBIBYTE = 1024 * 1024
SMALL_LIMIT = 4096
REGISTER = f"{API}/auth/register"  # a route that reads its (JSON) body
JSON = {"Content-Type": "application/json"}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
HSTS = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")


class Chunks:
    """A streamed body (no Content-Length) of `count` chunks of `size` bytes, then `tail`
    more bytes in one last chunk; counts the chunks read."""

    def __init__(self, size: int, count: int, tail: int = 0) -> None:
        self.size, self.count, self.tail, self.read = size, count, tail, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            self.read += 1
            yield b" " * self.size
        if self.tail:
            self.read += 1
            yield b" " * self.tail


def set_setting(monkeypatch: pytest.MonkeyPatch, name: str, value: Any) -> None:
    """Give the learner's settings object `name` = `value` for this check, in the type
    the learner's setting has (an `Enum` member for an enum setting)."""
    from app.core.config import settings

    if name not in type(settings).model_fields:
        pytest.fail(
            f"expected the setting {name} in Settings (app/core/config.py; see the settings "
            "reference), found none"
        )
    current = getattr(settings, name)
    if isinstance(current, Enum):
        value = type(current)(value)
    monkeypatch.setattr(settings, name, value)


@pytest.fixture
async def small_limit(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    """The learner's app (with probe routes) built with MAX_REQUEST_BODY_BYTES=4096."""
    set_setting(monkeypatch, "MAX_REQUEST_BODY_BYTES", SMALL_LIMIT)
    async with serve(probe_app(), raise_app_exceptions=False) as http:
        yield http


def assert_refused(response: httpx.Response, what: str) -> None:
    assert response.status_code == 413, (
        f"expected {what} to be refused with 413, found {response.status_code}: "
        f"{response.text[:200]}"
    )
    assert_error(response, 413, what)


def assert_accepted(response: httpx.Response, what: str) -> None:
    assert response.status_code != 413, (
        f"expected {what} to be accepted (a body of the limit's size is allowed; POST "
        f"{REGISTER} then answers 422 for spaces), found 413"
    )


# --- the body limit -------------------------------------------------------------------


@pytest.mark.grade("hardening", 2)
async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    probe: httpx.AsyncClient,
) -> None:
    body = Chunks(ONE_MEBIBYTE // 4, 5)
    headers = {**JSON, "Content-Length": str(ONE_MEBIBYTE + 1)}
    response = await probe.post(REGISTER, content=body, headers=headers)
    assert_refused(response, f"a body declared with Content-Length {ONE_MEBIBYTE + 1} (1 MiB + 1)")
    assert body.read == 0, (
        f"expected a declared Content-Length over MAX_REQUEST_BODY_BYTES to be refused before "
        f"the body is read, found {body.read} chunk(s) read first: compare Content-Length with "
        "the limit before calling the app"
    )


@pytest.mark.grade("hardening", 2)
async def test_a_streamed_body_is_refused_when_it_crosses_the_limit(
    probe: httpx.AsyncClient,
) -> None:
    chunk = 64 * 1024
    body = Chunks(chunk, 32)  # 2 MiB, no Content-Length
    response = await probe.post(REGISTER, content=body, headers=JSON)
    assert_refused(response, "a streamed 2 MiB body without Content-Length")
    assert body.read <= ONE_MEBIBYTE // chunk + 1, (
        f"expected a streamed body to be refused as soon as it crosses the limit (at chunk "
        f"{ONE_MEBIBYTE // chunk + 1} of 64 KiB), found {body.read} chunks read: count the "
        "bytes of each http.request message in a wrapped receive()"
    )


@pytest.mark.grade("hardening", 1)
async def test_a_body_of_exactly_the_limit_is_accepted(
    small_limit: httpx.AsyncClient,
) -> None:
    declared = await small_limit.post(REGISTER, content=b" " * SMALL_LIMIT, headers=JSON)
    assert_accepted(declared, f"a body of exactly MAX_REQUEST_BODY_BYTES ({SMALL_LIMIT})")
    streamed = await small_limit.post(REGISTER, content=Chunks(SMALL_LIMIT // 4, 4), headers=JSON)
    assert_accepted(streamed, f"a streamed body of exactly MAX_REQUEST_BODY_BYTES ({SMALL_LIMIT})")


@pytest.mark.grade("hardening", 1)
async def test_the_limit_is_max_request_body_bytes(small_limit: httpx.AsyncClient) -> None:
    what = f"a body of {SMALL_LIMIT + 1} bytes with MAX_REQUEST_BODY_BYTES={SMALL_LIMIT}"
    declared = await small_limit.post(REGISTER, content=b" " * (SMALL_LIMIT + 1), headers=JSON)
    assert declared.status_code == 413, (
        f"expected {what} to be refused with 413, found {declared.status_code}: read the limit "
        "from settings.MAX_REQUEST_BODY_BYTES when create_app() runs"
    )
    # One byte over, in a last chunk of its own: the count starts at zero.
    over = Chunks(SMALL_LIMIT // 4, 4, tail=1)
    streamed = await small_limit.post(REGISTER, content=over, headers=JSON)
    assert_refused(streamed, f"a streamed {what}")


class PlainASGIApp:
    """An app that is not FastAPI: it reads the whole body itself, and with
    `answers_first` starts its answer before it reads."""

    def __init__(self, *, answers_first: bool) -> None:
        self.answers_first = answers_first

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        start = {"type": "http.response.start", "status": 200, "headers": []}
        if self.answers_first:
            await send(start)
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False) and message["type"] == "http.request"
        if not self.answers_first:
            await send(start)
        await send({"type": "http.response.body", "body": b"read"})


async def call_body_limited(app: Any, limit: int, chunks: int) -> tuple[list[Any], str | None]:
    """Call `BodyLimitMiddleware(app, limit)` with a streamed body of `chunks` chunks of
    `limit` bytes; the messages it sent, and the exception that left it (or None)."""
    from app.middleware.body_limit import BodyLimitMiddleware

    scope = http_scope("POST", "/")
    bodies = [b" " * limit] * chunks
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        if not bodies:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": bodies.pop(0), "more_body": bool(bodies)}

    async def send(message: Any) -> None:
        sent.append(message)

    try:
        await BodyLimitMiddleware(app, max_body_bytes=limit)(scope, receive, send)
    except Exception as exc:
        return sent, type(exc).__name__
    return sent, None


@pytest.mark.grade("hardening", 1)
async def test_outside_a_fastapi_route_the_middleware_answers_413_itself() -> None:
    sent, error = await call_body_limited(PlainASGIApp(answers_first=False), 64, 3)
    starts = [message for message in sent if message["type"] == "http.response.start"]
    assert error is None and [start.get("status") for start in starts] == [413], (
        "expected BodyLimitMiddleware around an app that is not FastAPI (a plain ASGI app "
        "reading a streamed body over the limit) to answer 413 itself, found "
        f"{'the exception ' + error + ' leaving it' if error else ''} "
        f"{[start.get('status') for start in starts] or 'no answer'}: catch the exception "
        "your receive raises around the call of the app, and answer the 413 envelope"
    )


@pytest.mark.grade("hardening", 1)
async def test_once_the_app_has_answered_the_middleware_lets_the_error_through() -> None:
    sent, error = await call_body_limited(PlainASGIApp(answers_first=True), 64, 3)
    starts = [message for message in sent if message["type"] == "http.response.start"]
    assert len(starts) == 1 and error is not None, (
        "expected BodyLimitMiddleware around an app that started its answer (200) before it "
        "read a body over the limit to send no second answer and let the exception through, "
        f"found {len(starts)} answers started ({[start.get('status') for start in starts]}) "
        f"and {'the exception ' + error if error else 'no exception'}: a status line cannot "
        "be taken back. Track whether http.response.start went out, and raise again if it did"
    )


# --- headers ----------------------------------------------------------------------------


def every_kind_of_response() -> list[tuple[str, str, int, dict[str, Any]]]:
    """(method, path, expected status, httpx arguments): successes, errors, preflights."""
    allowed = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"}
    refused = {"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"}
    return [
        ("GET", f"{API}/health", 200, {}),
        ("GET", f"{API}/no-such-route", 404, {}),
        ("DELETE", f"{API}/health", 405, {}),
        ("POST", REGISTER, 422, {"json": {}}),
        ("GET", f"{API}/users/me", 401, {}),
        ("GET", f"{PROBE}/crash", 500, {}),
        ("POST", REGISTER, 413, {"content": b" " * (SMALL_LIMIT + 1), "headers": JSON}),
        ("OPTIONS", f"{API}/health", 200, {"headers": allowed}),
        ("OPTIONS", f"{API}/health", 400, {"headers": refused}),
    ]


@pytest.mark.grade("hardening", 2)
async def test_every_response_carries_the_security_headers(
    small_limit: httpx.AsyncClient,
) -> None:
    for method, path, status, kwargs in every_kind_of_response():
        response = await small_limit.request(method, path, **kwargs)
        what = f"{method} {path} ({status})"
        assert response.status_code == status, (
            f"expected {what} to answer {status}, found {response.status_code}"
        )
        found = {name: response.headers.get(name) for name in SECURITY_HEADERS}
        assert found == SECURITY_HEADERS, (
            f"expected {what} to carry {SECURITY_HEADERS}, found {found}: one pure ASGI "
            "middleware that sets them on http.response.start, outside every middleware that "
            "may answer by itself (CORS, the body limit, the catch-all for errors)"
        )
        assert HSTS[0] not in response.headers, (
            f"expected no {HSTS[0]} while HSTS_ENABLED is false (the default), found it on {what}"
        )


@pytest.mark.grade("hardening", 1)
async def test_hsts_on_every_response_when_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    set_setting(monkeypatch, "HSTS_ENABLED", True)
    set_setting(monkeypatch, "MAX_REQUEST_BODY_BYTES", SMALL_LIMIT)
    async with serve(probe_app(), raise_app_exceptions=False) as http:
        for method, path, status, kwargs in every_kind_of_response():
            response = await http.request(method, path, **kwargs)
            found = response.headers.get(HSTS[0])
            assert found == HSTS[1], (
                f"expected {method} {path} ({status}) to carry {HSTS[0]}: {HSTS[1]} with "
                f"HSTS_ENABLED=true, found {found!r}"
            )


@pytest.mark.grade("hardening", 1)
async def test_login_and_refresh_answer_cache_control_no_store(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    password = "grading-no-store-password"
    user = await store_user(schema, password=password)
    response = await login(client, user.email, password)
    tokens = assert_status(response, 200, "POST /auth/login")
    refreshed = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert_status(refreshed, 200, "POST /auth/refresh")
    for name, answer in (("login", response), ("refresh", refreshed)):
        found = answer.headers.get("Cache-Control")
        assert found == "no-store", (
            f"expected POST /auth/{name} (it carries tokens) to answer Cache-Control: no-store, "
            f"found {found!r}: a dependency of the whole auth router (APIRouter(..., "
            "dependencies=[...])) that sets it on the Response gives it to every auth route"
        )


# --- the first admin's default password in production ------------------------------------


def default_admin_password() -> str:
    from app.core.config import Settings

    field = Settings.model_fields.get("FIRST_ADMIN_PASSWORD")
    default = getattr(field, "default", None)
    value = default.get_secret_value() if hasattr(default, "get_secret_value") else default
    if not isinstance(value, str) or not value:
        pytest.fail(f"expected FIRST_ADMIN_PASSWORD to have a default password, found {value!r}")
    return value


async def production_start(
    monkeypatch: pytest.MonkeyPatch,
    schema: AsyncEngine,
    password: str | None,
    environment: str = "production",
) -> str | None:
    """Start the app in `environment` with a first admin of `password` (None: no such
    user); the error that stopped it, or None if it started and answered."""
    email = f"first-admin-{uuid.uuid4().hex[:8]}@example.com"
    if password is not None:
        await store_user(schema, "admin", email=email, password=password)
    set_setting(monkeypatch, "ENVIRONMENT", environment)
    set_setting(monkeypatch, "DEBUG", False)
    set_setting(monkeypatch, "FIRST_ADMIN_EMAIL", email)
    from app.main import create_app

    try:
        async with serve(create_app()) as http:
            response = await http.get(f"{API}/health")
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    assert_status(response, 200, f"GET {API}/health once the app started")
    return None


@pytest.mark.grade("hardening", 2)
async def test_production_refuses_to_start_while_the_first_admin_has_the_default_password(
    monkeypatch: pytest.MonkeyPatch, schema: AsyncEngine
) -> None:
    error = await production_start(monkeypatch, schema, default_admin_password())
    assert error is not None, (
        "expected the app to refuse to start (an exception in the lifespan) with "
        "ENVIRONMENT=production while the first admin (FIRST_ADMIN_EMAIL) stored in the "
        "database still has the default password, found it started: after connecting, look "
        "the admin up and verify the stored hash against the default password"
    )
    assert "FIRST_ADMIN_PASSWORD" in error, (
        f"expected the error to name FIRST_ADMIN_PASSWORD, found: {error[:300]}"
    )


@pytest.mark.grade("hardening", 1)
@pytest.mark.parametrize("case", ["changed password", "no first admin"])
async def test_production_starts_once_the_first_admin_password_is_not_the_default(
    monkeypatch: pytest.MonkeyPatch, schema: AsyncEngine, case: str
) -> None:
    password = "grading-changed-admin-password" if case == "changed password" else None
    error = await production_start(monkeypatch, schema, password)
    assert error is None, (
        f"expected ENVIRONMENT=production to start with the first admin's {case}, found: "
        f"{error[:300] if error else ''}"
    )


@pytest.mark.grade("hardening", 1)
@pytest.mark.parametrize("environment", ["development", "staging"])
async def test_outside_production_the_default_admin_password_does_not_stop_the_start(
    monkeypatch: pytest.MonkeyPatch, schema: AsyncEngine, environment: str
) -> None:
    error = await production_start(monkeypatch, schema, default_admin_password(), environment)
    assert error is None, (
        f"expected ENVIRONMENT={environment} to start though the first admin has the default "
        "password (that is how it gets changed: start outside production, PATCH /users/me), "
        f"found: {error[:300] if error else ''}: check only when ENVIRONMENT is production"
    )
