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
    # TODO(step 6): implement this function (see its docstring)
    raise NotImplementedError


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
        # TODO(step 6): implement this function (see its docstring)
        raise NotImplementedError

    async def authenticate(self, email: str, password: str) -> User:
        """Return the user these credentials belong to.

        Raises 401 for an unknown email or a wrong password, and 403 for a right
        password on a deactivated account.
        """
        # TODO(step 6): implement this function (see its docstring)
        raise NotImplementedError

    async def check_throttle(self, email: str) -> None:
        """Raise 429 if `email` failed `LOGIN_MAX_FAILURES` times within the window.

        Called before anything is looked up or verified, so the answer and its
        timing are the same for an unknown email, a wrong password and the right
        one. `Retry-After` counts the whole seconds until enough of the failures
        have left the window.
        """
        # TODO(step 6): failures.blocking_failure(email, since=now - window, limit=LOGIN_MAX_FAILURES); if there is one: 429 with retry_after = whole seconds until it leaves the window, rounded up (math.ceil, at least 1)
        raise NotImplementedError

    async def login(self, email: str, password: str) -> TokenResponse:
        """Check the credentials, start a session and issue its first token pair.

        A throttled email answers 429 (see `check_throttle`). A failed attempt is
        recorded and committed before its 401, since the request's unit of work
        rolls back on an exception; a successful one clears the email's failures.
        """
        # TODO(step 6): check_throttle first (a refusal is a SecurityEvent.LOGIN_THROTTLED); authenticate, and on a 401 record the failure, commit, re-raise; on success clear the failures, then store a UserSession (a fresh refresh_token_id, expires_at = now + SESSION_LIFETIME_DAYS) and issue its tokens
        raise NotImplementedError

    async def refresh(self, refresh_token: str) -> TokenResponse:
        """Rotate: spend `refresh_token` and issue the session's next token pair.

        A valid refresh token that is not the session's current one was used
        before: the session ends (committed, although the answer is 401), so the
        token issued in its place stops working too.
        """
        # TODO(step 6): decode, then sessions.rotate(sid, sub, used jti, new id); if that fails the token was used before: end the session, commit, log SecurityEvent.REFRESH_REUSED, 401
        raise NotImplementedError

    async def logout(self, claims: dict[str, Any]) -> None:
        """End the session a decoded access token names: its tokens stop working."""
        # TODO(step 6): implement this function (see its docstring)
        raise NotImplementedError

    async def get_active_user(self, user_id: uuid.UUID, session_id: uuid.UUID) -> User:
        """Return the active user of a live session; 401 otherwise."""
        # TODO(step 6): implement this function (see its docstring)
        raise NotImplementedError

    async def get_token_user(self, claims: dict[str, Any]) -> User:
        """Return the active user of a decoded token's live session; 401 otherwise."""
        # TODO(step 6): implement this function (see its docstring)
        raise NotImplementedError

    @staticmethod
    def issue_tokens(user: User, session: UserSession) -> TokenResponse:
        """Create an access token and the session's current refresh token for `user`."""
        # TODO(step 6): implement this function (see its docstring)
        raise NotImplementedError
