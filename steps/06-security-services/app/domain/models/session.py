"""The `user_sessions` table: one row per login."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.models.base import BaseModel, UTCDateTime


class UserSession(BaseModel):
    """A login, and the one refresh token of it that may still be used.

    Each refresh replaces `refresh_token_id` (the `jti` of the refresh token last
    issued), so a refresh token works once. Ending a session soft-deletes its row
    (`deleted_at`): its tokens stop working and the row stays as a record. The row
    lives in the database, not in a worker's memory, so every worker and every
    restart agrees on which sessions are live.
    """

    __tablename__ = "user_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    refresh_token_id: Mapped[str] = mapped_column(String(64), nullable=False)
    # The absolute end of the session: refreshing never moves it.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    def __repr__(self) -> str:
        return f"<UserSession {self.id} of {self.user_id}>"
