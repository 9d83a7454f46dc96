"""The `user_sessions` table: a row for every login."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.models.base import AwareDateTime, BaseModel, now_utc


class UserSession(BaseModel):
    """One login of a user, and the id of the single refresh token it may still use.

    Kept in the database rather than in a worker's memory, so that every worker (and
    every restart) sees the same sessions. Logging out sets `deleted_at`: the tokens
    stop working, the row stays for the record. Hard-deleting the user removes its
    sessions too (ON DELETE CASCADE).
    """

    __tablename__ = "user_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid(), nullable=False)
    # The jti of the refresh token issued last; a refresh replaces it.
    refresh_token_id: Mapped[str] = mapped_column(String(64), nullable=False)
    # Fixed at login: refreshing never extends a session.
    expires_at: Mapped[datetime] = mapped_column(AwareDateTime(), nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        # Login, refresh and logout look sessions up by their user.
        Index("ix_user_sessions_user_id", "user_id"),
    )

    @property
    def is_expired(self) -> bool:
        """True once `expires_at` has passed."""
        return self.expires_at <= now_utc()

    def __repr__(self) -> str:
        return f"UserSession(id={self.id!s}, user_id={self.user_id!s})"
