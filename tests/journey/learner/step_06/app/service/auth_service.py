"""Registration, login, sessions: refresh with rotation, and logout."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from app.core.config import settings
from app.core.exceptions import ForbiddenException, TooManyRequestsException, UnauthorizedException
from app.core.security import (
    create_access_token,
    create_refresh_token,
    decode_refresh_token,
    spend_verify_time,
    verify_password,
)
from app.core.security_events import SecurityEvent, security_event
from app.domain.models.session import UserSession
from app.domain.models.user import User, UserRole
from app.domain.schemas.auth import TokenResponse
from app.domain.schemas.user import UserCreate, UserRegister
from app.repository.login_failure_repository import LoginFailureRepository
from app.repository.session_repository import SessionRepository
from app.repository.user_repository import UserRepository
from app.service.user_service import UserService

# One message for an unknown email and a wrong password, so the answer does not
# reveal which emails have accounts.
BAD_CREDENTIALS = "Incorrect email or password"
SESSION_ENDED = "This session has ended; log in again"


def _uuid_claim(claims: dict[str, Any], name: str) -> uuid.UUID:
    """Return the claim `name` as a UUID; 401 if it is not one."""
    raw = claims.get(name)
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise UnauthorizedException() from None


class AuthService:
    """Turns credentials into sessions and tokens, and tokens back into users."""

    def __init__(
        self,
        users: UserRepository,
        sessions: SessionRepository,
        failures: LoginFailureRepository,
    ) -> None:
        self.repository = users
        self.sessions = sessions
        self.failures = failures
        self.users = UserService(users, sessions)

    @staticmethod
    def _window() -> timedelta:
        return timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)

    async def check_throttle(self, email: str) -> None:
        """429 while `email` has LOGIN_MAX_FAILURES failures in the window.

        Runs before any lookup or hash, so every throttled answer looks and takes alike.
        """
        now = datetime.now(UTC)
        oldest_that_counts = await self.failures.blocking_failure(
            email, since=now - self._window(), limit=settings.LOGIN_MAX_FAILURES
        )
        if oldest_that_counts is None:
            return
        wait = oldest_that_counts + self._window() - now
        raise TooManyRequestsException(
            "Too many failed logins for this email; try again later",
            retry_after=max(1, -(-int(wait.total_seconds() * 1000) // 1000)),
        )

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
            why = "unknown_email" if account is None else "wrong_password"
            security_event(
                SecurityEvent.LOGIN_FAILED, outcome=why, user_id=account.id if account else None
            )
            raise UnauthorizedException(BAD_CREDENTIALS)
        # Only someone who knows the password learns that the account is disabled.
        if not account.is_active:
            security_event(SecurityEvent.LOGIN_FAILED, outcome="inactive", user_id=account.id)
            raise ForbiddenException("This account has been deactivated")
        return account

    async def login(self, email: str, password: str) -> TokenResponse:
        """Check the credentials, start a session and issue its first token pair."""
        await self.check_throttle(email)
        try:
            account = await self.authenticate(email, password)
        except UnauthorizedException:
            # Committed now: the 401 rolls the request's own writes back.
            await self.failures.record(email, purge_before=datetime.now(UTC) - self._window())
            await self.failures.commit()
            raise
        await self.failures.clear(email)
        lifetime = timedelta(days=settings.SESSION_LIFETIME_DAYS)
        started = UserSession(
            user_id=account.id, refresh_token_id=uuid.uuid4().hex, expires_at=datetime.now(UTC) + lifetime
        )
        await self.sessions.create(started)
        return self.issue_tokens(account, started)

    async def refresh(self, refresh_token: str) -> TokenResponse:
        """Rotate: spend `refresh_token` and issue the session's next token pair."""
        payload = decode_refresh_token(refresh_token)
        account_id = _uuid_claim(payload, "sub")
        session_id = _uuid_claim(payload, "sid")
        current = await self.sessions.rotate(
            session_id,
            account_id,
            used_token_id=str(payload["jti"]),
            new_token_id=uuid.uuid4().hex,
        )
        if current is None:
            # Either the session is over, or this token was spent already: a copy
            # is in someone else's hands. End the session and keep it ended.
            ended_now = await self.sessions.end(session_id)
            if ended_now:
                await self.sessions.commit()
                security_event(SecurityEvent.REFRESH_REUSED, outcome="session_ended", user_id=account_id)
            raise UnauthorizedException(SESSION_ENDED)
        account = await self.get_active_user(account_id, session_id)
        return self.issue_tokens(account, current)

    async def logout(self, claims: dict[str, Any]) -> None:
        """End the session a decoded access token names: its tokens stop working."""
        await self.sessions.end(_uuid_claim(claims, "sid"))
        security_event(SecurityEvent.LOGOUT, outcome="ok", user_id=_uuid_claim(claims, "sub"))

    async def get_active_user(self, user_id: uuid.UUID, session_id: uuid.UUID) -> User:
        """Return the active user of a live session; 401 otherwise."""
        account = await self.sessions.get_live_user(session_id, user_id)
        if account is None:
            raise UnauthorizedException()
        if not account.is_active:
            raise UnauthorizedException()
        return account

    async def get_token_user(self, claims: dict[str, Any]) -> User:
        """Return the active user of a decoded token's live session; 401 otherwise."""
        return await self.get_active_user(_uuid_claim(claims, "sub"), _uuid_claim(claims, "sid"))

    @staticmethod
    def issue_tokens(user: User, session: UserSession) -> TokenResponse:
        """Create an access token and the session's current refresh token for `user`."""
        user_id, session_id = str(user.id), str(session.id)
        access = create_access_token(user_id, user.role, session_id)
        refresh = create_refresh_token(
            user_id, session_id, session.refresh_token_id, session.expires_at
        )
        lifetime_seconds = settings.JWT_ACCESS_TOKEN_EXPIRE_MINUTES * 60
        return TokenResponse(
            access_token=access, refresh_token=refresh, expires_in=lifetime_seconds
        )
