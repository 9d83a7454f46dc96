"""A generic repository: the CRUD every model needs, with soft deletion built in."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.models.base import BaseModel

ModelT = TypeVar("ModelT", bound=BaseModel)


class BaseRepository(Generic[ModelT]):
    """Data access for one model.

    Every read skips soft-deleted rows. Writes flush, so database errors surface
    here, but never commit: the unit of work (the request) decides that.
    """

    model: type[ModelT]

    def __init__(self, session: AsyncSession, model: type[ModelT] | None = None) -> None:
        self.session = session
        if model is not None:
            self.model = model

    def _live(self) -> Select[ModelT]:
        """SELECT of the rows that are not soft-deleted."""
        not_deleted = self.model.deleted_at.is_(None)
        stmt: Select[ModelT] = select(self.model).filter(not_deleted)
        return stmt

    async def get_by_id(self, entity_id: uuid.UUID) -> ModelT | None:
        """Return the row with this id, or None if it is missing or soft-deleted."""
        stmt = self._live().filter(self.model.id == entity_id)
        return await self.session.scalar(stmt)

    async def get_all(
        self,
        offset: int = 0,
        limit: int = 20,
        filters: Sequence[ColumnElement[bool]] = (),
        order_by: Sequence[ColumnElement[Any]] = (),
    ) -> tuple[list[ModelT], int]:
        """Return one page of rows matching `filters`, and how many match in all."""
        base_stmt = self._live()
        for condition in filters:
            base_stmt = base_stmt.filter(condition)

        # Count over the filtered query as a subquery, before paging.
        count_stmt = select(func.count()).select_from(base_stmt.subquery())
        total = int(await self.session.scalar(count_stmt) or 0)

        # A unique column last, so rows with equal sort values keep a stable order
        # and no row shows up on two pages.
        ordering = [*order_by, self.model.id]
        page_stmt = base_stmt.order_by(*ordering).limit(limit).offset(offset)
        rows = await self.session.scalars(page_stmt)
        return list(rows), total

    async def create(self, entity: ModelT) -> ModelT:
        """Insert `entity`; server defaults are loaded back into it."""
        session = self.session
        session.add(entity)
        # flush, not commit: the INSERT runs now (and fails now on a constraint),
        # the request's unit of work commits later.
        await session.flush()
        return entity

    async def update_by_id(self, entity_id: uuid.UUID, values: Mapping[str, Any]) -> ModelT | None:
        """Set the given columns on a live row; return it, or None if there is none."""
        current = await self.get_by_id(entity_id)
        if current is not None:
            for column_name in values:
                setattr(current, column_name, values[column_name])
            await self.session.flush()
        return current

    async def soft_delete(self, entity_id: uuid.UUID) -> bool:
        """Mark a live row as deleted; return whether there was one."""
        target = await self.get_by_id(entity_id)
        if target is None:
            return False
        target.deleted_at = datetime.now(UTC)
        await self.session.flush()
        return True

    async def hard_delete(self, entity_id: uuid.UUID) -> bool:
        """Remove a row for good, deleted or not; return whether there was one."""
        # session.get does not go through _live(): a soft-deleted row can be purged too.
        doomed = await self.session.get(self.model, entity_id)
        found = doomed is not None
        if found:
            await self.session.delete(doomed)
            await self.session.flush()
        return found
