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
        # Self-registration never picks a role: everyone starts as a plain user.
        as_create = UserCreate(
            email=data.email,
            password=data.password,
            full_name=data.full_name,
            role=UserRole.USER,
        )
        return await self.users.create_user(as_create)

    async def authenticate(self, email: str, password: str) -> User:
        """Return the user these credentials belong to.

        Raises 401 for an unknown email or a wrong password, and 403 for a right
        password on a deactivated account.
        """
        account = await self.repository.get_by_email(email)
        if account is not None:
            password_ok = await verify_password(password, account.password_hash)
        else:
            # Same cost as a real check, so timing does not reveal unknown emails.
            await spend_verify_time(password)
            password_ok = False

        if account is None or not password_ok:
            raise UnauthorizedException(BAD_CREDENTIALS)
        # Only someone who knows the password learns that the account is disabled.
        if not account.is_active:
            raise ForbiddenException("This account has been deactivated")
        return account

    async def login(self, email: str, password: str) -> TokenResponse:
        """Check the credentials and issue a token pair."""
        account = await self.authenticate(email, password)
        return self.issue_tokens(account)

    async def refresh(self, refresh_token: str) -> TokenResponse:
        """Issue a new pair for a valid refresh token of a user who is still active."""
        payload = decode_refresh_token(refresh_token)
        subject = str(payload["sub"])
        account = await self.get_active_user(subject)
        return self.issue_tokens(account)

    async def get_active_user(self, subject: str) -> User:
        """Return the live, active user a token's `sub` names; 401 otherwise."""
        try:
            account_id = uuid.UUID(str(subject))
        except ValueError:
            raise UnauthorizedException() from None

        account = await self.repository.get_by_id(account_id)
        if account is None:
            raise UnauthorizedException()
        if not account.is_active:
            raise UnauthorizedException()
        return account

    @staticmethod
    def issue_tokens(user: User) -> TokenResponse:
        """Create an access and a refresh token for `user`."""
        user_id = str(user.id)
        access = create_access_token(user_id, user.role)
        refresh = create_refresh_token(user_id)
        lifetime_seconds = settings.JWT_ACCESS_TOKEN_EXPIRE_MINUTES * 60
        return TokenResponse(
            access_token=access, refresh_token=refresh, expires_in=lifetime_seconds
        )
