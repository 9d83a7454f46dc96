"""Registration, login, token refresh and logout."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from app.api.deps import AuthServiceDep, CurrentUser, TokenClaims
from app.domain.schemas.auth import RefreshRequest, TokenResponse
from app.domain.schemas.common import ErrorResponse
from app.domain.schemas.user import UserRegister, UserResponse


async def no_store(response: Response) -> None:
    """Tell every cache to keep no copy: these responses carry tokens or end a session."""
    response.headers.update({"Cache-Control": "no-store", "Pragma": "no-cache"})


router = APIRouter(prefix="/auth", tags=["auth"], dependencies=[Depends(no_store)])


@router.post(
    "/register",
    response_model=UserResponse,
    status_code=status.HTTP_201_CREATED,
    responses={
        409: {"model": ErrorResponse, "description": "Email already registered"},
        503: {"model": ErrorResponse, "description": "Hashing queue full (see Retry-After)"},
    },
)
async def register(data: UserRegister, auth_service: AuthServiceDep) -> UserResponse:
    """Create your own account; it always gets the `user` role."""
    new_user = await auth_service.register(data)
    return UserResponse.model_validate(new_user)


@router.post(
    "/login",
    response_model=TokenResponse,
    responses={
        401: {"model": ErrorResponse, "description": "Wrong email or password"},
        403: {"model": ErrorResponse, "description": "Account deactivated"},
        429: {"model": ErrorResponse, "description": "Too many failed logins (see Retry-After)"},
        503: {"model": ErrorResponse, "description": "Hashing queue full (see Retry-After)"},
    },
)
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], auth_service: AuthServiceDep
) -> TokenResponse:
    """Exchange email (as `username`) and password for a token pair (OAuth2 password flow)."""
    # OAuth2's password flow calls the field `username`; here it holds the email.
    email = form.username
    return await auth_service.login(email=email, password=form.password)


@router.post(
    "/refresh",
    response_model=TokenResponse,
    responses={401: {"model": ErrorResponse, "description": "Invalid refresh token"}},
)
async def refresh(data: RefreshRequest, auth_service: AuthServiceDep) -> TokenResponse:
    """Exchange a valid refresh token for a new token pair."""
    token = data.refresh_token
    return await auth_service.refresh(token)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={401: {"model": ErrorResponse, "description": "Not authenticated"}},
)
async def logout(_user: CurrentUser, claims: TokenClaims, auth_service: AuthServiceDep) -> None:
    """End the session of this access token; your other sessions keep working."""
    # CurrentUser first: only a live session can be logged out of.
    await auth_service.logout(claims)
