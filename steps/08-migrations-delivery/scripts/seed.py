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
    # TODO(step 8): implement this function (see its docstring)
    raise NotImplementedError


async def _ensure_user(
    users: UserRepository,
    email: str,
    full_name: str,
    role: UserRole,
    password_hash: Callable[[], Awaitable[str]],
) -> bool:
    """Create the user unless the email is taken; return whether it was created."""
    # TODO(step 8): implement this function (see its docstring)
    raise NotImplementedError


async def seed(database: DatabaseManager, demo_users: int = 0) -> int:
    """Create whatever of the admin and the demo users is missing; return how many."""
    # TODO(step 8): create the admin from FIRST_ADMIN_EMAIL / FIRST_ADMIN_PASSWORD and N demo users, skipping emails that exist
    raise NotImplementedError


async def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    # TODO(step 8): parse --demo N, set up logging, connect the database, seed, disconnect
    raise NotImplementedError


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
