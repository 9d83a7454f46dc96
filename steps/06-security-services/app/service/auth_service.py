"""Registration, login and token refresh."""

import uuid

from app.core.config import settings
from app.core.exceptions import ForbiddenException, UnauthorizedException
from app.core.security import (
    create_access_token,
    create_refresh_token,
    decode_refresh_token,
    spend_verify_time,
    verify_password,
)
from app.domain.models.user import User, UserRole
from app.domain.schemas.auth import TokenResponse
from app.domain.schemas.user import UserCreate, UserRegister
from app.repository.user_repository import UserRepository
from app.service.user_service import UserService

# One message for an unknown email and a wrong password, so the answer does not
# reveal which emails have accounts.
BAD_CREDENTIALS = "Incorrect email or password"


class AuthService:
    """Turns credentials into tokens and tokens back into users."""

    def __init__(self, repository: UserRepository) -> None:
        self.repository = repository
        self.users = UserService(repository)

    async def register(self, data: UserRegister) -> User:
        """Create a plain `user` account; 409 if the email is taken."""
        # TODO(step 6): implement this function (see its docstring)
        raise NotImplementedError

    async def authenticate(self, email: str, password: str) -> User:
        """Return the user these credentials belong to.

        Raises 401 for an unknown email or a wrong password, and 403 for a right
        password on a deactivated account.
        """
        # TODO(step 6): implement this function (see its docstring)
        raise NotImplementedError

    async def login(self, email: str, password: str) -> TokenResponse:
        """Check the credentials and issue a token pair."""
        # TODO(step 6): implement this function (see its docstring)
        raise NotImplementedError

    async def refresh(self, refresh_token: str) -> TokenResponse:
        """Issue a new pair for a valid refresh token of a user who is still active."""
        # TODO(step 6): implement this function (see its docstring)
        raise NotImplementedError

    async def get_active_user(self, subject: str) -> User:
        """Return the live, active user a token's `sub` names; 401 otherwise."""
        # TODO(step 6): implement this function (see its docstring)
        raise NotImplementedError

    @staticmethod
    def issue_tokens(user: User) -> TokenResponse:
        """Create an access and a refresh token for `user`."""
        # TODO(step 6): implement this function (see its docstring)
        raise NotImplementedError
