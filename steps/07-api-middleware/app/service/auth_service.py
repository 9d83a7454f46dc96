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
        user_data = UserCreate(**data.model_dump(), role=UserRole.USER)
        return await self.users.create_user(user_data)

    async def authenticate(self, email: str, password: str) -> User:
        """Return the user these credentials belong to.

        Raises 401 for an unknown email or a wrong password, and 403 for a right
        password on a deactivated account.
        """
        user = await self.repository.get_by_email(email)
        if user is None:
            await spend_verify_time(password)
            raise UnauthorizedException(BAD_CREDENTIALS)
        if not await verify_password(password, user.password_hash):
            raise UnauthorizedException(BAD_CREDENTIALS)
        if not user.is_active:
            raise ForbiddenException("This account is deactivated")
        return user

    async def login(self, email: str, password: str) -> TokenResponse:
        """Check the credentials and issue a token pair."""
        return self.issue_tokens(await self.authenticate(email, password))

    async def refresh(self, refresh_token: str) -> TokenResponse:
        """Issue a new pair for a valid refresh token of a user who is still active."""
        claims = decode_refresh_token(refresh_token)
        user = await self.get_active_user(claims["sub"])
        return self.issue_tokens(user)

    async def get_active_user(self, subject: str) -> User:
        """Return the live, active user a token's `sub` names; 401 otherwise."""
        try:
            user_id = uuid.UUID(subject)
        except (TypeError, ValueError) as exc:
            raise UnauthorizedException() from exc
        user = await self.repository.get_by_id(user_id)
        if user is None or not user.is_active:
            raise UnauthorizedException()
        return user

    @staticmethod
    def issue_tokens(user: User) -> TokenResponse:
        """Create an access and a refresh token for `user`."""
        subject = str(user.id)
        return TokenResponse(
            access_token=create_access_token(subject, user.role),
            refresh_token=create_refresh_token(subject),
            expires_in=settings.JWT_ACCESS_TOKEN_EXPIRE_MINUTES * 60,
        )
