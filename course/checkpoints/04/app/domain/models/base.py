"""Declarative base and the abstract model every table inherits.

TODO(step 4) — D8, the base model:
- `Base`: a `DeclarativeBase` whose `metadata` names constraints with a naming
  convention (Alembic's batch mode on SQLite cannot drop an unnamed constraint).
- `BaseModel(Base)`, abstract (`__abstract__ = True`), with
  - `id`: `sqlalchemy.Uuid` primary key, default `uuid.uuid4`
    (not `postgresql.UUID`: on SQLite it turns an all-digit UUID into a number);
  - `created_at`, `updated_at`: timezone-aware UTC datetimes with server defaults,
    `updated_at` changing on every update;
  - `deleted_at`: nullable, for soft deletion; and an `is_deleted` property.
SQLite stores datetimes without a zone: a small TypeDecorator can hand them back
as UTC-aware values. Async sessions cannot lazy-load, so fetch server-generated
values in the INSERT itself (`__mapper_args__ = {"eager_defaults": True}`).
Then re-export Base, BaseModel, User, UserRole and UserSession from
`app/domain/models/__init__.py`, so that `from app.domain.models import Base` also
registers every table.
Read docs/steps/04-domain.md.
"""
