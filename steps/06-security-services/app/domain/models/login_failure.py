"""The `login_failures` table: one row per failed login, for throttling."""

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.models.base import BaseModel


class LoginFailure(BaseModel):
    """One failed login (unknown email or wrong password) for `email`, at `created_at`.

    Counting these rows tells how many times an email failed recently, and the
    count lives in the database, so every worker and every replica agrees on it:
    a counter in a worker's memory would let an attacker spread guesses over the
    workers. The email is stored normalised (and cut to the length of `users.email`),
    whether or not it has an account.
    """

    __tablename__ = "login_failures"
    # The check counts one email's recent rows; the purge drops everyone's old ones.
    __table_args__ = (
        Index("ix_login_failures_email_created_at", "email", "created_at"),
        Index("ix_login_failures_created_at", "created_at"),
    )

    email: Mapped[str] = mapped_column(String(255), nullable=False)

    def __repr__(self) -> str:
        return f"<LoginFailure {self.email} at {self.created_at}>"
