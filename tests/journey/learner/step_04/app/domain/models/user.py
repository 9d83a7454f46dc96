"""The `users` table."""

import unicodedata
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Index, String, func, text, true
from sqlalchemy.orm import Mapped, mapped_column, validates

from app.domain.models.base import BaseModel


class UserRole(StrEnum):
    """Roles, from most to least privileged."""

    ADMIN = "admin"
    MODERATOR = "moderator"
    USER = "user"


def normalize_email(email: str) -> str:
    """One way to write an address: compatibility forms folded (NFKC), then lower case."""
    folded = unicodedata.normalize("NFKC", email)
    return folded.strip().lower()


ROLE_VALUES = ", ".join(f"'{role.value}'" for role in UserRole)
LIVE_ROWS = text("deleted_at IS NULL")


class User(BaseModel):
    """An account that can log in.

    The email is kept in lower case. It must be unique among the users that are not
    soft-deleted only, so that the email of a deleted account can be used again.
    """

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(255), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    full_name: Mapped[str] = mapped_column(String(100), nullable=False)
    role: Mapped[str] = mapped_column(
        String(20),
        nullable=False,
        default=UserRole.USER.value,
        server_default=UserRole.USER.value,
    )
    is_active: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=true()
    )

    __table_args__ = (
        # Partial, case-insensitive unique index (SQLite and PostgreSQL both support
        # it). It also makes the database the referee when two registrations of the
        # same email race each other.
        Index(
            "uq_users_email_active",
            func.lower(email),
            unique=True,
            sqlite_where=LIVE_ROWS,
            postgresql_where=LIVE_ROWS,
        ),
        CheckConstraint(f"role IN ({ROLE_VALUES})", name="role"),
    )

    @validates("email")
    def _lower_email(self, _key: str, address: str) -> str:
        return normalize_email(address)

    def __repr__(self) -> str:
        return f"User(id={self.id!s}, email={self.email!r}, role={self.role!r})"
