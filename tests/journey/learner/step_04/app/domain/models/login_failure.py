"""The `login_failures` table: every failed login, kept a while for throttling."""

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.models.base import BaseModel


class LoginFailure(BaseModel):
    """A login that failed for `email` (known or not), at `created_at`.

    In the database, not in memory, so that all workers count the same failures.
    """

    __tablename__ = "login_failures"

    # Normalised, and never longer than an account's email can be.
    email: Mapped[str] = mapped_column(String(255), nullable=False)

    __table_args__ = (
        # "How many failures for this email lately?"
        Index("ix_login_failures_email_created_at", "email", "created_at"),
        # "Drop everything older than the window."
        Index("ix_login_failures_created_at", "created_at"),
    )

    def __repr__(self) -> str:
        return f"LoginFailure(email={self.email!r}, at={self.created_at!s})"
