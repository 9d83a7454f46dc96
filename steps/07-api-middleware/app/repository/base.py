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
        return select(self.model).where(self.model.deleted_at.is_(None))

    async def get_by_id(self, entity_id: uuid.UUID) -> ModelT | None:
        """Return the row with this id, or None if it is missing or soft-deleted."""
        result = await self.session.execute(self._live().where(self.model.id == entity_id))
        return result.scalar_one_or_none()

    async def get_all(
        self,
        offset: int = 0,
        limit: int = 20,
        filters: Sequence[ColumnElement[bool]] = (),
        order_by: Sequence[ColumnElement[Any]] = (),
    ) -> tuple[list[ModelT], int]:
        """Return one page of rows matching `filters`, and how many match in all."""
        query = self._live().where(*filters)
        count_query = select(func.count()).select_from(query.subquery())
        total = (await self.session.execute(count_query)).scalar_one()
        # The id breaks ties, so pages never overlap when sort values repeat.
        page_query = query.order_by(*order_by, self.model.id).offset(offset).limit(limit)
        items = (await self.session.execute(page_query)).scalars().all()
        return list(items), total

    async def create(self, entity: ModelT) -> ModelT:
        """Insert `entity`; server defaults are loaded back into it."""
        self.session.add(entity)
        await self.session.flush()
        return entity

    async def update_by_id(self, entity_id: uuid.UUID, values: Mapping[str, Any]) -> ModelT | None:
        """Set the given columns on a live row; return it, or None if there is none."""
        entity = await self.get_by_id(entity_id)
        if entity is None:
            return None
        for name, value in values.items():
            setattr(entity, name, value)
        await self.session.flush()
        return entity

    async def soft_delete(self, entity_id: uuid.UUID) -> bool:
        """Mark a live row as deleted; return whether there was one."""
        return await self.update_by_id(entity_id, {"deleted_at": datetime.now(UTC)}) is not None

    async def hard_delete(self, entity_id: uuid.UUID) -> bool:
        """Remove a row for good, deleted or not; return whether there was one."""
        entity = await self.session.get(self.model, entity_id)
        if entity is None:
            return False
        await self.session.delete(entity)
        await self.session.flush()
        return True
