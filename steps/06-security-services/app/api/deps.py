"""Dependency providers: how a request gets its session, services and user.

The chain is get_db -> get_user_repository (and get_session_repository) ->
get_user_service, each a FastAPI `Depends`, so tests can swap any link with
`app.dependency_overrides`.

Every provider is `async def`, even those that never await: FastAPI runs a plain
`def` dependency in its thread pool, and a hop to a thread per provider per
request costs more than the work the provider does.
"""

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import settings
from app.core.database import DatabaseManager
from app.core.exceptions import ForbiddenException, UnauthorizedException
from app.core.security import decode_access_token
from app.domain.models.user import User, UserRole
from app.repository.login_failure_repository import LoginFailureRepository
from app.repository.session_repository import SessionRepository
from app.repository.user_repository import UserRepository
from app.service.auth_service import AuthService
from app.service.user_service import UserService

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl=f"{settings.API_V1_PREFIX}/auth/login", auto_error=False
)


async def get_database(request: Request) -> DatabaseManager:
    """Return the database manager the app was created with."""
    database: DatabaseManager = request.app.state.database
    return database


DatabaseDep = Annotated[DatabaseManager, Depends(get_database)]


async def get_db(database: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """Yield the request's session; it commits when the endpoint returns without error."""
    # TODO(step 6): yield a session from the database's get_session(); it commits when the endpoint returns
    raise NotImplementedError


# scope="function" closes the session, and so commits, when the endpoint function
# returns and BEFORE the response is sent. With the default scope the commit would
# run after the client already received its 2xx, and a failing commit would go
# unnoticed.
SessionDep = Annotated[AsyncSession, Depends(get_db, scope="function")]


async def get_user_repository(session: SessionDep) -> UserRepository:
    """Return a user repository bound to the request's session."""
    # TODO(step 6): implement this function (see its docstring)
    raise NotImplementedError


async def get_session_repository(session: SessionDep) -> SessionRepository:
    """Return a login-session repository bound to the request's session."""
    # TODO(step 6): implement this function (see its docstring)
    raise NotImplementedError


async def get_login_failure_repository(session: SessionDep) -> LoginFailureRepository:
    """Return a failed-login repository bound to the request's session."""
    # TODO(step 6): implement this function (see its docstring)
    raise NotImplementedError


UserRepositoryDep = Annotated[UserRepository, Depends(get_user_repository)]
SessionRepositoryDep = Annotated[SessionRepository, Depends(get_session_repository)]
LoginFailureRepositoryDep = Annotated[LoginFailureRepository, Depends(get_login_failure_repository)]


async def get_user_service(
    repository: UserRepositoryDep, sessions: SessionRepositoryDep
) -> UserService:
    """Return the user service."""
    # TODO(step 6): implement this function (see its docstring)
    raise NotImplementedError


async def get_auth_service(
    repository: UserRepositoryDep,
    sessions: SessionRepositoryDep,
    failures: LoginFailureRepositoryDep,
) -> AuthService:
    """Return the authentication service."""
    # TODO(step 6): implement this function (see its docstring)
    raise NotImplementedError


async def get_token_claims(token: Annotated[str | None, Depends(oauth2_scheme)]) -> dict[str, Any]:
    """Return the claims of the request's bearer access token; 401 if there is none or
    it is invalid."""
    # TODO(step 6): implement this function (see its docstring)
    raise NotImplementedError


TokenClaims = Annotated[dict[str, Any], Depends(get_token_claims)]


async def get_current_user(
    claims: TokenClaims, auth_service: Annotated[AuthService, Depends(get_auth_service)]
) -> User:
    """Return the user of the bearer token; 401 if there is none, it is invalid, or its
    session has ended.

    The user's role and state, and the session, are read from the database on
    every request, not from the token, so logging out, deactivating or deleting a
    user takes effect at once.
    """
    # TODO(step 6): implement this function (see its docstring)
    raise NotImplementedError


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_roles(*roles: UserRole) -> Callable[[User], Coroutine[Any, Any, User]]:
    """Return a dependency that lets through only users with one of `roles` (else 403)."""
    # TODO(step 6): implement this function (see its docstring)
    raise NotImplementedError


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
