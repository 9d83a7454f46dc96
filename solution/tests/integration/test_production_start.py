"""In production the app refuses to start while the first admin has the default password."""

from typing import Any

import pytest

from app.core.config import DEFAULT_FIRST_ADMIN_PASSWORD, Settings
from app.core.database import DatabaseManager
from app.core.security import password_hash
from app.domain.models.user import User, UserRole
from app.main import create_app, refuse_default_admin_password
from app.repository.user_repository import UserRepository
from tests.conftest import serve

ADMIN_EMAIL = "first.admin@example.com"


def production(**overrides: Any) -> Settings:
    """Production settings that pass the settings' own guard."""
    values: dict[str, Any] = {
        "ENVIRONMENT": "production",
        "DEBUG": False,
        "JWT_SECRET_KEY": "a" * 40,
        "JWT_REFRESH_SECRET_KEY": "b" * 40,
        "FIRST_ADMIN_EMAIL": ADMIN_EMAIL,
        "FIRST_ADMIN_PASSWORD": "the-new-admin-password-42",
        "CORS_ORIGINS": ["https://app.example.com"],
    }
    return Settings(_env_file=None, **(values | overrides))


async def store_admin(database: DatabaseManager, password: str, email: str = ADMIN_EMAIL) -> None:
    async with database.get_session() as session:
        await UserRepository(session).create(
            User(
                email=email,
                password_hash=password_hash.hash(password),
                full_name="First Admin",
                role=UserRole.ADMIN.value,
            )
        )


async def test_production_refuses_to_start_while_the_admin_has_the_default_password(
    database: DatabaseManager,
) -> None:
    await store_admin(database, DEFAULT_FIRST_ADMIN_PASSWORD)
    with pytest.raises(RuntimeError, match="FIRST_ADMIN_PASSWORD") as refused:
        async with serve(create_app(production(), database=database)):
            pass
    assert ADMIN_EMAIL in str(refused.value)


async def test_the_admin_email_is_found_in_any_case(database: DatabaseManager) -> None:
    await store_admin(database, DEFAULT_FIRST_ADMIN_PASSWORD)
    settings = production(FIRST_ADMIN_EMAIL=ADMIN_EMAIL.upper())
    with pytest.raises(RuntimeError, match="FIRST_ADMIN_PASSWORD"):
        await refuse_default_admin_password(database, settings)


async def test_production_starts_once_the_admin_password_was_changed(
    database: DatabaseManager,
) -> None:
    await store_admin(database, "a-changed-admin-password")
    async with serve(create_app(production(), database=database)) as http:
        assert (await http.get("/api/v1/health")).status_code == 200


async def test_production_starts_without_a_first_admin(database: DatabaseManager) -> None:
    await store_admin(database, DEFAULT_FIRST_ADMIN_PASSWORD, email="someone.else@example.com")
    async with serve(create_app(production(), database=database)) as http:
        assert (await http.get("/api/v1/health")).status_code == 200


@pytest.mark.parametrize("environment", ["development", "testing", "staging"])
async def test_outside_production_the_default_admin_password_does_not_stop_the_app(
    database: DatabaseManager, environment: str
) -> None:
    await store_admin(database, DEFAULT_FIRST_ADMIN_PASSWORD)
    settings = Settings(_env_file=None, ENVIRONMENT=environment)  # type: ignore[call-arg]
    settings.FIRST_ADMIN_EMAIL = ADMIN_EMAIL
    async with serve(create_app(settings, database=database)) as http:
        assert (await http.get("/api/v1/health")).status_code == 200


async def test_an_unreachable_database_stops_the_check_as_it_stops_connect() -> None:
    # Nothing listens on port 1: the check fails as connect() would, and the start with it.
    unreachable = DatabaseManager("postgresql+asyncpg://nobody:secret@127.0.0.1:1/app")
    try:
        with pytest.raises(ConnectionRefusedError):
            await refuse_default_admin_password(unreachable, production())
    finally:
        await unreachable.disconnect()
