"""Create the users table.

Revision ID: 0001
Revises:
Create Date: 2025-01-15 09:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EMAIL_INDEX = "uq_users_email_active"
LIVE_ROWS = "deleted_at IS NULL"


def upgrade() -> None:
    """Create `users`, with emails unique (ignoring case) among users not deleted."""
    timestamp = sa.DateTime(timezone=True)
    op.create_table(
        "users",
        # The primary key gets its name, pk_users, from the models' naming convention.
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("full_name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(20), nullable=False, server_default=sa.text("'user'")),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", timestamp, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", timestamp, nullable=False, server_default=sa.func.now()),
        sa.Column("deleted_at", timestamp, nullable=True),
        sa.CheckConstraint("role IN ('admin', 'moderator', 'user')", name=op.f("ck_users_role")),
    )
    # A partial, functional unique index: lower(email) among live rows only, so a
    # soft-deleted user's email can be registered again.
    op.create_index(
        EMAIL_INDEX,
        "users",
        [sa.text("lower(email)")],
        unique=True,
        sqlite_where=sa.text(LIVE_ROWS),
        postgresql_where=sa.text(LIVE_ROWS),
    )


def downgrade() -> None:
    """Drop `users` and its email index."""
    op.drop_index(EMAIL_INDEX, table_name="users")
    op.drop_table("users")
