"""Password hashing (Argon2id via pwdlib) and JSON Web Tokens (PyJWT).

Hashing is deliberately slow, so it runs in a worker thread: on the event loop
one login would stall every other request for the length of a hash.
"""

import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Literal, TypeVar

import jwt
from anyio import CapacityLimiter, to_thread
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.core.config import settings
from app.core.exceptions import ServiceUnavailableException, UnauthorizedException

T = TypeVar("T")

TokenType = Literal["access", "refresh"]
# Every token names its user (`sub`) and session (`sid`); `jti` tells tokens apart.
REQUIRED_CLAIMS = ["exp", "iat", "sub", "sid", "jti", "type", "iss", "aud"]

# OWASP's Argon2id profile (19 MiB, 2 passes, 1 lane): strong, and cheap enough in
# memory that a burst of logins cannot exhaust the server.
password_hash = PasswordHash((Argon2Hasher(time_cost=2, memory_cost=19 * 1024, parallelism=1),))


def _usable_cores() -> int:
    """Return how many cores this process may run on.

    `os.cpu_count()` counts the machine's; `taskset` or a container may allow fewer.
    """
    if hasattr(os, "sched_getaffinity"):  # Linux
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# At most one hash per usable core at a time: more would only queue for the CPU
# while holding their memory, and take the event loop's share of it.
_hashing_limiter = CapacityLimiter(_usable_cores())
# Hash and verify calls that hold a token of the limiter or wait for one. Counted
# here, not read from `_hashing_limiter.statistics().tasks_waiting`: `run_sync`
# yields to the event loop before it joins the limiter's queue, so a burst of
# requests would all see an empty queue and all join it.
_hashing_pending = 0
HASHING_RETRY_AFTER_SECONDS = 1
HASHING_BUSY = "Too many logins at once; try again in a moment"


def hashing_queue_limit() -> int:
    """Return how many hash or verify calls may wait for a core: so many per core."""
    return settings.HASHING_QUEUE_PER_CORE * int(_hashing_limiter.total_tokens)


async def _run_hashing(function: Callable[..., T], *args: Any) -> T:
    """Run `function(*args)` in a worker thread under `_hashing_limiter`.

    Raises `ServiceUnavailableException` (503, `Retry-After`) instead of joining
    the queue when `hashing_queue_limit()` calls already wait: a queue without a
    bound makes every login of a burst wait longer than any client will, while
    each holds its request, its connection and its memory.
    """
    global _hashing_pending  # one count for the whole process
    waiting = _hashing_pending - int(_hashing_limiter.total_tokens)
    if waiting >= hashing_queue_limit():
        raise ServiceUnavailableException(HASHING_BUSY, retry_after=HASHING_RETRY_AFTER_SECONDS)
    _hashing_pending += 1  # before the first await: the next request sees it
    try:
        return await to_thread.run_sync(function, *args, limiter=_hashing_limiter)
    finally:
        _hashing_pending -= 1


async def hash_password(password: str) -> str:
    """Return the Argon2id hash of `password`, computed off the event loop.

    Raises `ServiceUnavailableException` (503) when the hashing queue is full.
    """
    return await _run_hashing(password_hash.hash, password)


async def verify_password(password: str, hashed: str) -> bool:
    """Return whether `password` matches `hashed`, computed off the event loop.

    Raises `ServiceUnavailableException` (503) when the hashing queue is full.
    """
    return await _run_hashing(password_hash.verify, password, hashed)


@cache
def _dummy_hash() -> str:
    """Return the hash of a random password, made on the first call and cached.

    `spend_verify_time` verifies against it, so that a login with an unknown email
    costs one Argon2 verification, like a wrong password. Cached, because hashing
    anew on every such login would cost a second Argon2 computation on top.
    """
    return password_hash.hash(uuid.uuid4().hex)


async def spend_verify_time(password: str) -> None:
    """Do the work of a real verification, for a login whose email is unknown.

    Without it an unknown email answers faster than a wrong password, which tells
    an attacker which emails have accounts.
    """
    dummy = await _run_hashing(_dummy_hash)
    await verify_password(password, dummy)


def _create_token(
    claims: dict[str, Any], token_type: TokenType, secret: str, expires_at: datetime
) -> str:
    """Return a JWT of `claims` signed with `secret` and `JWT_ALGORITHM`.

    Adds `type` (`token_type`, so that one kind of token is never taken for the
    other), `iss` and `aud` (`JWT_ISSUER`, `JWT_AUDIENCE`), `iat` (now), `exp`
    (`expires_at`) and, unless `claims` has one, a random `jti`. Access and refresh
    tokens are both made here; they differ in claims, secret and lifetime.
    """
    payload = {
        "jti": uuid.uuid4().hex,  # two tokens issued in the same second still differ
        **claims,
        "type": token_type,
        "iss": settings.JWT_ISSUER,
        "aud": settings.JWT_AUDIENCE,
        "iat": datetime.now(UTC),
        "exp": expires_at,
    }
    return jwt.encode(payload, secret, algorithm=settings.JWT_ALGORITHM)


def create_access_token(subject: str, role: str, session_id: str) -> str:
    """Return a short-lived access token for user `subject` in session `session_id`."""
    lifetime = timedelta(minutes=settings.JWT_ACCESS_TOKEN_EXPIRE_MINUTES)
    return _create_token(
        {"sub": subject, "role": role, "sid": session_id},
        "access",
        settings.JWT_SECRET_KEY.get_secret_value(),
        datetime.now(UTC) + lifetime,
    )


def create_refresh_token(
    subject: str, session_id: str, token_id: str, session_expires_at: datetime
) -> str:
    """Return a refresh token for user `subject`, signed with its own secret.

    `token_id` becomes its `jti`: the session records it, so that the token works
    once. It expires after `JWT_REFRESH_TOKEN_EXPIRE_DAYS`, or when the session
    does (`session_expires_at`) if that comes first.
    """
    lifetime = timedelta(days=settings.JWT_REFRESH_TOKEN_EXPIRE_DAYS)
    return _create_token(
        {"sub": subject, "sid": session_id, "jti": token_id},
        "refresh",
        settings.JWT_REFRESH_SECRET_KEY.get_secret_value(),
        min(datetime.now(UTC) + lifetime, session_expires_at),
    )


def _decode_token(token: str, token_type: TokenType, secret: str) -> dict[str, Any]:
    """Return the claims of `token`; raise `UnauthorizedException` unless it is valid.

    Valid means: signed with `secret` by `JWT_ALGORITHM` (the only algorithm
    accepted), issued by `JWT_ISSUER` for `JWT_AUDIENCE`, not expired (give or take
    `JWT_LEEWAY_SECONDS`), with every claim of `REQUIRED_CLAIMS`, and of type
    `token_type`, so that a refresh token never passes for an access token. An
    expired token gets "Token has expired"; any other failure "Could not validate
    credentials".
    """
    try:
        # `algorithms` pins the algorithm: a token claiming `alg: none` or another
        # algorithm is rejected instead of trusted.
        payload: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[settings.JWT_ALGORITHM],
            audience=settings.JWT_AUDIENCE,
            issuer=settings.JWT_ISSUER,
            leeway=settings.JWT_LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError as exc:
        raise UnauthorizedException("Token has expired") from exc
    except jwt.PyJWTError as exc:
        raise UnauthorizedException("Could not validate credentials") from exc
    if payload.get("type") != token_type:
        raise UnauthorizedException("Could not validate credentials")
    return payload


def decode_access_token(token: str) -> dict[str, Any]:
    """Return the claims of a valid access token; raise `UnauthorizedException` otherwise."""
    return _decode_token(token, "access", settings.JWT_SECRET_KEY.get_secret_value())


def decode_refresh_token(token: str) -> dict[str, Any]:
    """Return the claims of a valid refresh token; raise `UnauthorizedException` otherwise."""
    return _decode_token(token, "refresh", settings.JWT_REFRESH_SECRET_KEY.get_secret_value())
