"""Data access for users."""

from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from app.domain.models.user import User, normalize_email
from app.domain.schemas.common import SortField, SortOrder
from app.repository.base import BaseRepository
from app.utils.pagination import escape_like, page_offset

# The only columns a client may sort by (see PaginationParams.sort_by).
SORTABLE_COLUMNS: dict[str, InstrumentedAttribute[Any]] = {
    "created_at": User.created_at,
    "updated_at": User.updated_at,
    "email": User.email,
    "full_name": User.full_name,
    "role": User.role,
}


class UserRepository(BaseRepository[User]):
    """Reads and writes `users`; emails are compared as `normalize_email` spells them."""

    model = User

    async def get_by_email(self, email: str) -> User | None:
        """Return the live user with this email, in any case or Unicode width.

        The email is normalised here, not by the caller: login's `username` is a plain
        form field that no schema normalised.
        """
        # TODO(step 5): compare func.lower(User.email) with normalize_email(email): login's username reaches here as it was typed
        raise NotImplementedError

    async def email_exists(self, email: str) -> bool:
        """Return whether a live user already has this email, in any case or Unicode width."""
        # TODO(step 5): implement this function (see its docstring)
        raise NotImplementedError

    async def get_users(
        self,
        page: int = 1,
        limit: int = 20,
        search: str | None = None,
        sort_by: SortField = "created_at",
        sort_order: SortOrder = "desc",
    ) -> tuple[list[User], int]:
        """Return one page of users and the total, optionally searched and sorted."""
        # TODO(step 5): search name and email with ilike (escape % and _), sort by a whitelisted column, page with page_offset
        raise NotImplementedError
