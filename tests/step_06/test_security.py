"""Step 6, D14: password hashing (Argon2id, off the event loop) and JSON Web Tokens.

hash_password / verify_password may be sync or async. Whether hashing blocks the
event loop is checked where it matters, through the services: a sync hash that the
service runs in a worker thread is as right as an async one.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from course.grading.fixtures import add_user, maybe_await

from .conftest import (
    UNRELATED_SECRET,
    auth_service,
    authenticate_method,
    craft_token,
    decode_outcome,
    jwt_settings,
    new_email,
    services,
    tamper,
    user_create,
)

SUBJECT = str(uuid.UUID(int=42))
SESSION = str(uuid.UUID(int=43))


async def good_token(kind: str, token_id: str = "grader-token-id") -> str:
    """A token of the learner's making: access (a moderator's) or refresh."""
    from app.core import security

    if kind == "access":
        return str(await maybe_await(security.create_access_token(SUBJECT, "moderator", SESSION)))
    ends = datetime.now(UTC) + timedelta(days=365)
    return str(await maybe_await(security.create_refresh_token(SUBJECT, SESSION, token_id, ends)))


def verified(token: str, secret: str, what: str) -> dict[str, Any]:
    """The claims of `token`, verified as the course's tokens must verify."""
    config = jwt_settings()
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[config["algorithm"]],
            audience=config["audience"],
            issuer=config["issuer"],
        )
    except jwt.PyJWTError as exc:
        key = "JWT_SECRET_KEY" if what.startswith("access") else "JWT_REFRESH_SECRET_KEY"
        raise AssertionError(
            f"expected the {what} to be signed with {key} "
            f"and JWT_ALGORITHM ({config['algorithm']}), issued by JWT_ISSUER "
            f"({config['issuer']!r}) for JWT_AUDIENCE ({config['audience']!r}); found: {exc}"
        ) from None
    return claims


def claim(decoded: Any, name: str) -> Any:
    """A claim of what a decoder returned: a dict, or an object with attributes."""
    if isinstance(decoded, dict):
        return decoded.get(name)
    return getattr(decoded, name, None)


# --- Passwords -------------------------------------------------------------------


@pytest.mark.grade("D14", 2)
async def test_hash_password_makes_argon2id_hashes_that_verify_password_checks() -> None:
    from app.core.security import hash_password, verify_password

    password = "correct-horse-battery"
    first = await maybe_await(hash_password(password))
    assert isinstance(first, str) and first.startswith("$argon2id$"), (
        f"expected hash_password to return an Argon2id hash ('$argon2id$...'), found {first!r:.60}"
    )
    assert password not in first, "expected the hash not to contain the password itself"
    assert await maybe_await(verify_password(password, first)) is True, (
        "expected verify_password(password, its hash) to be True"
    )
    for wrong in ("correct-horse-batterY", "correct-horse-battery ", ""):
        assert await maybe_await(verify_password(wrong, first)) is False, (
            f"expected verify_password({wrong!r}, hash of {password!r}) to be False"
        )
    second = await maybe_await(hash_password(password))
    assert second != first, (
        "expected two hashes of one password to differ (a random salt each time), found the same"
    )


@pytest.mark.grade("D14", 1)
async def test_a_100_character_password_hashes_and_every_character_counts() -> None:
    from app.core.security import hash_password, verify_password

    password = "p" * 99 + "A"
    hashed = await maybe_await(hash_password(password))
    assert await maybe_await(verify_password(password, hashed)) is True, (
        "expected a 100-character password to verify against its own hash"
    )
    assert await maybe_await(verify_password("p" * 99 + "B", hashed)) is False, (
        "expected a password differing only in its 100th character to be refused "
        "(bcrypt uses at most 72 bytes of a password: older versions silently ignored the "
        "rest, bcrypt 5 refuses it; Argon2id uses all of it)"
    )


async def _hashing_work(kind: str, engine: AsyncEngine) -> Callable[[int], Any]:
    """One unit of work that hashes (create_user) or verifies (authenticate) a password."""
    if kind == "create_user":

        async def work(index: int) -> None:
            async with services() as (service, _):
                await service.create_user(user_create(new_email(f"tick{index}"), "ticker-password"))

        return work

    from app.core.security import hash_password

    hashed = await maybe_await(hash_password("ticker-password"))
    user = await add_user(engine, password_hash=hashed)

    async def verify(index: int) -> None:
        async with services() as (_, repository):
            await maybe_await(
                authenticate_method(auth_service(repository))(user.email, "ticker-password")
            )

    return verify


@pytest.mark.grade("D14", 2)
@pytest.mark.parametrize("kind", ["create_user", "authenticate"])
async def test_hashing_and_verifying_do_not_block_the_event_loop(
    schema: AsyncEngine, kind: str
) -> None:
    from app.core.security import hash_password

    started = time.perf_counter()
    await maybe_await(hash_password("measure-one-hash"))
    one_hash = time.perf_counter() - started
    work = await _hashing_work(kind, schema)
    await work(0)  # warm-up: worker threads, connections
    what = (
        "UserService.create_user (hash_password)"
        if kind == "create_user"
        else ("AuthService.authenticate (verify_password)")
    )
    # Off the loop, a task sleeping 5 ms keeps ticking; on the loop, every hash freezes
    # it, in every attempt. A busy machine can delay a tick by a hash's time now and then,
    # so the check fails only if each of its attempts saw the loop freeze.
    seen: list[str] = []
    for attempt in range(ATTEMPTS):
        long_gaps, ticks = await _freezes(work, first=10 * attempt + 1, one_hash=one_hash)
        if long_gaps <= 1 and ticks >= 8:
            return
        seen.append(f"{long_gaps} freezes in {ticks} ticks")
    pytest.fail(
        f"expected other tasks to keep running while {what} hashes: the event loop froze "
        f"for about a hash each ({one_hash * 1000:.0f} ms) in each of {ATTEMPTS} tries "
        f"({'; '.join(seen)}); run the hashing in a worker thread (anyio.to_thread / "
        "run_in_threadpool)"
    )


ATTEMPTS = 3


async def _freezes(work: Callable[[int], Any], *, first: int, one_hash: float) -> tuple[int, int]:
    """Run three units of `work` beside a task ticking every 5 ms; return how often the
    loop froze for most of a hash, and how many ticks there were."""
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    try:
        for index in range(first, first + 3):
            await work(index)
    finally:
        task.cancel()
    long_gaps = [
        later - earlier
        for earlier, later in itertools.pairwise(ticks)
        if later - earlier >= max(0.7 * one_hash, 0.02)
    ]
    return len(long_gaps), len(ticks)


# --- Tokens ----------------------------------------------------------------------


@pytest.mark.grade("D14", 1)
async def test_access_token_carries_sub_sid_type_role_iss_aud_iat_exp_and_decodes() -> None:
    from app.core.security import decode_access_token

    config = jwt_settings()
    token = await good_token("access")
    claims = verified(token, config["access"], "access token")
    expected = {"sub": SUBJECT, "sid": SESSION, "type": "access", "role": "moderator"}
    found = {key: claims.get(key) for key in expected}
    assert found == expected, f"expected the access token's claims {expected}, found {found}"
    assert "iat" in claims and "exp" in claims, (
        f"expected `iat` and `exp` claims, found {sorted(claims)}"
    )
    lifetime = claims["exp"] - claims["iat"]
    assert abs(lifetime - config["access_minutes"] * 60) <= 5, (
        f"expected the access token to live JWT_ACCESS_TOKEN_EXPIRE_MINUTES "
        f"({config['access_minutes']} min), found {lifetime} s"
    )
    assert abs(claims["iat"] - time.time()) < 30, "expected `iat` to be the time of issue"
    decoded = await maybe_await(decode_access_token(token))
    assert claim(decoded, "sub") == SUBJECT and claim(decoded, "sid") == SESSION, (
        f"expected decode_access_token(create_access_token(...)) to return its claims, "
        f"found {decoded!r:.120}"
    )


@pytest.mark.grade("D14", 2)
async def test_refresh_token_carries_sub_sid_its_id_and_never_outlives_its_session() -> None:
    from app.core.security import create_refresh_token, decode_refresh_token

    config = jwt_settings()
    assert config["refresh"] != config["access"], (
        "expected JWT_REFRESH_SECRET_KEY to differ from JWT_SECRET_KEY, found the same secret"
    )
    token = await good_token("refresh", "the-token-id")
    claims = verified(token, config["refresh"], "refresh token")
    expected = {"sub": SUBJECT, "sid": SESSION, "jti": "the-token-id", "type": "refresh"}
    found = {key: claims.get(key) for key in expected}
    assert found == expected, (
        f"expected the refresh token's claims {expected} (its `jti` is the token id given, "
        f"which the session records), found {found}"
    )
    assert "iat" in claims and "exp" in claims, (
        f"expected `iat` and `exp` claims, found {sorted(claims)}"
    )
    lifetime = claims["exp"] - claims["iat"]
    assert abs(lifetime - config["refresh_days"] * 86400) <= 5, (
        f"expected the refresh token to live JWT_REFRESH_TOKEN_EXPIRE_DAYS "
        f"({config['refresh_days']} days), found {lifetime} s"
    )
    session_end = datetime.now(UTC) + timedelta(hours=2)
    capped = await maybe_await(create_refresh_token(SUBJECT, SESSION, "t-2", session_end))
    exp = verified(capped, config["refresh"], "refresh token")["exp"]
    assert abs(exp - session_end.timestamp()) <= 5, (
        "expected a refresh token to expire with its session when the session ends first "
        f"(exp = session_expires_at, 2 hours ahead), found exp {exp - time.time():.0f} s ahead"
    )
    decoded = await maybe_await(decode_refresh_token(token))
    assert claim(decoded, "jti") == "the-token-id", (
        f"expected decode_refresh_token(create_refresh_token(...)) to return its claims, "
        f"found {decoded!r:.120}"
    )


@pytest.mark.grade("D14", 1)
async def test_decoders_tolerate_clock_skew_within_the_leeway() -> None:
    from app.core import security

    config = jwt_settings()
    leeway = config["leeway"]
    assert leeway >= 5, (
        f"expected JWT_LEEWAY_SECONDS to allow a few seconds of clock skew, found {leeway}"
    )
    for kind in ("access", "refresh"):
        decode = getattr(security, f"decode_{kind}_token")
        secret = config[kind]
        ahead = craft_token(
            secret,
            sub=SUBJECT,
            token_type=kind,
            algorithm=config["algorithm"],
            age=timedelta(seconds=-leeway / 2),
        )
        just_expired = craft_token(
            secret,
            sub=SUBJECT,
            token_type=kind,
            algorithm=config["algorithm"],
            age=timedelta(minutes=5, seconds=leeway / 2),
            lifetime=timedelta(minutes=5),
        )
        for what, token in (
            (f"issued {leeway / 2:.0f} s in the future (a server whose clock runs ahead)", ahead),
            (f"expired {leeway / 2:.0f} s ago", just_expired),
        ):
            refused, found = await decode_outcome(decode, token)
            assert not refused, (
                f"expected decode_{kind}_token to accept a token {what}: within "
                f"JWT_LEEWAY_SECONDS ({leeway}), pass leeway= to jwt.decode; found {found}"
            )


def _other_hmac(algorithm: str) -> str:
    return "HS512" if algorithm != "HS512" else "HS256"


# name -> (what it is, how to make it from: (own type, own secret, other type, other secret, alg))
BAD_TOKENS: dict[str, tuple[str, Callable[[str, str, str, str, str], str]]] = {
    "wrong-type": (
        "a token of the other type signed with the right secret",
        lambda kind, secret, other, other_secret, alg: craft_token(
            secret, sub=SUBJECT, token_type=other, algorithm=alg
        ),
    ),
    "other-kinds-secret": (
        "a token of the right type signed with the other kind's secret",
        lambda kind, secret, other, other_secret, alg: craft_token(
            other_secret, sub=SUBJECT, token_type=kind, algorithm=alg
        ),
    ),
    "expired": (
        "a token that expired an hour ago",
        lambda kind, secret, other, other_secret, alg: craft_token(
            secret,
            sub=SUBJECT,
            token_type=kind,
            algorithm=alg,
            age=timedelta(hours=2),
            lifetime=timedelta(hours=1),
        ),
    ),
    "tampered": (
        "a token whose claims were changed after signing",
        lambda kind, secret, other, other_secret, alg: tamper(
            craft_token(secret, sub=SUBJECT, token_type=kind, algorithm=alg),
            sub=str(uuid.UUID(int=7)),
        ),
    ),
    "wrong-secret": (
        "a token signed with a secret the app does not know",
        lambda kind, secret, other, other_secret, alg: craft_token(
            UNRELATED_SECRET, sub=SUBJECT, token_type=kind, algorithm=alg
        ),
    ),
    "alg-none": (
        "an unsigned token (alg: none)",
        lambda kind, secret, other, other_secret, alg: craft_token(
            None, sub=SUBJECT, token_type=kind, algorithm="none"
        ),
    ),
    "other-algorithm": (
        "a token signed with the right secret but another algorithm than JWT_ALGORITHM",
        lambda kind, secret, other, other_secret, alg: craft_token(
            secret, sub=SUBJECT, token_type=kind, algorithm=_other_hmac(alg)
        ),
    ),
    "missing-exp": (
        "a token without an `exp` claim (it would never expire)",
        lambda kind, secret, other, other_secret, alg: craft_token(
            secret, sub=SUBJECT, token_type=kind, algorithm=alg, drop="exp"
        ),
    ),
    "missing-sid": (
        "a token without a `sid` claim (it belongs to no session)",
        lambda kind, secret, other, other_secret, alg: craft_token(
            secret, sub=SUBJECT, token_type=kind, algorithm=alg, drop="sid"
        ),
    ),
    "other-issuer": (
        "a token signed with the right secret by another issuer (`iss`)",
        lambda kind, secret, other, other_secret, alg: craft_token(
            secret, sub=SUBJECT, token_type=kind, algorithm=alg, iss="another-service"
        ),
    ),
    "other-audience": (
        "a token signed with the right secret for another audience (`aud`)",
        lambda kind, secret, other, other_secret, alg: craft_token(
            secret, sub=SUBJECT, token_type=kind, algorithm=alg, aud="another-service"
        ),
    ),
    "far-future": (
        "a token issued an hour in the future (beyond any clock skew)",
        lambda kind, secret, other, other_secret, alg: craft_token(
            secret, sub=SUBJECT, token_type=kind, algorithm=alg, age=timedelta(hours=-1)
        ),
    ),
}


@pytest.mark.grade("D14", 1)
@pytest.mark.parametrize("case", list(BAD_TOKENS))
async def test_decoders_reject_bad_tokens(case: str) -> None:
    from app.core import security

    config = jwt_settings()
    what, make = BAD_TOKENS[case]
    for kind, other in (("access", "refresh"), ("refresh", "access")):
        name = f"decode_{kind}_token"
        decode = getattr(security, name)
        good = await good_token(kind)
        refused, found = await decode_outcome(decode, good)
        assert not refused and "stub" not in found, (
            f"expected {name} to accept a token from create_{kind}_token, found {found}"
        )
        bad = make(kind, config[kind], other, config[other], config["algorithm"])
        refused, found = await decode_outcome(decode, bad)
        assert refused, (
            f"expected {name} to reject {what} (raise an exception), but it returned {found}"
        )
