"""Step 7, D16: POST /auth/register, /auth/login, /auth/refresh and GET/PATCH /users/me."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from course.grading.fixtures import API, count_email

from .conftest import (
    StoredUser,
    assert_error,
    assert_status,
    bearer,
    login,
    read_row,
    set_column,
    store_user,
)

PASSWORD = "grading-password-7"
USER_KEYS = {"id", "email", "full_name", "role", "is_active"}


def register_body(email: str, password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
    return {"email": email, "password": password, "full_name": "New Person", **extra}


def new_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


# --- POST /auth/register -------------------------------------------------------------


@pytest.mark.grade("D16", 2)
async def test_register_creates_a_plain_active_user_and_shows_no_password(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    email = new_email("Reg.Ister")
    response = await client.post(f"{API}/auth/register", json=register_body(email))
    body = assert_status(response, 201, "POST /auth/register")
    missing = USER_KEYS - set(body)
    assert not missing, f"expected the new user's {sorted(USER_KEYS)}, missing {sorted(missing)}"
    found = (body["email"], body["full_name"], body["role"], body["is_active"])
    assert found == (email.lower(), "New Person", "user", True), (
        f"expected (email lower-cased, full_name, role 'user', is_active true), found {found}"
    )
    assert PASSWORD not in response.text and "argon2" not in response.text, (
        "expected the response never to show the password or its hash"
    )
    assert not [key for key in body if "password" in key], (
        f"expected no password field in the response, found {sorted(body)}"
    )
    assert await read_row(schema, body["id"]) is not None, "expected the user to be stored"


@pytest.mark.grade("D16", 2)
async def test_register_refuses_role_and_other_unknown_fields_with_422(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    response = await client.post(f"{API}/auth/register", json=register_body(new_email("ok")))
    assert_status(response, 201, "POST /auth/register")
    for extra in ({"role": "admin"}, {"is_active": False}):
        email = new_email("sneaky")
        response = await client.post(f"{API}/auth/register", json=register_body(email, **extra))
        assert_error(response, 422, f"POST /auth/register with {extra} in the body")
        assert await count_email(schema, email) == 0, "expected no user to be created"


@pytest.mark.grade("D16", 1)
async def test_register_accepts_a_100_character_password_that_then_logs_in(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    email, password = new_email("long"), "p" * 99 + "!"
    response = await client.post(f"{API}/auth/register", json=register_body(email, password))
    assert_status(response, 201, "POST /auth/register with a 100-character password")
    assert_status(
        await login(client, email, password), 200, "login with that 100-character password"
    )


@pytest.mark.grade("D16", 1)
async def test_register_with_a_taken_email_in_any_case_gives_409(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    taken = await store_user(schema)
    response = await client.post(f"{API}/auth/register", json=register_body(taken.email.upper()))
    assert_error(response, 409, "POST /auth/register with a taken email (in upper case)")
    assert await count_email(schema, taken.email) == 1, "expected no second user with that email"


@pytest.mark.grade("D16", 1)
async def test_a_full_width_spelling_is_the_same_account(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    tag = uuid.uuid4().hex[:8]
    email = f"ada-{tag}@example.com"
    # The same address with "ADA" in full-width letters.
    wide = f"\uff21\uff24\uff21-{tag}@example.com"
    response = await client.post(f"{API}/auth/register", json=register_body(email))
    assert_status(response, 201, "POST /auth/register")
    response = await client.post(f"{API}/auth/register", json=register_body(wide))
    assert_error(response, 409, f"POST /auth/register with {wide!r}, the same email in full width")
    for spelling in (email, wide):
        assert_status(
            await login(client, spelling, PASSWORD), 200, f"login as {spelling!r} (one account)"
        )


@pytest.mark.grade("D16", 2)
async def test_twenty_concurrent_registrations_of_one_email_give_one_201_and_409s(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    email = new_email("race")
    responses = await asyncio.gather(
        *(client.post(f"{API}/auth/register", json=register_body(email)) for _ in range(20))
    )
    statuses = Counter(response.status_code for response in responses)
    assert statuses == Counter({201: 1, 409: 19}), (
        f"expected twenty simultaneous registrations of one email to give one 201 and "
        f"nineteen 409, found {dict(statuses)} (a duplicate that slips past the check must "
        "still be a 409: catch the IntegrityError)"
    )
    assert await count_email(schema, email) == 1, "expected exactly one stored user"


@pytest.mark.grade("D16", 1)
async def test_a_soft_deleted_users_email_can_register_again(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    gone = await store_user(schema, deleted=True)
    response = await client.post(f"{API}/auth/register", json=register_body(gone.email))
    body = assert_status(response, 201, "POST /auth/register with a soft-deleted user's email")
    assert body["id"] != str(gone.id), "expected a new user, not the deleted one back"


# --- POST /auth/login ----------------------------------------------------------------


@pytest.mark.grade("D16", 2)
async def test_login_returns_a_bearer_token_pair_that_works(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    from app.core.config import settings

    user = await store_user(schema, password=PASSWORD)
    body = assert_status(await login(client, user.email, PASSWORD), 200, "POST /auth/login")
    missing = {"access_token", "refresh_token", "token_type", "expires_in"} - set(body)
    assert not missing, f"expected the login answer to hold {sorted(missing)}, found {sorted(body)}"
    assert str(body["token_type"]).lower() == "bearer", (
        f"expected token_type 'bearer', found {body['token_type']!r}"
    )
    expected = settings.JWT_ACCESS_TOKEN_EXPIRE_MINUTES * 60
    assert body["expires_in"] == expected, (
        f"expected expires_in to be the access token's lifetime in seconds ({expected}), "
        f"found {body['expires_in']!r}"
    )
    me = await client.get(f"{API}/users/me", headers=bearer(body["access_token"]))
    assert_status(me, 200, "GET /users/me with the access token from login")
    assert me.json()["id"] == str(user.id), "expected /users/me to be the logged-in user"
    response = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": body["refresh_token"]}
    )
    assert_status(response, 200, "POST /auth/refresh with the refresh token from login")


@pytest.mark.grade("D16", 2)
async def test_login_unknown_email_and_wrong_password_give_the_same_401(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    user = await store_user(schema, password=PASSWORD)
    wrong = await login(client, user.email, "wrong-password-7")
    unknown = await login(client, new_email("nobody"), PASSWORD)
    wrong_body = assert_error(wrong, 401, "POST /auth/login with a wrong password")
    unknown_body = assert_error(unknown, 401, "POST /auth/login with an unknown email")
    assert wrong_body["message"] == unknown_body["message"], (
        "expected one message for an unknown email and a wrong password, found "
        f"{unknown_body['message']!r} and {wrong_body['message']!r}"
    )
    for response in (wrong, unknown):
        assert response.headers.get("WWW-Authenticate", "").lower() == "bearer", (
            "expected a 401 from login to carry the header WWW-Authenticate: Bearer, found "
            f"{response.headers.get('WWW-Authenticate')!r}"
        )


@pytest.mark.grade("D16", 2)
async def test_a_throttled_login_answers_429_with_retry_after_and_is_documented(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    from app.core.config import settings

    user = await store_user(schema, password=PASSWORD)
    for _ in range(int(settings.LOGIN_MAX_FAILURES)):
        assert_error(await login(client, user.email, "wrong-password-7"), 401, "a failed login")
    throttled = await login(client, user.email, PASSWORD)
    assert_error(throttled, 429, "POST /auth/login after LOGIN_MAX_FAILURES failed logins")
    assert throttled.headers.get("Retry-After", "").isdigit(), (
        "expected the 429 to carry the header Retry-After in whole seconds, found "
        f"{throttled.headers.get('Retry-After')!r}"
    )
    from app.main import create_app

    # The schema itself, whether or not this configuration serves it.
    responses = create_app().openapi()["paths"][f"{API}/auth/login"]["post"]["responses"]
    missing = {"429", "503"} - set(responses)
    assert not missing, (
        f"expected POST /auth/login to document its {sorted(missing)} responses "
        f"(responses= on the route), found only {sorted(responses)}"
    )


@pytest.mark.grade("D16", 1)
async def test_login_of_a_deactivated_user_with_the_right_password_gives_403(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    user = await store_user(schema, password=PASSWORD, is_active=False)
    response = await login(client, user.email, PASSWORD)
    assert_error(response, 403, "POST /auth/login of a deactivated user (right password)")
    assert "access_token" not in response.text, "expected no token for a deactivated user"


# --- POST /auth/refresh -----------------------------------------------------------------


def _refresh_secret() -> tuple[str, str]:
    from app.core.config import settings

    secret = settings.JWT_REFRESH_SECRET_KEY
    value = secret.get_secret_value() if hasattr(secret, "get_secret_value") else secret
    return str(value), str(settings.JWT_ALGORITHM)


def _refresh_claims(user: StoredUser, **changes: Any) -> dict[str, Any]:
    """The claims of the user's current refresh token, with `changes`."""
    from app.core.config import settings

    issued = datetime.now(UTC)
    return {
        "sub": str(user.id),
        "sid": str(user.session_id),
        "jti": user.refresh_token_id,
        "type": "refresh",
        "iss": settings.JWT_ISSUER,
        "aud": settings.JWT_AUDIENCE,
        "iat": issued,
        "exp": issued + timedelta(hours=1),
        **changes,
    }


def _expired_refresh(user: StoredUser) -> str:
    secret, algorithm = _refresh_secret()
    issued = datetime.now(UTC) - timedelta(days=30)
    claims = _refresh_claims(user, iat=issued, exp=issued + timedelta(1))
    return jwt.encode(claims, secret, algorithm=algorithm)


def _other_audience_refresh(user: StoredUser) -> str:
    secret, algorithm = _refresh_secret()
    return jwt.encode(_refresh_claims(user, aud="another-service"), secret, algorithm=algorithm)


def _tampered_refresh(user: StoredUser) -> str:
    from app.core.security import create_refresh_token

    header, payload, signature = create_refresh_token(
        str(uuid.uuid4()), str(user.session_id), user.refresh_token_id, user.session_expires_at
    ).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = str(user.id)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _refresh_of(user: StoredUser) -> str:
    return user.refresh_token


def _stale_refresh_of(user: StoredUser) -> str:
    """A validly signed refresh token of the session that is not its current one."""
    secret, algorithm = _refresh_secret()
    return jwt.encode(_refresh_claims(user, jti=uuid.uuid4().hex), secret, algorithm=algorithm)


def _access_of(user: StoredUser) -> str:
    return user.headers["Authorization"].removeprefix("Bearer ")


BAD_REFRESH: dict[str, tuple[str, Callable[[StoredUser], str], dict[str, Any]]] = {
    "access-token": ("an access token", _access_of, {}),
    "expired": ("an expired refresh token", _expired_refresh, {}),
    "tampered": ("a refresh token whose `sub` was changed after signing", _tampered_refresh, {}),
    "deleted-user": ("the refresh token of a soft-deleted user", _refresh_of, {"deleted": True}),
    "inactive-user": ("the refresh token of a deactivated user", _refresh_of, {"active": False}),
    "other-audience": ("a refresh token for another audience (`aud`)", _other_audience_refresh, {}),
    "not-the-current-one": (
        "a refresh token of the session that is not its current one (already used)",
        _stale_refresh_of,
        {},
    ),
}


@pytest.mark.grade("D16", 1)
async def test_refresh_gives_a_new_token_pair_that_works(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    user = await store_user(schema)
    response = await client.post(f"{API}/auth/refresh", json={"refresh_token": user.refresh_token})
    body = assert_status(response, 200, "POST /auth/refresh with a valid refresh token")
    assert {"access_token", "refresh_token"} <= set(body), (
        f"expected a new access_token and refresh_token, found {sorted(body)}"
    )
    me = await client.get(f"{API}/users/me", headers=bearer(body["access_token"]))
    assert_status(me, 200, "GET /users/me with the access token from /auth/refresh")


@pytest.mark.grade("D16", 1)
@pytest.mark.parametrize("case", list(BAD_REFRESH))
async def test_refresh_refuses_with_401(
    client: httpx.AsyncClient, schema: AsyncEngine, case: str
) -> None:
    what, make, state = BAD_REFRESH[case]
    user = await store_user(schema)
    token = make(user)
    if state.get("deleted"):
        await set_column(schema, user.id, deleted_at=datetime.now(UTC))
    if state.get("active") is False:
        await set_column(schema, user.id, is_active=False)
    response = await client.post(f"{API}/auth/refresh", json={"refresh_token": token})
    assert_error(response, 401, f"POST /auth/refresh with {what}")
    assert "access_token" not in response.text, "expected no new tokens"


async def refreshed(client: httpx.AsyncClient, token: str, what: str) -> dict[str, Any]:
    response = await client.post(f"{API}/auth/refresh", json={"refresh_token": token})
    body: dict[str, Any] = assert_status(response, 200, what)
    return body


@pytest.mark.grade("D16", 2)
async def test_refresh_rotates_and_a_reused_refresh_token_ends_the_session(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    user = await store_user(schema, password=PASSWORD)
    first = assert_status(await login(client, user.email, PASSWORD), 200, "POST /auth/login")
    second = await refreshed(client, first["refresh_token"], "POST /auth/refresh after login")
    response = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert_error(response, 401, "POST /auth/refresh with a refresh token used before")
    response = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert_error(
        response,
        401,
        "POST /auth/refresh with the token issued in place of a reused one (the reuse must "
        "end the whole session)",
    )
    response = await client.get(f"{API}/users/me", headers=bearer(second["access_token"]))
    assert_error(response, 401, "GET /users/me with an access token of the ended session")


@pytest.mark.grade("D16", 2)
async def test_logout_ends_this_session_and_no_other(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    user = await store_user(schema, password=PASSWORD)
    laptop = assert_status(await login(client, user.email, PASSWORD), 200, "POST /auth/login")
    phone = assert_status(await login(client, user.email, PASSWORD), 200, "POST /auth/login")
    assert_error(await client.post(f"{API}/auth/logout"), 401, "POST /auth/logout without a token")
    response = await client.post(f"{API}/auth/logout", headers=bearer(laptop["access_token"]))
    assert response.status_code in (200, 204), (
        f"expected POST /auth/logout with a valid access token to answer 204 (or 200), found "
        f"{response.status_code}: {response.text[:200]}"
    )
    response = await client.get(f"{API}/users/me", headers=bearer(laptop["access_token"]))
    assert_error(response, 401, "GET /users/me with the access token of a logged-out session")
    response = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": laptop["refresh_token"]}
    )
    assert_error(response, 401, "POST /auth/refresh with the refresh token of a logged-out session")
    response = await client.get(f"{API}/users/me", headers=bearer(phone["access_token"]))
    assert_status(response, 200, "GET /users/me with the user's other session after a logout")


# --- GET and PATCH /users/me --------------------------------------------------------------


@pytest.mark.grade("D16", 1)
async def test_me_returns_your_own_profile_and_401_without_a_token(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    user = await store_user(schema, full_name="Mia Me")
    body = assert_status(
        await client.get(f"{API}/users/me", headers=user.headers), 200, "GET /users/me"
    )
    found = (body.get("id"), body.get("email"), body.get("full_name"))
    assert found == (str(user.id), user.email, "Mia Me"), (
        f"expected your own (id, email, full_name), found {found}"
    )
    assert_error(await client.get(f"{API}/users/me"), 401, "GET /users/me without a token")
    response = await client.get(f"{API}/users/me", headers=bearer("not.a.jwt"))
    assert_error(response, 401, "GET /users/me with a malformed token")


@pytest.mark.grade("D16", 1)
async def test_patch_me_changes_your_name(client: httpx.AsyncClient, schema: AsyncEngine) -> None:
    user = await store_user(schema, full_name="Old Name")
    response = await client.patch(
        f"{API}/users/me", json={"full_name": "New Name"}, headers=user.headers
    )
    body = assert_status(response, 200, "PATCH /users/me with a new full_name")
    assert (body.get("full_name"), body.get("role")) == ("New Name", "user"), (
        f"expected full_name 'New Name' and role still 'user', found {body}"
    )
    assert_status(await client.get(f"{API}/users/me", headers=user.headers), 200, "GET /users/me")


@pytest.mark.grade("D16", 3)
async def test_patch_me_password_needs_the_current_one_and_ends_every_session(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    user = await store_user(schema, password=PASSWORD)
    tokens = assert_status(await login(client, user.email, PASSWORD), 200, "POST /auth/login")
    headers = bearer(tokens["access_token"])
    new_password = "a-brand-new-passphrase"
    response = await client.patch(
        f"{API}/users/me", json={"password": new_password}, headers=headers
    )
    assert_error(response, 422, "PATCH /users/me with a new password but no current_password")
    response = await client.patch(
        f"{API}/users/me",
        json={"password": new_password, "current_password": "not-the-password-1"},
        headers=headers,
    )
    assert_error(response, 400, "PATCH /users/me with a wrong current_password")
    response = await client.patch(
        f"{API}/users/me",
        json={"password": new_password, "current_password": PASSWORD},
        headers=headers,
    )
    body = assert_status(response, 200, "PATCH /users/me with the right current_password")
    assert body.get("id") == str(user.id), f"expected the answer to be your profile, found {body}"
    assert new_password not in response.text, "expected the response not to show the password"
    for what, response in (
        ("GET /users/me with an access token from before the change", await client.get(
            f"{API}/users/me", headers=headers)),
        ("GET /users/me with a stored session's token from before the change", await client.get(
            f"{API}/users/me", headers=user.headers)),
        ("POST /auth/refresh with a refresh token from before the change", await client.post(
            f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]})),
    ):  # fmt: skip
        assert_error(response, 401, what)
    assert_status(
        await login(client, user.email, new_password),
        200,
        "login with the password set through PATCH /users/me",
    )


@pytest.mark.grade("D16", 1)
@pytest.mark.parametrize(
    "extra", [{"role": "admin"}, {"is_active": False}], ids=["role", "is_active"]
)
async def test_patch_me_refuses_role_and_is_active_with_422(
    client: httpx.AsyncClient, schema: AsyncEngine, extra: dict[str, Any]
) -> None:
    user = await store_user(schema)
    response = await client.patch(
        f"{API}/users/me", json={"full_name": "Same Name"}, headers=user.headers
    )
    assert_status(response, 200, "PATCH /users/me with a new full_name")
    response = await client.patch(
        f"{API}/users/me", json={"full_name": "Sneaky", **extra}, headers=user.headers
    )
    assert_error(response, 422, f"PATCH /users/me with {extra}")
    row = await read_row(schema, user.id)
    assert row is not None, "expected the user to stay in the table"
    found = (row["full_name"], row["role"], bool(row["is_active"]))
    assert found == ("Same Name", "user", True), f"expected nothing to change, found {found}"
