"""Password hashing and JSON Web Tokens."""

import asyncio
import itertools
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from app.core.config import settings
from app.core.exceptions import UnauthorizedException
from app.core.security import (
    create_access_token,
    create_refresh_token,
    decode_access_token,
    decode_refresh_token,
    hash_password,
    password_hash,
    spend_verify_time,
    verify_password,
)

ACCESS_SECRET = settings.JWT_SECRET_KEY.get_secret_value()
REFRESH_SECRET = settings.JWT_REFRESH_SECRET_KEY.get_secret_value()
SUBJECT = str(uuid.UUID(int=42))
SESSION = str(uuid.UUID(int=7))
ISSUER, AUDIENCE = settings.JWT_ISSUER, settings.JWT_AUDIENCE

Decoder = Callable[[str], dict[str, Any]]
DECODERS: list[tuple[Decoder, str, str]] = [
    (decode_access_token, "access", ACCESS_SECRET),
    (decode_refresh_token, "refresh", REFRESH_SECRET),
]
DECODER_IDS = ["access", "refresh"]


def claims(token_type: str, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    payload: dict[str, Any] = {
        "sub": SUBJECT,
        "sid": SESSION,
        "jti": uuid.uuid4().hex,
        "type": token_type,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    payload.update(overrides)
    return {key: value for key, value in payload.items() if value is not None}


def encode(payload: dict[str, Any], secret: str, algorithm: str = "HS256") -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT warns about short keys for HS512
        return jwt.encode(payload, secret, algorithm=algorithm)


def assert_unauthorized(decode: Decoder, token: str) -> UnauthorizedException:
    with pytest.raises(UnauthorizedException) as caught:
        decode(token)
    assert caught.value.status_code == 401
    assert caught.value.headers == {"WWW-Authenticate": "Bearer"}
    return caught.value


# --- Passwords ---------------------------------------------------------------


async def test_hash_password_gives_argon2id_hash() -> None:
    hashed = await hash_password("correct-horse-battery")
    assert hashed.startswith("$argon2id$")
    assert "correct-horse-battery" not in hashed


async def test_verify_password_accepts_right_and_rejects_wrong_password() -> None:
    hashed = await hash_password("correct-horse-battery")
    assert await verify_password("correct-horse-battery", hashed) is True
    assert await verify_password("correct-horse-batterY", hashed) is False
    assert await verify_password("correct-horse-battery ", hashed) is False


async def test_two_hashes_of_one_password_differ() -> None:
    first = await hash_password("same-password")
    second = await hash_password("same-password")
    assert first != second
    assert await verify_password("same-password", first)
    assert await verify_password("same-password", second)


async def longest_pause(one_hash: float) -> float:
    """The longest the event loop stood still while four hashes ran, in hashes."""
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    try:
        await asyncio.gather(*(hash_password(f"password-{i}") for i in range(4)))
    finally:
        task.cancel()
    gaps = [later - earlier for earlier, later in itertools.pairwise(ticks)]
    return max(gaps, default=float("inf")) / one_hash


async def test_hashing_does_not_block_the_event_loop() -> None:
    await hash_password("warm-up")  # starts the worker thread outside the measurement
    started = time.perf_counter()
    password_hash.hash("warm-up")
    one_hash = time.perf_counter() - started
    # On the loop, the four hashes run back to back: the loop stands still for all four.
    # Off it, the ticker runs every ~5 ms; a busy machine can pause it now and then, so
    # one of three tries is enough.
    pauses = []
    for _ in range(3):
        pauses.append(await longest_pause(one_hash))
        if pauses[-1] < 3:
            return
    pytest.fail(f"the event loop stood still for {pauses} hashes' time in each try")


async def test_spend_verify_time_costs_about_a_real_verification() -> None:
    hashed = await hash_password("correct-horse-battery")
    await spend_verify_time("warm-up")  # the dummy hash is computed once, then cached

    async def best_of(runs: int, work: Callable[[], Awaitable[object]]) -> float:
        durations = []
        for _ in range(runs):
            started = time.perf_counter()
            await work()
            durations.append(time.perf_counter() - started)
        return min(durations)

    real = await best_of(3, lambda: verify_password("wrong-password", hashed))
    dummy = await best_of(3, lambda: spend_verify_time("wrong-password"))
    assert dummy >= 0.3 * real


# --- Tokens ------------------------------------------------------------------


def access_token(role: str = "user") -> str:
    return create_access_token(SUBJECT, role, SESSION)


def refresh_token(token_id: str = "t-1", session_expires_at: datetime | None = None) -> str:
    ends = session_expires_at or datetime.now(UTC) + timedelta(days=365)
    return create_refresh_token(SUBJECT, SESSION, token_id, ends)


def read(token: str, secret: str) -> dict[str, Any]:
    payload: dict[str, Any] = jwt.decode(
        token, secret, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER
    )
    return payload


def test_access_token_carries_sub_sid_type_iss_aud_iat_exp_and_role() -> None:
    token = access_token("admin")
    payload = read(token, ACCESS_SECRET)
    assert payload["sub"] == SUBJECT
    assert payload["sid"] == SESSION
    assert payload["type"] == "access"
    assert payload["role"] == "admin"
    assert (payload["iss"], payload["aud"]) == (ISSUER, AUDIENCE)
    lifetime = payload["exp"] - payload["iat"]
    assert lifetime == settings.JWT_ACCESS_TOKEN_EXPIRE_MINUTES * 60
    assert abs(payload["iat"] - time.time()) < 5
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_refresh_token_carries_sub_sid_its_id_and_own_secret() -> None:
    token = refresh_token("the-token-id")
    payload = read(token, REFRESH_SECRET)
    assert (payload["sub"], payload["sid"], payload["jti"]) == (SUBJECT, SESSION, "the-token-id")
    assert payload["type"] == "refresh"
    assert "role" not in payload
    assert payload["exp"] - payload["iat"] == settings.JWT_REFRESH_TOKEN_EXPIRE_DAYS * 86400
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, ACCESS_SECRET, algorithms=["HS256"], audience=AUDIENCE)


def test_refresh_token_never_outlives_its_session() -> None:
    session_end = datetime.now(UTC) + timedelta(hours=2)
    payload = read(refresh_token(session_expires_at=session_end), REFRESH_SECRET)
    assert payload["exp"] == int(session_end.timestamp())


def test_access_tokens_issued_together_differ() -> None:
    assert access_token() != access_token()


def test_decode_access_token_returns_claims_of_access_token() -> None:
    payload = decode_access_token(access_token("moderator"))
    assert (payload["sub"], payload["sid"]) == (SUBJECT, SESSION)
    assert payload["role"] == "moderator"
    assert payload["type"] == "access"


def test_decode_refresh_token_returns_claims_of_refresh_token() -> None:
    payload = decode_refresh_token(refresh_token("t-9"))
    assert (payload["sub"], payload["sid"], payload["jti"]) == (SUBJECT, SESSION, "t-9")
    assert payload["type"] == "refresh"


def test_decode_access_token_rejects_refresh_token() -> None:
    assert_unauthorized(decode_access_token, refresh_token())


def test_decode_refresh_token_rejects_access_token() -> None:
    assert_unauthorized(decode_refresh_token, access_token())


@pytest.mark.parametrize(("decode", "token_type", "secret"), DECODERS, ids=DECODER_IDS)
@pytest.mark.parametrize("claim", ["iss", "aud"])
def test_decode_rejects_a_token_of_another_issuer_or_audience(
    decode: Decoder, token_type: str, secret: str, claim: str
) -> None:
    """A token signed with the same secret by another service, or meant for one."""
    assert_unauthorized(decode, encode(claims(token_type, **{claim: "another-service"}), secret))


@pytest.mark.parametrize(("decode", "token_type", "secret"), DECODERS, ids=DECODER_IDS)
def test_decode_tolerates_clock_skew_within_the_leeway(
    decode: Decoder, token_type: str, secret: str
) -> None:
    """A token from a server whose clock runs a few seconds ahead, or just expired."""
    leeway = settings.JWT_LEEWAY_SECONDS
    assert leeway >= 10
    now = datetime.now(UTC)
    ahead = claims(token_type, iat=now + timedelta(seconds=leeway / 2))
    assert decode(encode(ahead, secret))["sub"] == SUBJECT
    just_expired = claims(
        token_type, iat=now - timedelta(minutes=5), exp=now - timedelta(seconds=5)
    )
    assert decode(encode(just_expired, secret))["sub"] == SUBJECT
    far_ahead = claims(token_type, iat=now + timedelta(seconds=leeway + 60))
    assert_unauthorized(decode, encode(far_ahead, secret))


@pytest.mark.parametrize(("decode", "token_type", "secret"), DECODERS, ids=DECODER_IDS)
def test_decode_rejects_wrong_type_claim_even_with_right_secret(
    decode: Decoder, token_type: str, secret: str
) -> None:
    other = "refresh" if token_type == "access" else "access"
    assert_unauthorized(decode, encode(claims(other), secret))


@pytest.mark.parametrize(("decode", "token_type", "secret"), DECODERS, ids=DECODER_IDS)
def test_decode_accepts_well_formed_hand_made_token(
    decode: Decoder, token_type: str, secret: str
) -> None:
    assert decode(encode(claims(token_type), secret))["sub"] == SUBJECT


@pytest.mark.parametrize(("decode", "token_type", "secret"), DECODERS, ids=DECODER_IDS)
def test_decode_rejects_expired_token(decode: Decoder, token_type: str, secret: str) -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    token = encode(claims(token_type, iat=past, exp=past + timedelta(minutes=5)), secret)
    error = assert_unauthorized(decode, token)
    assert error.message == "Token has expired"


@pytest.mark.parametrize(("decode", "token_type", "secret"), DECODERS, ids=DECODER_IDS)
def test_decode_rejects_tampered_signature(decode: Decoder, token_type: str, secret: str) -> None:
    header, payload, signature = encode(claims(token_type), secret).split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert_unauthorized(decode, f"{header}.{payload}.{flipped}")


@pytest.mark.parametrize(("decode", "token_type", "secret"), DECODERS, ids=DECODER_IDS)
def test_decode_rejects_tampered_payload(decode: Decoder, token_type: str, secret: str) -> None:
    header, _, signature = encode(claims(token_type), secret).split(".")
    _, forged_payload, _ = encode(claims(token_type, sub=str(uuid.uuid4())), "other").split(".")
    assert_unauthorized(decode, f"{header}.{forged_payload}.{signature}")


@pytest.mark.parametrize(("decode", "token_type", "secret"), DECODERS, ids=DECODER_IDS)
def test_decode_rejects_wrong_secret(decode: Decoder, token_type: str, secret: str) -> None:
    assert_unauthorized(decode, encode(claims(token_type), "not-the-secret-" + "z" * 32))


@pytest.mark.parametrize(("decode", "token_type", "secret"), DECODERS, ids=DECODER_IDS)
def test_decode_rejects_alg_none(decode: Decoder, token_type: str, secret: str) -> None:
    token = jwt.encode(claims(token_type), None, algorithm="none")
    assert jwt.get_unverified_header(token)["alg"] == "none"
    assert_unauthorized(decode, token)


@pytest.mark.parametrize(("decode", "token_type", "secret"), DECODERS, ids=DECODER_IDS)
@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_decode_rejects_other_hmac_algorithm_than_configured(
    decode: Decoder, token_type: str, secret: str, algorithm: str
) -> None:
    assert settings.JWT_ALGORITHM == "HS256"
    assert_unauthorized(decode, encode(claims(token_type), secret, algorithm))


@pytest.mark.parametrize(("decode", "token_type", "secret"), DECODERS, ids=DECODER_IDS)
@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "sid", "jti", "type", "iss", "aud"])
def test_decode_rejects_token_missing_required_claim(
    decode: Decoder, token_type: str, secret: str, missing: str
) -> None:
    payload = claims(token_type)
    del payload[missing]
    assert_unauthorized(decode, encode(payload, secret))


@pytest.mark.parametrize(("decode", "token_type", "secret"), DECODERS, ids=DECODER_IDS)
@pytest.mark.parametrize("garbage", ["", "not-a-token", "a.b.c", "Bearer x.y.z"])
def test_decode_rejects_garbage(
    decode: Decoder, token_type: str, secret: str, garbage: str
) -> None:
    assert_unauthorized(decode, garbage)
