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
    # TODO(step 6): implement this function (see its docstring)
    raise NotImplementedError


class UserService:
    """Creates, reads, updates and deletes users, enforcing the rules around them."""

    def __init__(self, repository: UserRepository, sessions: SessionRepository) -> None:
        self.repository = repository
        self.sessions = sessions

    async def create_user(self, data: UserCreate) -> User:
        """Create a user with a hashed password; 409 if the email is taken."""
        # TODO(step 6): implement this function (see its docstring)
        raise NotImplementedError

    async def get_user(self, user_id: uuid.UUID) -> User:
        """Return a live user; 404 if there is none."""
        # TODO(step 6): implement this function (see its docstring)
        raise NotImplementedError

    async def list_users(self, params: PaginationParams) -> UserListResponse:
        """Return one page of users, searched and sorted as `params` say."""
        # TODO(step 6): implement this function (see its docstring)
        raise NotImplementedError

    async def update_user(
        self, user_id: uuid.UUID, data: UserUpdate, *, acting_user_id: uuid.UUID
    ) -> User:
        """Apply the fields present in `data`, as `acting_user_id` asks.

        404 if the user does not exist; 400 if an admin would demote or deactivate
        themselves; 409 if it would leave no active admin. A change of role or active
        state ends the user's sessions: they log in again, under their new rights.
        """
        # TODO(step 6): implement this function (see its docstring)
        raise NotImplementedError

    async def update_profile(self, user: User, data: UserSelfUpdate) -> User:
        """Let a user change their own name and/or password.

        A new password needs the current one (400 if it is wrong) and ends every
        session of the user, this one included: whoever held a token, perhaps a
        thief, must log in with the new password.
        """
        # TODO(step 6): implement this function (see its docstring)
        raise NotImplementedError

    async def delete_user(self, user_id: uuid.UUID, *, acting_user_id: uuid.UUID) -> None:
        """Soft-delete a user; 400 for yourself, 409 for the last active admin, 404 if
        there is no such user."""
        # TODO(step 6): implement this function (see its docstring)
        raise NotImplementedError

    async def _keep_an_active_admin(self, user_id: uuid.UUID, acting_user_id: uuid.UUID) -> None:
        """Refuse to take away `user_id`'s admin rights if they are their own (400) or
        the last ones (409); nothing to refuse if the user is no active admin.

        The active admins are counted locked, inside this transaction: two admins who
        demote each other at the same moment would otherwise both count two admins,
        both succeed, and leave none.
        """
        # TODO(step 6): admin_ids = await self.repository.lock_active_admin_ids(); not an active admin: nothing to refuse; yourself: 400; the only one: 409
        raise NotImplementedError
