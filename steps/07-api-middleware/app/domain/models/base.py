"""Declarative base and the abstract model every table inherits.

`BaseModel` gives each table a UUID primary key, server-side audit timestamps and
a `deleted_at` column for soft deletion.
"""

import uuid
from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect, MetaData, TypeDecorator, Uuid, func
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def _created_at(context: DefaultExecutionContext) -> datetime:
    # A new row has not been updated yet: updated_at starts equal to created_at.
    parameters = context.get_current_parameters()  # type: ignore[no-untyped-call]  # untyped upstream
    created: datetime = parameters["created_at"]
    return created


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database.

    PostgreSQL keeps the zone; SQLite stores text without one and would hand back
    naive datetimes. Values are normalised to UTC on the way in and marked UTC on
    the way out, so the rest of the code only ever sees aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Reject naive datetimes and convert aware ones to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to naive values read back from SQLite."""
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


# Named constraints: Alembic's batch mode (SQLite) cannot drop an unnamed one.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Root of all models; its `metadata` is what Alembic compares migrations with."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class BaseModel(Base):
    """Abstract model with a UUID key, audit timestamps and soft deletion."""

    __abstract__ = True
    # Fetch server-generated values (timestamps) in the INSERT/UPDATE itself
    # (RETURNING), so reading them later never needs a lazy load, which async
    # sessions cannot do.
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012 (read by SQLAlchemy)

    # sqlalchemy.Uuid, not postgresql.UUID: it is native on PostgreSQL and stored as
    # 32 hex characters on SQLite, where postgresql.UUID would turn an all-digit
    # UUID into a number.
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # The app sets timestamps itself (microseconds everywhere: SQLite's own clock
    # counts whole seconds, which would make "newest first" ambiguous); the server
    # defaults cover rows written by plain SQL.
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utc_now, server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        default=_created_at,
        onupdate=utc_now,
        server_default=func.now(),
        nullable=False,
    )
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None, nullable=True)

    @property
    def is_deleted(self) -> bool:
        """Whether the row has been soft-deleted."""
        return self.deleted_at is not None
