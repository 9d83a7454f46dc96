"""Schemas used across resources: pagination, messages, errors."""

from typing import Any, Literal

from pydantic import Field, field_validator

from app.domain.schemas.base import BaseSchema

# Columns a list may be sorted by. Never sort by a column the client names freely:
# ordering by password_hash would leak it bit by bit.
SortField = Literal["created_at", "updated_at", "email", "full_name", "role"]
SortOrder = Literal["asc", "desc"]

# Keeps the OFFSET, (page - 1) * limit, well inside a 64-bit integer.
MAX_PAGE_NUMBER = 100_000
MAX_PAGE_SIZE = 100


class PaginationParams(BaseSchema):
    """Query parameters of list endpoints: paging, search and ordering."""

    page: int = Field(1, ge=1, le=MAX_PAGE_NUMBER, description="Page number, starting at 1")
    limit: int = Field(20, ge=1, le=MAX_PAGE_SIZE, description="Items per page (1-100)")
    search: str | None = Field(
        None, max_length=100, description="Case-insensitive text to look for in name or email"
    )
    sort_by: SortField = Field("created_at", description="Column to sort by")
    sort_order: SortOrder = Field("desc", description="asc or desc")

    @field_validator("search")
    @classmethod
    def _empty_search_is_no_search(cls, value: str | None) -> str | None:
        if value == "":
            return None
        return value


class MessageResponse(BaseSchema):
    """A short confirmation, e.g. after a deletion."""

    message: str
    success: bool = True


class ErrorResponse(BaseSchema):
    """The JSON body of every error response."""

    message: str
    detail: str | list[Any] | None = None
    status_code: int
    request_id: str | None = None
