"""Step 6, sessions: a login starts one; refresh rotates; a reused refresh token ends
its session; a new password or new rights end them all.

The services are called directly, each call on its own session of the learner's
database manager (as one request would be); what they stored is read behind their
back with the grader's engine.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from course.grading.fixtures import add_user, maybe_await

from .conftest import (
    PASSWORD,
    auth_service,
    describe,
    jwt_settings,
    services,
    status_of,
    stored_user,
    token_pair,
)


async def login_result(email: str, password: str = PASSWORD) -> Any:
    """What AuthService.login returned: a TokenResponse (or a dict)."""
    async with services() as (_, repository):
        return await maybe_await(auth_service(repository).login(email, password))


async def login(email: str, password: str = PASSWORD) -> tuple[str, str]:
    return token_pair(await login_result(email, password))


async def refresh(token: str) -> tuple[str, str]:
    async with services() as (_, repository):
        return token_pair(await maybe_await(auth_service(repository).refresh(token)))


async def refresh_status(token: str) -> int | None:
    """None if refresh(token) succeeded, else the status of what it raised."""
    try:
        await refresh(token)
    except NotImplementedError:
        raise
    except Exception as exc:
        status = status_of(exc)
        assert status is not None, f"expected a 401 error, found {describe(exc)}"
        return status
    return None


def claims_of(token: str, kind: str) -> dict[str, Any]:
    config = jwt_settings()
    payload: dict[str, Any] = jwt.decode(
        token,
        config[kind],
        algorithms=[config["algorithm"]],
        audience=config["audience"],
        options={"verify_signature": True},
    )
    return payload


async def session_rows(schema: AsyncEngine, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """The user's rows of user_sessions, ended or not, read behind the learner's back."""
    from app.domain.models.session import UserSession

    table = UserSession.__table__
    async with schema.connect() as connection:
        result = await connection.execute(table.select().where(table.c.user_id == user_id))
        return [dict(row) for row in result.mappings()]


def open_ids(rows: list[dict[str, Any]]) -> set[str]:
    return {str(row["id"]) for row in rows if row["deleted_at"] is None}


async def user_of(access: str) -> Any:
    """What AuthService.get_token_user makes of an access token (raises if refused)."""
    from app.core.security import decode_access_token

    async with services() as (_, repository):
        claims = await maybe_await(decode_access_token(access))
        return await maybe_await(auth_service(repository).get_token_user(claims))


async def access_status(access: str) -> int | None:
    try:
        await user_of(access)
    except NotImplementedError:
        raise
    except Exception as exc:
        return status_of(exc)
    return None


# --- Login and rotation ----------------------------------------------------------


@pytest.mark.grade("sessions", 2)
async def test_login_starts_a_session_its_tokens_name(schema: AsyncEngine) -> None:
    user = await stored_user(schema)
    result = await login_result(user.email)
    access, refresh_token = token_pair(result)
    expires_in = result["expires_in"] if isinstance(result, dict) else result.expires_in
    minutes = jwt_settings()["access_minutes"]
    assert expires_in == minutes * 60, (
        f"expected the token pair's expires_in to be the access token's lifetime in seconds, "
        f"JWT_ACCESS_TOKEN_EXPIRE_MINUTES * 60 = {minutes * 60}, found {expires_in!r}"
    )
    rows = await session_rows(schema, user.id)
    assert len(rows) == 1, (
        f"expected AuthService.login to store one user_sessions row for the user, found {len(rows)}"
    )
    row = rows[0]
    sid = claims_of(access, "access").get("sid")
    assert sid == str(row["id"]), (
        f"expected the access token's `sid` to be the new session's id {row['id']}, found {sid!r}"
    )
    refresh_claims = claims_of(refresh_token, "refresh")
    assert refresh_claims.get("sid") == str(row["id"]), (
        f"expected the refresh token's `sid` to be the session's id, found {refresh_claims}"
    )
    assert refresh_claims.get("jti") == row["refresh_token_id"], (
        "expected the session to record its refresh token's `jti` as refresh_token_id, found "
        f"jti {refresh_claims.get('jti')!r} and refresh_token_id {row['refresh_token_id']!r}"
    )
    days = jwt_settings()["session_days"]
    expires = row["expires_at"].replace(tzinfo=row["expires_at"].tzinfo or UTC)
    ahead = (expires - datetime.now(UTC)).total_seconds()
    assert abs(ahead - days * 86400) < 120, (
        f"expected the session to end SESSION_LIFETIME_DAYS ({days}) after the login, found "
        f"{ahead / 86400:.2f} days ahead"
    )
    assert await access_status(access) is None, "expected the new access token to work"


@pytest.mark.grade("sessions", 2)
async def test_a_refresh_token_works_once_and_its_successor_works(schema: AsyncEngine) -> None:
    user = await stored_user(schema)
    _, first = await login(user.email)
    access, second = await refresh(first)
    assert second != first, "expected refresh to return a new refresh token"
    assert await access_status(access) is None, "expected the refreshed access token to work"
    _, third = await refresh(second)
    assert third not in (first, second), "expected each refresh to issue a new refresh token"
    rows = await session_rows(schema, user.id)
    assert len(rows) == 1, (
        f"expected refreshing to keep the one session of the login, found {len(rows)} rows"
    )
    expires = {row["expires_at"] for row in rows}
    await refresh(third)
    assert {row["expires_at"] for row in await session_rows(schema, user.id)} == expires, (
        "expected refreshing never to move the session's expires_at (its absolute end)"
    )


@pytest.mark.grade("sessions", 3)
async def test_reusing_a_refresh_token_ends_the_session_for_good(schema: AsyncEngine) -> None:
    user = await stored_user(schema)
    _, first = await login(user.email)
    access, second = await refresh(first)
    status = await refresh_status(first)
    assert status == 401, (
        "expected a refresh token presented a second time to be refused with 401, found "
        + ("that it worked again" if status is None else f"status {status}")
    )
    rows = await session_rows(schema, user.id)
    assert not open_ids(rows), (
        "expected a reused refresh token to end its session (a copy was stolen), and that "
        "to be committed although refresh answers 401: the session is still open (commit "
        "the ending before raising)"
    )
    assert await refresh_status(second) == 401, (
        "expected the refresh token issued in place of the reused one to stop working too"
    )
    assert await access_status(access) == 401, (
        "expected the access token of a session ended by a reuse to stop working"
    )


@pytest.mark.grade("sessions", 1)
async def test_a_reuse_in_one_session_leaves_the_others_alone(schema: AsyncEngine) -> None:
    user = await stored_user(schema)
    _, laptop = await login(user.email)
    phone_access, phone = await login(user.email)
    await refresh(laptop)
    assert await refresh_status(laptop) == 401, "expected a reused refresh token to get 401"
    assert await access_status(phone_access) is None, (
        "expected a refresh-token reuse to end only its own session, found the user's other "
        "session ended too"
    )
    assert await refresh_status(phone) is None, (
        "expected the other session's refresh token to keep working after a reuse elsewhere"
    )


@pytest.mark.grade("sessions", 1)
async def test_logout_ends_the_session_of_the_access_token(schema: AsyncEngine) -> None:
    from app.core.security import decode_access_token

    user = await stored_user(schema)
    access, refresh_token = await login(user.email)
    other_access, _ = await login(user.email)
    async with services() as (_, repository):
        claims = await maybe_await(decode_access_token(access))
        await maybe_await(auth_service(repository).logout(claims))
    assert await access_status(access) == 401, (
        "expected AuthService.logout to end the session: its access token answered"
    )
    assert await refresh_status(refresh_token) == 401, (
        "expected AuthService.logout to end the session: its refresh token still works"
    )
    assert await access_status(other_access) is None, (
        "expected logout to end only this session, found the user's other session ended"
    )


@pytest.mark.grade("sessions", 1)
async def test_claims_that_name_no_user_or_session_get_401(schema: AsyncEngine) -> None:
    user = await stored_user(schema)
    access, _ = await login(user.email)
    good = claims_of(access, "access")
    cases = {
        "a `sub` that is not a UUID": {**good, "sub": "not-a-uuid"},
        "a `sid` that is not a UUID": {**good, "sid": "not-a-uuid"},
        "no `sid`": {key: value for key, value in good.items() if key != "sid"},
        "no `sub`": {key: value for key, value in good.items() if key != "sub"},
    }
    for what, claims in cases.items():
        try:
            async with services() as (_, repository):
                await maybe_await(auth_service(repository).get_token_user(claims))
        except NotImplementedError:
            raise
        except Exception as exc:
            assert status_of(exc) == 401, (
                f"expected AuthService.get_token_user of claims with {what} to raise a 401, "
                f"found {describe(exc)}: read each id claim as a UUID, and answer a missing or "
                "malformed one (KeyError, ValueError) with UnauthorizedException"
            )
        else:
            raise AssertionError(
                f"expected AuthService.get_token_user of claims with {what} to raise a 401, "
                "it returned a user"
            )


# --- A new password, new rights --------------------------------------------------


def self_update(**fields: Any) -> Any:
    from app.domain.schemas.user import UserSelfUpdate

    return UserSelfUpdate(**fields)


async def update_profile(user_id: uuid.UUID, data: Any) -> Any:
    async with services() as (service, repository):
        user = await maybe_await(repository.get_by_id(user_id))
        return await maybe_await(service.update_profile(user, data))


@pytest.mark.grade("sessions", 2)
async def test_a_new_password_needs_the_current_one_and_ends_every_session(
    schema: AsyncEngine,
) -> None:
    user = await stored_user(schema)
    first, _ = await login(user.email)
    second, _ = await login(user.email)
    wrong = self_update(password="a-new-passphrase-1", current_password="not-the-password")
    try:
        await update_profile(user.id, wrong)
    except NotImplementedError:
        raise
    except Exception as exc:
        assert status_of(exc) == 400, (
            f"expected a wrong current_password to raise a 400 error, found {describe(exc)}"
        )
    else:
        raise AssertionError("expected update_profile with a wrong current_password to raise 400")
    assert await access_status(first) is None, "expected a refused change to end no session"

    right = self_update(password="a-new-passphrase-1", current_password=PASSWORD)
    await update_profile(user.id, right)
    for access in (first, second):
        assert await access_status(access) == 401, (
            "expected a password change to end every session of the user (a thief holding "
            "a token must log in again), found an old access token still working"
        )
    new_access, _ = await login(user.email, "a-new-passphrase-1")
    assert await access_status(new_access) is None, "expected a login with the new password to work"


@pytest.mark.grade("sessions", 1)
async def test_a_new_name_ends_no_session(schema: AsyncEngine) -> None:
    user = await stored_user(schema)
    access, _ = await login(user.email)
    await update_profile(user.id, self_update(full_name="Renamed Person"))
    assert await access_status(access) is None, (
        "expected a change of name to leave the user's sessions open"
    )


async def update_user(user_id: uuid.UUID, acting: Any, **fields: Any) -> Any:
    from app.domain.schemas.user import UserUpdate

    from .test_services import other_arguments

    async with services() as (service, _):
        extra = other_arguments(service.update_user, skip=2, acting=acting)
        return await maybe_await(service.update_user(user_id, UserUpdate(**fields), **extra))


@pytest.mark.grade("sessions", 2)
@pytest.mark.parametrize(
    "changes",
    [({"is_active": False},), ({"role": "moderator"}, {"role": "user"})],
    ids=["deactivated", "role"],
)
async def test_a_change_of_role_or_state_ends_the_users_sessions(
    schema: AsyncEngine, changes: tuple[dict[str, Any], ...]
) -> None:
    admin = await add_user(schema, role="admin")
    user = await stored_user(schema)
    # Up, then down: a new role ends the sessions whichever way it goes.
    for change in changes:
        access, refresh_token = await login(user.email)
        await update_user(user.id, admin, **change)
        if change.get("is_active") is False:
            await update_user(user.id, admin, is_active=True)
        assert await access_status(access) == 401, (
            f"expected update_user({change}) to end the user's sessions, so that they log in "
            "again under their new rights; found their old access token still working"
            + (" after reactivation" if "is_active" in change else "")
        )
        assert await refresh_status(refresh_token) == 401, (
            f"expected update_user({change}) to end the user's sessions: their refresh token "
            "still works"
        )


@pytest.mark.grade("sessions", 1)
async def test_a_change_that_keeps_the_rights_ends_no_session(schema: AsyncEngine) -> None:
    admin = await add_user(schema, role="admin")
    user = await stored_user(schema)
    access, _ = await login(user.email)
    await update_user(user.id, admin, full_name="New Name", role="user", is_active=True)
    assert await access_status(access) is None, (
        "expected an update that changes neither role nor active state (a new name, the same "
        "role) to leave the user's sessions open"
    )
