"""Password hashing (Argon2id via pwdlib) and JSON Web Tokens (PyJWT).

Hashing is deliberately slow, so it runs in a worker thread: on the event loop
one login would stall every other request for the length of a hash.
"""

import os
import uuid
from datetime import UTC, datetime, timedelta
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any, Literal

import jwt
from anyio import CapacityLimiter, to_thread
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.core.config import settings
from app.core.exceptions import ServiceUnavailableException, UnauthorizedException

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
# Calls holding or awaiting a token of the limiter. The limiter's own statistics
# would miss a burst: run_sync yields once before it queues.
_in_line = [0]


def hashing_queue_limit() -> int:
    """How many hashes may wait for a core before we answer 503."""
    return int(_hashing_limiter.total_tokens) * settings.HASHING_QUEUE_PER_CORE


@contextmanager
def _place_in_line() -> Iterator[None]:
    """Take a place in the hashing line, or raise 503 if the line is full."""
    if _in_line[0] - int(_hashing_limiter.total_tokens) >= hashing_queue_limit():
        raise ServiceUnavailableException("The server is busy; try again shortly", retry_after=1)
    _in_line[0] += 1
    try:
        yield
    finally:
        _in_line[0] -= 1


async def hash_password(password: str) -> str:
    """Return the Argon2id hash of `password`, computed off the event loop (503 when busy)."""

    def compute() -> str:
        return password_hash.hash(password)

    with _place_in_line():
        return await to_thread.run_sync(compute, limiter=_hashing_limiter)


async def verify_password(password: str, hashed: str) -> bool:
    """Return whether `password` matches `hashed`, computed off the event loop."""

    def check() -> bool:
        return password_hash.verify(password, hashed)

    with _place_in_line():
        matches = await to_thread.run_sync(check, limiter=_hashing_limiter)
    return bool(matches)


@cache
def _dummy_hash() -> str:
    """A hash of a random throwaway password, made once per process."""
    throwaway = f"no-such-user-{uuid.uuid4()}"
    return password_hash.hash(throwaway)


def _verify_against_dummy(password: str) -> None:
    # Runs in a worker thread: the first call also builds the cached dummy hash.
    password_hash.verify(password, _dummy_hash())


async def spend_verify_time(password: str) -> None:
    """Do the work of a real verification, for a login whose email is unknown.

    Without it an unknown email answers faster than a wrong password, which tells
    an attacker which emails have accounts.
    """
    with _place_in_line():
        await to_thread.run_sync(_verify_against_dummy, password, limiter=_hashing_limiter)


def _create_token(
    claims: dict[str, Any], token_type: TokenType, secret: str, expires_at: datetime
) -> str:
    payload: dict[str, Any] = {"jti": str(uuid.uuid4())}  # unique even within one second
    payload.update(claims)
    payload["type"] = token_type
    payload["iss"] = settings.JWT_ISSUER
    payload["aud"] = settings.JWT_AUDIENCE
    payload["iat"] = datetime.now(UTC)
    payload["exp"] = expires_at
    return jwt.encode(payload, key=secret, algorithm=settings.JWT_ALGORITHM)


def create_access_token(subject: str, role: str, session_id: str) -> str:
    """Return a short-lived access token for user `subject` in session `session_id`."""
    secret = settings.JWT_SECRET_KEY.get_secret_value()
    expires = datetime.now(UTC) + timedelta(minutes=settings.JWT_ACCESS_TOKEN_EXPIRE_MINUTES)
    claims: dict[str, Any] = {"sub": subject, "role": role, "sid": session_id}
    return _create_token(claims, "access", secret, expires)


def create_refresh_token(
    subject: str, session_id: str, token_id: str, session_expires_at: datetime
) -> str:
    """Return a refresh token for user `subject`, signed with its own secret."""
    secret = settings.JWT_REFRESH_SECRET_KEY.get_secret_value()
    usual_end = datetime.now(UTC) + timedelta(days=settings.JWT_REFRESH_TOKEN_EXPIRE_DAYS)
    # Never past the end of the session itself.
    expires = usual_end if usual_end < session_expires_at else session_expires_at
    claims = {"sub": subject, "sid": session_id, "jti": token_id}
    return _create_token(claims, "refresh", secret, expires)


def _decode_token(token: str, token_type: TokenType, secret: str) -> dict[str, Any]:
    try:
        # Only the configured algorithm is accepted, never the one the token names
        # (no `alg: none`, no switching between HMAC sizes).
        decoded: dict[str, Any] = jwt.decode(
            token,
            key=secret,
            algorithms=[settings.JWT_ALGORITHM],
            issuer=settings.JWT_ISSUER,
            audience=settings.JWT_AUDIENCE,
            leeway=timedelta(seconds=settings.JWT_LEEWAY_SECONDS),
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.ExpiredSignatureError as error:
        raise UnauthorizedException("Token has expired") from error
    except jwt.InvalidTokenError as error:
        raise UnauthorizedException() from error

    # An access token must not pass as a refresh token, nor the other way round.
    if decoded["type"] != token_type:
        raise UnauthorizedException("Invalid token type")
    return decoded


def decode_access_token(token: str) -> dict[str, Any]:
    """Return the claims of a valid access token; raise `UnauthorizedException` otherwise."""
    secret = settings.JWT_SECRET_KEY.get_secret_value()
    return _decode_token(token, "access", secret)


def decode_refresh_token(token: str) -> dict[str, Any]:
    """Return the claims of a valid refresh token; raise `UnauthorizedException` otherwise."""
    secret = settings.JWT_REFRESH_SECRET_KEY.get_secret_value()
    return _decode_token(token, "refresh", secret)
