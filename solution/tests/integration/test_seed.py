"""scripts/seed.py, run as a developer runs it: the first admin, demo users, idempotence."""

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from app.core.database import DatabaseManager
from app.core.security import verify_password
from app.domain.models.user import User
from scripts.seed import DEMO_PASSWORD
from tests.conftest import SOLUTION_DIR

ADMIN_EMAIL = "Seed.Admin@Example.com"  # stored lower-cased
ADMIN_PASSWORD = "seed-admin-password-42"
DEMO_EMAILS = ["demo001@example.com", "demo002@example.com", "demo003@example.com"]


@dataclass
class Run:
    returncode: int
    output: str  # stdout and stderr together
    stderr: str


async def run_seed(database_url: str, *args: str, **settings: str) -> Run:
    """Run `python -m scripts.seed` in the solution folder against `database_url`."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "FIRST_ADMIN_EMAIL": ADMIN_EMAIL,
        "FIRST_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "LOG_FORMAT": "text",
        **settings,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "scripts.seed",
        *args,
        cwd=SOLUTION_DIR,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return Run(process.returncode, stdout.decode() + stderr.decode(), stderr.decode())


async def all_users(database: DatabaseManager) -> dict[str, User]:
    """Every row of users, soft-deleted or not, by email."""
    async with database.get_session() as session:
        users = (await session.execute(select(User))).scalars().all()
    return {user.email: user for user in users}


def snapshot(users: dict[str, User]) -> dict[str, tuple[object, ...]]:
    return {
        email: (
            user.id,
            user.full_name,
            user.role,
            user.is_active,
            user.password_hash,
            user.created_at,
            user.updated_at,
            user.deleted_at,
        )
        for email, user in users.items()
    }


async def test_seed_creates_the_first_admin_who_can_log_in_and_the_demo_users(
    database: DatabaseManager, database_url: str
) -> None:
    run = await run_seed(database_url, "--demo", "3")
    assert run.returncode == 0, run.output
    assert "Seeding done: 4 user(s) created" in run.output

    users = await all_users(database)
    assert sorted(users) == sorted(["seed.admin@example.com", *DEMO_EMAILS])

    admin = users["seed.admin@example.com"]
    assert admin.role == "admin"
    assert admin.full_name == "Administrator"
    assert admin.is_active is True
    assert admin.deleted_at is None
    assert admin.password_hash.startswith("$argon2id$")
    assert await verify_password(ADMIN_PASSWORD, admin.password_hash) is True
    assert await verify_password("not-the-admin-password", admin.password_hash) is False

    for email in DEMO_EMAILS:
        demo = users[email]
        assert demo.role in {"user", "moderator"}
        assert demo.is_active is True
        assert demo.deleted_at is None
        assert await verify_password(DEMO_PASSWORD, demo.password_hash) is True


async def test_seed_run_twice_changes_nothing(database: DatabaseManager, database_url: str) -> None:
    first = await run_seed(database_url, "--demo", "3")
    assert first.returncode == 0, first.output
    before = snapshot(await all_users(database))
    assert len(before) == 4

    second = await run_seed(database_url, "--demo", "3")
    assert second.returncode == 0, second.output
    assert "Seeding done: 0 user(s) created" in second.output
    assert snapshot(await all_users(database)) == before


async def test_seed_rejects_a_negative_demo_count_with_a_usage_error(tmp_path: Path) -> None:
    database_file = tmp_path / "never-created.db"
    run = await run_seed(f"sqlite+aiosqlite:///{database_file}", "--demo", "-1")
    assert run.returncode == 2, run.output
    assert "usage:" in run.stderr
    assert "--demo must be 0 or more" in run.stderr
    assert not database_file.exists()


PRODUCTION = {
    "ENVIRONMENT": "production",
    "DEBUG": "false",
    "JWT_SECRET_KEY": "a" * 40,
    "JWT_REFRESH_SECRET_KEY": "b" * 40,
    "CORS_ORIGINS": "https://app.example.com",
}


async def test_seed_refuses_demo_users_in_production_and_writes_nothing(
    database: DatabaseManager, database_url: str
) -> None:
    run = await run_seed(database_url, "--demo", "3", **PRODUCTION)
    assert run.returncode == 2, run.output
    assert "--demo is refused in production" in run.stderr
    assert await all_users(database) == {}


async def test_seed_creates_the_admin_alone_in_production(
    database: DatabaseManager, database_url: str
) -> None:
    run = await run_seed(database_url, **PRODUCTION)
    assert run.returncode == 0, run.output
    assert sorted(await all_users(database)) == ["seed.admin@example.com"]
