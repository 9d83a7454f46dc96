"""Schemas used across resources: pagination, messages, errors."""

from typing import Any, Literal

from pydantic import Field

from app.domain.schemas.base import BaseSchema

SortField = Literal["created_at", "updated_at", "email", "full_name", "role"]
SortOrder = Literal["asc", "desc"]
# The offset, (page - 1) * limit, must fit the 64-bit integer SQLite and PostgreSQL
# bind: an unbounded page number made GET /users?page=10**20 a 500. A million pages
# of 100 is far beyond any listing this API serves.
MAX_PAGE = 1_000_000


class PaginationParams(BaseSchema):
    """Query parameters of a list endpoint.

    `sort_by` is a whitelist: sorting by any column a client names would let
    them probe columns such as `password_hash` one comparison at a time.
    """

    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="Page number, from 1.")
    limit: int = Field(default=20, ge=1, le=100, description="Items per page, 1 to 100.")
    search: str | None = Field(
        default=None, max_length=100, description="Case-insensitive substring of name or email."
    )
    sort_by: SortField = "created_at"
    sort_order: SortOrder = "desc"


class MessageResponse(BaseSchema):
    """A plain confirmation."""

    message: str
    success: bool = True


class ErrorResponse(BaseSchema):
    """The one JSON shape of every error response."""

    message: str
    detail: str | list[Any] | None = None
    status_code: int
    request_id: str
