"""Registration, login, sessions: refresh with rotation, and logout."""

import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from app.core.config import settings
from app.core.exceptions import (
    ForbiddenException,
    TooManyRequestsException,
    UnauthorizedException,
)
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
TOO_MANY_FAILURES = "Too many failed logins for this email; try again later"


def _uuid_claim(claims: dict[str, Any], name: str) -> uuid.UUID:
    """Return the claim `name` as a UUID; 401 if it is not one."""
    try:
        return uuid.UUID(str(claims[name]))
    except (KeyError, ValueError) as exc:
        raise UnauthorizedException() from exc


class AuthService:
    """Turns credentials into sessions and tokens, and tokens back into users.

    A login starts a session (a row in `user_sessions`). Its access tokens name it
    (`sid`); its refresh token works once: each refresh issues the next one, and a
    refresh token presented again ends the whole session, because only a copy, a
    stolen one, can be presented twice.
    """

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
            security_event(SecurityEvent.LOGIN_FAILED, outcome="unknown_email")
            raise UnauthorizedException(BAD_CREDENTIALS)
        if not await verify_password(password, user.password_hash):
            security_event(SecurityEvent.LOGIN_FAILED, outcome="wrong_password", user_id=user.id)
            raise UnauthorizedException(BAD_CREDENTIALS)
        if not user.is_active:
            security_event(SecurityEvent.LOGIN_FAILED, outcome="deactivated", user_id=user.id)
            raise ForbiddenException("This account is deactivated")
        return user

    async def check_throttle(self, email: str) -> None:
        """Raise 429 if `email` failed `LOGIN_MAX_FAILURES` times within the window.

        Called before anything is looked up or verified, so the answer and its
        timing are the same for an unknown email, a wrong password and the right
        one. `Retry-After` counts the whole seconds until enough of the failures
        have left the window.
        """
        now = datetime.now(UTC)
        window = timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)
        blocking = await self.failures.blocking_failure(
            email, since=now - window, limit=settings.LOGIN_MAX_FAILURES
        )
        if blocking is not None:
            # No user id: looking the email up would make a throttled login's timing
            # depend on whether the account exists.
            security_event(SecurityEvent.LOGIN_THROTTLED, outcome="throttled")
            seconds = math.ceil((blocking + window - now).total_seconds())
            raise TooManyRequestsException(TOO_MANY_FAILURES, retry_after=max(seconds, 1))

    async def login(self, email: str, password: str) -> TokenResponse:
        """Check the credentials, start a session and issue its first token pair.

        A throttled email answers 429 (see `check_throttle`). A failed attempt is
        recorded and committed before its 401, since the request's unit of work
        rolls back on an exception; a successful one clears the email's failures.
        """
        await self.check_throttle(email)
        try:
            user = await self.authenticate(email, password)
        except UnauthorizedException:
            window = timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)
            await self.failures.record(email, purge_before=datetime.now(UTC) - window)
            await self.failures.commit()
            raise
        await self.failures.clear(email)
        now = datetime.now(UTC)
        session = await self.sessions.create(
            UserSession(
                user_id=user.id,
                refresh_token_id=uuid.uuid4().hex,
                expires_at=now + timedelta(days=settings.SESSION_LIFETIME_DAYS),
            )
        )
        return self.issue_tokens(user, session)

    async def refresh(self, refresh_token: str) -> TokenResponse:
        """Rotate: spend `refresh_token` and issue the session's next token pair.

        A valid refresh token that is not the session's current one was used
        before: the session ends (committed, although the answer is 401), so the
        token issued in its place stops working too.
        """
        claims = decode_refresh_token(refresh_token)
        user_id = _uuid_claim(claims, "sub")
        session_id = _uuid_claim(claims, "sid")
        session = await self.sessions.rotate(
            session_id, user_id, used_token_id=str(claims["jti"]), new_token_id=uuid.uuid4().hex
        )
        if session is None:
            if await self.sessions.end(session_id):
                await self.sessions.commit()
                security_event(SecurityEvent.REFRESH_REUSED, outcome="ended", user_id=user_id)
            raise UnauthorizedException(SESSION_ENDED)
        user = await self.get_active_user(user_id, session_id)
        return self.issue_tokens(user, session)

    async def logout(self, claims: dict[str, Any]) -> None:
        """End the session a decoded access token names: its tokens stop working."""
        await self.sessions.end(_uuid_claim(claims, "sid"))
        security_event(SecurityEvent.LOGOUT, outcome="ended", user_id=_uuid_claim(claims, "sub"))

    async def get_active_user(self, user_id: uuid.UUID, session_id: uuid.UUID) -> User:
        """Return the active user of a live session; 401 otherwise."""
        user = await self.sessions.get_live_user(session_id, user_id)
        if user is None or not user.is_active:
            raise UnauthorizedException()
        return user

    async def get_token_user(self, claims: dict[str, Any]) -> User:
        """Return the active user of a decoded token's live session; 401 otherwise."""
        return await self.get_active_user(_uuid_claim(claims, "sub"), _uuid_claim(claims, "sid"))

    @staticmethod
    def issue_tokens(user: User, session: UserSession) -> TokenResponse:
        """Create an access token and the session's current refresh token for `user`."""
        subject, session_id = str(user.id), str(session.id)
        return TokenResponse(
            access_token=create_access_token(subject, user.role, session_id),
            refresh_token=create_refresh_token(
                subject, session_id, session.refresh_token_id, session.expires_at
            ),
            expires_in=settings.JWT_ACCESS_TOKEN_EXPIRE_MINUTES * 60,
        )
