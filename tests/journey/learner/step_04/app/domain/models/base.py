"""Declarative base and the abstract model every table inherits.

Each table gets a UUID primary key, `created_at`/`updated_at` audit timestamps
and a nullable `deleted_at` for soft deletion.
"""

import uuid
from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect, MetaData, TypeDecorator, Uuid, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Give every constraint and index a predictable name. Alembic needs names to drop
# or alter constraints, and on SQLite (batch mode) it cannot handle unnamed ones.
CONSTRAINT_NAMES = {
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "ix": "ix_%(column_0_label)s",
}


def now_utc() -> datetime:
    """The current moment as a timezone-aware UTC datetime."""
    return datetime.now(tz=UTC)


class AwareDateTime(TypeDecorator[datetime]):
    """`DateTime(timezone=True)` that always hands back aware UTC datetimes.

    PostgreSQL stores the offset, SQLite does not: without this, values read back
    from SQLite would be naive. Values going in are converted to UTC; a naive value
    is taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise a value on its way to the database."""
        if value is None:
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Mark a value read from the database as UTC."""
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    """Root of every model; Alembic compares the migrations with its `metadata`."""

    metadata = MetaData(naming_convention=CONSTRAINT_NAMES)


class BaseModel(Base):
    """Abstract parent of every table: UUID key, timestamps, soft deletion."""

    __abstract__ = True
    # Read server-generated values back with the INSERT/UPDATE itself: an async
    # session cannot lazy-load them later.
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012

    # The generic Uuid type: native UUID on PostgreSQL, CHAR(32) on SQLite. The
    # PostgreSQL-only UUID type would store an all-digit UUID as a number on SQLite.
    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    # Python-side defaults give microsecond precision on every backend; the server
    # defaults fill rows inserted with plain SQL.
    created_at: Mapped[datetime] = mapped_column(
        AwareDateTime(), nullable=False, default=now_utc, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        AwareDateTime(),
        nullable=False,
        default=now_utc,
        server_default=func.now(),
        onupdate=now_utc,
    )
    deleted_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)

    @property
    def is_deleted(self) -> bool:
        """True once the row has been soft-deleted."""
        return isinstance(self.deleted_at, datetime)
