"""Data access for failed logins: the throttle's count."""

from datetime import UTC, datetime

from sqlalchemy import delete, select

from app.domain.models.login_failure import LoginFailure
from app.domain.models.user import normalize_email
from app.repository.base import BaseRepository

# The length of `users.email`: a longer login name is no account's email.
EMAIL_LENGTH = 255


def failure_key(email: str) -> str:
    """Return the spelling of `email` that its failures are counted under.

    Normalised as `users.email` is, so `ADA@example.com` and `ada@example.com`
    share one count; cut to the column's length, because the login form accepts
    any text and PostgreSQL refuses a longer value.
    """
    # TODO(step 5): normalize_email(email), cut to EMAIL_LENGTH: the login form takes any text
    raise NotImplementedError


class LoginFailureRepository(BaseRepository[LoginFailure]):
    """Reads and writes `login_failures`, one row per failed login."""

    model = LoginFailure

    async def blocking_failure(self, email: str, since: datetime, limit: int) -> datetime | None:
        """Return when the failure that keeps `email` blocked happened, or None if not blocked.

        `email` is blocked while it has at least `limit` failures after `since`. Of
        those, the `limit`-th newest is the one whose leaving the window unblocks it:
        the oldest of `limit` when there are exactly `limit`, a later one when
        concurrent attempts added more. One indexed query that reads `limit` rows.
        """
        # TODO(step 5): SELECT created_at of the email's failures after since, newest first, LIMIT limit; the last of them if there are limit, else None
        raise NotImplementedError

    async def record(self, email: str, *, purge_before: datetime) -> None:
        """Add a failure for `email` now, and delete every failure before `purge_before`.

        The purge is of every email, not only this one: rows of emails never tried
        again would otherwise stay for ever. So the table never holds more than one
        window's failures.
        """
        # TODO(step 5): DELETE every failure before purge_before (all emails), then add one for failure_key(email) now; flush
        raise NotImplementedError

    async def clear(self, email: str) -> None:
        """Delete the failures of `email`: a successful login starts its count anew."""
        # TODO(step 5): DELETE the failures of failure_key(email)
        raise NotImplementedError

    async def commit(self) -> None:
        """Commit the request's writes now.

        A failed login's record must stand although the request then fails with 401.
        """
        # TODO(step 5): commit the session: the failure must stand although the login answers 401
        raise NotImplementedError
