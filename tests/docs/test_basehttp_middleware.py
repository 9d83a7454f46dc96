"""The step 7 pitfall about `BaseHTTPMiddleware`, checked against the installed Starlette.

What the page claims:
- a context variable set in `dispatch` does reach the endpoint (so the request id
  would reach the endpoint's log lines: that is *not* the problem);
- one the endpoint sets does not flow back out to the middleware, while it does
  through a pure ASGI middleware;
- the endpoint runs in a task of its own, and each request through the middleware
  creates a task group and a memory object stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

VALUE: ContextVar[str] = ContextVar("value", default="-")


class Seen:
    """What the middleware and the endpoint saw of the context and of their task."""

    def __init__(self) -> None:
        self.in_endpoint = ""
        self.after_endpoint = ""
        self.tasks: list[asyncio.Task[Any] | None] = []


class Dispatching(BaseHTTPMiddleware):
    def __init__(self, app: ASGIApp, seen: Seen) -> None:
        super().__init__(app)
        self.seen = seen

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        VALUE.set("set in the middleware")
        self.seen.tasks.append(asyncio.current_task())
        response = await call_next(request)
        self.seen.after_endpoint = VALUE.get()
        return response


class PureASGI:
    def __init__(self, app: ASGIApp, seen: Seen) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        VALUE.set("set in the middleware")
        self.seen.tasks.append(asyncio.current_task())
        await self.app(scope, receive, send)
        self.seen.after_endpoint = VALUE.get()


async def request_through(middleware: type[Dispatching] | type[PureASGI]) -> Seen:
    seen = Seen()

    async def endpoint(request: Request) -> Response:
        seen.in_endpoint = VALUE.get()
        seen.tasks.append(asyncio.current_task())
        VALUE.set("set in the endpoint")
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(middleware, seen=seen)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/")).status_code == 200
    return seen


async def test_basehttpmiddleware_pitfall(monkeypatch: pytest.MonkeyPatch) -> None:
    base = await request_through(Dispatching)
    pure = await request_through(PureASGI)

    assert base.in_endpoint == pure.in_endpoint == "set in the middleware"
    assert base.after_endpoint == "set in the middleware", "nothing flows back out"
    assert pure.after_endpoint == "set in the endpoint"
    assert base.tasks[0] is not base.tasks[1], "the endpoint runs in another task"
    assert pure.tasks[0] is pure.tasks[1]

    made: list[int] = []
    real = anyio.create_memory_object_stream

    class Counting(real):  # type: ignore[valid-type,misc]
        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            made.append(1)
            return real.__new__(real, *args, **kwargs)

    monkeypatch.setattr(anyio, "create_memory_object_stream", Counting)
    await request_through(Dispatching)
    assert made, "a request through BaseHTTPMiddleware makes a memory object stream"
    made.clear()
    await request_through(PureASGI)
    assert not made
