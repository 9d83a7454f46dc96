"""Step 3, D7: the application exceptions (app/core/exceptions.py)."""

from __future__ import annotations

from typing import Any

import pytest

# (class name, status code): the spec fixes these.
SUBCLASSES = [
    ("NotFoundException", 404),
    ("BadRequestException", 400),
    ("UnauthorizedException", 401),
    ("ForbiddenException", 403),
    ("ConflictException", 409),
]


def exceptions_module() -> Any:
    from app.core import exceptions

    return exceptions


@pytest.mark.grade("D7", 2)
def test_app_exception_carries_message_status_code_and_detail() -> None:
    module = exceptions_module()
    app_exception = getattr(module, "AppException", None)
    assert isinstance(app_exception, type) and issubclass(app_exception, Exception), (
        "expected app/core/exceptions.py to define the class AppException(Exception), found none"
    )
    positional = app_exception("I'm a teapot", 418, "brewing")
    keywords = app_exception(message="Gone", status_code=410, detail=["a", "b"])
    found = [(e.message, e.status_code, e.detail) for e in (positional, keywords)]
    expected = [("I'm a teapot", 418, "brewing"), ("Gone", 410, ["a", "b"])]
    assert found == expected, (
        "expected AppException(message, status_code, detail) to keep .message, .status_code "
        f"and .detail, found {found} for {expected}"
    )
    unclassified = app_exception("Something broke").status_code
    assert unclassified == 500, (
        "expected AppException('Something broke'), given no status code, to be a 500 (an "
        f"error nobody classified is the server's), found {unclassified}"
    )


@pytest.mark.grade("D7", 1)
@pytest.mark.parametrize(("name", "status_code"), SUBCLASSES)
def test_exception_subclass_has_its_status_code(name: str, status_code: int) -> None:
    module = exceptions_module()
    cls = getattr(module, name, None)
    assert isinstance(cls, type), f"expected app/core/exceptions.py to define {name}, found none"
    base = getattr(module, "AppException", None)
    assert isinstance(base, type) and issubclass(cls, base), (
        f"expected {name} to derive from AppException, found bases {cls.__mro__[1:-1]}"
    )
    exc = cls("Widget", 7) if name == "NotFoundException" else cls("A specific message")
    assert exc.status_code == status_code, (
        f"expected {name} to have status_code {status_code}, found {exc.status_code}"
    )
    if name != "NotFoundException":
        assert exc.message == "A specific message", (
            f"expected {name}('A specific message').message to be that message, "
            f"found {exc.message!r}"
        )


@pytest.mark.grade("D7", 2)
def test_not_found_message_names_the_resource_and_the_id() -> None:
    module = exceptions_module()
    message = module.NotFoundException("User", 42).message
    assert message == "User with id '42' not found", (
        f"expected NotFoundException('User', 42).message to be \"User with id '42' not found\", "
        f"found {message!r}"
    )


@pytest.mark.grade("D7", 1)
def test_too_many_requests_is_429_with_retry_after() -> None:
    module = exceptions_module()
    cls = getattr(module, "TooManyRequestsException", None)
    assert isinstance(cls, type) and issubclass(cls, module.AppException), (
        "expected app/core/exceptions.py to define TooManyRequestsException(AppException)"
    )
    exc = cls("Slow down", retry_after=42)
    found = (exc.status_code, exc.message, dict(exc.headers or {}))
    assert found == (429, "Slow down", {"Retry-After": "42"}), (
        "expected TooManyRequestsException('Slow down', retry_after=42) to be a 429 with that "
        f"message and the header Retry-After: 42, found {found}"
    )


@pytest.mark.grade("D7", 1)
def test_service_unavailable_is_503_with_an_optional_retry_after() -> None:
    module = exceptions_module()
    cls = getattr(module, "ServiceUnavailableException", None)
    assert isinstance(cls, type) and issubclass(cls, module.AppException), (
        "expected app/core/exceptions.py to define ServiceUnavailableException(AppException)"
    )
    plain, busy = cls("Down"), cls("Busy", retry_after=1)
    found = [(e.status_code, e.message, dict(e.headers or {})) for e in (plain, busy)]
    expected = [(503, "Down", {}), (503, "Busy", {"Retry-After": "1"})]
    assert found == expected, (
        "expected ServiceUnavailableException('Down') to be a 503 without headers and "
        "ServiceUnavailableException('Busy', retry_after=1) one with Retry-After: 1, "
        f"found {found}"
    )
