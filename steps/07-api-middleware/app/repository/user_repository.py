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
        # lower(email) is what the unique index holds, so the lookup can use it.
        result = await self.session.execute(
            self._live().where(func.lower(User.email) == normalize_email(email))
        )
        return result.scalar_one_or_none()

    async def email_exists(self, email: str) -> bool:
        """Return whether a live user already has this email, in any case or Unicode width."""
        query = select(
            exists().where(
                func.lower(User.email) == normalize_email(email), User.deleted_at.is_(None)
            )
        )
        return bool((await self.session.execute(query)).scalar())

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
        if self.session.get_bind().dialect.name == "sqlite":
            await self.session.execute(
                update(User).where(false()).values(role=User.role),
                execution_options={"synchronize_session": False},
            )
        query = (
            select(User.id)
            .where(
                User.role == UserRole.ADMIN.value,
                User.is_active.is_(True),
                User.deleted_at.is_(None),
            )
            .order_by(User.id)
            .with_for_update()
        )
        return list((await self.session.execute(query)).scalars())

    async def get_users(
        self,
        page: int = 1,
        limit: int = 20,
        search: str | None = None,
        sort_by: SortField = "created_at",
        sort_order: SortOrder = "desc",
    ) -> tuple[list[User], int]:
        """Return one page of users and the total, optionally searched and sorted."""
        if sort_by not in SORTABLE_COLUMNS:
            raise ValueError(f"cannot sort users by {sort_by!r}")
        filters: list[ColumnElement[bool]] = []
        if search:
            pattern = f"%{escape_like(search)}%"
            filters.append(
                or_(
                    User.full_name.ilike(pattern, escape="\\"),
                    User.email.ilike(pattern, escape="\\"),
                )
            )
        column = SORTABLE_COLUMNS[sort_by]
        order = column.asc() if sort_order == "asc" else column.desc()
        return await self.get_all(
            offset=page_offset(page, limit), limit=limit, filters=filters, order_by=[order]
        )
