"""Add the login_failures table: failed logins, for throttling.

Revision ID: 0003
Revises: 0002
Create Date: 2025-02-10 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "login_failures"


def upgrade() -> None:
    """Create `login_failures` with its two indexes (per email and time, per time)."""
    timestamp = sa.DateTime(timezone=True)
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("created_at", timestamp, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", timestamp, server_default=sa.func.now(), nullable=False),
        sa.Column("deleted_at", timestamp, nullable=True),
    )
    op.create_index("ix_login_failures_email_created_at", TABLE, ["email", "created_at"])
    op.create_index("ix_login_failures_created_at", TABLE, ["created_at"])


def downgrade() -> None:
    """Drop `login_failures` and its indexes."""
    op.drop_index("ix_login_failures_created_at", table_name=TABLE)
    op.drop_index("ix_login_failures_email_created_at", table_name=TABLE)
    op.drop_table(TABLE)
