"""Step 7, D17: X-Request-ID, one log line per request, the request id in the log
context, CORS, and no secrets in the logs.

Log lines are captured with a Loguru sink the grader adds after the app started
(setup_logging removes every sink). A field counts whether it is in the message
text or in the record's `extra`.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from course.grading.fixtures import API, serve
from course.grading.hints import shown_value

from .conftest import (
    ENDPOINT_VALUE,
    PROBE,
    SLOW_S,
    assert_error,
    assert_status,
    probe_app,
    record_text,
    store_user,
)

DURATION = re.compile(r"\d+(\.\d+)?\s?(ms|s)\b")
# The name of a log record's field that holds the request's duration.
TIMED_FIELD = re.compile("duration|elapsed|latency|time", re.I)


# The one form of a new request id, as the step 7 page and choose_request_id's docstring
# say it: a UUID4 in its canonical 36-character form, str(uuid.uuid4()).
UUID4_FORM = "a UUID4 in its canonical 36-character form, str(uuid.uuid4())"


def fresh_uuid4(value: str | None) -> bool:
    """Whether `value` is a UUID4 written as `str(uuid.uuid4())` writes it, and only so."""
    try:
        parsed = uuid.UUID(str(value))
    except ValueError:
        return False
    # uuid.UUID also parses 32 bare hex digits, braces, `urn:uuid:` and upper case.
    return parsed.version == 4 and str(parsed) == value


def check_request_id(response: httpx.Response, what: str, expected: str | None = None) -> str:
    """The response's X-Request-ID (a fresh UUID4 unless `expected`); errors repeat it."""
    request_id = response.headers.get("X-Request-ID")
    if expected is None:
        assert fresh_uuid4(request_id), (
            f"expected {what} to carry X-Request-ID with a new id, {UUID4_FORM} "
            f"(such as {uuid.uuid4()}), found {shown_value(request_id)}"
        )
    else:
        assert request_id == expected, (
            f"expected {what} to echo X-Request-ID {shown_value(expected)}, "
            f"found {shown_value(request_id)}"
        )
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            body = None
        found = body.get("request_id") if isinstance(body, dict) else None
        assert found == request_id, (
            f"expected the error body of {what} to carry request_id equal to the X-Request-ID "
            f"header ({shown_value(request_id)}), found {shown_value(found)}"
        )
    return str(request_id)


# --- X-Request-ID ----------------------------------------------------------------------


@pytest.mark.grade("D17", 2)
async def test_every_response_carries_a_new_request_id_and_errors_repeat_it(
    probe: httpx.AsyncClient,
) -> None:
    cases = [
        ("GET", f"{API}/health", 200),
        ("GET", f"{API}/no-such-route", 404),
        ("DELETE", f"{API}/health", 405),
        ("POST", f"{API}/auth/register", 422),
        ("GET", f"{API}/users/me", 401),
    ]
    seen = set()
    for method, path, status in cases:
        response = await probe.request(method, path, json={} if method == "POST" else None)
        what = f"{method} {path} ({status})"
        assert response.status_code == status, (
            f"expected {what} to answer {status}, found {response.status_code}"
        )
        seen.add(check_request_id(response, what))
    assert len(seen) == len(cases), "expected every request to get its own request id"


@pytest.mark.grade("D17", 1)
async def test_a_crash_still_answers_with_a_request_id(probe: httpx.AsyncClient) -> None:
    response = await probe.get(f"{PROBE}/crash")
    assert response.status_code == 500, (
        f"expected a route that raises RuntimeError to answer 500, found {response.status_code}"
    )
    check_request_id(response, "the 500 of a crashing route")


@pytest.mark.grade("D17", 1)
async def test_a_valid_incoming_request_id_is_echoed(probe: httpx.AsyncClient) -> None:
    for incoming in ("abc", "A.b_c-123", "r" * 128, str(uuid.uuid4())):
        response = await probe.get(f"{API}/health", headers={"X-Request-ID": incoming})
        what = f"a request sent with X-Request-ID {shown_value(incoming)}"
        check_request_id(response, what, incoming)
        response = await probe.get(f"{API}/no-such-route", headers={"X-Request-ID": incoming})
        check_request_id(response, "a 404 sent with a valid X-Request-ID", incoming)


@pytest.mark.grade("D17", 2)
async def test_an_invalid_incoming_request_id_is_replaced(probe: httpx.AsyncClient) -> None:
    for incoming in ("r" * 129, "has spaces in it", "<script>alert(1)</script>", "a/b", ""):
        response = await probe.get(f"{API}/no-such-route", headers={"X-Request-ID": incoming})
        check_request_id(
            response, f"a request sent with the invalid X-Request-ID {shown_value(incoming)}"
        )


# --- Log lines ----------------------------------------------------------------------------


def request_lines(records: list[dict[str, Any]], method: str, path: str, status: int) -> list[Any]:
    """Records naming this request's method, path and status, with a duration."""
    found = []
    for record in records:
        text = record_text(record)
        if method not in text or path not in text or str(status) not in text:
            continue
        extra = record.get("extra") or {}
        timed = [key for key in extra if TIMED_FIELD.search(key)]
        if timed or DURATION.search(str(record.get("message", ""))):
            found.append(record)
    return found


@pytest.mark.grade("D17", 2)
async def test_one_log_line_per_request_with_method_path_status_duration_and_id(
    probe: httpx.AsyncClient, capture_logs: Any
) -> None:
    captured = capture_logs()
    cases = [
        ("GET", f"{API}/health", 200),
        ("GET", f"{API}/no-such-route", 404),
        ("GET", f"{PROBE}/crash", 500),
    ]
    responses = [await probe.request(method, path) for method, path, _ in cases]
    for (method, path, status), response in zip(cases, responses, strict=True):
        lines = request_lines(captured.app_records(), method, path, status)
        assert len(lines) == 1, (
            f"expected one log line for {method} {path} naming the method, path, status "
            f"{status} and a duration (ms), found {len(lines)}"
        )
        request_id = response.headers.get("X-Request-ID", "<no X-Request-ID>")
        assert request_id in record_text(lines[0]), (
            f"expected the log line of {method} {path} to carry its request id {request_id}: "
            "the request-id middleware must be the outermost one, around the request logging, "
            "so that the id is set before the line is written. Each app.add_middleware() wraps "
            "the middleware added before it (added last runs first): add the request-id "
            "middleware last"
        )


def logged_duration_ms(record: dict[str, Any]) -> float | None:
    """The duration a request's log line gives, in milliseconds: a field of `extra`
    (a number; `..._s` or `seconds` in its name means seconds) or `12.3ms` in the text."""
    for key, value in (record.get("extra") or {}).items():
        if TIMED_FIELD.search(key) and isinstance(value, int | float):
            seconds = re.search(r"(_s$|sec)", key, re.I) and not re.search("ms", key, re.I)
            return float(value) * (1000 if seconds else 1)
    found = DURATION.search(str(record.get("message", "")))
    if found is None:
        return None
    number = float(found.group(0).rstrip("ms ").strip())
    return number * (1000 if found.group(2) == "s" else 1)


@pytest.mark.grade("D17", 1)
async def test_the_logged_duration_is_the_request_time_in_milliseconds(
    probe: httpx.AsyncClient, capture_logs: Any
) -> None:
    captured = capture_logs()
    started = time.perf_counter()
    response = await probe.get(f"{PROBE}/slow")
    outside_ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, f"expected the probe route to answer 200, found {response}"
    lines = request_lines(captured.app_records(), "GET", f"{PROBE}/slow", 200)
    assert len(lines) == 1, f"expected one log line for GET {PROBE}/slow, found {len(lines)}"
    duration = logged_duration_ms(lines[0])
    # The route sleeps SLOW_S; asyncio may wake it a clock tick early.
    least = SLOW_S * 1000 * 0.95
    assert duration is not None and least <= duration <= outside_ms + 1, (
        f"expected the log line of a request that took {outside_ms:.0f} ms (the route sleeps "
        f"{SLOW_S * 1000:.0f} ms) to give a duration between {least:.0f} and "
        f"{outside_ms:.0f} ms, found {duration}: take time.perf_counter() before calling the "
        "app and after it, and log (end - start) * 1000 as duration_ms"
    )


@pytest.mark.grade("D17", 1)
@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_the_request_id_reaches_log_lines_written_in_the_endpoint(
    probe: httpx.AsyncClient, capture_logs: Any, kind: str
) -> None:
    captured = capture_logs()
    response = await probe.get(f"{PROBE}/log-{kind}", headers={"X-Request-ID": f"ctx-{kind}-1"})
    assert response.status_code == 200, f"expected the probe route to answer 200, found {response}"
    lines = [r for r in captured.records if r.get("message") == f"grader probe log ({kind})"]
    assert len(lines) == 1, f"expected the endpoint's own log line, found {len(lines)}"
    assert f"ctx-{kind}-1" in record_text(lines[0]), (
        f"expected a line logged inside a {kind} endpoint to carry the request id (e.g. in "
        "extra, via logger.contextualize in a pure ASGI middleware), found extra "
        f"{lines[0].get('extra')}"
    )


class AroundTheApp:
    """A pure ASGI layer outside the learner's app: what the app's context holds afterwards."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            self.seen.append(ENDPOINT_VALUE.get())


@pytest.mark.grade("D17", 1)
async def test_what_the_endpoint_sets_in_its_context_flows_back_out_of_the_middleware() -> None:
    around = AroundTheApp(probe_app())
    async with serve(around, raise_app_exceptions=False) as http:
        response = await http.get(f"{PROBE}/context", params={"value": "set-inside"})
    assert response.status_code == 200, f"expected the probe route to answer 200, found {response}"
    assert around.seen == ["set-inside"], (
        "expected a context variable the endpoint sets to be visible to the middleware around "
        f"the app when the request ends, found {around.seen!r}: a middleware written with "
        "BaseHTTPMiddleware (or @app.middleware('http')) runs the endpoint in a task of its "
        "own, so nothing set there flows back out, and every request pays for that task and "
        "a stream. Write each middleware as a pure ASGI class: __call__(scope, receive, send)"
    )


# --- CORS ---------------------------------------------------------------------------------


def cors_origins() -> list[str]:
    from app.core.config import settings

    return [str(origin) for origin in settings.CORS_ORIGINS]


@pytest.mark.grade("D17", 1)
async def test_cors_preflight_from_an_allowed_origin_is_allowed(client: httpx.AsyncClient) -> None:
    from app.core.config import settings

    origin = next((o for o in cors_origins() if o != "*"), "http://localhost:3000")
    response = await client.options(
        f"{API}/health",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    assert response.status_code == 200, (
        f"expected a CORS preflight from {origin} (in CORS_ORIGINS) to answer 200, "
        f"found {response.status_code}"
    )
    allowed = response.headers.get("access-control-allow-origin")
    assert allowed == origin, f"expected Access-Control-Allow-Origin: {origin}, found {allowed!r}"
    if settings.CORS_ALLOW_CREDENTIALS:
        found = response.headers.get("access-control-allow-credentials")
        assert found == "true", (
            f"expected Access-Control-Allow-Credentials: true (CORS_ALLOW_CREDENTIALS), "
            f"found {found!r}"
        )


@pytest.mark.grade("D17", 1)
async def test_cors_refuses_an_origin_not_in_the_settings(client: httpx.AsyncClient) -> None:
    evil = "http://evil.example"
    assert "*" not in cors_origins(), "expected CORS_ORIGINS to list origins, not '*'"
    origin = cors_origins()[0] if cors_origins() else "http://localhost:3000"
    response = await client.get(f"{API}/health", headers={"Origin": origin})
    assert response.headers.get("access-control-allow-origin") == origin, (
        f"expected Access-Control-Allow-Origin: {origin} on a request from that allowed origin"
    )
    response = await client.options(
        f"{API}/health", headers={"Origin": evil, "Access-Control-Request-Method": "GET"}
    )
    allowed = response.headers.get("access-control-allow-origin")
    assert allowed not in (evil, "*"), (
        f"expected a preflight from {evil} to be refused, found Access-Control-Allow-Origin "
        f"{allowed!r}"
    )
    response = await client.get(f"{API}/health", headers={"Origin": evil})
    allowed = response.headers.get("access-control-allow-origin")
    assert allowed not in (evil, "*"), (
        f"expected no Access-Control-Allow-Origin for {evil}, found {allowed!r}"
    )


@pytest.mark.grade("D17", 1)
async def test_a_refused_preflight_answers_the_error_envelope(client: httpx.AsyncClient) -> None:
    response = await client.options(
        f"{API}/health",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 400, (
        f"expected a preflight from an origin not in CORS_ORIGINS to answer 400, found "
        f"{response.status_code}"
    )
    assert response.headers.get("content-type", "").startswith("application/json"), (
        "expected a refused preflight to answer the JSON error envelope like every other error, "
        f"found {response.headers.get('content-type')!r}: {response.text[:80]!r}. Starlette's "
        "CORSMiddleware answers plain text; EnvelopeCORSMiddleware.preflight_response turns a "
        "refusal (400) into error_response(...) with Starlette's text as the message"
    )
    assert_error(response, 400, "a refused preflight")
    vary = response.headers.get("vary", "")
    assert "origin" in vary.lower(), (
        f"expected a refused preflight to keep Starlette's Vary header (Origin, ...), found "
        f"{vary!r}: a cache must keep the answer per origin. Keep the parent's Vary header "
        "when you replace its answer"
    )
    told = sorted(key for key in response.headers if key.lower().startswith("access-control-"))
    assert not told, (
        f"expected a refused preflight to tell nothing of what is allowed, found {told}: of "
        "the parent's headers keep only Vary"
    )


# --- No secrets in the logs ---------------------------------------------------------------


@pytest.fixture
async def debug_client(
    schema: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """The learner's app created with LOG_LEVEL=DEBUG."""
    from app.core.config import settings
    from app.main import create_app

    monkeypatch.setattr(settings, "LOG_LEVEL", "DEBUG")
    async with serve(create_app()) as http:
        yield http


@pytest.mark.grade("D17", 2)
async def test_no_password_hash_or_token_in_any_log_line_at_debug(
    debug_client: httpx.AsyncClient, schema: AsyncEngine, capture_logs: Any
) -> None:
    from app.domain.models.user import User

    client = debug_client
    captured = capture_logs()
    email = f"leak-{uuid.uuid4().hex[:8]}@example.com"
    first, second, wrong = "first-Secret-pass-1", "second-Secret-pass-2", "wrong-Secret-pass-3"
    secrets = [first, second, wrong]
    response = await client.post(
        f"{API}/auth/register", json={"email": email, "password": first, "full_name": "Leak"}
    )
    assert_status(response, 201, "POST /auth/register")
    await client.post(f"{API}/auth/login", data={"username": email, "password": wrong})
    response = await client.post(f"{API}/auth/login", data={"username": email, "password": first})
    tokens = assert_status(response, 200, "POST /auth/login")
    response = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    refreshed = assert_status(response, 200, "POST /auth/refresh")
    headers = {"Authorization": f"Bearer {refreshed['access_token']}"}
    assert_status(await client.get(f"{API}/users/me", headers=headers), 200, "GET /users/me")
    change = {"password": second, "current_password": first}
    response = await client.patch(f"{API}/users/me", json=change, headers=headers)
    assert_status(response, 200, "PATCH /users/me with a new password")
    for pair in (tokens, refreshed):
        secrets += [pair["access_token"], pair["refresh_token"]]
    table = User.__table__
    async with schema.connect() as connection:
        stored = (
            (await connection.execute(table.select().where(table.c.email == email)))
            .mappings()
            .first()
        )
    assert stored is not None, f"expected the user {email} to be stored after registering"
    secrets += [stored["password_hash"], stored["password_hash"].rsplit("$", 1)[-1]]
    third = await store_user(schema)
    secrets.append(third.headers["Authorization"].split()[1])
    await client.get(f"{API}/users/me", headers=third.headers)

    assert captured.app_records(), "expected the app to log something (one line per request)"
    leaks = sorted(
        {
            f"{'a password' if secret in (first, second, wrong) else 'a hash or token'} "
            f"(logged by {record.get('name')})"
            for secret in secrets
            for record, line in zip(captured.records, captured.lines, strict=True)
            if secret in line and not str(record.get("name") or "").startswith("httpx")
        }
    )
    assert not leaks, f"expected no secret in any log line at LOG_LEVEL=DEBUG, found {leaks}"
