"""Every error becomes one JSON envelope: message, detail, status_code.

Handlers cover the application's own exceptions, Starlette's HTTP errors (404
for an unknown route, 405) and validation errors (422); a last middleware turns
anything unexpected into a 500 without leaking the exception's text.
"""

from collections.abc import Mapping
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
    body = {
        "message": message,
        "detail": detail,
        "status_code": status_code,
    }
    return JSONResponse(body, status_code=status_code, headers=headers)


async def app_exception_handler(_request: Request, exc: AppException) -> JSONResponse:
    """Answer an `AppException` raised anywhere below the API."""
    return error_response(exc.status_code, exc.message, exc.detail, exc.headers)


async def http_exception_handler(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Answer Starlette's HTTP errors, such as 404 for an unknown route and 405."""
    return error_response(exc.status_code, str(exc.detail), None, exc.headers)


async def validation_exception_handler(
    _request: Request, exc: RequestValidationError
) -> JSONResponse:
    """Answer a request that failed validation, without echoing the rejected input."""
    detail = [
        {key: error[key] for key in VALIDATION_ERROR_KEYS if key in error} for error in exc.errors()
    ]
    return error_response(422, "Validation error", detail)


async def database_unavailable_handler(_request: Request, exc: Exception) -> JSONResponse:
    """Answer 503 when the database is unreachable; the details go to the log only."""
    logger.warning("Database unavailable: {}", type(exc).__name__)
    return error_response(503, "Service unavailable", "The database is unreachable")


class UnhandledErrorMiddleware:
    """Turns an unexpected exception into a 500 envelope and logs its traceback.

    It sits inside the request-id and logging middleware, so even a crash gets a
    request id and a log line.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def send_and_track(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, send_and_track)
        except Exception:
            logger.exception("Unhandled error")
            if response_started:  # too late to answer; let the server close it
                raise
            response = error_response(500, "Internal server error")
            await response(scope, receive, send)


def register_exception_handlers(app: FastAPI) -> None:
    """Install the handlers and the catch-all middleware on `app`."""
    app.exception_handler(AppException)(app_exception_handler)
    app.exception_handler(StarletteHTTPException)(http_exception_handler)
    app.exception_handler(RequestValidationError)(validation_exception_handler)
    for exception in DATABASE_UNAVAILABLE:
        app.exception_handler(exception)(database_unavailable_handler)
    app.add_middleware(UnhandledErrorMiddleware)
