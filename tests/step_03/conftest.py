"""Helpers for the step 3 checks: learner settings patched for a while, the learner's
engine made unreachable, throwaway tables, captured logs and the error envelope."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from course.grading.fixtures import assert_error_envelope

SCRATCH_TABLE = "grading_step3_items"
# Where nothing answers: connections are refused at once.
UNREACHABLE_URLS = {
    "postgresql": "postgresql+asyncpg://nobody:nothing@127.0.0.1:9/none",
    "sqlite": "sqlite+aiosqlite:////nonexistent-grading-dir/none/unreachable.db",
}


def settings_objects() -> list[Any]:
    """The learner's settings instances: the module `settings` and `get_settings()`'s."""
    from app.core import config

    found: list[Any] = []
    for candidate in (getattr(config, "settings", None), config.get_settings()):
        if candidate is not None and all(candidate is not seen for seen in found):
            found.append(candidate)
    return found


def _set(target: Any, name: str, value: Any) -> None:
    try:
        setattr(target, name, value)
    except Exception:  # a frozen settings model: write around its guard
        object.__setattr__(target, name, value)


def typed(values: dict[str, Any]) -> dict[str, Any]:
    """`values` converted as the learner's `Settings` converts them (enums, literals...)."""
    from app.core.config import Settings

    try:
        converted = Settings(_env_file=None, **values)
    except Exception:
        return values
    return {name: getattr(converted, name, value) for name, value in values.items()}


@contextmanager
def patched_settings(**values: Any) -> Iterator[None]:
    """Give the learner's settings objects these values while the block runs."""
    values = typed(values)
    saved: list[tuple[Any, str, Any]] = []
    try:
        for target in settings_objects():
            for name, value in values.items():
                saved.append((target, name, getattr(target, name)))
                _set(target, name, value)
        yield
    finally:
        for target, name, value in reversed(saved):
            _set(target, name, value)


def learner_engines() -> list[AsyncEngine]:
    """The async engines of `app.core.database`: attributes of `database_manager`
    (whatever they are called) and module globals."""
    from app.core import database

    candidates = list(vars(database.database_manager).values()) + list(vars(database).values())
    engines: list[AsyncEngine] = []
    for candidate in candidates:
        if isinstance(candidate, AsyncEngine) and all(candidate is not e for e in engines):
            engines.append(candidate)
    if not engines:
        pytest.fail(
            "expected database_manager (app/core/database.py) to hold an AsyncEngine "
            "(create_async_engine), found none"
        )
    return engines


@contextmanager
def unreachable_database() -> Iterator[None]:
    """Every connection the learner's engine opens fails while the block runs.

    The engine keeps its identity (so every reference to it sees the change); only its
    connection pool is swapped for one that connects where nothing answers: a closed
    port for PostgreSQL, a missing folder for SQLite. Connections already open stay
    in the original pool, which comes back afterwards: the database "returns".
    """
    swapped: list[tuple[Any, Any, AsyncEngine]] = []
    try:
        for engine in learner_engines():
            backend = engine.url.get_backend_name()
            dead = create_async_engine(
                UNREACHABLE_URLS.get(backend, UNREACHABLE_URLS["postgresql"]), poolclass=NullPool
            )
            swapped.append((engine.sync_engine, engine.sync_engine.pool, dead))
            engine.sync_engine.pool = dead.sync_engine.pool
        yield
    finally:
        for sync_engine, pool, _dead in swapped:
            sync_engine.pool = pool


@pytest.fixture
async def scratch_table(raw_engine: AsyncEngine) -> AsyncIterator[str]:
    """An empty throwaway table (id, name), created with the grader's own engine."""
    async with raw_engine.begin() as connection:
        await connection.execute(text(f"DROP TABLE IF EXISTS {SCRATCH_TABLE}"))
        await connection.execute(
            text(f"CREATE TABLE {SCRATCH_TABLE} (id INTEGER PRIMARY KEY, name VARCHAR(50))")
        )
    yield SCRATCH_TABLE
    async with raw_engine.begin() as connection:
        await connection.execute(text(f"DROP TABLE IF EXISTS {SCRATCH_TABLE}"))


async def scratch_names(raw_engine: AsyncEngine) -> list[str]:
    """The names in the throwaway table, read through the grader's own engine."""
    async with raw_engine.connect() as connection:
        rows = await connection.execute(text(f"SELECT name FROM {SCRATCH_TABLE} ORDER BY id"))
        return [row[0] for row in rows]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """After the check, logging is configured again from the unpatched settings."""
    uvicorn_state = {
        name: (list(logging.getLogger(name).handlers), logging.getLogger(name).propagate)
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
    }
    yield
    for name, (handlers, propagate) in uvicorn_state.items():
        logging.getLogger(name).handlers = handlers
        logging.getLogger(name).propagate = propagate
    from app.core.logging import setup_logging

    setup_logging()


class Records:
    """A Loguru sink at level 0 keeping every record (as Loguru serializes it)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, message: Any) -> None:
        self.lines.append(str(message))

    def messages(self) -> list[str]:
        return [record["message"] for record in self.records()]

    def records(self) -> list[dict[str, Any]]:
        """Each record as Loguru serializes it: message, level, name, function, line..."""
        return [json.loads(line)["record"] for line in self.lines]

    def find(self, message: str) -> dict[str, Any] | None:
        """The first record with this message, if any."""
        return next((record for record in self.records() if record["message"] == message), None)


@contextmanager
def loguru_records() -> Iterator[Records]:
    """Capture every Loguru record while the block runs (add it after setup_logging())."""
    from loguru import logger

    records = Records()
    sink = logger.add(records, serialize=True, level=0)
    try:
        yield records
    finally:
        logger.remove(sink)


def assert_envelope(response: httpx.Response, status: int, what: str) -> dict[str, Any]:
    """The step 3 envelope {message, detail, status_code}: request_id arrives in step 7."""
    return assert_error_envelope(response, status, what)
