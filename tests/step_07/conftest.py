"""Helpers of the step 7 checks: the HTTP contract of COURSE-SPEC section 3.

Argon2 is slow by design, so most users are stored behind the API with a fake hash
and get their access token from the learner's create_access_token (step 6); the
checks about passwords and login use a real hash, made once per session.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from course.grading.fixtures import (
    API,
    ENVELOPE,
    FAKE_HASH,
    add_session,
    add_user,
    assert_error_envelope,
    learner_hash,
    serve,
)

ENVELOPE_KEYS = (*ENVELOPE, "request_id")


@dataclass
class StoredUser:
    """A user written behind the API with a live session, and tokens of the learner's making."""

    id: uuid.UUID
    email: str
    role: str
    password: str | None
    session_id: uuid.UUID
    refresh_token_id: str
    session_expires_at: datetime

    @property
    def headers(self) -> dict[str, str]:
        """An Authorization header with an access token of the user's session."""
        from app.core.security import create_access_token

        token = create_access_token(str(self.id), self.role, str(self.session_id))
        return {"Authorization": f"Bearer {token}"}

    @property
    def refresh_token(self) -> str:
        """The session's current refresh token."""
        from app.core.security import create_refresh_token

        return str(
            create_refresh_token(
                str(self.id), str(self.session_id), self.refresh_token_id, self.session_expires_at
            )
        )


async def store_user(
    engine: AsyncEngine,
    role: str = "user",
    *,
    email: str | None = None,
    full_name: str = "Stored Person",
    password: str | None = None,
    is_active: bool = True,
    deleted: bool = False,
) -> StoredUser:
    """Store a user and a live session of theirs with the grader's own session
    (`add_user`, `add_session`); a real hash only if `password` is given (the
    learner's own, made once per session: `learner_hash`)."""
    user = await add_user(
        engine,
        role=role,
        email=email.lower() if email else None,
        full_name=full_name,
        password_hash=FAKE_HASH if password is None else await learner_hash(password),
        is_active=is_active,
        deleted=deleted,
    )
    login = await add_session(engine, user.id)
    return StoredUser(
        user.id, user.email, role, password, login.id, login.refresh_token_id, login.expires_at
    )


async def set_column(engine: AsyncEngine, user_id: uuid.UUID, **values: Any) -> None:
    """Change a user's row behind the API."""
    from app.domain.models.user import User

    table = User.__table__
    async with engine.begin() as connection:
        await connection.execute(table.update().where(table.c.id == user_id).values(**values))


async def read_row(engine: AsyncEngine, user_id: uuid.UUID | str) -> dict[str, Any] | None:
    """A users row by id (soft-deleted or not), read behind the API."""
    from app.domain.models.user import User

    table = User.__table__
    key = user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(str(user_id))
    async with engine.connect() as connection:
        row = (await connection.execute(table.select().where(table.c.id == key))).mappings().first()
    return dict(row) if row is not None else None


def where(method: str, path: str) -> str:
    return f"{method} {path.replace(API, '')}"


def assert_error(
    response: httpx.Response, status: int, what: str, message: str | None = None
) -> dict[str, Any]:
    """The full envelope, request_id included, with `status` (and `message`)."""
    return assert_error_envelope(response, status, what, keys=ENVELOPE_KEYS, message=message)


def assert_status(response: httpx.Response, status: int, what: str) -> Any:
    """`response` has `status`; return its JSON body."""
    assert response.status_code == status, (
        f"expected {what} to answer {status}, found {response.status_code}: {response.text[:200]}"
    )
    return response.json()


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(f"{API}/auth/login", data={"username": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- Logs ----------------------------------------------------------------------


@dataclass
class Captured:
    """Loguru records captured while a check runs (the grader's sink, added after start-up)."""

    records: list[dict[str, Any]]
    lines: list[str]

    def app_records(self) -> list[dict[str, Any]]:
        """Records of the app, not of httpx/httpcore (the grader's own HTTP client)."""
        return [
            record
            for record in self.records
            if not str(record.get("name") or "").startswith(("httpx", "httpcore"))
        ]


def record_text(record: dict[str, Any]) -> str:
    """A record's message and the values of its extra fields, as one text."""
    extra = record.get("extra") or {}
    return " ".join([str(record.get("message", "")), *(str(value) for value in extra.values())])


@pytest.fixture
def capture_logs() -> Iterator[Any]:
    """A function that starts capturing every Loguru record; call it after the app started."""
    from loguru import logger

    sinks: list[int] = []

    def start() -> Captured:
        captured = Captured([], [])

        def sink(message: Any) -> None:
            captured.records.append(dict(message.record))
            captured.lines.append(str(message))

        sinks.append(logger.add(sink, level=0, serialize=True))
        return captured

    yield start
    for sink_id in sinks:
        logger.remove(sink_id)


# --- An app with throwaway routes ----------------------------------------------------

PROBE = "/grader-probe"
SLOW_S = 0.2  # how long the probe route `slow` takes to answer, at least
# Set by the probe route `context`: a value made inside the app, for the middleware around it.
ENDPOINT_VALUE: ContextVar[str] = ContextVar("grader_endpoint_value", default="")


def probe_app() -> Any:
    """The learner's app plus throwaway routes that log and crash."""
    from loguru import logger

    from app.main import create_app

    application = create_app()

    async def log_async() -> dict[str, str]:
        logger.info("grader probe log (async)")
        return {"ok": "yes"}

    def log_sync() -> dict[str, str]:
        logger.info("grader probe log (sync)")
        return {"ok": "yes"}

    async def crash() -> None:
        raise RuntimeError("grader probe crash")

    async def slow() -> dict[str, str]:
        await asyncio.sleep(SLOW_S)
        return {"ok": "yes"}

    async def context(value: str) -> dict[str, str]:
        ENDPOINT_VALUE.set(value)
        return {"ok": "yes"}

    application.add_api_route(f"{PROBE}/log-async", log_async, methods=["GET"])
    application.add_api_route(f"{PROBE}/log-sync", log_sync, methods=["GET"])
    application.add_api_route(f"{PROBE}/crash", crash, methods=["GET"])
    application.add_api_route(f"{PROBE}/context", context, methods=["GET"])
    application.add_api_route(f"{PROBE}/slow", slow, methods=["GET"])
    return application


@pytest.fixture
async def probe() -> AsyncIterator[httpx.AsyncClient]:
    """A client on the learner's app plus probe routes; a crash becomes a 500 response.

    No tables: the requests made through it never reach the database.
    """
    async with serve(probe_app(), raise_app_exceptions=False) as http:
        yield http
