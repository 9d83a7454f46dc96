"""The request body limit, the security headers, HSTS and `Cache-Control: no-store`."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from app.core.config import Settings
from app.core.database import DatabaseManager
from app.main import create_app
from app.middleware.body_limit import BodyLimitMiddleware, too_large_message
from app.middleware.security_headers import HSTS_HEADER, SECURITY_HEADERS
from tests.conftest import API, TestUser, assert_error, serve

LIMIT = 1024  # a small limit keeps the bodies of these tests small
ECHO = "/probe/echo-length"
CRASH = "/probe/crash"


def add_probe_routes(app: FastAPI) -> None:
    async def echo_length(request: Request) -> dict[str, int]:
        return {"length": len(await request.body())}

    async def crash() -> None:
        raise RuntimeError("probe crash")

    app.add_api_route(ECHO, echo_length, methods=["POST"])
    app.add_api_route(CRASH, crash, methods=["GET"])


def small_limit_app(database: DatabaseManager, **settings: Any) -> FastAPI:
    app = create_app(
        Settings(_env_file=None, MAX_REQUEST_BODY_BYTES=LIMIT, **settings),  # type: ignore[call-arg]
        database=database,
    )
    add_probe_routes(app)
    return app


@pytest.fixture
async def limited(database: DatabaseManager) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the app with a 1 KiB body limit and the probe routes."""
    async with serve(small_limit_app(database)) as http:
        yield http


class Chunks:
    """A request body sent in chunks, with no Content-Length; counts what was read."""

    def __init__(self, size: int, count: int) -> None:
        self.size = size
        self.count = count
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            self.sent += 1
            yield b"x" * self.size


def test_the_limit_is_one_mebibyte_by_default() -> None:
    assert Settings(_env_file=None).MAX_REQUEST_BODY_BYTES == 1048576  # type: ignore[call-arg]


async def test_a_body_of_exactly_the_limit_is_accepted(limited: httpx.AsyncClient) -> None:
    declared = await limited.post(ECHO, content=b"x" * LIMIT)
    assert declared.json() == {"length": LIMIT}
    streamed = await limited.post(ECHO, content=Chunks(LIMIT // 4, 4))
    assert "content-length" not in streamed.request.headers
    assert streamed.json() == {"length": LIMIT}


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    limited: httpx.AsyncClient,
) -> None:
    body = Chunks(LIMIT, 2)
    response = await limited.post(ECHO, content=body, headers={"Content-Length": str(2 * LIMIT)})
    assert_error(response, 413, too_large_message(LIMIT))
    assert body.sent == 0  # not one chunk was read


async def test_a_streamed_body_is_refused_once_it_crosses_the_limit(
    limited: httpx.AsyncClient,
) -> None:
    body = Chunks(256, 100)
    response = await limited.post(ECHO, content=body)
    assert_error(response, 413, too_large_message(LIMIT))
    assert body.sent == LIMIT // 256 + 1  # the chunk that crossed it was the last read


async def test_a_streamed_body_over_the_limit_to_a_json_route_is_413_not_400(
    limited: httpx.AsyncClient,
) -> None:
    # FastAPI turns most exceptions raised while it reads a body into a 400.
    response = await limited.post(
        f"{API}/auth/register",
        content=Chunks(512, 10),
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 413, too_large_message(LIMIT))


async def test_the_default_limit_refuses_one_byte_more_than_a_mebibyte(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(f"{API}/auth/register", content=b" " * (1048576 + 1))
    assert_error(response, 413, too_large_message(1048576))


async def test_a_413_carries_the_cors_and_security_headers(limited: httpx.AsyncClient) -> None:
    origin = "http://localhost:3000"
    response = await limited.post(ECHO, content=b"x" * (LIMIT + 1), headers={"Origin": origin})
    assert_error(response, 413)
    assert response.headers["access-control-allow-origin"] == origin
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value


async def test_the_middleware_answers_a_plain_asgi_app_that_reads_too_much() -> None:
    async def reads_everything(scope: Any, receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        raise AssertionError("the body limit let it read everything")

    middleware = BodyLimitMiddleware(reads_everything, max_body_bytes=10)
    transport = httpx.ASGITransport(app=middleware)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post("/", content=Chunks(4, 10))
    assert response.status_code == 413
    assert response.json()["message"] == too_large_message(10)


def responses_to_check() -> list[tuple[str, str, dict[str, Any]]]:
    """One request of every kind of answer: (method, path, httpx keyword arguments)."""
    preflight = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"}
    refused = {"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"}
    return [
        ("GET", f"{API}/health", {}),
        ("GET", f"{API}/no-such-route", {}),
        ("DELETE", f"{API}/health", {}),
        ("POST", f"{API}/auth/register", {"json": {}}),
        ("GET", f"{API}/users/me", {}),
        ("GET", CRASH, {}),
        ("POST", ECHO, {"content": b"x" * (LIMIT + 1)}),
        ("OPTIONS", f"{API}/health", {"headers": preflight}),
        ("OPTIONS", f"{API}/health", {"headers": refused}),
    ]


async def test_every_response_carries_the_security_headers(database: DatabaseManager) -> None:
    async with serve(small_limit_app(database)) as http:
        statuses = []
        for method, path, kwargs in responses_to_check():
            response = await http.request(method, path, **kwargs)
            statuses.append(response.status_code)
            for name, value in SECURITY_HEADERS.items():
                assert response.headers.get(name) == value, (method, path, name)
            assert HSTS_HEADER[0] not in response.headers  # off by default
    assert statuses == [200, 404, 405, 422, 401, 500, 413, 200, 400]


async def test_hsts_on_every_response_when_enabled(database: DatabaseManager) -> None:
    async with serve(small_limit_app(database, HSTS_ENABLED=True)) as http:
        for method, path, kwargs in responses_to_check():
            response = await http.request(method, path, **kwargs)
            assert response.headers.get("Strict-Transport-Security") == (
                "max-age=63072000; includeSubDomains"
            ), (method, path)


async def test_login_and_refresh_answer_no_store(client: httpx.AsyncClient, user: TestUser) -> None:
    login = await client.post(
        f"{API}/auth/login", data={"username": user.email, "password": user.password}
    )
    assert login.status_code == 200
    assert login.headers["Cache-Control"] == "no-store"
    refresh = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": login.json()["refresh_token"]}
    )
    assert refresh.status_code == 200
    assert refresh.headers["Cache-Control"] == "no-store"
    me = await client.get(f"{API}/users/me", headers=user.headers)
    assert "no-store" not in me.headers.get("Cache-Control", "")


def test_every_auth_route_depends_on_no_store() -> None:
    from fastapi.routing import APIRoute

    from app.api.v1.auth_router import no_store, router

    routes = [route for route in router.routes if isinstance(route, APIRoute)]
    assert routes
    for route in routes:
        assert no_store in [dependency.call for dependency in route.dependant.dependencies]
