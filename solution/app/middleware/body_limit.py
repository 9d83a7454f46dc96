"""Refuse a request body larger than MAX_REQUEST_BODY_BYTES with 413, without reading it whole.

Two ways a body arrives, two checks. A declared `Content-Length` over the limit is
refused before the app runs: not one byte is read. A body without one (chunked, or
streamed by an HTTP/2 client) is counted as the app reads it, and refused as soon as
the count crosses the limit: the rest is never read, so no body ever costs more
memory than the limit.

Pure ASGI, like the request id: it wraps `receive` and needs no task of its own.
"""

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.middleware.error_handler import error_response


def too_large_message(limit: int) -> str:
    """The envelope's message for a refused body: it says what the limit is."""
    return f"Request body too large: the limit is {limit} bytes"


class RequestBodyTooLarge(HTTPException):
    """Raised by `receive` when a streamed body crosses the limit.

    An `HTTPException`, because FastAPI turns any other exception raised while it
    reads a body into a 400 "There was an error parsing the body"; an
    `HTTPException` it raises again, so the app's handler answers it in the envelope.
    Raised outside a FastAPI route (a plain ASGI app reading the body), it reaches
    `BodyLimitMiddleware`, which answers the same envelope itself.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large_message(limit))


def declared_length(scope: Scope) -> int | None:
    """The request's `Content-Length` as a number, or None when absent or not a number."""
    value = Headers(scope=scope).get("content-length")
    if value is None or not value.strip().isdigit():
        return None  # the server rejects a malformed length; counting still applies
    return int(value)


class BodyLimitMiddleware:
    """Answers 413 for a body over `max_body_bytes`: declared, or counted as it streams."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        length = declared_length(scope)
        if length is not None and length > limit:
            await refuse(limit, scope, receive, send)
            return

        received = 0
        response_started = False

        async def receive_counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestBodyTooLarge(limit)
            return message

        async def send_and_track(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive_counted, send_and_track)
        except RequestBodyTooLarge:
            if response_started:  # the app answered while still reading: too late
                raise
            await refuse(limit, scope, receive, send)


async def refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer 413 in the error envelope, as the app's handler answers `RequestBodyTooLarge`."""
    response = error_response(413, too_large_message(limit))
    await response(scope, receive, send)
