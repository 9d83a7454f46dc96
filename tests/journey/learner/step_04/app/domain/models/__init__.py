"""ORM models (SQLAlchemy 2, typed mappings).

Importing this package registers every table on `Base.metadata`, which is what
Alembic and the tests build the schema from.
"""

from app.domain.models.base import Base, BaseModel
from app.domain.models.login_failure import LoginFailure
from app.domain.models.session import UserSession
from app.domain.models.user import User, UserRole

__all__ = ["Base", "BaseModel", "LoginFailure", "User", "UserRole", "UserSession"]
