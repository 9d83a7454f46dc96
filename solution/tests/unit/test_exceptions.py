"""Application exceptions: status codes, messages and headers."""

import pytest

from app.core.exceptions import (
    AppException,
    BadRequestException,
    ConflictException,
    ForbiddenException,
    NotFoundException,
    ServiceUnavailableException,
    UnauthorizedException,
)

SUBCLASSES: list[tuple[type[AppException], int, str]] = [
    (NotFoundException, 404, "Resource not found"),
    (BadRequestException, 400, "Bad request"),
    (UnauthorizedException, 401, "Could not validate credentials"),
    (ForbiddenException, 403, "You do not have permission to perform this action"),
    (ConflictException, 409, "Resource already exists"),
    (ServiceUnavailableException, 503, "Service temporarily unavailable"),
]


@pytest.mark.parametrize(("cls", "status_code", "message"), SUBCLASSES)
def test_exception_default_status_code_and_message(
    cls: type[AppException], status_code: int, message: str
) -> None:
    exc = cls()
    assert isinstance(exc, AppException)
    assert isinstance(exc, Exception)
    assert exc.status_code == status_code
    assert exc.message == message
    assert str(exc) == message
    assert exc.detail is None


@pytest.mark.parametrize(
    "cls",
    [BadRequestException, UnauthorizedException, ForbiddenException, ConflictException],
)
def test_exception_custom_message_keeps_status_code(cls: type[AppException]) -> None:
    exc = cls("Something specific")
    assert exc.message == "Something specific"
    assert exc.status_code == cls.status_code


@pytest.mark.parametrize(("cls", "status_code", "message"), SUBCLASSES)
def test_exception_is_caught_as_app_exception(
    cls: type[AppException], status_code: int, message: str
) -> None:
    with pytest.raises(AppException) as caught:
        raise cls()
    assert caught.value.status_code == status_code


def test_app_exception_defaults_to_500() -> None:
    exc = AppException()
    assert exc.status_code == 500
    assert exc.message == "An error occurred"
    assert exc.detail is None
    assert exc.headers is None


def test_app_exception_takes_message_status_code_detail_and_headers() -> None:
    exc = AppException("I'm a teapot", status_code=418, detail=["brew"], headers={"X-A": "1"})
    assert exc.message == "I'm a teapot"
    assert exc.status_code == 418
    assert exc.detail == ["brew"]
    assert exc.headers == {"X-A": "1"}


def test_custom_status_code_does_not_change_the_class_default() -> None:
    AppException(status_code=418)
    assert AppException.status_code == 500
    assert AppException().status_code == 500


def test_not_found_names_resource_and_identifier() -> None:
    exc = NotFoundException("User", 5)
    assert exc.message == "User with id '5' not found"
    assert exc.status_code == 404


def test_not_found_without_identifier_names_resource() -> None:
    assert NotFoundException("User").message == "User not found"


def test_not_found_with_falsy_identifier_still_names_it() -> None:
    assert NotFoundException("Page", 0).message == "Page with id '0' not found"


def test_unauthorized_carries_bearer_challenge() -> None:
    assert UnauthorizedException().headers == {"WWW-Authenticate": "Bearer"}
    assert UnauthorizedException("Token has expired").headers == {"WWW-Authenticate": "Bearer"}


@pytest.mark.parametrize(
    "exc",
    [NotFoundException(), BadRequestException(), ForbiddenException(), ConflictException()],
)
def test_other_exceptions_carry_no_headers(exc: AppException) -> None:
    assert exc.headers is None


def test_bad_request_carries_detail() -> None:
    exc = BadRequestException("Cannot do that", detail="because")
    assert exc.message == "Cannot do that"
    assert exc.detail == "because"
    assert exc.status_code == 400
