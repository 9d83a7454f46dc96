"""One log line per request: method, path, status and duration."""

import time

from loguru import logger
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestLoggingMiddleware:
    """Logs each HTTP request once it is answered (pure ASGI, like the request id).

    Only the path is logged, never the query string, headers or body, which may
    carry passwords or tokens.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] == "http":
            await self._handle_http(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _handle_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        # If the app raises before it starts a response, the client gets a 500
        # from the error middleware further out: log it as such.
        seen: dict[str, int] = {"status": 500}
        started_at = time.perf_counter()

        async def remember_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, remember_status)
        finally:
            elapsed_ms = (time.perf_counter() - started_at) * 1000
            method: str = scope["method"]
            path: str = scope["path"]
            # The keyword arguments land in the record's `extra`, so JSON logs get
            # them as separate fields.
            logger.info(
                "{method} {path} -> {status_code} in {duration_ms:.1f}ms",
                method=method,
                path=path,
                status_code=seen["status"],
                duration_ms=round(elapsed_ms, 2),
            )
