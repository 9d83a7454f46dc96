"""Business rules for managing users."""

import uuid
from typing import Any

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
KEEP_ONE_ADMIN = "At least one active admin must remain"


class UserService:
    """Creates, reads, updates and deletes users, enforcing the rules around them."""

    def __init__(self, repository: UserRepository, sessions: SessionRepository) -> None:
        self.repository = repository
        self.sessions = sessions

    async def create_user(self, data: UserCreate) -> User:
        """Create a user with a hashed password; 409 if the email is taken."""
        email = data.email.lower()
        taken = await self.repository.email_exists(email)
        if taken:
            raise ConflictException(EMAIL_TAKEN)

        hashed = await hash_password(data.password)
        new_user = User(
            email=email,
            full_name=data.full_name,
            role=str(data.role),
            password_hash=hashed,
        )
        try:
            created = await self.repository.create(new_user)
        except IntegrityError as error:
            # Two registrations of one email can both pass the check above; the
            # unique index stops the second one, and it gets the same 409.
            raise ConflictException(EMAIL_TAKEN) from error
        return created

    async def get_user(self, user_id: uuid.UUID) -> User:
        """Return a live user; 404 if there is none."""
        found = await self.repository.get_by_id(user_id)
        if found is not None:
            return found
        raise NotFoundException("User", user_id)

    async def list_users(self, params: PaginationParams) -> UserListResponse:
        """Return one page of users, searched and sorted as `params` say."""
        rows, total = await self.repository.get_users(
            params.page,
            params.limit,
            search=params.search,
            sort_by=params.sort_by,
            sort_order=params.sort_order,
        )
        responses: list[UserResponse] = []
        for row in rows:
            responses.append(UserResponse.model_validate(row))
        return UserListResponse(
            items=responses,
            page=params.page,
            limit=params.limit,
            total=total,
            total_pages=total_pages(total, params.limit),
        )

    async def update_user(
        self, user_id: uuid.UUID, data: UserUpdate, *, acting_user_id: uuid.UUID
    ) -> User:
        """Apply the fields present in `data`; 404 if the user does not exist, 400 for
        demoting or deactivating yourself, 409 for the last active admin."""
        changes: dict[str, Any] = {}
        for name, value in data.model_dump(exclude_unset=True).items():
            if value is None:
                # An explicit null means "leave it": none of these columns is nullable.
                continue
            changes[name] = value.value if isinstance(value, UserRole) else value

        demoted = changes.get("role", UserRole.ADMIN.value) != UserRole.ADMIN.value
        if demoted or changes.get("is_active") is False:
            admins = set(await self.repository.lock_active_admin_ids())
            if user_id in admins:
                if user_id == acting_user_id:
                    raise BadRequestException("Admins cannot demote or deactivate themselves")
                if admins == {user_id}:
                    raise ConflictException(KEEP_ONE_ADMIN)

        before = await self.repository.get_by_id(user_id)
        if before is None:
            raise NotFoundException("User", user_id)
        old_rights = (before.role, before.is_active)
        updated = await self.repository.update_by_id(user_id, changes)
        if updated is None:
            raise NotFoundException("User", user_id)
        if (updated.role, updated.is_active) != old_rights:
            # New rights, new login: whatever tokens they hold stop working.
            await self.sessions.end_all(user_id)
            security_event(
                SecurityEvent.USER_UPDATED,
                outcome="rights_changed",
                user_id=user_id,
                actor_id=acting_user_id,
                changes=sorted(changes),
            )
        return updated

    async def update_profile(self, user: User, data: UserSelfUpdate) -> User:
        """Let a user change their own name and/or password."""
        changes: dict[str, Any] = {}
        if data.password is not None:
            proof = data.current_password or ""
            if not await verify_password(proof, user.password_hash):
                security_event(SecurityEvent.PASSWORD_CHANGED, outcome="refused", user_id=user.id)
                raise BadRequestException(WRONG_CURRENT_PASSWORD)
            changes["password_hash"] = await hash_password(data.password)
        if data.full_name is not None:
            changes["full_name"] = data.full_name
        if len(changes) == 0:
            return user

        updated = await self.repository.update_by_id(user.id, changes)
        if updated is None:
            # Deleted between the authentication and this update.
            raise NotFoundException("User", user.id)
        if "password_hash" in changes:
            await self.sessions.end_all(user.id)  # log out everywhere, this device too
            security_event(SecurityEvent.PASSWORD_CHANGED, outcome="ok", user_id=user.id)
        return updated

    async def delete_user(self, user_id: uuid.UUID, *, acting_user_id: uuid.UUID) -> None:
        """Soft-delete a user; 400 for yourself, 404 if there is no such user."""
        if acting_user_id == user_id:
            raise BadRequestException("You cannot delete your own account")
        # Locked count: two admins deleting each other at once must not both win.
        if set(await self.repository.lock_active_admin_ids()) == {user_id}:
            raise ConflictException(KEEP_ONE_ADMIN)
        deleted = await self.repository.soft_delete(user_id)
        if not deleted:
            raise NotFoundException("User", user_id)
        await self.sessions.end_all(user_id)
        security_event(SecurityEvent.USER_DELETED, outcome="ok", user_id=user_id, actor_id=acting_user_id)
