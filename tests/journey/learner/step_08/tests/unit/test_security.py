"""Password hashing and tokens."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.core.exceptions import UnauthorizedException
from app.core.security import (
    create_access_token,
    create_refresh_token,
    decode_access_token,
    decode_refresh_token,
    hash_password,
    verify_password,
)


async def test_a_hash_verifies_only_its_own_password() -> None:
    hashed = await hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert await verify_password("correct horse battery", hashed)
    assert not await verify_password("correct horse battery!", hashed)


def test_access_token_round_trip() -> None:
    subject = str(uuid.uuid4())
    session = str(uuid.uuid4())
    claims = decode_access_token(create_access_token(subject, "moderator", session))
    assert claims["sub"] == subject
    assert claims["sid"] == session
    assert claims["role"] == "moderator"
    assert claims["type"] == "access"


def test_a_refresh_token_is_not_an_access_token() -> None:
    ends = datetime.now(UTC) + timedelta(days=1)
    refresh = create_refresh_token(str(uuid.uuid4()), str(uuid.uuid4()), "token-1", ends)
    assert decode_refresh_token(refresh)["type"] == "refresh"
    with pytest.raises(UnauthorizedException):
        decode_access_token(refresh)


def test_garbage_is_refused() -> None:
    with pytest.raises(UnauthorizedException):
        decode_access_token("not.a.token")
