"""The `users` table, and the one spelling of an email address."""

import unicodedata
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Index, String, func, text, true
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.models.base import BaseModel


class UserRole(StrEnum):
    """What a user may do: admins manage users, moderators may read them."""

    ADMIN = "admin"
    MODERATOR = "moderator"
    USER = "user"


def normalize_email(email: str) -> str:
    """Return the one spelling of `email` that is stored, compared and looked up.

    Unicode NFKC first: it folds compatibility forms into plain letters, so the
    full-width `\uff21\uff24\uff21@example.com` becomes `ADA@example.com`
    (email-validator applies only NFC to the part before the @, which keeps
    full-width letters as they are).
    Then surrounding spaces go and the result is lower-cased. Every way into the
    users table calls this: the schemas for registration and admin creation, the
    repository for every lookup (login's form field included), the seed script.
    """
    return unicodedata.normalize("NFKC", email).strip().lower()


class User(BaseModel):
    """A person who can log in.

    Emails are stored as `normalize_email` spells them. They are unique among users that are not
    soft-deleted, so a deleted user's email can register again.
    """

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(255), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    full_name: Mapped[str] = mapped_column(String(100), nullable=False)
    role: Mapped[str] = mapped_column(
        String(20), nullable=False, default=UserRole.USER.value, server_default=UserRole.USER.value
    )
    is_active: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=true()
    )

    __table_args__ = (
        # A partial unique index: lookups by email use it, and the database itself
        # settles a race between two registrations of one email.
        Index(
            "uq_users_email_active",
            func.lower(email),
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
        CheckConstraint("role IN ('admin', 'moderator', 'user')", name="role"),
    )

    def __repr__(self) -> str:
        return f"<User {self.email}>"
