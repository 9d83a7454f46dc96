"""Data access for users."""

import uuid
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select, text
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
    """Reads and writes `users`; emails are compared lower-cased."""

    model = User

    async def get_by_email(self, email: str) -> User | None:
        """Return the live user with this email, ignoring case."""
        wanted = normalize_email(email)
        stmt = self._live().filter(func.lower(User.email) == wanted)
        return await self.session.scalar(stmt)

    async def email_exists(self, email: str) -> bool:
        """Return whether a live user already has this email, ignoring case."""
        wanted = normalize_email(email)
        condition = exists().where(
            User.deleted_at.is_(None),
            func.lower(User.email) == wanted,
        )
        answer = await self.session.scalar(select(condition))
        return bool(answer)

    async def lock_active_admin_ids(self) -> list[uuid.UUID]:
        """Ids of the live, active admins, locked until this transaction ends."""
        if self.session.get_bind().dialect.name == "sqlite":
            # No row locks in SQLite (FOR UPDATE is dropped): a write that changes
            # nothing takes the one write lock, so other writers queue behind us.
            await self.session.execute(text("UPDATE users SET id = id WHERE 1 = 0"))
        stmt = (
            select(User.id)
            .where(User.role == "admin", User.is_active, User.deleted_at.is_(None))
            .order_by(User.id)
            .with_for_update()
        )
        return list(await self.session.scalars(stmt))

    async def get_users(
        self,
        page: int = 1,
        limit: int = 20,
        search: str | None = None,
        sort_by: SortField = "created_at",
        sort_order: SortOrder = "desc",
    ) -> tuple[list[User], int]:
        """Return one page of users and the total, optionally searched and sorted."""
        # The schema already restricts sort_by; check again, since not every
        # caller goes through the schema.
        sort_column = SORTABLE_COLUMNS.get(sort_by)
        if sort_column is None:
            raise ValueError(f"sorting users by {sort_by!r} is not allowed")
        if sort_order == "asc":
            ordering: ColumnElement[Any] = sort_column.asc()
        else:
            ordering = sort_column.desc()

        conditions: list[ColumnElement[bool]] = []
        if search is not None and search != "":
            like_pattern = "%" + escape_like(search) + "%"
            conditions.append(
                or_(
                    User.email.ilike(like_pattern, escape="\\"),
                    User.full_name.ilike(like_pattern, escape="\\"),
                )
            )

        skip = page_offset(page, limit)
        return await self.get_all(offset=skip, limit=limit, filters=conditions, order_by=[ordering])
