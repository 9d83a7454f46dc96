"""Sessions: a login starts one; refresh rotates; reuse, logout, password and rights
changes end them; a session has an absolute lifetime.

Every session is started by a real login (one Argon2 verification each), because
what is tested is the pair of tokens the API hands out.
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from app.core.database import DatabaseManager
from app.domain.models.session import UserSession
from tests.conftest import API, MakeUser, TestUser, assert_error

SESSION_ENDED = "This session has ended; log in again"


@dataclass
class Pair:
    """The tokens of one session, as the API returned them."""

    access: str
    refresh: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


async def log_in(client: httpx.AsyncClient, user: TestUser, password: str | None = None) -> Pair:
    response = await client.post(
        f"{API}/auth/login", data={"username": user.email, "password": password or user.password}
    )
    assert response.status_code == 200, response.text
    return Pair(response.json()["access_token"], response.json()["refresh_token"])


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(f"{API}/auth/refresh", json={"refresh_token": token})


async def refreshed(client: httpx.AsyncClient, pair: Pair) -> Pair:
    response = await refresh(client, pair.refresh)
    assert response.status_code == 200, response.text
    return Pair(response.json()["access_token"], response.json()["refresh_token"])


async def me_status(client: httpx.AsyncClient, pair: Pair) -> int:
    return (await client.get(f"{API}/users/me", headers=pair.headers)).status_code


def assert_ended(response: httpx.Response) -> None:
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def open_sessions(database: DatabaseManager, user: TestUser) -> int:
    async with database.get_session() as session:
        query = select(func.count()).where(
            UserSession.user_id == user.id, UserSession.deleted_at.is_(None)
        )
        return (await session.execute(query)).scalar_one()


# --- Login and rotation ----------------------------------------------------------


async def test_each_login_starts_a_session_of_its_own(
    client: httpx.AsyncClient, database: DatabaseManager, user: TestUser
) -> None:
    before = await open_sessions(database, user)
    await log_in(client, user)
    await log_in(client, user)
    assert await open_sessions(database, user) == before + 2


async def test_a_refresh_token_works_once_and_its_successor_works(
    client: httpx.AsyncClient, user: TestUser
) -> None:
    first = await log_in(client, user)
    second = await refreshed(client, first)
    third = await refreshed(client, second)
    assert await me_status(client, third) == 200


async def test_reusing_a_refresh_token_ends_the_whole_session(
    client: httpx.AsyncClient, user: TestUser
) -> None:
    first = await log_in(client, user)
    second = await refreshed(client, first)

    reuse = await refresh(client, first.refresh)  # a copy: someone else holds it
    assert_ended(reuse)
    assert reuse.json()["message"] == SESSION_ENDED

    # The thief's reuse ends the session for its rightful holder too.
    assert_ended(await refresh(client, second.refresh))
    assert await me_status(client, second) == 401
    assert await me_status(client, first) == 401


async def test_the_end_of_a_reused_session_is_committed_although_the_answer_is_401(
    client: httpx.AsyncClient, database: DatabaseManager, user: TestUser
) -> None:
    first = await log_in(client, user)
    await refreshed(client, first)
    before = await open_sessions(database, user)
    assert_ended(await refresh(client, first.refresh))
    assert await open_sessions(database, user) == before - 1


async def test_two_refreshes_with_one_token_at_once_give_one_pair_and_end_the_session(
    client: httpx.AsyncClient, user: TestUser
) -> None:
    pair = await log_in(client, user)
    responses = await asyncio.gather(*(refresh(client, pair.refresh) for _ in range(2)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 401], [response.text for response in responses]
    winner = next(response for response in responses if response.status_code == 200).json()
    assert_ended(await refresh(client, winner["refresh_token"]))


async def test_other_sessions_survive_a_reuse_in_one_of_them(
    client: httpx.AsyncClient, user: TestUser
) -> None:
    laptop = await log_in(client, user)
    phone = await log_in(client, user)
    await refreshed(client, laptop)
    assert_ended(await refresh(client, laptop.refresh))
    assert await me_status(client, phone) == 200
    assert await me_status(client, await refreshed(client, phone)) == 200


# --- Absolute lifetime -----------------------------------------------------------


async def test_a_session_past_its_absolute_lifetime_ends_however_it_was_refreshed(
    client: httpx.AsyncClient, database: DatabaseManager, user: TestUser
) -> None:
    pair = await refreshed(client, await log_in(client, user))
    async with database.get_session() as session:
        await session.execute(
            update(UserSession)
            .where(UserSession.user_id == user.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert await me_status(client, pair) == 401
    assert_ended(await refresh(client, pair.refresh))


async def test_refreshing_never_moves_the_end_of_a_session(
    client: httpx.AsyncClient, database: DatabaseManager, user: TestUser
) -> None:
    first = await log_in(client, user)
    async with database.get_session() as session:
        query = select(UserSession.expires_at).where(UserSession.user_id == user.id)
        ends_before = set((await session.execute(query)).scalars())
    await refreshed(client, await refreshed(client, first))
    async with database.get_session() as session:
        assert set((await session.execute(query)).scalars()) == ends_before


# --- Logout ----------------------------------------------------------------------


async def test_logout_ends_this_session_and_no_other(
    client: httpx.AsyncClient, user: TestUser
) -> None:
    laptop = await log_in(client, user)
    phone = await log_in(client, user)

    response = await client.post(f"{API}/auth/logout", headers=laptop.headers)
    assert response.status_code == 204, response.text
    assert response.content == b""

    assert await me_status(client, laptop) == 401
    assert_ended(await refresh(client, laptop.refresh))
    assert await me_status(client, phone) == 200
    assert await me_status(client, await refreshed(client, phone)) == 200


async def test_logout_needs_a_live_access_token(client: httpx.AsyncClient, user: TestUser) -> None:
    pair = await log_in(client, user)
    assert_error(await client.post(f"{API}/auth/logout"), 401, "Not authenticated")
    refresh_as_bearer = {"Authorization": f"Bearer {pair.refresh}"}
    assert_error(await client.post(f"{API}/auth/logout", headers=refresh_as_bearer), 401)
    assert (await client.post(f"{API}/auth/logout", headers=pair.headers)).status_code == 204
    assert_error(await client.post(f"{API}/auth/logout", headers=pair.headers), 401)


# --- Changing a password ---------------------------------------------------------


async def test_a_new_password_needs_the_current_one(
    client: httpx.AsyncClient, user: TestUser
) -> None:
    pair = await log_in(client, user)
    missing = await client.patch(
        f"{API}/users/me", json={"password": "a-new-passphrase-1"}, headers=pair.headers
    )
    body = assert_error(missing, 422, "Validation error")
    assert "current_password" in str(body["detail"])

    wrong = await client.patch(
        f"{API}/users/me",
        json={"password": "a-new-passphrase-1", "current_password": "not-my-password"},
        headers=pair.headers,
    )
    assert_error(wrong, 400, "The current password is incorrect")
    assert await me_status(client, pair) == 200  # nothing changed, nothing ended
    await log_in(client, user)  # the old password still works


async def test_changing_the_password_ends_every_session_and_answers_the_profile(
    client: httpx.AsyncClient, user: TestUser
) -> None:
    this, other = await log_in(client, user), await log_in(client, user)
    new_password = "a-new-passphrase-2"
    response = await client.patch(
        f"{API}/users/me",
        json={"password": new_password, "current_password": user.password},
        headers=this.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["id"] == str(user.id)

    for pair in (this, other):
        assert await me_status(client, pair) == 401
        assert_ended(await refresh(client, pair.refresh))
    assert await me_status(client, await log_in(client, user, new_password)) == 200


async def test_changing_only_the_name_ends_no_session(
    client: httpx.AsyncClient, user: TestUser
) -> None:
    pair = await log_in(client, user)
    response = await client.patch(
        f"{API}/users/me", json={"full_name": "Uma Renamed"}, headers=pair.headers
    )
    assert response.status_code == 200, response.text
    assert await me_status(client, pair) == 200


# --- Changes of rights by an admin -----------------------------------------------


@pytest.mark.parametrize(
    "change", [{"is_active": False}, {"role": "moderator"}], ids=["deactivated", "role"]
)
async def test_an_admin_changing_role_or_state_ends_the_users_sessions(
    client: httpx.AsyncClient, admin: TestUser, user: TestUser, change: dict[str, object]
) -> None:
    pair = await log_in(client, user)
    response = await client.patch(f"{API}/users/{user.id}", json=change, headers=admin.headers)
    assert response.status_code == 200, response.text
    if change.get("is_active") is False:  # reactivating must not bring old tokens back
        reactivate = {"is_active": True}
        response = await client.patch(
            f"{API}/users/{user.id}", json=reactivate, headers=admin.headers
        )
        assert response.status_code == 200, response.text
    assert await me_status(client, pair) == 401
    assert_ended(await refresh(client, pair.refresh))


async def test_an_admin_renaming_a_user_or_setting_the_same_role_ends_nothing(
    client: httpx.AsyncClient, admin: TestUser, make_user: MakeUser
) -> None:
    user = await make_user()
    pair = await log_in(client, user)
    for change in ({"full_name": "New Name"}, {"role": "user"}, {"is_active": True}):
        response = await client.patch(f"{API}/users/{user.id}", json=change, headers=admin.headers)
        assert response.status_code == 200, response.text
    assert await me_status(client, pair) == 200
