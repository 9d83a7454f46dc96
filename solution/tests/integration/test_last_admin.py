"""Admins cannot lock everyone out: no demoting or deactivating yourself, and never the
last active admin, not even when two admins demote each other at the same moment.

HTTP tests go through the real app; the rule about the last admin is unreachable over
HTTP one request at a time (the acting admin is an active admin who is not the
target), so it is exercised on the service directly, and under concurrency.
"""

import asyncio
import contextlib
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.core.database import DatabaseManager
from app.core.exceptions import BadRequestException, ConflictException
from app.domain.models.user import User, UserRole
from app.domain.schemas.user import UserUpdate
from app.repository.session_repository import SessionRepository
from app.repository.user_repository import UserRepository
from app.service.user_service import LAST_ADMIN, OWN_STANDING, UserService
from tests.conftest import API, MakeUser, TestUser, assert_error


async def active_admins(database: DatabaseManager) -> int:
    """How many live, active admins the database holds (read in a fresh session)."""
    async with database.session_factory() as session:
        query = select(func.count()).where(
            User.role == UserRole.ADMIN.value,
            User.is_active.is_(True),
            User.deleted_at.is_(None),
        )
        return (await session.execute(query)).scalar_one()


async def row(database: DatabaseManager, user_id: uuid.UUID) -> User:
    async with database.session_factory() as session:
        user = await session.get(User, user_id)
        assert user is not None
        return user


# --- yourself: 400 -------------------------------------------------------------------


@pytest.mark.parametrize("change", [{"role": "user"}, {"role": "moderator"}, {"is_active": False}])
async def test_admin_cannot_demote_or_deactivate_themself(
    client: httpx.AsyncClient,
    admin: TestUser,
    make_user: MakeUser,
    database: DatabaseManager,
    change: dict[str, Any],
) -> None:
    await make_user(UserRole.ADMIN)  # another admin: the refusal is not about the last one
    response = await client.patch(f"{API}/users/{admin.id}", json=change, headers=admin.headers)
    assert_error(response, 400, OWN_STANDING)
    stored = await row(database, admin.id)
    assert (stored.role, stored.is_active) == ("admin", True)


async def test_admin_may_edit_their_own_name_and_restate_their_role(
    client: httpx.AsyncClient, admin: TestUser
) -> None:
    response = await client.patch(
        f"{API}/users/{admin.id}",
        json={"full_name": "Still Admin", "role": "admin", "is_active": True},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    assert (response.json()["full_name"], response.json()["role"]) == ("Still Admin", "admin")


async def test_admin_may_demote_and_deactivate_another_admin(
    client: httpx.AsyncClient, admin: TestUser, make_user: MakeUser, database: DatabaseManager
) -> None:
    other = await make_user(UserRole.ADMIN)
    response = await client.patch(
        f"{API}/users/{other.id}", json={"role": "moderator"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    assert await active_admins(database) == 1


# --- the last active admin: 409 --------------------------------------------------------


@pytest.mark.parametrize("change", [{"role": "user"}, {"is_active": False}])
async def test_the_last_active_admin_cannot_be_demoted_or_deactivated(
    database: DatabaseManager, make_user: MakeUser, change: dict[str, Any]
) -> None:
    only = await make_user(UserRole.ADMIN)
    inactive = await make_user(UserRole.ADMIN, is_active=False)
    deleted = await make_user(UserRole.ADMIN)
    async with database.get_session() as session:
        assert await UserRepository(session).soft_delete(deleted.id)
    with pytest.raises(ConflictException, match=LAST_ADMIN):
        async with database.get_session() as session:
            await UserService(UserRepository(session), SessionRepository(session)).update_user(
                only.id, UserUpdate(**change), acting_user_id=inactive.id
            )
    assert await active_admins(database) == 1


async def test_the_last_active_admin_cannot_be_deleted(
    database: DatabaseManager, make_user: MakeUser
) -> None:
    only = await make_user(UserRole.ADMIN)
    inactive = await make_user(UserRole.ADMIN, is_active=False)
    with pytest.raises(ConflictException, match=LAST_ADMIN):
        async with database.get_session() as session:
            await UserService(UserRepository(session), SessionRepository(session)).delete_user(
                only.id, acting_user_id=inactive.id
            )
    assert (await row(database, only.id)).deleted_at is None


async def test_an_inactive_admin_may_be_changed_and_yourself_is_still_400(
    database: DatabaseManager, make_user: MakeUser
) -> None:
    only = await make_user(UserRole.ADMIN)
    inactive = await make_user(UserRole.ADMIN, is_active=False)
    async with database.get_session() as session:
        service = UserService(UserRepository(session), SessionRepository(session))
        await service.update_user(inactive.id, UserUpdate(role="user"), acting_user_id=only.id)
        with pytest.raises(BadRequestException, match=OWN_STANDING):
            await service.update_user(only.id, UserUpdate(role="user"), acting_user_id=only.id)
    assert (await row(database, inactive.id)).role == "user"


# --- two admins demote each other at once -------------------------------------------------


class SignallingRepository(UserRepository):
    """A UserRepository that reports when it holds the admin lock, then dawdles."""

    def __init__(self, *args: Any, locked: asyncio.Event, other_locked: asyncio.Event) -> None:
        super().__init__(*args)
        self.locked = locked
        self.other_locked = other_locked

    async def lock_active_admin_ids(self) -> list[uuid.UUID]:
        ids = await super().lock_active_admin_ids()
        self.locked.set()
        # Give the other transaction every chance to count too before this one writes:
        # with the lock it cannot, and this wait runs out.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.other_locked.wait(), timeout=0.5)
        return ids


@pytest.mark.parametrize("operation", ["demote", "delete"])
async def test_two_admins_removing_each_other_at_once_leave_one(
    database_url: str, make_user: MakeUser, database: DatabaseManager, operation: str
) -> None:
    first, second = await make_user(UserRole.ADMIN), await make_user(UserRole.ADMIN)
    first_locked, second_locked = asyncio.Event(), asyncio.Event()
    # A manager of its own per transaction: two connections, as two requests would use.
    managers = [DatabaseManager(database_url), DatabaseManager(database_url)]

    async def remove(
        manager: DatabaseManager,
        target: TestUser,
        actor: TestUser,
        locked: asyncio.Event,
        other: asyncio.Event,
    ) -> str:
        try:
            async with manager.get_session() as session:
                repository = SignallingRepository(session, locked=locked, other_locked=other)
                service = UserService(repository, SessionRepository(repository.session))
                if operation == "demote":
                    await service.update_user(
                        target.id, UserUpdate(role="user"), acting_user_id=actor.id
                    )
                else:
                    await service.delete_user(target.id, acting_user_id=actor.id)
        except ConflictException:
            return "409"
        return "done"

    async def second_after_first() -> str:
        await first_locked.wait()
        return await remove(managers[1], first, second, second_locked, first_locked)

    try:
        outcomes = await asyncio.wait_for(
            asyncio.gather(
                remove(managers[0], second, first, first_locked, second_locked),
                second_after_first(),
            ),
            timeout=20,
        )
    finally:
        for manager in managers:
            await manager.disconnect()
    assert outcomes == ["done", "409"]
    assert await active_admins(database) == 1


# --- the contract ------------------------------------------------------------------------


async def test_openapi_documents_the_400_and_409_answers(client: httpx.AsyncClient) -> None:
    paths = (await client.get(f"{API}/openapi.json")).json()["paths"]
    patch = paths[f"{API}/users/{{user_id}}"]["patch"]["responses"]
    delete = paths[f"{API}/users/{{user_id}}"]["delete"]["responses"]
    for responses in (patch, delete):
        assert {"400", "404", "409"} <= set(responses)
        assert responses["409"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorResponse"
        }
