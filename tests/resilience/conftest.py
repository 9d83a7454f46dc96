"""Fixtures for the resilience tests: the solution in-process and as a uvicorn server.

These tests run against `solution/` itself, so its folder goes on sys.path here. The
settings object the app reads at import time is left at its defaults; each test
builds its own app with `create_app(Settings(...), DatabaseManager(url))` instead of
changing the environment of the whole test process.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from course.manifest import REPO_ROOT
from tests.solution_server import Server, uvicorn_solution

SOLUTION = REPO_ROOT / "solution"
if str(SOLUTION) not in sys.path:
    sys.path.insert(0, str(SOLUTION))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from fastapi import FastAPI  # noqa: E402

from app.core.config import Settings  # noqa: E402
from app.core.database import DatabaseManager  # noqa: E402
from app.core.security import create_access_token, password_hash  # noqa: E402
from app.domain.models.session import UserSession  # noqa: E402
from app.domain.models.user import User, UserRole  # noqa: E402
from app.main import create_app  # noqa: E402

API = "/api/v1"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "resilience-admin-password"
ENVELOPE_KEYS = {"message", "detail", "status_code", "request_id"}


def migrate(url: str) -> None:
    """Build the schema with the solution's own migrations."""
    config = Config(str(SOLUTION / "alembic.ini"))
    config.set_main_option("script_location", str(SOLUTION / "alembic"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


@dataclass
class InProcessApi:
    """The solution's app on a fresh SQLite file, with an admin and a token."""

    app: FastAPI
    database: DatabaseManager
    admin_token: str

    @property
    def admin_headers(self) -> dict[str, str]:
        """Authorization header of the admin."""
        return {"Authorization": f"Bearer {self.admin_token}"}


async def _add_admin(database: DatabaseManager) -> str:
    """Store the admin and a live session of theirs; return an access token of it."""
    async with database.get_session() as session:
        admin = User(
            email=ADMIN_EMAIL,
            password_hash=password_hash.hash(ADMIN_PASSWORD),
            full_name="Administrator",
            role=UserRole.ADMIN,
        )
        session.add(admin)
        await session.flush()
        login = UserSession(
            user_id=admin.id,
            refresh_token_id=uuid.uuid4().hex,
            expires_at=datetime.now(UTC) + timedelta(days=1),
        )
        session.add(login)
        await session.flush()
        token = create_access_token(str(admin.id), UserRole.ADMIN.value, str(login.id))
    # Pooled connections belong to this event loop; the tests bring their own.
    await database.disconnect()
    return token


@pytest.fixture
def api(tmp_path: Path) -> InProcessApi:
    """The app (DEBUG, so the OpenAPI schema is served) on a migrated SQLite database.

    A plain fixture, not async: Schemathesis calls the app from its own event loop.
    """
    url = f"sqlite+aiosqlite:///{tmp_path / 'resilience.db'}"
    migrate(url)
    settings = Settings(DEBUG=True, ENVIRONMENT="testing", LOG_LEVEL="WARNING")
    database = DatabaseManager(url, settings)
    admin_token = asyncio.run(_add_admin(database))
    app = create_app(settings, database)
    return InProcessApi(app, database, admin_token)


def assert_error_envelope(response: httpx.Response) -> dict[str, object]:
    """The response is the JSON error envelope, consistent with its status."""
    body = response.json()
    assert isinstance(body, dict) and set(body) == ENVELOPE_KEYS, body
    assert body["status_code"] == response.status_code, body
    return body


def solution_server_env(database_url: str) -> dict[str, str]:
    """Settings for a solution subprocess on `database_url`."""
    return {
        **os.environ,
        "PYTHONPATH": str(SOLUTION),
        "DATABASE_URL": database_url,
        "ENVIRONMENT": "testing",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "FIRST_ADMIN_EMAIL": ADMIN_EMAIL,
        "FIRST_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }


def prepare(database_url: str) -> None:
    """Migrate and seed the first admin, as a deployment does (in subprocesses)."""
    env = solution_server_env(database_url)
    for args in (["-m", "alembic", "upgrade", "head"], ["-m", "scripts.seed"]):
        subprocess.run([sys.executable, *args], cwd=SOLUTION, env=env, check=True,
                       capture_output=True, timeout=60)  # fmt: skip


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[str], Server]]:
    """A factory: `serve(database_url)` starts uvicorn there and waits for /health."""
    with ExitStack() as servers:

        def start(database_url: str) -> Server:
            env = solution_server_env(database_url)
            server = servers.enter_context(uvicorn_solution(env, tmp_path))
            server.wait_until_answering(f"{API}/health", 30)
            return server

        yield start


def login(client: httpx.Client, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> str:
    """Log in (`client` has the API prefix in its base URL); return the access token."""
    response = client.post("/auth/login", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token
