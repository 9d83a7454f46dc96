"""POST /auth/register, /auth/login, /auth/refresh, and the bearer token on /users/me.

Tokens are made with the app's own functions or crafted with PyJWT; the `headers`
of a test user give a valid access token of a stored session without paying for a
login (Argon2). Sessions themselves (rotation, reuse, logout) are in test_sessions.py.
"""

import asyncio
import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import func, select

from app.core.config import settings
from app.core.database import DatabaseManager
from app.core.security import create_access_token, create_refresh_token
from app.domain.models.user import User, UserRole
from tests.conftest import API, DEFAULT_PASSWORD, MakeUser, TestUser, assert_error

ACCESS_SECRET = settings.JWT_SECRET_KEY.get_secret_value()
REFRESH_SECRET = settings.JWT_REFRESH_SECRET_KEY.get_secret_value()
WRONG_SECRET = "an-entirely-different-secret-of-forty-chars"
BAD_CREDENTIALS = "Incorrect email or password"
EMAIL_TAKEN = "A user with this email already exists"
USER_FIELDS = {"id", "email", "full_name", "role", "is_active", "created_at", "updated_at"}


def assert_unauthorized(response: httpx.Response, message: str | None = None) -> None:
    """A 401 envelope carrying the `WWW-Authenticate: Bearer` challenge."""
    assert_error(response, 401, message)
    assert response.headers["WWW-Authenticate"] == "Bearer"


def craft_token(
    secret: str | None,
    *,
    sub: str,
    token_type: str,
    age: timedelta = timedelta(0),
    lifetime: timedelta = timedelta(minutes=5),
    algorithm: str = "HS256",
    drop: str | None = None,
    **extra: Any,
) -> str:
    """A JWT issued `age` ago, valid for `lifetime`, optionally missing claim `drop`.

    It carries every claim the app requires (`sid`, `jti`, `iss`, `aud` too), so each
    case differs from a valid token in one thing only.
    """
    issued = datetime.now(UTC) - age
    claims = {
        "sub": sub,
        "sid": str(uuid.uuid4()),
        "jti": uuid.uuid4().hex,
        "type": token_type,
        "iss": settings.JWT_ISSUER,
        "aud": settings.JWT_AUDIENCE,
        "iat": issued,
        "exp": issued + lifetime,
        **extra,
    }
    if drop is not None:
        del claims[drop]
    return jwt.encode(claims, secret, algorithm=algorithm)  # type: ignore[arg-type]


def tamper(token: str, **changes: Any) -> str:
    """Rewrite claims of a signed token but keep its original signature."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    new_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{new_payload}.{signature}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(f"{API}/auth/login", data={"username": email, "password": password})


async def count_rows(database: DatabaseManager, email: str) -> int:
    """Rows in `users` with this email, soft-deleted ones included."""
    async with database.get_session() as session:
        query = select(func.count()).select_from(User).where(func.lower(User.email) == email)
        return (await session.execute(query)).scalar_one()


def register_body(email: str, password: str = DEFAULT_PASSWORD, **extra: Any) -> dict[str, Any]:
    return {"email": email, "password": password, "full_name": "New Person", **extra}


# --- POST /auth/register ---------------------------------------------------------


async def test_register_returns_201_role_user_lowercased_email_and_no_password_or_hash(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        f"{API}/auth/register", json=register_body("Ann.Smith@Example.COM")
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == USER_FIELDS
    assert body["email"] == "ann.smith@example.com"
    assert body["full_name"] == "New Person"
    assert body["role"] == "user"
    assert body["is_active"] is True
    assert uuid.UUID(body["id"]).version == 4
    assert DEFAULT_PASSWORD not in response.text
    assert "argon2" not in response.text
    assert "password" not in response.text


@pytest.mark.parametrize(
    "extra",
    [{"role": "admin"}, {"role": "user"}, {"is_active": False}, {"password_hash": "x"}],
    ids=["role-admin", "role-user", "is_active", "password_hash"],
)
async def test_register_refuses_role_or_any_unknown_field_with_422_and_creates_nobody(
    client: httpx.AsyncClient, database: DatabaseManager, extra: dict[str, Any]
) -> None:
    response = await client.post(
        f"{API}/auth/register", json=register_body("sneaky@example.com", **extra)
    )
    body = assert_error(response, 422, "Validation error")
    assert [error["loc"] for error in body["detail"]] == [["body", next(iter(extra))]]
    assert await count_rows(database, "sneaky@example.com") == 0


async def test_register_accepts_100_character_password_and_login_works_with_it(
    client: httpx.AsyncClient,
) -> None:
    password = "p" * 50 + "Q" * 49 + "!"
    assert len(password) == 100
    response = await client.post(
        f"{API}/auth/register", json=register_body("long@example.com", password)
    )
    assert response.status_code == 201, response.text

    response = await login(client, "long@example.com", password)
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"


@pytest.mark.parametrize("length", [8, 128])
async def test_register_accepts_password_at_length_bounds_8_and_128(
    client: httpx.AsyncClient, length: int
) -> None:
    response = await client.post(
        f"{API}/auth/register", json=register_body(f"len{length}@example.com", "x" * length)
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("length", [0, 7, 129, 500])
async def test_register_rejects_password_shorter_than_8_or_longer_than_128_with_422(
    client: httpx.AsyncClient, database: DatabaseManager, length: int
) -> None:
    password = "Zq" * (length // 2) + "Z" * (length % 2)
    response = await client.post(
        f"{API}/auth/register", json=register_body("short@example.com", password)
    )
    body = assert_error(response, 422, "Validation error")
    assert [error["loc"] for error in body["detail"]] == [["body", "password"]]
    if password:  # a 422 never echoes the rejected password
        assert password not in response.text
    assert await count_rows(database, "short@example.com") == 0


async def test_register_rejects_invalid_email_with_422(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/auth/register", json=register_body("not-an-email"))
    body = assert_error(response, 422, "Validation error")
    assert [error["loc"] for error in body["detail"]] == [["body", "email"]]


async def test_register_duplicate_email_differing_only_in_case_gives_409(
    client: httpx.AsyncClient, database: DatabaseManager
) -> None:
    first = await client.post(f"{API}/auth/register", json=register_body("Ann@X.com"))
    assert first.status_code == 201, first.text
    assert first.json()["email"] == "ann@x.com"

    second = await client.post(f"{API}/auth/register", json=register_body("ann@x.com"))
    assert_error(second, 409, EMAIL_TAKEN)
    third = await client.post(f"{API}/auth/register", json=register_body("ANN@X.COM"))
    assert_error(third, 409, EMAIL_TAKEN)
    assert await count_rows(database, "ann@x.com") == 1


FULL_WIDTH_ADA = "\uff21\uff24\uff21@example.com"  # "ADA" in full-width letters


async def test_full_width_spelling_is_the_same_account_for_register_and_login(
    client: httpx.AsyncClient, database: DatabaseManager
) -> None:
    first = await client.post(f"{API}/auth/register", json=register_body("ada@example.com"))
    assert first.status_code == 201, first.text

    again = await client.post(f"{API}/auth/register", json=register_body(FULL_WIDTH_ADA))
    assert_error(again, 409, EMAIL_TAKEN)
    assert await count_rows(database, "ada@example.com") == 1
    for spelling in ("ada@example.com", FULL_WIDTH_ADA, "ADA@EXAMPLE.COM", " ada@example.com "):
        response = await login(client, spelling, DEFAULT_PASSWORD)
        assert response.status_code == 200, (spelling, response.text)


async def test_registering_full_width_first_stores_the_plain_spelling(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(f"{API}/auth/register", json=register_body(FULL_WIDTH_ADA))
    assert response.status_code == 201, response.text
    assert response.json()["email"] == "ada@example.com"
    assert (await login(client, "ada@example.com", DEFAULT_PASSWORD)).status_code == 200


async def test_twenty_concurrent_registrations_of_one_email_give_one_201_nineteen_409_one_row(
    client: httpx.AsyncClient, database: DatabaseManager
) -> None:
    body = register_body("race@example.com")
    responses = await asyncio.gather(
        *(client.post(f"{API}/auth/register", json=body) for _ in range(20))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201, *[409] * 19], [response.text for response in responses]
    for response in responses:
        if response.status_code == 409:
            assert_error(response, 409, EMAIL_TAKEN)
    assert await count_rows(database, "race@example.com") == 1


async def test_soft_deleted_users_email_can_register_again(
    client: httpx.AsyncClient, admin: TestUser, make_user: MakeUser, database: DatabaseManager
) -> None:
    old = await make_user(email="again@example.com")
    response = await client.delete(f"{API}/users/{old.id}", headers=admin.headers)
    assert response.status_code == 200, response.text

    response = await client.post(f"{API}/auth/register", json=register_body("Again@Example.com"))
    assert response.status_code == 201, response.text
    assert response.json()["email"] == "again@example.com"
    assert response.json()["id"] != str(old.id)
    assert await count_rows(database, "again@example.com") == 2

    response = await client.post(f"{API}/auth/register", json=register_body("again@example.com"))
    assert_error(response, 409, EMAIL_TAKEN)


# --- POST /auth/login ------------------------------------------------------------


async def test_login_returns_bearer_access_and_refresh_tokens_with_expires_in(
    client: httpx.AsyncClient, user: TestUser
) -> None:
    response = await login(client, user.email, user.password)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.JWT_ACCESS_TOKEN_EXPIRE_MINUTES * 60

    audience = settings.JWT_AUDIENCE
    access = jwt.decode(body["access_token"], ACCESS_SECRET, ["HS256"], audience=audience)
    assert access["sub"] == str(user.id)
    assert access["type"] == "access"
    assert access["exp"] - access["iat"] == body["expires_in"]
    refresh = jwt.decode(body["refresh_token"], REFRESH_SECRET, ["HS256"], audience=audience)
    assert refresh["sub"] == str(user.id)
    assert refresh["type"] == "refresh"
    assert refresh["sid"] == access["sid"]  # one session

    me = await client.get(f"{API}/users/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["id"] == str(user.id)


async def test_login_email_is_case_insensitive(client: httpx.AsyncClient, user: TestUser) -> None:
    response = await login(client, user.email.upper(), user.password)
    assert response.status_code == 200, response.text


async def test_login_unknown_email_and_wrong_password_give_same_401_message_with_www_authenticate(
    client: httpx.AsyncClient, user: TestUser
) -> None:
    wrong_password = await login(client, user.email, "wrong-password-123")
    unknown_email = await login(client, "nobody@example.com", user.password)

    wrong_body = assert_error(wrong_password, 401, BAD_CREDENTIALS)
    unknown_body = assert_error(unknown_email, 401, BAD_CREDENTIALS)
    assert wrong_password.headers["WWW-Authenticate"] == "Bearer"
    assert unknown_email.headers["WWW-Authenticate"] == "Bearer"
    assert wrong_body["detail"] == unknown_body["detail"]
    assert "access_token" not in wrong_password.text


async def test_login_right_password_but_inactive_account_gives_403(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    inactive = await make_user(is_active=False)
    response = await login(client, inactive.email, inactive.password)
    assert_error(response, 403, "This account is deactivated")
    assert "access_token" not in response.text


async def test_login_wrong_password_for_inactive_account_gives_401_not_403(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    inactive = await make_user(is_active=False)
    response = await login(client, inactive.email, "wrong-password-123")
    assert_unauthorized(response, BAD_CREDENTIALS)


# --- POST /auth/refresh ----------------------------------------------------------


async def test_refresh_returns_new_different_token_pair_that_works(
    client: httpx.AsyncClient, user: TestUser
) -> None:
    first = (await login(client, user.email, user.password)).json()

    response = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.JWT_ACCESS_TOKEN_EXPIRE_MINUTES * 60
    assert body["access_token"] != first["access_token"]
    assert body["refresh_token"] != first["refresh_token"]

    me = await client.get(f"{API}/users/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["id"] == str(user.id)
    again = await client.post(f"{API}/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert again.status_code == 200, again.text


def refresh_of(user: TestUser) -> str:
    """A refresh token of the user's stored session; not its current one, so a reuse."""
    ends = datetime.now(UTC) + timedelta(days=1)
    return create_refresh_token(str(user.id), str(user.session_id), uuid.uuid4().hex, ends)


def access_of(user: TestUser, subject: str | None = None) -> str:
    return create_access_token(subject or str(user.id), user.role.value, str(user.session_id))


INVALID_REFRESH_TOKENS: dict[str, Callable[[TestUser], str]] = {
    "access-token": access_of,
    "access-type-signed-with-refresh-secret": lambda u: craft_token(
        REFRESH_SECRET, sub=str(u.id), token_type="access"
    ),
    "expired": lambda u: craft_token(
        REFRESH_SECRET,
        sub=str(u.id),
        token_type="refresh",
        age=timedelta(days=8),
        lifetime=timedelta(days=7),
    ),
    "tampered-payload": lambda u: tamper(
        refresh_of(u), exp=int(datetime.now(UTC).timestamp()) + 3600
    ),
    "alg-none": lambda u: craft_token(None, sub=str(u.id), token_type="refresh", algorithm="none"),
    "wrong-secret": lambda u: craft_token(WRONG_SECRET, sub=str(u.id), token_type="refresh"),
    "other-algorithm-hs512": lambda u: craft_token(
        REFRESH_SECRET, sub=str(u.id), token_type="refresh", algorithm="HS512"
    ),
    "missing-exp": lambda u: craft_token(
        REFRESH_SECRET, sub=str(u.id), token_type="refresh", drop="exp"
    ),
    "sub-not-a-uuid": lambda u: craft_token(REFRESH_SECRET, sub="admin", token_type="refresh"),
    "unknown-session": lambda u: craft_token(REFRESH_SECRET, sub=str(u.id), token_type="refresh"),
    "other-issuer": lambda u: craft_token(
        REFRESH_SECRET, sub=str(u.id), token_type="refresh", iss="another-service"
    ),
    "other-audience": lambda u: craft_token(
        REFRESH_SECRET, sub=str(u.id), token_type="refresh", aud="another-service"
    ),
    "garbage": lambda u: "not.a.jwt",
}


# The HS512 case signs with the (short for SHA-512) refresh secret on purpose.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("kind", list(INVALID_REFRESH_TOKENS))
async def test_refresh_rejects_access_expired_tampered_alg_none_and_wrong_tokens_with_401(
    client: httpx.AsyncClient, user: TestUser, kind: str
) -> None:
    token = INVALID_REFRESH_TOKENS[kind](user)
    response = await client.post(f"{API}/auth/refresh", json={"refresh_token": token})
    assert_unauthorized(response)
    assert "access_token" not in response.text


async def test_refresh_token_of_deactivated_user_gives_401(
    client: httpx.AsyncClient, admin: TestUser, user: TestUser
) -> None:
    refresh_token = (await login(client, user.email, user.password)).json()["refresh_token"]
    response = await client.patch(
        f"{API}/users/{user.id}", json={"is_active": False}, headers=admin.headers
    )
    assert response.status_code == 200, response.text

    response = await client.post(f"{API}/auth/refresh", json={"refresh_token": refresh_token})
    assert_unauthorized(response)


async def test_refresh_token_of_deleted_user_gives_401(
    client: httpx.AsyncClient, admin: TestUser, user: TestUser
) -> None:
    refresh_token = (await login(client, user.email, user.password)).json()["refresh_token"]
    response = await client.delete(f"{API}/users/{user.id}", headers=admin.headers)
    assert response.status_code == 200, response.text

    response = await client.post(f"{API}/auth/refresh", json={"refresh_token": refresh_token})
    assert_unauthorized(response)


@pytest.mark.parametrize(
    "body",
    [{}, {"refresh_token": "x", "extra": 1}],
    ids=["missing-token", "unknown-field"],
)
async def test_refresh_with_missing_or_unknown_field_gives_422(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await client.post(f"{API}/auth/refresh", json=body)
    assert_error(response, 422, "Validation error")


# --- GET /users/me and the bearer token ------------------------------------------


async def test_me_returns_own_profile(client: httpx.AsyncClient, user: TestUser) -> None:
    response = await client.get(f"{API}/users/me", headers=user.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == USER_FIELDS
    assert body["id"] == str(user.id)
    assert body["email"] == user.email
    assert body["full_name"] == "Uma User"
    assert body["role"] == "user"
    assert body["is_active"] is True


INVALID_ACCESS_HEADERS: dict[str, Callable[[TestUser], dict[str, str]]] = {
    "no-token": lambda u: {},
    "malformed-token": lambda u: bearer("not-a-jwt"),
    "basic-scheme": lambda u: {"Authorization": "Basic dXNlcjpwYXNz"},
    "expired": lambda u: bearer(
        craft_token(
            ACCESS_SECRET,
            sub=str(u.id),
            token_type="access",
            role="user",
            age=timedelta(hours=1),
            lifetime=timedelta(minutes=30),
        )
    ),
    "refresh-token-as-access": lambda u: bearer(refresh_of(u)),
    "refresh-type-signed-with-access-secret": lambda u: bearer(
        craft_token(ACCESS_SECRET, sub=str(u.id), token_type="refresh")
    ),
    "wrong-secret": lambda u: bearer(
        craft_token(WRONG_SECRET, sub=str(u.id), token_type="access", role="user")
    ),
    "alg-none": lambda u: bearer(
        craft_token(None, sub=str(u.id), token_type="access", role="user", algorithm="none")
    ),
    "tampered-payload": lambda u: bearer(
        tamper(
            craft_token(
                ACCESS_SECRET,
                sub=str(u.id),
                token_type="access",
                role="user",
                age=timedelta(hours=1),
                lifetime=timedelta(minutes=30),
            ),
            exp=int(datetime.now(UTC).timestamp()) + 3600,
        )
    ),
    "missing-type": lambda u: bearer(
        craft_token(ACCESS_SECRET, sub=str(u.id), token_type="access", drop="type")
    ),
    "missing-iat": lambda u: bearer(
        craft_token(ACCESS_SECRET, sub=str(u.id), token_type="access", drop="iat")
    ),
    "sub-not-a-uuid": lambda u: bearer(
        craft_token(ACCESS_SECRET, sub="not-a-uuid", token_type="access")
    ),
    "unknown-user": lambda u: bearer(access_of(u, subject=str(uuid.uuid4()))),
    "unknown-session": lambda u: bearer(
        craft_token(ACCESS_SECRET, sub=str(u.id), token_type="access", role="user")
    ),
    "other-audience": lambda u: bearer(
        craft_token(ACCESS_SECRET, sub=str(u.id), token_type="access", aud="another-service")
    ),
}


@pytest.mark.parametrize("kind", list(INVALID_ACCESS_HEADERS))
async def test_me_rejects_missing_malformed_expired_refresh_wrong_secret_alg_none_tokens_with_401(
    client: httpx.AsyncClient, user: TestUser, kind: str
) -> None:
    response = await client.get(f"{API}/users/me", headers=INVALID_ACCESS_HEADERS[kind](user))
    assert_unauthorized(response)
    assert user.email not in response.text


async def test_deactivated_users_existing_access_token_gives_401(
    client: httpx.AsyncClient, admin: TestUser, user: TestUser
) -> None:
    headers = user.headers
    assert (await client.get(f"{API}/users/me", headers=headers)).status_code == 200
    response = await client.patch(
        f"{API}/users/{user.id}", json={"is_active": False}, headers=admin.headers
    )
    assert response.status_code == 200, response.text

    assert_unauthorized(await client.get(f"{API}/users/me", headers=headers))


async def test_deleted_users_existing_access_token_gives_401(
    client: httpx.AsyncClient, admin: TestUser, make_user: MakeUser
) -> None:
    other_admin = await make_user(UserRole.ADMIN)
    headers = other_admin.headers
    assert (await client.get(f"{API}/users", headers=headers)).status_code == 200
    response = await client.delete(f"{API}/users/{other_admin.id}", headers=admin.headers)
    assert response.status_code == 200, response.text

    assert_unauthorized(await client.get(f"{API}/users/me", headers=headers))
    assert_unauthorized(await client.get(f"{API}/users", headers=headers))


# --- PATCH /users/me -------------------------------------------------------------


async def test_update_me_changes_full_name_and_nothing_else(
    client: httpx.AsyncClient, user: TestUser
) -> None:
    before = (await client.get(f"{API}/users/me", headers=user.headers)).json()
    response = await client.patch(
        f"{API}/users/me", json={"full_name": "Uma Renamed"}, headers=user.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["full_name"] == "Uma Renamed"
    for field in ("id", "email", "role", "is_active", "created_at"):
        assert body[field] == before[field]

    after = await client.get(f"{API}/users/me", headers=user.headers)
    assert after.json()["full_name"] == "Uma Renamed"


async def test_update_me_password_old_password_stops_working_new_one_works(
    client: httpx.AsyncClient, user: TestUser
) -> None:
    new_password = "a-brand-new-passphrase"
    body = {"password": new_password, "current_password": user.password}
    response = await client.patch(f"{API}/users/me", json=body, headers=user.headers)
    assert response.status_code == 200, response.text
    assert set(response.json()) == USER_FIELDS
    assert new_password not in response.text

    assert_unauthorized(await login(client, user.email, user.password), BAD_CREDENTIALS)
    response = await login(client, user.email, new_password)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "body",
    [{"full_name": None}, {"password": None}, {"full_name": None, "password": None}],
    ids=["full_name", "password", "both"],
)
async def test_update_me_explicit_null_leaves_name_and_password_as_they_are(
    client: httpx.AsyncClient, user: TestUser, body: dict[str, Any]
) -> None:
    before = (await client.get(f"{API}/users/me", headers=user.headers)).json()
    response = await client.patch(f"{API}/users/me", json=body, headers=user.headers)
    assert response.status_code == 200, response.text
    assert response.json() == before
    assert (await client.get(f"{API}/users/me", headers=user.headers)).json() == before
    response = await login(client, user.email, user.password)
    assert response.status_code == 200, response.text


async def test_update_me_rejects_too_short_password_with_422(
    client: httpx.AsyncClient, user: TestUser
) -> None:
    response = await client.patch(
        f"{API}/users/me", json={"password": "short"}, headers=user.headers
    )
    body = assert_error(response, 422, "Validation error")
    assert [error["loc"] for error in body["detail"]] == [["body", "password"]]


@pytest.mark.parametrize(
    "extra",
    [{"role": "admin"}, {"is_active": False}, {"email": "new@example.com"}],
    ids=["role", "is_active", "email"],
)
async def test_update_me_refuses_role_or_is_active_in_body_with_422_and_changes_nothing(
    client: httpx.AsyncClient, user: TestUser, extra: dict[str, Any]
) -> None:
    response = await client.patch(
        f"{API}/users/me", json={"full_name": "Sneaky", **extra}, headers=user.headers
    )
    body = assert_error(response, 422, "Validation error")
    assert [error["loc"] for error in body["detail"]] == [["body", next(iter(extra))]]

    me = (await client.get(f"{API}/users/me", headers=user.headers)).json()
    assert me["role"] == "user"
    assert me["is_active"] is True
    assert me["full_name"] == "Uma User"
    assert me["email"] == user.email


async def test_update_me_without_token_gives_401(client: httpx.AsyncClient) -> None:
    response = await client.patch(f"{API}/users/me", json={"full_name": "Nobody"})
    assert_unauthorized(response, "Not authenticated")
