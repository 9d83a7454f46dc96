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
        # TODO(step 7): implement this function (see its docstring)
        raise NotImplementedError
