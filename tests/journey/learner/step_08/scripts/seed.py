"""Create the first admin and, optionally, demo users. Safe to run any number of times.

    python -m scripts.seed            # the admin (FIRST_ADMIN_EMAIL, FIRST_ADMIN_PASSWORD)
    python -m scripts.seed --demo 25  # ... and demo001@example.com ... demo025@example.com

Existing users are left exactly as they are, so a second run changes nothing.
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
from app.domain.models.user import User, UserRole
from app.repository.user_repository import UserRepository

DEMO_PASSWORD = "demo-password"  # noqa: S105 (published on purpose: demo accounts only)
DEMO_ROLES = (UserRole.USER, UserRole.USER, UserRole.MODERATOR)


def demo_email(number: int) -> str:
    """The email of demo user `number` (from 1)."""
    padded = str(number).zfill(3)
    return "demo" + padded + "@example.com"


async def _ensure_user(
    users: UserRepository,
    email: str,
    full_name: str,
    role: UserRole,
    password_hash: Callable[[], Awaitable[str]],
) -> bool:
    """Create the user unless the email is taken; return whether it was created."""
    normalised = email.strip().lower()
    existing = await users.get_by_email(normalised)
    if existing is not None:
        logger.info("{} already exists, left as it is", normalised)
        return False
    # The hash is only computed for a user that is really created: Argon2 is slow.
    hashed = await password_hash()
    await users.create(
        User(email=normalised, full_name=full_name, role=role.value, password_hash=hashed)
    )
    logger.info("Created the {} {}", role.value, normalised)
    return True


class _CachedHash:
    """Hashes one password on first use and hands out that hash afterwards."""

    def __init__(self, password: str) -> None:
        self._password = password
        self._hash: str | None = None

    async def __call__(self) -> str:
        if self._hash is None:
            self._hash = await hash_password(self._password)
        return self._hash


async def seed(database: DatabaseManager, demo_users: int = 0) -> int:
    """Create whatever of the admin and the demo users is missing; return how many."""
    settings = get_settings()
    admin_hash = _CachedHash(settings.FIRST_ADMIN_PASSWORD.get_secret_value())
    # Every demo user shares one password, so one hash does for all of them.
    demo_hash = _CachedHash(DEMO_PASSWORD)

    created = 0
    async with database.get_session() as session:
        users = UserRepository(session)
        if await _ensure_user(
            users, settings.FIRST_ADMIN_EMAIL, "Administrator", UserRole.ADMIN, admin_hash
        ):
            created += 1
        for number in range(1, demo_users + 1):
            role = DEMO_ROLES[(number - 1) % len(DEMO_ROLES)]
            made = await _ensure_user(
                users, demo_email(number), f"Demo User {number:03d}", role, demo_hash
            )
            if made:
                created += 1
    return created


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.seed",
        description="Create the first admin and, optionally, demo users.",
    )
    parser.add_argument(
        "--demo",
        type=int,
        default=0,
        metavar="N",
        help=f"also create N demo users, all with the password {DEMO_PASSWORD!r}",
    )
    arguments = parser.parse_args(argv)
    if arguments.demo < 0:
        parser.error("--demo needs a number of users, 0 or more")
    return arguments


async def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    arguments = _parse_args(argv)
    settings = get_settings()
    if settings.ENVIRONMENT == "production" and arguments.demo > 0:
        print(
            f"seed: refusing to create {arguments.demo} demo users in production "
            f"(they all share the published password {DEMO_PASSWORD!r})",
            file=sys.stderr,
        )
        return 1
    setup_logging(settings)

    database = DatabaseManager(settings.DATABASE_URL, settings)
    await database.connect()
    try:
        created = await seed(database, demo_users=arguments.demo)
    finally:
        await database.disconnect()
    logger.info("Seed finished: {} user(s) created", created)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
