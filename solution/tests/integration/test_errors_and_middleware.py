"""The JSON error envelope, X-Request-ID, CORS, the interactive docs and the middleware."""

import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from loguru import logger
from sqlalchemy.exc import OperationalError
from starlette.middleware.base import BaseHTTPMiddleware

from app.core.config import Settings, settings
from app.core.database import DatabaseManager
from app.core.exceptions import (
    AppException,
    BadRequestException,
    ConflictException,
    ForbiddenException,
    NotFoundException,
    UnauthorizedException,
)
from app.main import create_app
from app.middleware.request_id import get_request_id
from tests.conftest import API, serve

ALLOWED_ORIGIN = "http://localhost:3000"
EVIL_ORIGIN = "http://evil.example"
ENVELOPE_KEYS = {"message", "detail", "status_code", "request_id"}

# (path, exception to raise, status, message, detail)
RAISING_ROUTES: list[tuple[str, AppException, int, str, Any]] = [
    ("/probe/not-found", NotFoundException("Widget", 7), 404, "Widget with id '7' not found", None),
    ("/probe/bad-request", BadRequestException("Bad idea", detail="why"), 400, "Bad idea", "why"),
    ("/probe/unauthorized", UnauthorizedException(), 401, "Could not validate credentials", None),
    ("/probe/forbidden", ForbiddenException("Not yours"), 403, "Not yours", None),
    ("/probe/conflict", ConflictException("Taken"), 409, "Taken", None),
    ("/probe/teapot", AppException("Teapot", 418, detail=["a", "b"]), 418, "Teapot", ["a", "b"]),
]


# Ways the database can be unreachable: each must be a 503, never the catch-all 500.
DATABASE_DOWN: list[tuple[str, Exception]] = [
    ("/probe/db-refused", ConnectionRefusedError(111, "Connection refused")),
    ("/probe/db-operational", OperationalError("SELECT 1", {}, Exception("server closed"))),
    ("/probe/db-timeout", TimeoutError()),
]


def raiser(exc: Exception) -> Callable[[], Awaitable[None]]:
    async def endpoint() -> None:
        raise exc

    return endpoint


def add_probe_routes(app: FastAPI) -> None:
    """Throwaway routes that raise, crash or log, for testing the middleware."""
    for path, exc, *_ in RAISING_ROUTES:
        app.add_api_route(path, raiser(exc), methods=["GET"])
    for path, exc in DATABASE_DOWN:
        app.add_api_route(path, raiser(exc), methods=["GET"])

    async def crash() -> None:
        raise RuntimeError("secret internals")

    async def log_async() -> dict[str, str]:
        logger.info("probe endpoint log (async)")
        logging.getLogger("probe.stdlib").warning("probe stdlib log (async)")
        return {"request_id": get_request_id()}

    def log_sync() -> dict[str, str]:
        logger.info("probe endpoint log (sync)")
        return {"request_id": get_request_id()}

    app.add_api_route("/probe/crash", crash, methods=["GET"])
    app.add_api_route("/probe/log-async", log_async, methods=["GET"])
    app.add_api_route("/probe/log-sync", log_sync, methods=["GET"])


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    """The conftest app, plus the probe routes (added before the client starts)."""
    add_probe_routes(app)
    return app


@pytest.fixture
def records(client: httpx.AsyncClient) -> Iterator[list[dict[str, Any]]]:
    """Loguru records emitted while the test runs (the sink is added after start-up)."""
    captured: list[dict[str, Any]] = []
    sink_id = logger.add(
        lambda message: captured.append(json.loads(message)["record"]),
        serialize=True,
        level=0,
    )
    yield captured
    logger.remove(sink_id)


def assert_envelope(response: httpx.Response, status_code: int, message: str) -> dict[str, Any]:
    assert response.status_code == status_code
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["status_code"] == status_code
    assert body["message"] == message
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def assert_fresh_uuid4(value: str) -> None:
    parsed = uuid.UUID(value)
    assert parsed.version == 4
    assert str(parsed) == value


# --- The error envelope --------------------------------------------------------


async def test_app_exception_in_route_uses_error_envelope(client: httpx.AsyncClient) -> None:
    for path, _, status_code, message, detail in RAISING_ROUTES:
        body = assert_envelope(await client.get(path), status_code, message)
        assert body["detail"] == detail, path


async def test_unauthorized_exception_sends_www_authenticate_bearer(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/probe/unauthorized")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_unhandled_error_is_500_envelope_without_internals(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/probe/crash")
    body = assert_envelope(response, 500, "Internal server error")
    assert body["detail"] is None
    assert "secret internals" not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text


async def test_unhandled_error_is_logged_with_traceback_and_request_id(
    client: httpx.AsyncClient, records: list[dict[str, Any]]
) -> None:
    response = await client.get("/probe/crash")
    assert response.status_code == 500
    errors = [record for record in records if record["level"]["name"] == "ERROR"]
    assert len(errors) == 1
    assert errors[0]["exception"]["type"] == "RuntimeError"
    assert errors[0]["extra"]["request_id"] == response.headers["X-Request-ID"]


async def test_unknown_route_404_uses_error_envelope(client: httpx.AsyncClient) -> None:
    body = assert_envelope(await client.get(f"{API}/no-such-route"), 404, "Not Found")
    assert body["detail"] is None


async def test_wrong_method_405_uses_error_envelope(client: httpx.AsyncClient) -> None:
    response = await client.delete(f"{API}/health")
    body = assert_envelope(response, 405, "Method Not Allowed")
    assert body["detail"] is None
    assert response.headers["allow"] == "GET"


async def test_validation_error_422_lists_loc_msg_type(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/auth/register",
        json={"email": "new@example.com", "password": "short1", "full_name": "New Person"},
    )
    body = assert_envelope(response, 422, "Validation error")
    assert isinstance(body["detail"], list)
    assert len(body["detail"]) == 1
    error = body["detail"][0]
    assert set(error) == {"loc", "msg", "type"}
    assert error["loc"] == ["body", "password"]
    assert error["type"] == "string_too_short"
    assert isinstance(error["msg"], str)


async def test_validation_error_does_not_echo_rejected_input(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/auth/register",
        json={"email": "new@example.com", "password": "short1", "full_name": "New Person"},
    )
    assert response.status_code == 422
    assert "short1" not in response.text
    assert '"input"' not in response.text
    assert '"ctx"' not in response.text


async def test_validation_error_does_not_echo_rejected_long_password(
    client: httpx.AsyncClient,
) -> None:
    too_long = "toolong-" + "p" * 130
    response = await client.post(
        f"{API}/auth/register",
        json={"email": "new@example.com", "password": too_long, "full_name": "New Person"},
    )
    assert response.status_code == 422
    assert too_long not in response.text
    assert "ppppppppp" not in response.text


async def test_validation_error_for_malformed_json_uses_envelope(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        f"{API}/auth/register",
        content=b'{"password": "half-a-secret',
        headers={"Content-Type": "application/json"},
    )
    body = assert_envelope(response, 422, "Validation error")
    assert isinstance(body["detail"], list)
    assert "half-a-secret" not in response.text


# --- X-Request-ID --------------------------------------------------------------


async def test_every_response_has_a_fresh_uuid4_request_id(client: httpx.AsyncClient) -> None:
    cases = [
        ("GET", f"{API}/health", 200),
        ("GET", f"{API}/no-such-route", 404),
        ("DELETE", f"{API}/health", 405),
        ("POST", f"{API}/auth/register", 422),
        ("GET", f"{API}/users/me", 401),
        ("GET", "/probe/crash", 500),
    ]
    for method, path, status_code in cases:
        response = await client.request(method, path, json={} if method == "POST" else None)
        assert response.status_code == status_code, (method, path)
        assert_fresh_uuid4(response.headers["X-Request-ID"])


async def test_cors_preflight_response_has_request_id(client: httpx.AsyncClient) -> None:
    response = await client.options(
        f"{API}/health",
        headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 200
    assert_fresh_uuid4(response.headers["X-Request-ID"])


async def test_each_request_gets_its_own_request_id(client: httpx.AsyncClient) -> None:
    ids = {(await client.get(f"{API}/health")).headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


async def test_valid_incoming_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    valid = ["abc", "x", "A.b_c-123", "0123456789", "r" * 128, str(uuid.uuid4())]
    for incoming in valid:
        response = await client.get(f"{API}/health", headers={"X-Request-ID": incoming})
        assert response.status_code == 200
        assert response.headers["X-Request-ID"] == incoming


async def test_invalid_incoming_request_id_is_replaced_by_uuid4(client: httpx.AsyncClient) -> None:
    invalid = [
        "r" * 129,
        "has space",
        "<script>",
        "<script>alert(1)</script>",
        "tab\there",
        "semi;colon",
        "slash/path",
        "",
        "caf\u00e9",
        "line\u2028break",
    ]
    for incoming in invalid:
        response = await client.get(
            f"{API}/health", headers={b"X-Request-ID": incoming.encode("utf-8")}
        )
        assert response.status_code == 200
        replaced = response.headers["X-Request-ID"]
        assert replaced != incoming, repr(incoming)
        assert_fresh_uuid4(replaced)


async def test_error_body_request_id_equals_echoed_incoming_id(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/no-such-route", headers={"X-Request-ID": "trace-42"})
    assert response.headers["X-Request-ID"] == "trace-42"
    assert assert_envelope(response, 404, "Not Found")["request_id"] == "trace-42"


async def test_500_body_request_id_equals_echoed_incoming_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/probe/crash", headers={"X-Request-ID": "crash-7"})
    assert response.headers["X-Request-ID"] == "crash-7"
    assert assert_envelope(response, 500, "Internal server error")["request_id"] == "crash-7"


async def test_error_body_request_id_equals_replacement_for_invalid_incoming_id(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/probe/forbidden", headers={"X-Request-ID": "<script>"})
    body = assert_envelope(response, 403, "Not yours")
    assert_fresh_uuid4(body["request_id"])


# --- CORS ----------------------------------------------------------------------


def test_cors_default_allows_localhost_3000() -> None:
    assert settings.CORS_ORIGINS == [ALLOWED_ORIGIN]


async def test_cors_preflight_from_allowed_origin_is_allowed_with_credentials(
    client: httpx.AsyncClient,
) -> None:
    response = await client.options(
        f"{API}/users/me",
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "PATCH" in response.headers["access-control-allow-methods"]
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed_headers
    assert "content-type" in allowed_headers


async def test_cors_preflight_from_disallowed_origin_is_400_envelope(
    client: httpx.AsyncClient,
) -> None:
    response = await client.options(
        f"{API}/health",
        headers={"Origin": EVIL_ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    body = assert_envelope(response, 400, "Disallowed CORS origin")
    assert body["detail"] is None
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-credentials" not in response.headers


async def test_cors_preflight_with_disallowed_method_is_400_envelope(
    client: httpx.AsyncClient,
) -> None:
    response = await client.options(
        f"{API}/health",
        headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "TRACE"},
    )
    assert_envelope(response, 400, "Disallowed CORS method")


async def test_simple_request_from_allowed_origin_gets_cors_headers(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"{API}/health", headers={"Origin": ALLOWED_ORIGIN})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    exposed = [
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    ]
    assert "x-request-id" in exposed


async def test_error_response_from_allowed_origin_gets_cors_headers(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"{API}/no-such-route", headers={"Origin": ALLOWED_ORIGIN})
    assert response.status_code == 404
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN


async def test_simple_request_from_disallowed_origin_gets_no_cors_headers(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"{API}/health", headers={"Origin": EVIL_ORIGIN})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


# --- Interactive docs ----------------------------------------------------------


async def test_swagger_ui_served_in_debug(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swagger-ui" in response.text
    assert f"{API}/openapi.json" in response.text


async def test_openapi_json_served_under_api_prefix_in_debug(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == settings.PROJECT_NAME
    assert f"{API}/health" in schema["paths"]
    assert f"{API}/auth/login" in schema["paths"]


async def test_docs_not_served_without_debug(database: DatabaseManager) -> None:
    app = create_app(settings=Settings(DEBUG=False), database=database)
    async with serve(app) as client:
        responses = [await client.get(path) for path in ("/docs", "/redoc", f"{API}/openapi.json")]
        health = await client.get(f"{API}/health")
    for response in responses:
        body = assert_envelope(response, 404, "Not Found")
        assert body["detail"] is None
    assert health.status_code == 200


# --- Middleware ----------------------------------------------------------------


def test_middleware_are_pure_asgi_not_base_http_middleware(app: FastAPI) -> None:
    classes = [middleware.cls for middleware in app.user_middleware]
    assert classes, "the app registers no middleware"
    for cls in classes:
        assert isinstance(cls, type)
        assert not issubclass(cls, BaseHTTPMiddleware), cls


@pytest.mark.parametrize("path", ["/probe/log-async", "/probe/log-sync"])
async def test_request_id_reaches_log_lines_emitted_in_the_endpoint(
    client: httpx.AsyncClient, records: list[dict[str, Any]], path: str
) -> None:
    response = await client.get(path, headers={"X-Request-ID": "ctx-check-1"})
    assert response.status_code == 200
    assert response.json() == {"request_id": "ctx-check-1"}
    endpoint_lines = [r for r in records if r["message"].startswith("probe endpoint log")]
    assert len(endpoint_lines) == 1
    assert endpoint_lines[0]["extra"]["request_id"] == "ctx-check-1"


async def test_request_id_reaches_stdlib_log_lines_emitted_in_the_endpoint(
    client: httpx.AsyncClient, records: list[dict[str, Any]]
) -> None:
    response = await client.get("/probe/log-async")
    assert response.status_code == 200
    stdlib_lines = [r for r in records if r["message"] == "probe stdlib log (async)"]
    assert len(stdlib_lines) == 1
    assert stdlib_lines[0]["extra"]["request_id"] == response.headers["X-Request-ID"]


async def test_request_id_context_is_reset_after_the_request(client: httpx.AsyncClient) -> None:
    response = await client.get("/probe/log-async", headers={"X-Request-ID": "gone-after"})
    assert response.json() == {"request_id": "gone-after"}
    assert get_request_id() == "-"


async def test_error_envelope_matches_the_documented_error_response(
    client: httpx.AsyncClient,
) -> None:
    from app.domain.schemas.common import ErrorResponse

    body = (await client.get("/no/such/route")).json()
    assert set(body) == set(ErrorResponse.model_fields)
    assert ErrorResponse.model_validate(body).status_code == 404


@pytest.mark.parametrize("path", [path for path, _ in DATABASE_DOWN])
async def test_an_unreachable_database_gives_the_503_envelope(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    body = assert_envelope(response, 503, "Service unavailable")
    assert body["detail"] == "The database is unreachable"
