"""Helpers of the step 6 checks: tokens made by hand, users stored behind the learner's back.

Users that need no real password are written with the grader's own ORM session on
the grader's engine (the `schema` fixture) and a fake hash: no Argon2 cost (see
`add_user` in course/grading/fixtures.py). The learner's code is imported inside the
helpers, never at module level.
"""

from __future__ import annotations

import base64
import json
import uuid
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy.ext.asyncio import AsyncEngine

UNRELATED_SECRET = "an-unrelated-secret-that-the-app-never-uses-0123456789"


def plain_secret(value: Any) -> str:
    """A setting's value as text, whether it is a str or a pydantic SecretStr."""
    getter = getattr(value, "get_secret_value", None)
    return str(getter() if callable(getter) else value)


def jwt_settings() -> dict[str, Any]:
    """The learner's JWT settings, as plain values."""
    from app.core.config import settings

    return {
        "access": plain_secret(settings.JWT_SECRET_KEY),
        "refresh": plain_secret(settings.JWT_REFRESH_SECRET_KEY),
        "algorithm": str(settings.JWT_ALGORITHM),
        "access_minutes": int(settings.JWT_ACCESS_TOKEN_EXPIRE_MINUTES),
        "refresh_days": int(settings.JWT_REFRESH_TOKEN_EXPIRE_DAYS),
        "issuer": str(settings.JWT_ISSUER),
        "audience": str(settings.JWT_AUDIENCE),
        "leeway": int(settings.JWT_LEEWAY_SECONDS),
        "session_days": int(settings.SESSION_LIFETIME_DAYS),
    }


def craft_token(
    secret: str | None,
    *,
    sub: str,
    token_type: str,
    algorithm: str,
    age: timedelta = timedelta(0),
    lifetime: timedelta = timedelta(minutes=5),
    drop: str | None = None,
    **extra: Any,
) -> str:
    """A JWT issued `age` ago, valid for `lifetime`, optionally without the claim `drop`.

    It carries every claim the course's tokens carry (`sid`, `jti`, and the learner's
    JWT_ISSUER and JWT_AUDIENCE), so that each bad token differs from a good one in
    the one thing it is about.
    """
    config = jwt_settings()
    issued = datetime.now(UTC) - age
    claims: dict[str, Any] = {
        "sub": sub,
        "sid": str(uuid.uuid4()),
        "jti": uuid.uuid4().hex,
        "type": token_type,
        "iss": config["issuer"],
        "aud": config["audience"],
        "iat": issued,
        "exp": issued + lifetime,
        **extra,
    }
    if drop is not None:
        del claims[drop]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT warns about short keys for HS512
        return jwt.encode(claims, secret, algorithm=algorithm)  # type: ignore[arg-type]


def tamper(token: str, **changes: Any) -> str:
    """Rewrite claims of a signed token but keep its original signature."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    new_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{new_payload}.{signature}"


async def decode_outcome(decode: Callable[[str], Any], token: str) -> tuple[bool, str]:
    """Whether a decoder (sync or async) refused `token` (raised, or returned nothing)."""
    from course.grading.fixtures import maybe_await

    try:
        result = await maybe_await(decode(token))
    except NotImplementedError:
        return False, "NotImplementedError (the function is still a stub)"
    except Exception as exc:
        return True, type(exc).__name__
    if not result:
        return True, repr(result)
    return False, f"the claims {sorted(result) if isinstance(result, dict) else result!r}"


def status_of(exc: BaseException) -> int | None:
    """The HTTP status an exception stands for (AppException and HTTPException have one)."""
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def message_of(exc: BaseException) -> str:
    """The client-facing message of an exception."""
    for name in ("message", "detail"):
        value = getattr(exc, name, None)
        if isinstance(value, str) and value:
            return value
    return str(exc)


def describe(exc: BaseException) -> str:
    """An exception in a few words, for a learner."""
    status = status_of(exc)
    suffix = f" (status {status})" if status is not None else ""
    return f"{type(exc).__name__}: {message_of(exc)[:120]}{suffix}"


def new_email(prefix: str = "grader") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


async def read_row(engine: AsyncEngine, user_id: uuid.UUID) -> dict[str, Any] | None:
    """The users row with this id (soft-deleted or not), as a dict, read behind the ORM."""
    from app.domain.models.user import User

    table = User.__table__
    async with engine.connect() as connection:
        row = (
            (await connection.execute(table.select().where(table.c.id == user_id)))
            .mappings()
            .first()
        )
    return dict(row) if row is not None else None


@asynccontextmanager
async def services() -> AsyncIterator[tuple[Any, Any]]:
    """(UserService, repository) on a session of the learner's database manager.

    The session commits when the block succeeds, as the learner's get_session decides.
    """
    from app.core.database import database_manager
    from app.repository.user_repository import UserRepository
    from app.service.user_service import UserService
    from course.grading.fixtures import learner_session

    async with learner_session(database_manager) as session:
        repository = UserRepository(session)
        yield UserService(repository, session_repository(repository)), repository


def session_repository(repository: Any) -> Any:
    """The learner's SessionRepository on the same session as `repository`."""
    from app.repository.session_repository import SessionRepository

    return SessionRepository(repository.session)


def auth_service(repository: Any) -> Any:
    """The learner's AuthService on `repository`, with the session and failure
    repositories on the same session beside it."""
    from app.repository.login_failure_repository import LoginFailureRepository
    from app.service.auth_service import AuthService

    failures = LoginFailureRepository(repository.session)
    return AuthService(repository, session_repository(repository), failures)


def authenticate_method(service: Any) -> Callable[[str, str], Any]:
    """AuthService.authenticate(email, password), or login(email, password) if that is all."""
    for name in ("authenticate", "login"):
        method = getattr(service, name, None)
        if callable(method):
            return method  # type: ignore[no-any-return]
    raise AssertionError(
        "expected AuthService to have authenticate(email, password) (or login(email, password))"
    )


def user_create(email: str, password: str, full_name: str = "Grader Person", **extra: Any) -> Any:
    """The learner's UserCreate schema."""
    from app.domain.schemas.user import UserCreate

    return UserCreate(email=email, password=password, full_name=full_name, **extra)


# The password of every user stored with a real hash (`stored_user`): one password, so
# one Argon2 hash of the learner's making serves every check (`learner_hash` caches it).
PASSWORD = "grader-password-1"


async def stored_user(engine: AsyncEngine, **fields: Any) -> Any:
    """A user stored behind the learner's back whose password is `PASSWORD`."""
    from course.grading.fixtures import add_user, learner_hash

    return await add_user(engine, password_hash=await learner_hash(PASSWORD), **fields)


def token_pair(result: Any) -> tuple[str, str]:
    """(access, refresh) of what login or refresh returned: a TokenResponse or a dict."""
    if isinstance(result, dict):
        return str(result["access_token"]), str(result["refresh_token"])
    return str(result.access_token), str(result.refresh_token)
