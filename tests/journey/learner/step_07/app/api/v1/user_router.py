"""The user resource: your own profile, and user management for staff."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from app.api.deps import CurrentUser, UserServiceDep, require_roles
from app.core.exceptions import ForbiddenException
from app.domain.models.user import User, UserRole
from app.domain.schemas.common import ErrorResponse, MessageResponse, PaginationParams
from app.domain.schemas.user import (
    UserCreate,
    UserListResponse,
    UserResponse,
    UserSelfUpdate,
    UserUpdate,
)

AdminUser = Annotated[User, Depends(require_roles(UserRole.ADMIN))]
StaffUser = Annotated[User, Depends(require_roles(UserRole.ADMIN, UserRole.MODERATOR))]

# Roles that may read any user's profile, not only their own.
STAFF_ROLES = {UserRole.ADMIN.value, UserRole.MODERATOR.value}

router = APIRouter(
    prefix="/users",
    tags=["users"],
    responses={
        401: {"model": ErrorResponse, "description": "Not authenticated"},
        403: {"model": ErrorResponse, "description": "Not allowed"},
    },
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No such user"}
}


@router.get("/me", response_model=UserResponse)
async def read_me(user: CurrentUser) -> UserResponse:
    """Your own profile."""
    return UserResponse.model_validate(user, from_attributes=True)


@router.patch(
    "/me",
    response_model=UserResponse,
    responses={400: {"model": ErrorResponse, "description": "Wrong current password"}},
)
async def update_me(
    data: UserSelfUpdate, user: CurrentUser, service: UserServiceDep
) -> UserResponse:
    """Change your own name and/or password.

    A new password needs `current_password`, and ends all your sessions: log in again.
    """
    changed = await service.update_profile(user, data)
    return UserResponse.model_validate(changed)


@router.post(
    "",
    response_model=UserResponse,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"model": ErrorResponse, "description": "Email already registered"}},
)
async def create_user(data: UserCreate, _admin: AdminUser, service: UserServiceDep) -> UserResponse:
    """Create a user with any role (admins only)."""
    created = await service.create_user(data)
    return UserResponse.model_validate(created)


@router.get("", response_model=UserListResponse)
async def list_users(
    params: Annotated[PaginationParams, Query()], _staff: StaffUser, service: UserServiceDep
) -> UserListResponse:
    """List users, paginated, searched and sorted (admins and moderators)."""
    return await service.list_users(params=params)


@router.get("/{user_id}", response_model=UserResponse, responses=NOT_FOUND)
async def read_user(user_id: uuid.UUID, user: CurrentUser, service: UserServiceDep) -> UserResponse:
    """One user: staff may read anyone, a plain user only themselves."""
    is_staff = user.role in STAFF_ROLES
    if not is_staff and user_id != user.id:
        raise ForbiddenException("You may only view your own profile")
    target = await service.get_user(user_id)
    return UserResponse.model_validate(target)


@router.patch(
    "/{user_id}",
    response_model=UserResponse,
    responses={
        **NOT_FOUND,
        400: {"model": ErrorResponse, "description": "Demoting or deactivating yourself"},
        409: {"model": ErrorResponse, "description": "The last active admin"},
    },
)
async def update_user(
    user_id: uuid.UUID, data: UserUpdate, admin: AdminUser, service: UserServiceDep
) -> UserResponse:
    """Change a user's name, role or active state (admins only)."""
    updated = await service.update_user(user_id, data, acting_user_id=admin.id)
    return UserResponse.model_validate(updated)


@router.delete(
    "/{user_id}",
    response_model=MessageResponse,
    responses={
        **NOT_FOUND,
        400: {"model": ErrorResponse, "description": "Deleting yourself"},
        409: {"model": ErrorResponse, "description": "The last active admin"},
    },
)
async def delete_user(
    user_id: uuid.UUID, admin: AdminUser, service: UserServiceDep
) -> MessageResponse:
    """Soft-delete a user (admins only); you cannot delete yourself."""
    await service.delete_user(user_id, acting_user_id=admin.id)
    return MessageResponse(message=f"User {user_id} has been deleted", success=True)
