"""Give every request an id: echoed back, logged with every line, and in every error body.

Written as a pure ASGI middleware: `BaseHTTPMiddleware` runs the rest of the app
in a task of its own and streams the response back through a memory channel, so
nothing the app sets in its context flows back out, and each request pays for
that task and stream.
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
    # TODO(step 7): implement this function (see its docstring)
    raise NotImplementedError


def choose_request_id(incoming: str | None) -> str:
    """Keep a valid incoming id; otherwise make a new one, `str(uuid.uuid4())`.

    A new id is a UUID4 in its canonical 36-character form (lowercase hex digits in
    groups of 8-4-4-4-12, joined by hyphens), never another spelling of it such as
    `uuid4().hex`: one form in every header, envelope and log line, so one search
    finds a request everywhere; and it passes `VALID_REQUEST_ID`, so a client may
    send it back.
    """
    # TODO(step 7): implement this function (see its docstring)
    raise NotImplementedError


def client_host(scope: Scope) -> str | None:
    """Return the client's address from the ASGI scope (None if the server gives none).

    Behind a proxy this is the proxy's address, unless the server is told to trust
    its forwarded headers (uvicorn: --proxy-headers with --forwarded-allow-ips).
    """
    # TODO(step 7): scope.get("client") is (host, port) or None
    raise NotImplementedError


class RequestIDMiddleware:
    """Sets the request id (and the client's address, for security events) for the
    request's context and adds the id to the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        # TODO(step 7): choose the id, put it in scope["state"], set _request_id, and run the app inside logger.contextualize(request_id=...) and client_address(client_host(scope)), adding the header in a wrapped send
        raise NotImplementedError
