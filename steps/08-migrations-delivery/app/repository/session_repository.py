"""Data access for login sessions."""

import uuid
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import ColumnElement, CursorResult, select, update

from app.domain.models.session import UserSession
from app.domain.models.user import User
from app.repository.base import BaseRepository


class SessionRepository(BaseRepository[UserSession]):
    """Reads and writes `user_sessions`. A session is live while its row is not
    soft-deleted and its `expires_at` is still ahead."""

    model = UserSession

    async def get_live_user(self, session_id: uuid.UUID, user_id: uuid.UUID) -> User | None:
        """Return the user of a live session, in one query; None if either is gone.

        The session must belong to `user_id`: a token's `sid` and `sub` must agree.
        """
        query = (
            select(User)
            .join(UserSession, UserSession.user_id == User.id)
            .where(
                UserSession.id == session_id,
                UserSession.user_id == user_id,
                UserSession.deleted_at.is_(None),
                UserSession.expires_at > datetime.now(UTC),
                User.deleted_at.is_(None),
            )
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def rotate(
        self,
        session_id: uuid.UUID,
        user_id: uuid.UUID,
        *,
        used_token_id: str,
        new_token_id: str,
    ) -> UserSession | None:
        """Replace the session's refresh token id, if `used_token_id` is the current one.

        Return the updated session, or None if the session is not live or
        `used_token_id` is not its current refresh token. One conditional UPDATE:
        of two requests presenting the same refresh token at once, exactly one
        wins, on every database.
        """
        statement = (
            update(UserSession)
            .where(
                UserSession.id == session_id,
                UserSession.user_id == user_id,
                UserSession.refresh_token_id == used_token_id,
                UserSession.deleted_at.is_(None),
                UserSession.expires_at > datetime.now(UTC),
            )
            .values(refresh_token_id=new_token_id, updated_at=datetime.now(UTC))
            .returning(UserSession)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def end(self, session_id: uuid.UUID) -> bool:
        """End one session; return whether it was still open."""
        return await self.end_where(UserSession.id == session_id) > 0

    async def end_all(self, user_id: uuid.UUID) -> int:
        """End every open session of a user; return how many there were."""
        return await self.end_where(UserSession.user_id == user_id)

    async def end_where(self, condition: ColumnElement[bool]) -> int:
        """Soft-delete the open sessions matching `condition`; return how many."""
        now = datetime.now(UTC)
        statement = (
            update(UserSession)
            .where(condition, UserSession.deleted_at.is_(None))
            .values(deleted_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        result = cast(CursorResult[None], await self.session.execute(statement))
        return result.rowcount

    async def commit(self) -> None:
        """Commit the request's writes now.

        For a write that must stand although the request then fails: ending a
        session whose refresh token was stolen, before answering 401.
        """
        await self.session.commit()
