"""Data access for login sessions (`user_sessions`)."""

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, select, update

from app.domain.models.base import now_utc
from app.domain.models.session import UserSession
from app.domain.models.user import User
from app.repository.base import BaseRepository


def _not_ended() -> ColumnElement[bool]:
    """Sessions nobody has ended (logged out, revoked) yet."""
    return UserSession.deleted_at.is_(None)


def _usable_at(moment: datetime) -> ColumnElement[bool]:
    """Sessions that are neither ended nor expired at `moment`."""
    return and_(_not_ended(), UserSession.expires_at > moment)


class SessionRepository(BaseRepository[UserSession]):
    """Reads and writes `user_sessions`. Like every repository it flushes and never
    commits, except through `commit()`, for the one write that must outlive a failed
    request."""

    model = UserSession

    async def get_live_user(self, session_id: uuid.UUID, user_id: uuid.UUID) -> User | None:
        """The user behind a live session, in one query; None if the session is ended,
        expired or someone else's, or the user is soft-deleted."""
        session_matches = and_(UserSession.user_id == User.id, UserSession.id == session_id)
        stmt = (
            select(User)
            .join(UserSession, session_matches)
            .where(User.id == user_id, User.deleted_at.is_(None), _usable_at(now_utc()))
        )
        return await self.session.scalar(stmt)

    async def rotate(
        self,
        session_id: uuid.UUID,
        user_id: uuid.UUID,
        *,
        used_token_id: str,
        new_token_id: str,
    ) -> UserSession | None:
        """Swap the session's refresh token id for `new_token_id`, but only if
        `used_token_id` is still the current one; None otherwise.

        The check and the swap are one UPDATE: when the same refresh token arrives
        twice at once, the database lets exactly one of them through.
        """
        moment = now_utc()
        stmt = (
            update(UserSession)
            .where(
                UserSession.id == session_id,
                UserSession.user_id == user_id,
                UserSession.refresh_token_id == used_token_id,
                _usable_at(moment),
            )
            .values(refresh_token_id=new_token_id, updated_at=moment)
            .returning(UserSession)
            .execution_options(populate_existing=True)
        )
        rotated = await self.session.scalars(stmt)
        return rotated.first()

    async def end(self, session_id: uuid.UUID) -> bool:
        """End one session; True if it was still open."""
        ended = await self.end_where(UserSession.id == session_id)
        return ended == 1

    async def end_all(self, user_id: uuid.UUID) -> int:
        """End all the open sessions of a user (a password change, a deactivation)."""
        return await self.end_where(UserSession.user_id == user_id)

    async def end_where(self, condition: ColumnElement[bool]) -> int:
        """Soft-delete the open sessions that match `condition`; return how many."""
        moment = now_utc()
        stmt = (
            update(UserSession)
            .where(and_(condition, _not_ended()))
            .values(deleted_at=moment, updated_at=moment)
            .returning(UserSession.id)
            .execution_options(synchronize_session=False)
        )
        ended_ids = (await self.session.scalars(stmt)).all()
        return len(ended_ids)

    async def commit(self) -> None:
        """Commit now (a stolen refresh token's session must stay ended after the 401)."""
        await self.session.commit()
