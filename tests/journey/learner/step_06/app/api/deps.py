"""Dependency providers: how a request gets what it needs.

The chain is get_db -> get_user_repository -> get_user_service (and
get_auth_service), each a FastAPI `Depends`, so tests can swap any link with
`app.dependency_overrides`. On top of it, get_current_user and require_roles()
decide who may call an endpoint.

Every provider is `async def`, even those that never await: FastAPI runs a plain
`def` dependency in its thread pool, and a hop to a thread per provider per
request costs more than the work the provider does.
"""

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any, cast

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
    # create_app() stores it on the application state, so tests can swap it.
    return cast(DatabaseManager, request.app.state.database)


DatabaseDep = Annotated[DatabaseManager, Depends(get_database)]


async def get_db(database: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """Yield the request's session; it commits when the endpoint returns without error."""
    # get_session() commits when the block ends cleanly and rolls back on an error.
    session_scope = database.get_session()
    async with session_scope as session:
        yield session


# scope="function" closes the session, and so commits, when the endpoint function
# returns and BEFORE the response is sent. With the default scope the commit would
# run after the client already received its 2xx, and a failing commit would go
# unnoticed.
SessionDep = Annotated[AsyncSession, Depends(get_db, scope="function")]


async def get_user_repository(session: SessionDep) -> UserRepository:
    """Return a user repository bound to the request's session."""
    return UserRepository(session=session)


async def get_session_repository(session: SessionDep) -> SessionRepository:
    """Return a login-session repository bound to the request's session."""
    return SessionRepository(session=session)


async def get_failure_repository(session: SessionDep) -> LoginFailureRepository:
    """Return the repository of failed logins, on the request's session."""
    return LoginFailureRepository(session=session)


UserRepositoryDep = Annotated[UserRepository, Depends(get_user_repository)]
SessionRepositoryDep = Annotated[SessionRepository, Depends(get_session_repository)]
FailureRepositoryDep = Annotated[LoginFailureRepository, Depends(get_failure_repository)]


async def get_user_service(
    repository: UserRepositoryDep, sessions: SessionRepositoryDep
) -> UserService:
    """Return the user service."""
    return UserService(repository=repository, sessions=sessions)


async def get_auth_service(
    repository: UserRepositoryDep,
    sessions: SessionRepositoryDep,
    failures: FailureRepositoryDep,
) -> AuthService:
    """Return the authentication service."""
    return AuthService(users=repository, sessions=sessions, failures=failures)


async def get_token_claims(token: Annotated[str | None, Depends(oauth2_scheme)]) -> dict[str, Any]:
    """Return the claims of the request's bearer access token; 401 if there is none or
    it is invalid."""
    # auto_error=False: a missing header arrives here as None, and gets our own
    # 401 envelope instead of FastAPI's default error.
    if not token:
        raise UnauthorizedException("Not authenticated")
    return decode_access_token(token)


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
    return await auth_service.get_token_user(claims)


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_roles(*roles: UserRole) -> Callable[[User], Coroutine[Any, Any, User]]:
    """Return a dependency that lets through only users with one of `roles` (else 403)."""
    permitted: frozenset[str] = frozenset(str(role) for role in roles)

    async def role_guard(user: CurrentUser) -> User:
        # user.role comes from the database (see get_current_user), not the token.
        if user.role in permitted:
            return user
        raise ForbiddenException()

    return role_guard


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
