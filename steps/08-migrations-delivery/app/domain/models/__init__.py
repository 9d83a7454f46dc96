"""SQLAlchemy models. Importing this package registers every table on `Base.metadata`."""

from app.domain.models.base import Base, BaseModel
from app.domain.models.login_failure import LoginFailure
from app.domain.models.session import UserSession
from app.domain.models.user import User, UserRole, normalize_email

__all__ = [
    "Base",
    "BaseModel",
    "LoginFailure",
    "User",
    "UserRole",
    "UserSession",
    "normalize_email",
]
