"""Add the user_sessions table: one row per login.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-03 14:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "user_sessions"


def upgrade() -> None:
    """Create `user_sessions`; a session disappears with its user."""
    timestamp = sa.DateTime(timezone=True)
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Uuid(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("refresh_token_id", sa.String(64), nullable=False),
        sa.Column("expires_at", timestamp, nullable=False),
        sa.Column("created_at", timestamp, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", timestamp, server_default=sa.func.now(), nullable=False),
        sa.Column("deleted_at", timestamp, nullable=True),
    )
    # Ending all sessions of a user looks them up by user.
    op.create_index("ix_user_sessions_user_id", TABLE, ["user_id"])


def downgrade() -> None:
    """Drop `user_sessions`; the users stay."""
    op.drop_index("ix_user_sessions_user_id", table_name=TABLE)
    op.drop_table(TABLE)
