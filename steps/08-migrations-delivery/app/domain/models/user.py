"""The `users` table."""

from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Index, String, func, text, true
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.models.base import BaseModel


class UserRole(StrEnum):
    """What a user may do: admins manage users, moderators may read them."""

    ADMIN = "admin"
    MODERATOR = "moderator"
    USER = "user"


class User(BaseModel):
    """A person who can log in.

    Emails are stored lower-cased. They are unique among users that are not
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
