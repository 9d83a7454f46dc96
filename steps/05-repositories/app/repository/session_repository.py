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
        # TODO(step 5): one SELECT of the user joined with the session: both live, the session unexpired and theirs
        raise NotImplementedError

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
        # TODO(step 5): one conditional UPDATE ... WHERE refresh_token_id = the used one (and live, unexpired) RETURNING the row: exactly one of two racing refreshes wins
        raise NotImplementedError

    async def end(self, session_id: uuid.UUID) -> bool:
        """End one session; return whether it was still open."""
        # TODO(step 5): end_where() on this session's id; True if it was open
        raise NotImplementedError

    async def end_all(self, user_id: uuid.UUID) -> int:
        """End every open session of a user; return how many there were."""
        # TODO(step 5): end_where() on the user's id
        raise NotImplementedError

    async def end_where(self, condition: ColumnElement[bool]) -> int:
        """Soft-delete the open sessions matching `condition`; return how many."""
        # TODO(step 5): one UPDATE setting deleted_at WHERE the condition AND deleted_at IS NULL (flushed, not committed); return the row count
        raise NotImplementedError

    async def commit(self) -> None:
        """Commit the request's writes now.

        For a write that must stand although the request then fails: ending a
        session whose refresh token was stolen, before answering 401.
        """
        # TODO(step 5): the one write a repository commits itself: commit the session
        raise NotImplementedError
