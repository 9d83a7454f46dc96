"""Business rules for managing users."""

import uuid

from sqlalchemy.exc import IntegrityError

from app.core.exceptions import BadRequestException, ConflictException, NotFoundException
from app.core.security import hash_password, verify_password
from app.core.security_events import SecurityEvent, security_event
from app.domain.models.user import User, UserRole
from app.domain.schemas.common import PaginationParams
from app.domain.schemas.user import (
    UserCreate,
    UserListResponse,
    UserResponse,
    UserSelfUpdate,
    UserUpdate,
)
from app.repository.session_repository import SessionRepository
from app.repository.user_repository import UserRepository
from app.utils.pagination import total_pages

EMAIL_TAKEN = "A user with this email already exists"
WRONG_CURRENT_PASSWORD = "The current password is incorrect"  # noqa: S105 (a message)
OWN_STANDING = "You cannot change your own role or deactivate yourself"
LAST_ADMIN = "The last active admin cannot be demoted, deactivated or deleted"


def _stays_active_admin(values: dict[str, object]) -> bool:
    """Whether an active admin is still one after `values` are applied."""
    return (
        values.get("role", UserRole.ADMIN.value) == UserRole.ADMIN.value
        and values.get("is_active", True) is not False
    )


class UserService:
    """Creates, reads, updates and deletes users, enforcing the rules around them."""

    def __init__(self, repository: UserRepository, sessions: SessionRepository) -> None:
        self.repository = repository
        self.sessions = sessions

    async def create_user(self, data: UserCreate) -> User:
        """Create a user with a hashed password; 409 if the email is taken."""
        if await self.repository.email_exists(data.email):
            raise ConflictException(EMAIL_TAKEN)
        user = User(
            email=data.email,
            password_hash=await hash_password(data.password),
            full_name=data.full_name,
            role=data.role.value,
        )
        try:
            return await self.repository.create(user)
        except IntegrityError as exc:
            # Another request registered the same email between our check and
            # our insert; the unique index caught it.
            raise ConflictException(EMAIL_TAKEN) from exc

    async def get_user(self, user_id: uuid.UUID) -> User:
        """Return a live user; 404 if there is none."""
        user = await self.repository.get_by_id(user_id)
        if user is None:
            raise NotFoundException("User", user_id)
        return user

    async def list_users(self, params: PaginationParams) -> UserListResponse:
        """Return one page of users, searched and sorted as `params` say."""
        users, total = await self.repository.get_users(
            page=params.page,
            limit=params.limit,
            search=params.search,
            sort_by=params.sort_by,
            sort_order=params.sort_order,
        )
        return UserListResponse(
            items=[UserResponse.model_validate(user) for user in users],
            total=total,
            page=params.page,
            limit=params.limit,
            total_pages=total_pages(total, params.limit),
        )

    async def update_user(
        self, user_id: uuid.UUID, data: UserUpdate, *, acting_user_id: uuid.UUID
    ) -> User:
        """Apply the fields present in `data`, as `acting_user_id` asks.

        404 if the user does not exist; 400 if an admin would demote or deactivate
        themselves; 409 if it would leave no active admin. A change of role or active
        state ends the user's sessions: they log in again, under their new rights.
        """
        values = data.model_dump(exclude_unset=True, exclude_none=True)
        if "role" in values:
            values["role"] = UserRole(values["role"]).value
        if not _stays_active_admin(values):
            await self._keep_an_active_admin(user_id, acting_user_id)
        user = await self.repository.get_by_id(user_id)
        if user is None:
            raise NotFoundException("User", user_id)
        rights_change = any(
            name in values and values[name] != getattr(user, name) for name in ("role", "is_active")
        )
        updated = await self.repository.update_by_id(user_id, values)
        if updated is None:
            raise NotFoundException("User", user_id)
        if rights_change:
            await self.sessions.end_all(user_id)
        security_event(
            SecurityEvent.USER_UPDATED,
            outcome="updated",
            user_id=user_id,
            actor_id=acting_user_id,
            changes=list(values),
        )
        return updated

    async def update_profile(self, user: User, data: UserSelfUpdate) -> User:
        """Let a user change their own name and/or password.

        A new password needs the current one (400 if it is wrong) and ends every
        session of the user, this one included: whoever held a token, perhaps a
        thief, must log in with the new password.
        """
        values: dict[str, str] = {}
        if data.full_name is not None:
            values["full_name"] = data.full_name
        if data.password is not None:
            current = data.current_password or ""
            if not await verify_password(current, user.password_hash):
                security_event(SecurityEvent.PASSWORD_CHANGED, outcome="refused", user_id=user.id)
                raise BadRequestException(WRONG_CURRENT_PASSWORD)
            values["password_hash"] = await hash_password(data.password)
        if not values:
            return user
        updated = await self.repository.update_by_id(user.id, values)
        if updated is None:
            raise NotFoundException("User", user.id)
        if "password_hash" in values:
            await self.sessions.end_all(user.id)
            security_event(SecurityEvent.PASSWORD_CHANGED, outcome="changed", user_id=user.id)
        return updated

    async def delete_user(self, user_id: uuid.UUID, *, acting_user_id: uuid.UUID) -> None:
        """Soft-delete a user; 400 for yourself, 409 for the last active admin, 404 if
        there is no such user."""
        if user_id == acting_user_id:
            raise BadRequestException("You cannot delete your own account")
        await self._keep_an_active_admin(user_id, acting_user_id)
        if not await self.repository.soft_delete(user_id):
            raise NotFoundException("User", user_id)
        await self.sessions.end_all(user_id)
        security_event(
            SecurityEvent.USER_DELETED, outcome="deleted", user_id=user_id, actor_id=acting_user_id
        )

    async def _keep_an_active_admin(self, user_id: uuid.UUID, acting_user_id: uuid.UUID) -> None:
        """Refuse to take away `user_id`'s admin rights if they are their own (400) or
        the last ones (409); nothing to refuse if the user is no active admin.

        The active admins are counted locked, inside this transaction: two admins who
        demote each other at the same moment would otherwise both count two admins,
        both succeed, and leave none.
        """
        admin_ids = await self.repository.lock_active_admin_ids()
        if user_id not in admin_ids:
            return
        if user_id == acting_user_id:
            raise BadRequestException(OWN_STANDING)
        if len(admin_ids) == 1:
            raise ConflictException(LAST_ADMIN)
