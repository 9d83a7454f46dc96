"""Step 5, D11: the generic BaseRepository, exercised through UserRepository (its subclass).

COURSE-SPEC fixes the method names, not their argument shapes: `create` may take a
model instance, a dict or keyword arguments; `update_by_id` a dict or keywords;
`get_all(filters=...)` a list of SQLAlchemy conditions or a dict of column values.
Each form is tried in a fresh session.
"""

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import ArgumentError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine

from course.grading.fixtures import maybe_await

from .conftest import EMAILS, PEOPLE, People, page_result, user_model, user_repository

SHAPE_ERRORS = (TypeError, AttributeError, KeyError, ArgumentError, InvalidRequestError)


async def first_form(
    engine: AsyncEngine,
    forms: list[tuple[str, Callable[[Any], Any]]],
    what: str,
    commit: bool = False,
) -> Any:
    """Run the first call form the learner's repository accepts; fail clearly if none."""
    errors = []
    for label, call in forms:
        try:
            async with user_repository(engine, commit=commit) as repo:
                return await maybe_await(call(repo))
        except SHAPE_ERRORS as exc:
            errors.append(f"{label}: {type(exc).__name__}: {str(exc)[:100]}")
    pytest.fail(f"expected {what} to work; every form failed: {' | '.join(errors)}")


async def stored(engine: AsyncEngine, email: str) -> dict[str, Any] | None:
    """The users row with this email, read with plain SQL (soft-deleted or not)."""
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text("SELECT full_name, role, deleted_at FROM users WHERE email = :email"),
                {"email": email},
            )
        ).first()
    return None if row is None else dict(row._mapping)


async def get_all(engine: AsyncEngine, **kwargs: Any) -> tuple[list[Any], int]:
    async with user_repository(engine) as repo:
        return page_result(await maybe_await(repo.get_all(**kwargs)), "get_all()")


def email_order() -> list[tuple[str, Any]]:
    user = user_model()
    return [
        ("order_by=[User.email]", [user.email.asc()]),
        ("order_by=User.email", user.email.asc()),
        ("order_by='email'", "email"),
    ]


async def get_all_by_email(engine: AsyncEngine, **kwargs: Any) -> tuple[list[Any], int]:
    forms = [
        (label, lambda repo, order=order: repo.get_all(order_by=order, **kwargs))
        for label, order in email_order()
    ]
    result = await first_form(engine, forms, "get_all(order_by=...) sorted by email")
    return page_result(result, "get_all()")


@pytest.mark.grade("D11", 1)
def test_user_repository_extends_the_generic_base_repository() -> None:
    from app.repository.base import BaseRepository
    from app.repository.user_repository import UserRepository

    assert issubclass(UserRepository, BaseRepository), (
        "expected UserRepository to inherit from BaseRepository"
    )
    try:
        BaseRepository[user_model()]
    except TypeError:
        pytest.fail("expected BaseRepository to be generic (BaseRepository[User]), it is not")
    missing = [
        name
        for name in ("get_by_id", "get_all", "create", "update_by_id", "soft_delete", "hard_delete")
        if not callable(getattr(BaseRepository, name, None))
    ]
    assert not missing, f"expected BaseRepository to define {', '.join(missing)}"


@pytest.mark.grade("D11", 2)
async def test_create_stores_a_new_row(schema: AsyncEngine) -> None:
    fields = {"email": "new@example.com", "password_hash": "h", "full_name": "New User"}
    forms = [
        ("create(User(...))", lambda repo: repo.create(user_model()(**fields))),
        ("create({...})", lambda repo: repo.create(dict(fields))),
        ("create(**fields)", lambda repo: repo.create(**fields)),
    ]
    created = await first_form(schema, forms, "UserRepository.create", commit=True)
    row = await stored(schema, "new@example.com")
    assert row is not None, "expected create() to store the user (found no row after commit)"
    assert isinstance(getattr(created, "id", None), uuid.UUID), (
        f"expected create() to return the stored user with its id, found {created!r}"
    )


@pytest.mark.grade("D11", 2)
async def test_get_by_id_finds_a_live_row_and_none_for_an_unknown_id(
    schema: AsyncEngine, people: People
) -> None:
    async with user_repository(schema) as repo:
        found = await maybe_await(repo.get_by_id(people.ids[1]))
        unknown = await maybe_await(repo.get_by_id(uuid.uuid4()))
    assert found is not None and found.email == EMAILS[1], (
        f"expected get_by_id to return the user {EMAILS[1]}, found {found!r}"
    )
    assert unknown is None, f"expected get_by_id(<unknown id>) to return None, found {unknown!r}"


@pytest.mark.grade("D11", 1)
async def test_get_by_id_skips_soft_deleted_rows(schema: AsyncEngine, people: People) -> None:
    async with user_repository(schema) as repo:
        found = await maybe_await(repo.get_by_id(people.deleted_id))
    assert found is None, f"expected get_by_id to skip a soft-deleted user, found {found!r}"


@pytest.mark.grade("D11", 2)
async def test_get_all_returns_the_live_rows_and_their_total(
    schema: AsyncEngine, people: People
) -> None:
    items, total = await get_all(schema, offset=0, limit=50)
    emails = sorted(user.email for user in items)
    assert total == len(EMAILS), (
        f"expected get_all() to count the {len(EMAILS)} users that are not deleted, found {total}"
    )
    assert emails == sorted(EMAILS), (
        f"expected get_all() to return every user that is not deleted, found {emails}"
    )


@pytest.mark.grade("D11", 1)
async def test_get_all_applies_offset_and_limit_and_keeps_the_total(
    schema: AsyncEngine, people: People
) -> None:
    items, total = await get_all_by_email(schema, offset=2, limit=3)
    emails = [user.email for user in items]
    assert emails == EMAILS[2:5], (
        f"expected get_all(offset=2, limit=3) sorted by email to return {EMAILS[2:5]}, "
        f"found {emails}"
    )
    assert total == len(EMAILS), (
        f"expected the total to count every match, not just the page ({len(EMAILS)}), found {total}"
    )


@pytest.mark.grade("D11", 1)
async def test_get_all_orders_by_the_given_column(schema: AsyncEngine, people: People) -> None:
    user = user_model()
    forms = [
        ("order_by=[User.email.desc()]", lambda repo: repo.get_all(order_by=[user.email.desc()])),
        ("order_by=User.email.desc()", lambda repo: repo.get_all(order_by=user.email.desc())),
        ("order_by='-email'", lambda repo: repo.get_all(order_by="-email")),
    ]
    result = await first_form(schema, forms, "get_all(order_by=<email descending>)")
    items, _ = page_result(result, "get_all()")
    emails = [item.email for item in items]
    assert emails == sorted(EMAILS, reverse=True), (
        f"expected get_all(order_by=<email descending>) to sort by email, found {emails}"
    )


@pytest.mark.grade("D11", 1)
async def test_get_all_applies_filters_to_items_and_total(
    schema: AsyncEngine, people: People
) -> None:
    user = user_model()
    forms = [
        (
            "filters=[User.role == ...]",
            lambda repo: repo.get_all(filters=[user.role == "moderator"]),
        ),
        ("filters={'role': ...}", lambda repo: repo.get_all(filters={"role": "moderator"})),
    ]
    result = await first_form(schema, forms, "get_all(filters=<role is moderator>)")
    items, total = page_result(result, "get_all()")
    emails = sorted(item.email for item in items)
    expected = sorted(person[0] for person in PEOPLE if person[2] == "moderator")
    assert emails == expected and total == len(expected), (
        f"expected get_all(filters=<role is moderator>) to return {expected} with total "
        f"{len(expected)}, found {emails} with total {total}"
    )


@pytest.mark.grade("D11", 2)
async def test_update_by_id_changes_only_the_given_columns(
    schema: AsyncEngine, people: People
) -> None:
    target = people.ids[2]
    forms = [
        (
            "update_by_id(id, {...})",
            lambda repo: repo.update_by_id(target, {"full_name": "Renamed"}),
        ),
        ("update_by_id(id, **values)", lambda repo: repo.update_by_id(target, full_name="Renamed")),
    ]
    await first_form(schema, forms, "UserRepository.update_by_id", commit=True)
    row = await stored(schema, EMAILS[2])
    assert row is not None and row["full_name"] == "Renamed", (
        f"expected update_by_id to change full_name to 'Renamed', found {row}"
    )
    assert row["role"] == "user", f"expected the other columns to stay as they were, found {row}"


@pytest.mark.grade("D11", 2)
async def test_soft_delete_hides_the_row_but_keeps_it(schema: AsyncEngine, people: People) -> None:
    async with user_repository(schema, commit=True) as repo:
        await maybe_await(repo.soft_delete(people.ids[0]))
    row = await stored(schema, EMAILS[0])
    assert row is not None, "expected soft_delete to keep the row in the table, it is gone"
    assert row["deleted_at"] is not None, "expected soft_delete to set deleted_at, it is still NULL"
    async with user_repository(schema) as repo:
        found = await maybe_await(repo.get_by_id(people.ids[0]))
        items, total = page_result(await maybe_await(repo.get_all(offset=0, limit=50)), "get_all()")
    assert found is None, "expected get_by_id to skip the user once soft-deleted"
    assert EMAILS[0] not in {item.email for item in items} and total == len(EMAILS) - 1, (
        f"expected get_all to skip the soft-deleted user, found total {total}"
    )


@pytest.mark.grade("D11", 1)
async def test_soft_and_hard_delete_say_whether_there_was_a_row(
    schema: AsyncEngine, people: People
) -> None:
    unknown = uuid.uuid4()
    found: dict[str, Any] = {}
    async with user_repository(schema, commit=True) as repo:
        found["soft_delete(a live user)"] = await maybe_await(repo.soft_delete(people.ids[1]))
        found["soft_delete(an unknown id)"] = await maybe_await(repo.soft_delete(unknown))
        found["hard_delete(a user)"] = await maybe_await(repo.hard_delete(people.ids[2]))
        found["hard_delete(an unknown id)"] = await maybe_await(repo.hard_delete(unknown))
    expected = [True, False, True, False]
    assert [bool(value) for value in found.values()] == expected and all(
        isinstance(value, bool) for value in found.values()
    ), (
        "expected soft_delete and hard_delete to return True when there was a row and "
        f"False when there was none (the services answer 404 on False), found {found}"
    )


@pytest.mark.grade("D11", 1)
async def test_hard_delete_removes_the_row(schema: AsyncEngine, people: People) -> None:
    async with user_repository(schema, commit=True) as repo:
        await maybe_await(repo.hard_delete(people.ids[3]))
    async with schema.connect() as connection:
        count = (
            await connection.execute(
                select(func.count()).select_from(text("users")).where(text("email = :e")),
                {"e": EMAILS[3]},
            )
        ).scalar_one()
    assert count == 0, f"expected hard_delete to remove the row from the table, found {count} left"
