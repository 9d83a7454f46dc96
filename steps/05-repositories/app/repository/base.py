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
        # TODO(step 5): implement this function (see its docstring)
        raise NotImplementedError

    async def get_by_id(self, entity_id: uuid.UUID) -> ModelT | None:
        """Return the row with this id, or None if it is missing or soft-deleted."""
        # TODO(step 5): implement this function (see its docstring)
        raise NotImplementedError

    async def get_all(
        self,
        offset: int = 0,
        limit: int = 20,
        filters: Sequence[ColumnElement[bool]] = (),
        order_by: Sequence[ColumnElement[Any]] = (),
    ) -> tuple[list[ModelT], int]:
        """Return one page of rows matching `filters`, and how many match in all."""
        # TODO(step 5): implement this function (see its docstring)
        raise NotImplementedError

    async def create(self, entity: ModelT) -> ModelT:
        """Insert `entity`; server defaults are loaded back into it."""
        # TODO(step 5): implement this function (see its docstring)
        raise NotImplementedError

    async def update_by_id(self, entity_id: uuid.UUID, values: Mapping[str, Any]) -> ModelT | None:
        """Set the given columns on a live row; return it, or None if there is none."""
        # TODO(step 5): implement this function (see its docstring)
        raise NotImplementedError

    async def soft_delete(self, entity_id: uuid.UUID) -> bool:
        """Mark a live row as deleted; return whether there was one."""
        # TODO(step 5): implement this function (see its docstring)
        raise NotImplementedError

    async def hard_delete(self, entity_id: uuid.UUID) -> bool:
        """Remove a row for good, deleted or not; return whether there was one."""
        # TODO(step 5): implement this function (see its docstring)
        raise NotImplementedError
