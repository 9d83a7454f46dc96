"""Every error becomes one JSON envelope: message, detail, status_code.

Handlers cover the application's own exceptions, Starlette's HTTP errors (404
for an unknown route, 405) and validation errors (422); a last middleware turns
anything unexpected into a 500 without leaking the exception's text.
"""

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from loguru import logger
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.exceptions import AppException

# The database cannot be reached: refused or dropped connections (asyncpg raises
# ConnectionError subclasses before SQLAlchemy wraps anything), a driver-level
# operational or interface error, or a timeout waiting for it or for the pool. The
# request may succeed later, so it is a 503, not the catch-all 500.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    ConnectionError,
    TimeoutError,
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
)

# What a validation error may show of itself. Pydantic also reports the rejected
# `input`, which can be a password, and a `ctx` that may hold an exception.
VALIDATION_ERROR_KEYS = ("loc", "msg", "type")


def error_response(
    status_code: int,
    message: str,
    detail: str | list[Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """Build the JSON error envelope (documented for clients as `ErrorResponse`)."""
    envelope: dict[str, Any] = {
        "status_code": status_code,
        "message": message,
        "detail": detail,
        # TODO(step 7): add "request_id" (see app/middleware/request_id.py).
    }
    return JSONResponse(content=envelope, status_code=status_code, headers=headers)


async def app_exception_handler(_request: Request, exc: AppException) -> JSONResponse:
    """Answer an `AppException` raised anywhere below the API."""
    return error_response(
        status_code=exc.status_code,
        message=exc.message,
        detail=exc.detail,
        headers=exc.headers,
    )


async def http_exception_handler(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Answer Starlette's HTTP errors, such as 404 for an unknown route and 405."""
    # A 405 carries an `Allow` header that the client should still get.
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))


async def validation_exception_handler(
    _request: Request, exc: RequestValidationError
) -> JSONResponse:
    """Answer a request that failed validation, without echoing the rejected input."""
    problems: list[dict[str, Any]] = []
    for error in exc.errors():
        problem: dict[str, Any] = {}
        for key in VALIDATION_ERROR_KEYS:
            if key in error:
                problem[key] = error[key]
        problems.append(problem)
    return error_response(422, "Request validation failed", detail=problems)


async def database_unavailable_handler(_request: Request, exc: Exception) -> JSONResponse:
    """Answer 503 when the database is unreachable; the details go to the log only."""
    logger.error("The database is unreachable ({})", exc.__class__.__name__)
    return error_response(
        503, "Service temporarily unavailable", detail="The database cannot be reached"
    )


class UnhandledErrorMiddleware:
    """Turns an unexpected exception into a 500 envelope and logs its traceback.

    It sits inside the request-id and logging middleware, so even a crash gets a
    request id and a log line.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app: ASGIApp = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] == "http":
            await self._guarded_http(scope, receive, send)
        else:  # lifespan and websocket messages pass straight through
            await self.app(scope, receive, send)

    async def _guarded_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers_sent = False

        async def watching_send(message: Message) -> None:
            nonlocal headers_sent
            if message["type"] == "http.response.start":
                headers_sent = True
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        except Exception:
            logger.exception("Unhandled error while serving {}", scope.get("path", "?"))
            if headers_sent:
                # Part of the response is already out: all we can do is let the
                # server drop the connection.
                raise
            fallback = error_response(500, "Internal server error")
            await fallback(scope, receive, send)


def register_exception_handlers(app: FastAPI) -> None:
    """Install the handlers and the catch-all middleware on `app`."""
    handlers: list[tuple[type[Exception], Callable[..., Any]]] = [
        (AppException, app_exception_handler),
        (StarletteHTTPException, http_exception_handler),
        (RequestValidationError, validation_exception_handler),
    ]
    for error_type in DATABASE_UNAVAILABLE:
        handlers.append((error_type, database_unavailable_handler))
    for error_type, handler in handlers:
        app.add_exception_handler(error_type, handler)
    app.add_middleware(UnhandledErrorMiddleware)
