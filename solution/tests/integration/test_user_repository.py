"""UserRepository (and the BaseRepository under it) against a real database."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from app.core.database import DatabaseManager
from app.domain.models.user import User, UserRole
from app.repository.user_repository import UserRepository

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def build_user(
    email: str,
    full_name: str = "Repo User",
    role: UserRole = UserRole.USER,
    **values: Any,
) -> User:
    return User(
        email=email,
        password_hash="not-a-real-hash",
        full_name=full_name,
        role=role.value,
        **values,
    )


async def add_users(database: DatabaseManager, *users: User) -> list[User]:
    """Create the users through the repository in one committed session."""
    async with database.get_session() as session:
        repository = UserRepository(session)
        for user in users:
            await repository.create(user)
    return list(users)


async def add_user(database: DatabaseManager, email: str, **values: Any) -> User:
    return (await add_users(database, build_user(email, **values)))[0]


async def row_count(database: DatabaseManager) -> int:
    """Every row in users, soft-deleted ones included."""
    async with database.engine.connect() as connection:
        return (await connection.execute(text("SELECT COUNT(*) FROM users"))).scalar_one()


def emails(users: list[User]) -> list[str]:
    return [user.email for user in users]


# --- create / get_by_id ---------------------------------------------------------


async def test_create_flushes_the_user_with_an_id_and_server_timestamps(
    database: DatabaseManager,
) -> None:
    async with database.get_session() as session:
        user = await UserRepository(session).create(build_user("new@example.com"))
        assert isinstance(user.id, uuid.UUID)
        assert user.created_at.tzinfo is not None
        assert user.updated_at.tzinfo is not None

    async with database.get_session() as session:
        stored = await UserRepository(session).get_by_id(user.id)
    assert stored is not None
    assert stored.email == "new@example.com"
    assert stored.full_name == "Repo User"
    assert stored.role == "user"
    assert stored.is_active is True


async def test_create_does_not_commit_on_its_own(database: DatabaseManager) -> None:
    async with database.session_factory() as session:
        user = await UserRepository(session).create(build_user("uncommitted@example.com"))
        await session.rollback()

    async with database.get_session() as session:
        assert await UserRepository(session).get_by_id(user.id) is None
    assert await row_count(database) == 0


async def test_get_by_id_returns_the_user_and_none_for_an_unknown_id(
    database: DatabaseManager,
) -> None:
    user = await add_user(database, "known@example.com")
    async with database.get_session() as session:
        repository = UserRepository(session)
        found = await repository.get_by_id(user.id)
        missing = await repository.get_by_id(uuid.uuid4())
    assert found is not None
    assert found.id == user.id
    assert found.email == "known@example.com"
    assert missing is None


# --- email lookups -------------------------------------------------------------


async def test_get_by_email_ignores_case(database: DatabaseManager) -> None:
    user = await add_user(database, "mixed.case@example.com")
    async with database.get_session() as session:
        repository = UserRepository(session)
        found = await repository.get_by_email("Mixed.CASE@Example.COM")
        missing = await repository.get_by_email("nobody@example.com")
    assert found is not None
    assert found.id == user.id
    assert missing is None


async def test_email_exists_ignores_case(database: DatabaseManager) -> None:
    await add_user(database, "taken@example.com")
    async with database.get_session() as session:
        repository = UserRepository(session)
        assert await repository.email_exists("taken@example.com") is True
        assert await repository.email_exists("TAKEN@EXAMPLE.COM") is True
        assert await repository.email_exists("free@example.com") is False


async def test_email_lookups_normalise_unicode_width(database: DatabaseManager) -> None:
    user = await add_user(database, "ada@example.com")
    full_width = "\uff21\uff24\uff21@\uff45xample.com"  # full-width "ADA" and "e"
    async with database.get_session() as session:
        repository = UserRepository(session)
        found = await repository.get_by_email(full_width)
        assert await repository.email_exists(full_width) is True
    assert found is not None
    assert found.id == user.id


# --- update ---------------------------------------------------------------------


async def test_update_by_id_changes_only_the_given_columns(database: DatabaseManager) -> None:
    user = await add_user(database, "update@example.com", full_name="Before")
    async with database.get_session() as session:
        updated = await UserRepository(session).update_by_id(
            user.id, {"full_name": "After", "role": "moderator"}
        )
    assert updated is not None
    assert updated.id == user.id
    assert updated.full_name == "After"

    async with database.get_session() as session:
        stored = await UserRepository(session).get_by_id(user.id)
    assert stored is not None
    assert stored.full_name == "After"
    assert stored.role == "moderator"
    assert stored.email == "update@example.com"
    assert stored.is_active is True
    assert stored.password_hash == "not-a-real-hash"


async def test_update_by_id_returns_none_for_unknown_and_soft_deleted_users(
    database: DatabaseManager,
) -> None:
    user = await add_user(database, "gone@example.com", full_name="Gone")
    async with database.get_session() as session:
        repository = UserRepository(session)
        assert await repository.update_by_id(uuid.uuid4(), {"full_name": "X"}) is None
        assert await repository.soft_delete(user.id) is True
        assert await repository.update_by_id(user.id, {"full_name": "X"}) is None

    async with database.get_session() as session:
        stored = await session.get(User, user.id)
    assert stored is not None
    assert stored.full_name == "Gone"


# --- soft and hard delete ---------------------------------------------------------


async def test_soft_delete_hides_the_user_from_every_read(database: DatabaseManager) -> None:
    victim, survivor = await add_users(
        database,
        build_user("victim@example.com", full_name="Victor Victim"),
        build_user("survivor@example.com", full_name="Sam Survivor"),
    )
    async with database.get_session() as session:
        assert await UserRepository(session).soft_delete(victim.id) is True

    async with database.get_session() as session:
        repository = UserRepository(session)
        assert await repository.get_by_id(victim.id) is None
        assert await repository.get_by_email("victim@example.com") is None
        assert await repository.email_exists("victim@example.com") is False

        items, total = await repository.get_all()
        assert (emails(items), total) == (["survivor@example.com"], 1)

        items, total = await repository.get_users()
        assert (emails(items), total) == (["survivor@example.com"], 1)

        items, total = await repository.get_users(search="victim")
        assert (emails(items), total) == ([], 0)

        # A second soft delete finds nothing to delete.
        assert await repository.soft_delete(victim.id) is False

    # The row is still there, marked deleted.
    assert await row_count(database) == 2
    async with database.get_session() as session:
        stored = await session.get(User, victim.id)
        assert await UserRepository(session).get_by_id(survivor.id) is not None
    assert stored is not None
    assert stored.deleted_at is not None
    assert stored.deleted_at.tzinfo is not None
    assert stored.is_deleted is True


async def test_hard_delete_removes_the_row_even_when_soft_deleted(
    database: DatabaseManager,
) -> None:
    deleted, live = await add_users(
        database, build_user("soft@example.com"), build_user("live@example.com")
    )
    async with database.get_session() as session:
        repository = UserRepository(session)
        assert await repository.soft_delete(deleted.id) is True
        assert await repository.hard_delete(deleted.id) is True
        assert await repository.hard_delete(live.id) is True

    assert await row_count(database) == 0
    async with database.get_session() as session:
        repository = UserRepository(session)
        assert await repository.hard_delete(deleted.id) is False
        assert await repository.hard_delete(uuid.uuid4()) is False


# --- get_all ----------------------------------------------------------------------


async def test_get_all_applies_filters_order_offset_and_limit(database: DatabaseManager) -> None:
    await add_users(
        database,
        build_user("a@example.com", full_name="Anna", role=UserRole.USER),
        build_user("b@example.com", full_name="Bert", role=UserRole.ADMIN),
        build_user("c@example.com", full_name="Cleo", role=UserRole.USER),
        build_user("d@example.com", full_name="Dora", role=UserRole.USER),
        build_user("e@example.com", full_name="Emil", role=UserRole.USER),
    )
    async with database.get_session() as session:
        repository = UserRepository(session)
        items, total = await repository.get_all(
            offset=1,
            limit=2,
            filters=[User.role == "user"],
            order_by=[User.full_name.desc()],
        )
        assert [user.full_name for user in items] == ["Dora", "Cleo"]
        assert total == 4

        items, total = await repository.get_all(offset=3, limit=2, filters=[User.role == "user"])
        assert len(items) == 1
        assert total == 4

        items, total = await repository.get_all(offset=0, limit=10)
        assert sorted(emails(items)) == [f"{c}@example.com" for c in "abcde"]
        assert total == 5

        items, total = await repository.get_all(filters=[User.role == "moderator"])
        assert (items, total) == ([], 0)


# --- get_users ----------------------------------------------------------------------


async def test_get_users_pages_through_every_user_exactly_once(database: DatabaseManager) -> None:
    await add_users(database, *(build_user(f"{c}@example.com") for c in "abcde"))
    async with database.get_session() as session:
        repository = UserRepository(session)
        pages = [
            await repository.get_users(page=page, limit=2, sort_by="email", sort_order="asc")
            for page in (1, 2, 3, 4)
        ]
    assert [emails(items) for items, _ in pages] == [
        ["a@example.com", "b@example.com"],
        ["c@example.com", "d@example.com"],
        ["e@example.com"],
        [],
    ]
    assert [total for _, total in pages] == [5, 5, 5, 5]


async def test_get_users_search_matches_name_or_email_ignoring_case(
    database: DatabaseManager,
) -> None:
    await add_users(
        database,
        build_user("alice@example.com", full_name="Alice Smith"),
        build_user("bob@example.com", full_name="Bob Jones"),
        build_user("carol@sample.org", full_name="Carol SMITHERS"),
    )

    async def search(term: str) -> tuple[list[str], int]:
        async with database.get_session() as session:
            items, total = await UserRepository(session).get_users(
                search=term, sort_by="email", sort_order="asc"
            )
        return emails(items), total

    assert await search("smith") == (["alice@example.com", "carol@sample.org"], 2)
    assert await search("sMiTh") == (["alice@example.com", "carol@sample.org"], 2)
    assert await search("SAMPLE") == (["carol@sample.org"], 1)
    assert await search("Example.COM") == (["alice@example.com", "bob@example.com"], 2)
    assert await search("JONES") == (["bob@example.com"], 1)
    assert await search("nobody") == ([], 0)


async def test_get_users_search_treats_percent_underscore_and_backslash_literally(
    database: DatabaseManager,
) -> None:
    await add_users(
        database,
        build_user("percent@example.com", full_name="100% Sure"),
        build_user("plain@example.com", full_name="1000 Sure"),
        build_user("under_score@example.com", full_name="Under Score"),
        build_user("underxscore@example.com", full_name="Under X Score"),
        build_user("slash@example.com", full_name="Back\\slash"),
    )

    async def search(term: str) -> list[str]:
        async with database.get_session() as session:
            items, total = await UserRepository(session).get_users(
                search=term, sort_by="email", sort_order="asc"
            )
        assert total == len(items)
        return emails(items)

    assert await search("100%") == ["percent@example.com"]
    assert await search("%") == ["percent@example.com"]
    assert await search("under_score") == ["under_score@example.com"]
    assert await search("_") == ["under_score@example.com"]
    assert await search("\\") == ["slash@example.com"]


# Four users whose order differs for every sortable field; two share a role, so the
# id must break that tie.
SORT_FIXTURE = [
    # email, full_name, role, created_at offset (h), updated_at offset (h)
    ("carla@example.com", "Dave Dunn", UserRole.USER, 1, 3),
    ("alma@example.com", "Bea Brown", UserRole.MODERATOR, 3, 0),
    ("dina@example.com", "Abe Adams", UserRole.ADMIN, 0, 2),
    ("bert@example.com", "Cy Cole", UserRole.USER, 2, 1),
]


@pytest.mark.parametrize("sort_order", ["asc", "desc"])
@pytest.mark.parametrize("sort_by", ["created_at", "updated_at", "email", "full_name", "role"])
async def test_get_users_sorts_by_each_allowed_field(
    database: DatabaseManager, sort_by: str, sort_order: str
) -> None:
    users = await add_users(
        database,
        *(
            build_user(
                email,
                full_name=name,
                role=role,
                created_at=T0 + timedelta(hours=created),
                updated_at=T0 + timedelta(hours=updated),
            )
            for email, name, role, created, updated in SORT_FIXTURE
        ),
    )
    # Ties on the sort field fall back to the id, ascending.
    expected = sorted(users, key=lambda user: user.id)
    expected.sort(key=lambda user: getattr(user, sort_by), reverse=sort_order == "desc")

    async with database.get_session() as session:
        items, total = await UserRepository(session).get_users(
            sort_by=sort_by,  # type: ignore[arg-type]
            sort_order=sort_order,  # type: ignore[arg-type]
        )
    assert emails(items) == emails(expected)
    assert total == 4


async def test_get_users_defaults_to_newest_first(database: DatabaseManager) -> None:
    await add_users(
        database,
        build_user("old@example.com", created_at=T0),
        build_user("new@example.com", created_at=T0 + timedelta(days=1)),
        build_user("mid@example.com", created_at=T0 + timedelta(hours=1)),
    )
    async with database.get_session() as session:
        items, total = await UserRepository(session).get_users()
    assert emails(items) == ["new@example.com", "mid@example.com", "old@example.com"]
    assert total == 3


async def test_get_users_rejects_a_sort_field_outside_the_whitelist(
    database: DatabaseManager,
) -> None:
    async with database.get_session() as session:
        with pytest.raises(ValueError, match="password_hash"):
            await UserRepository(session).get_users(sort_by="password_hash")  # type: ignore[arg-type]


@contextmanager
def recorded_statements(database: DatabaseManager) -> Iterator[list[str]]:
    """Collect every SQL statement the engine sends while the block runs."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])  # (conn, cursor, statement, parameters, context, many)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("limit", [1, 20, 100])
async def test_get_users_issues_two_statements_whatever_the_page_size(
    database: DatabaseManager, limit: int
) -> None:
    await add_users(database, *(build_user(f"user{n:02d}@example.com") for n in range(25)))
    # Warm the pool up, so connecting costs no statements in the measured block.
    async with database.get_session() as session:
        await session.execute(select(func.count()).select_from(User))

    with recorded_statements(database) as statements:
        async with database.get_session() as session:
            items, total = await UserRepository(session).get_users(limit=limit)
            # Reading every attribute a response needs loads nothing more.
            for user in items:
                _ = (user.id, user.email, user.full_name, user.role, user.is_active)
                _ = (user.created_at, user.updated_at, user.deleted_at)

    assert len(items) == min(limit, 25)
    assert total == 25
    assert len(statements) == 2, statements
