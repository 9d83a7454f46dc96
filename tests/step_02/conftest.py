"""Helpers for the step 2 checks: a clean settings environment and a freshly imported app."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from enum import Enum
from pathlib import Path
from typing import Any

import httpx
import pytest

from course.grading.learner_code import LearnerFinder

# Every setting section 2 (D4) names, by group.
SETTING_GROUPS: dict[str, list[str]] = {
    "application": ["PROJECT_NAME", "PROJECT_DESCRIPTION", "VERSION", "DEBUG", "ENVIRONMENT",
                    "API_V1_PREFIX"],
    "server": ["HOST", "PORT", "WORKERS", "RELOAD"],
    "database": ["DATABASE_URL", "DB_ECHO", "DB_POOL_SIZE", "DB_MAX_OVERFLOW", "DB_POOL_TIMEOUT"],
    "jwt": ["JWT_SECRET_KEY", "JWT_REFRESH_SECRET_KEY", "JWT_ALGORITHM",
            "JWT_ACCESS_TOKEN_EXPIRE_MINUTES", "JWT_REFRESH_TOKEN_EXPIRE_DAYS", "JWT_ISSUER",
            "JWT_AUDIENCE", "JWT_LEEWAY_SECONDS", "SESSION_LIFETIME_DAYS"],
    "cors": ["CORS_ORIGINS", "CORS_ALLOW_CREDENTIALS", "CORS_ALLOW_METHODS", "CORS_ALLOW_HEADERS"],
    "logging": ["LOG_LEVEL", "LOG_FORMAT"],
    "http": ["MAX_REQUEST_BODY_BYTES", "HSTS_ENABLED"],
    "login": ["LOGIN_MAX_FAILURES", "LOGIN_FAILURE_WINDOW_MINUTES", "HASHING_QUEUE_PER_CORE"],
}  # fmt: skip
ALL_SETTINGS = [name for names in SETTING_GROUPS.values() for name in names]
# Settings of later steps that the grader also keeps out of the environment.
OTHER_SETTINGS = ["FIRST_ADMIN_EMAIL", "FIRST_ADMIN_PASSWORD"]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No setting comes from the process environment or a stray .env: only defaults.

    The working directory is an empty temporary folder (a relative `.env` finds nothing).
    """
    for name in ALL_SETTINGS + OTHER_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def secret_value(value: Any) -> Any:
    """The plain value of a setting that may be a pydantic `SecretStr`."""
    getter = getattr(value, "get_secret_value", None)
    return getter() if callable(getter) else value


def plain(value: Any) -> Any:
    """A setting's value as plain data: secrets revealed, enums by value."""
    value = secret_value(value)
    return value.value if isinstance(value, Enum) else value


def _learner_finder() -> LearnerFinder:
    for finder in sys.meta_path:
        if isinstance(finder, LearnerFinder):
            return finder
    raise RuntimeError("the learner's import hook is not installed")


def http_client(application: Any) -> httpx.AsyncClient:
    """A client on `application` WITHOUT running its lifespan.

    Step 2's routes need no start-up work; serving them without the lifespan keeps
    these checks independent of what the lifespan does from step 3 on (the database).
    """
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://grader"
    )


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """Step 2's client: a fresh `create_app()`, lifespan not run (see `http_client`)."""
    from app.main import create_app

    async with http_client(create_app()) as http:
        yield http


@asynccontextmanager
async def freshly_imported_app(env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """Import the learner's app anew with `env` set, as a server process started with it would.

    Settings are read when the learner's modules are imported; a fresh import lets a
    check change them without caring where the learner reads them. Afterwards the
    modules, the import hook's memory and the environment are put back as they were.
    The lifespan is not run (see `http_client`).
    """
    finder = _learner_finder()
    saved_modules = {n: m for n, m in sys.modules.items() if n == "app" or n.startswith("app.")}
    saved_failures = dict(finder.failures)
    saved_env = {name: os.environ.get(name) for name in env}
    for name in saved_modules:
        del sys.modules[name]
    os.environ.update(env)
    try:
        main = importlib.import_module("app.main")
        async with http_client(main.create_app()) as http:
            yield http
    finally:
        for name in [n for n in sys.modules if n == "app" or n.startswith("app.")]:
            del sys.modules[name]
        sys.modules.update(saved_modules)
        finder.failures.clear()
        finder.failures.update(saved_failures)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
