"""Data access for users."""

import uuid
from typing import Any

from sqlalchemy import ColumnElement, exists, false, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute

from app.domain.models.user import User, UserRole, normalize_email
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

    async def lock_active_admin_ids(self) -> list[uuid.UUID]:
        """Return the ids of the live, active admins, locked until the transaction ends.

        A caller that counts them before taking an admin's rights away holds them still:
        two such transactions run one after the other, and the second one counts what
        the first one left. PostgreSQL locks the rows (`SELECT ... FOR UPDATE`, in id
        order, so two lockers never deadlock); a transaction that waits for them reads
        them again once they are free, and no longer sees an admin demoted meanwhile.
        SQLite has no row locks and SQLAlchemy renders no FOR UPDATE for it, and its
        driver begins a transaction only at the first write: an UPDATE that matches no
        row takes the database's one write lock first, so the next writer waits for
        this transaction to end, then reads what it committed.
        """
        # TODO(step 5): select the ids of live, active admins ordered by id, with_for_update(); on SQLite first run an UPDATE that matches no row, to take the write lock
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
