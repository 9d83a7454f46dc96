"""Application exceptions.

Services raise these; one handler turns any of them into the JSON error envelope
with the right status code, so no layer below the API knows about HTTP responses.
"""

from collections.abc import Mapping
from typing import Any


class AppException(Exception):
    """Base of every error the application reports to its clients."""

    status_code: int = 500
    default_message: str = "An error occurred"

    def __init__(
        self,
        message: str | None = None,
        status_code: int | None = None,
        detail: str | list[Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Keep what the error handler needs to answer with the JSON error envelope.

        `message` defaults to the class's `default_message` and `status_code` to the
        class's `status_code`; `detail` goes into the envelope as it is, and `headers`
        onto the response. The message is also the exception's text (`str(exc)`).
        """
        self.message = message or self.default_message
        self.status_code = status_code or self.status_code
        self.detail = detail
        self.headers = headers
        super().__init__(self.message)


class NotFoundException(AppException):
    """A resource does not exist (or is soft-deleted): 404."""

    status_code = 404

    def __init__(self, resource: str = "Resource", identifier: object | None = None) -> None:
        """Say what was not found: `User not found`, or `User with id '…' not found`."""
        message = f"{resource} not found"
        if identifier is not None:
            message = f"{resource} with id '{identifier}' not found"
        super().__init__(message)


class BadRequestException(AppException):
    """The request is well-formed but not allowed as asked: 400."""

    status_code = 400
    default_message = "Bad request"

    def __init__(self, message: str | None = None, detail: str | None = None) -> None:
        """A 400 with `message` (default `Bad request`) and an optional `detail`."""
        super().__init__(message, detail=detail)


class UnauthorizedException(AppException):
    """Missing or invalid credentials: 401, with the `WWW-Authenticate` challenge."""

    status_code = 401
    default_message = "Could not validate credentials"

    def __init__(self, message: str | None = None) -> None:
        """A 401 with `message`, always with `WWW-Authenticate: Bearer`.

        HTTP requires that header on every 401: it tells the client how to authenticate.
        """
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class ForbiddenException(AppException):
    """Authenticated, but not allowed to do this: 403."""

    status_code = 403
    default_message = "You do not have permission to perform this action"

    def __init__(self, message: str | None = None) -> None:
        """A 403 with `message` (default `default_message`)."""
        super().__init__(message)


class ConflictException(AppException):
    """The request clashes with existing data, e.g. a duplicate email: 409."""

    status_code = 409
    default_message = "Resource already exists"

    def __init__(self, message: str | None = None) -> None:
        """A 409 with `message` (default `default_message`)."""
        super().__init__(message)


class TooManyRequestsException(AppException):
    """Too many attempts: 429, with `Retry-After` saying when to try again."""

    status_code = 429
    default_message = "Too many attempts; try again later"

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        """A 429 with `message`; `retry_after` whole seconds go into `Retry-After`."""
        super().__init__(message, headers={"Retry-After": str(retry_after)})


class ServiceUnavailableException(AppException):
    """A dependency such as the database is unreachable, or the server is saturated: 503."""

    status_code = 503
    default_message = "Service temporarily unavailable"

    def __init__(self, message: str | None = None, *, retry_after: int | None = None) -> None:
        """A 503 with `message` (default `default_message`).

        With `retry_after`, the response says in `Retry-After` how many whole seconds
        to wait: the server is busy, not broken.
        """
        headers = None if retry_after is None else {"Retry-After": str(retry_after)}
        super().__init__(message, headers=headers)
