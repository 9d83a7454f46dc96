"""Application exceptions.

Services raise these; one handler turns any of them into the JSON error envelope
with the right status code, so no layer below the API knows about HTTP responses.
"""

from collections.abc import Mapping
from typing import Any

# The challenge a 401 must carry (RFC 6750): the client should send a bearer token.
BEARER_CHALLENGE: Mapping[str, str] = {"WWW-Authenticate": "Bearer"}


class AppException(Exception):
    """Base of every error the application reports to its clients."""

    status_code: int = 500
    default_message: str = "An error occurred"

    message: str
    detail: str | list[Any] | None
    headers: dict[str, str] | None

    def __init__(
        self,
        message: str | None = None,
        status_code: int | None = None,
        detail: str | list[Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        text = self.default_message if message is None else message
        super().__init__(text)
        self.message = text
        if status_code is not None:
            self.status_code = status_code  # otherwise the class attribute applies
        self.detail = detail
        self.headers = None if headers is None else dict(headers)


class NotFoundException(AppException):
    """A resource does not exist (or is soft-deleted): 404."""

    status_code = 404

    def __init__(self, resource: str = "Resource", identifier: object | None = None) -> None:
        if identifier is None:
            text = f"{resource} not found"
        else:
            text = f"{resource} with id '{identifier}' not found"
        super().__init__(message=text)


class BadRequestException(AppException):
    """The request is well-formed but not allowed as asked: 400."""

    status_code = 400
    default_message = "Bad request"

    def __init__(self, message: str | None = None, detail: str | None = None) -> None:
        super().__init__(message=message, detail=detail)


class UnauthorizedException(AppException):
    """Missing or invalid credentials: 401, with the `WWW-Authenticate` challenge."""

    status_code = 401
    default_message = "Could not validate credentials"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message=message, headers=BEARER_CHALLENGE)


class ForbiddenException(AppException):
    """Authenticated, but not allowed to do this: 403."""

    status_code = 403
    default_message = "You do not have permission to perform this action"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message=message)


class ConflictException(AppException):
    """The request clashes with existing data, e.g. a duplicate email: 409."""

    status_code = 409
    default_message = "Resource already exists"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message=message)


class TooManyRequestsException(AppException):
    """Slow down: 429, and `Retry-After` says for how long."""

    status_code = 429
    default_message = "Too many attempts; try again later"

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        super().__init__(message=message, headers={"Retry-After": f"{retry_after}"})


class ServiceUnavailableException(AppException):
    """A dependency such as the database is unreachable, or we are too busy: 503."""

    status_code = 503
    default_message = "Service temporarily unavailable"

    def __init__(self, message: str | None = None, *, retry_after: int | None = None) -> None:
        extra = {"Retry-After": f"{retry_after}"} if retry_after is not None else None
        super().__init__(message=message, headers=extra)
