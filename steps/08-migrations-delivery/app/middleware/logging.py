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
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status_code = 500  # what the client gets if the app fails before answering

        async def send_and_record(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            duration_ms = round((time.perf_counter() - start) * 1000, 2)
            # Loguru adds the keyword arguments to the record's `extra`, so JSON
            # lines carry them as fields.
            logger.info(
                "{method} {path} {status_code} {duration_ms}ms",
                method=scope["method"],
                path=scope["path"],
                status_code=status_code,
                duration_ms=duration_ms,
            )
