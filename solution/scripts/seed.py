"""Create the first admin and, optionally, demo users. Safe to run any number of times.

    python -m scripts.seed            # the admin (FIRST_ADMIN_EMAIL, FIRST_ADMIN_PASSWORD)
    python -m scripts.seed --demo 25  # ... and demo001@example.com ... demo025@example.com

Existing users are left exactly as they are, so a second run changes nothing. With
ENVIRONMENT=production, --demo is refused: the demo users' password is published.
"""

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from loguru import logger

from app.core.config import get_settings
from app.core.database import DatabaseManager
from app.core.logging import setup_logging
from app.core.security import hash_password
from app.domain.models.user import User, UserRole, normalize_email
from app.repository.user_repository import UserRepository

DEMO_PASSWORD = "demo-password"  # noqa: S105 (published on purpose: demo accounts only)
DEMO_ROLES = (UserRole.USER, UserRole.USER, UserRole.MODERATOR)


def demo_email(number: int) -> str:
    """The email of demo user `number` (from 1)."""
    return f"demo{number:03d}@example.com"


async def _ensure_user(
    users: UserRepository,
    email: str,
    full_name: str,
    role: UserRole,
    password_hash: Callable[[], Awaitable[str]],
) -> bool:
    """Create the user unless the email is taken; return whether it was created."""
    if await users.email_exists(email):
        return False
    user = User(
        email=normalize_email(email),
        password_hash=await password_hash(),
        full_name=full_name,
        role=role,
    )
    await users.create(user)
    logger.info("Created {} {}", role.value, email)
    return True


async def seed(database: DatabaseManager, demo_users: int = 0) -> int:
    """Create whatever of the admin and the demo users is missing; return how many."""
    settings = get_settings()
    admin_password = settings.FIRST_ADMIN_PASSWORD.get_secret_value()
    demo_hash: str | None = None

    async def hash_admin_password() -> str:
        return await hash_password(admin_password)

    async def hash_demo_password() -> str:
        # One hash serves every demo user: hashing is slow on purpose.
        nonlocal demo_hash
        demo_hash = demo_hash or await hash_password(DEMO_PASSWORD)
        return demo_hash

    async with database.get_session() as session:
        users = UserRepository(session)
        created = int(
            await _ensure_user(
                users,
                settings.FIRST_ADMIN_EMAIL,
                "Administrator",
                UserRole.ADMIN,
                hash_admin_password,
            )
        )
        for n in range(1, demo_users + 1):
            role = DEMO_ROLES[n % len(DEMO_ROLES)]
            created += await _ensure_user(
                users, demo_email(n), f"Demo User {n}", role, hash_demo_password
            )
    return created


async def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=int, default=0, metavar="N", help="also create N demo users")
    args = parser.parse_args(argv)
    if args.demo < 0:
        parser.error("--demo must be 0 or more")
    settings = get_settings()
    if args.demo and settings.ENVIRONMENT == "production":
        # Every demo user has DEMO_PASSWORD, published in this file: never in production.
        parser.error("--demo is refused in production: demo users share a published password")
    setup_logging(settings)
    database = DatabaseManager()
    try:
        await database.connect()
        created = await seed(database, args.demo)
    finally:
        await database.disconnect()
    logger.info("Seeding done: {} user(s) created", created)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
