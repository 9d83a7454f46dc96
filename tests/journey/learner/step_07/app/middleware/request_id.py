"""Give every request an id: echoed back, logged with every line, and in every error body.

Written as a pure ASGI middleware: `BaseHTTPMiddleware` runs the endpoint in
another task, so context variables set here (Loguru's context included) would
not reach it, and it costs a large share of throughput.
"""

import re
import uuid
from contextvars import ContextVar

from loguru import logger
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.security_events import client_address

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is trusted only if it is short and plain: it ends up in logs.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

_request_id: ContextVar[str] = ContextVar("request_id", default="-")


def get_request_id() -> str:
    """Return the id of the request being handled ("-" outside a request)."""
    return _request_id.get("-")


def choose_request_id(incoming: str | None) -> str:
    """Keep a valid incoming id; otherwise make a new UUID4."""
    if not incoming or VALID_REQUEST_ID.fullmatch(incoming) is None:
        return str(uuid.uuid4())
    return incoming


def client_host(scope: Scope) -> str | None:
    """Return the client's address from the ASGI scope (None if the server gives none)."""
    peer = scope.get("client")
    if peer is None:
        return None
    host, _port = peer
    return str(host)


class RequestIDMiddleware:
    """Sets the request id for the request's context and adds it to the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            # Lifespan events and websockets pass through untouched.
            await self.app(scope, receive, send)
            return

        headers = Headers(scope=scope)
        request_id = choose_request_id(headers.get(REQUEST_ID_HEADER))
        # Also on request.state, for code that has the request at hand.
        state = scope.setdefault("state", {})
        state["request_id"] = request_id

        async def send_with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers.append(REQUEST_ID_HEADER, request_id)
            await send(message)

        reset_token = _request_id.set(request_id)
        with logger.contextualize(request_id=request_id), client_address(client_host(scope)):
            try:
                await self.app(scope, receive, send_with_request_id)
            finally:
                _request_id.reset(reset_token)
