"""Data access for failed logins (`login_failures`): what login throttling counts."""

from datetime import datetime

from sqlalchemy import delete, select

from app.domain.models.base import now_utc
from app.domain.models.login_failure import LoginFailure
from app.domain.models.user import normalize_email
from app.repository.base import BaseRepository

EMAIL_LENGTH = 255  # as users.email


def failure_key(email: str) -> str:
    """The one spelling under which `email`'s failures are counted (cut to fit the column)."""
    key = normalize_email(email)
    return key if len(key) <= EMAIL_LENGTH else key[:EMAIL_LENGTH]


class LoginFailureRepository(BaseRepository[LoginFailure]):
    """Counts, records and forgets failed logins. Flushes, and commits only in `commit()`."""

    model = LoginFailure

    async def blocking_failure(self, email: str, since: datetime, limit: int) -> datetime | None:
        """The `limit`-th newest failure of `email` after `since`: None if there are fewer."""
        newest = await self.session.scalars(
            select(LoginFailure.created_at)
            .where(LoginFailure.email == failure_key(email))
            .where(LoginFailure.created_at > since)
            .order_by(LoginFailure.created_at.desc())
            .limit(limit)
        )
        moments = list(newest)
        if len(moments) < limit:
            return None
        return moments[limit - 1]

    async def record(self, email: str, *, purge_before: datetime) -> None:
        """Note a failure of `email` now; forget everybody's failures older than `purge_before`."""
        await self.session.execute(
            delete(LoginFailure).where(LoginFailure.created_at < purge_before)
        )
        self.session.add(LoginFailure(email=failure_key(email), created_at=now_utc()))
        await self.session.flush()

    async def clear(self, email: str) -> None:
        """Forget the failures of `email` (after a login that worked)."""
        await self.session.execute(
            delete(LoginFailure).where(LoginFailure.email == failure_key(email))
        )

    async def commit(self) -> None:
        """Commit now: a failure must be kept although its login answers 401."""
        await self.session.commit()
