"""Step 6, D13: the user service and the auth service, called directly on a session.

Errors are checked by the HTTP status they stand for (`status_code`, as every
AppException has), never by class or message, except the NotFound message that
the spec fixes: "User with id '<id>' not found".
"""

from __future__ import annotations

import inspect
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from course.grading.fixtures import add_user, count_email, maybe_await

from .conftest import (
    PASSWORD,
    auth_service,
    authenticate_method,
    describe,
    message_of,
    new_email,
    read_row,
    services,
    status_of,
    stored_user,
    user_create,
)


async def raised(call: Callable[[], Awaitable[Any]]) -> BaseException | None:
    """The exception `call()` raised, or None."""
    try:
        await call()
    except NotImplementedError:
        raise
    except Exception as exc:
        return exc
    return None


def expect_status(exc: BaseException | None, status: int, what: str) -> None:
    assert exc is not None, f"expected {what} to raise an error with status {status}, it returned"
    assert status_of(exc) == status, (
        f"expected {what} to raise an error with status {status}, found {describe(exc)}"
    )


def other_arguments(method: Callable[..., Any], *, skip: int, acting: Any) -> dict[str, Any]:
    """Values for any further required parameters (e.g. the acting user of delete_user)."""
    values: dict[str, Any] = {}
    params = list(inspect.signature(method).parameters.values())[skip:]
    for param in params:
        if param.default is not inspect.Parameter.empty or param.kind in (
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
        ):
            continue
        values[param.name] = acting.id if param.name.endswith("id") else acting
    return values


async def delete(service: Any, user_id: uuid.UUID, acting: Any) -> Any:
    """service.delete_user(user_id), passing an acting user if the learner's asks for one."""
    extra = other_arguments(service.delete_user, skip=1, acting=acting)
    return await maybe_await(service.delete_user(user_id, **extra))


async def list_page(service: Any, page: int, limit: int) -> tuple[list[Any], int]:
    """service.list_users for one page, whichever way it takes its parameters: (items, total)."""
    parameters = inspect.signature(service.list_users).parameters
    if "page" in parameters and "limit" in parameters:
        result = await maybe_await(service.list_users(page=page, limit=limit))
    else:
        from app.domain.schemas.common import PaginationParams

        result = await maybe_await(service.list_users(PaginationParams(page=page, limit=limit)))
    if isinstance(result, tuple):
        items, total = result[0], result[1]
    elif isinstance(result, dict):
        items, total = result["items"], result["total"]
    else:
        items, total = result.items, result.total
    return list(items), int(total)


def field(item: Any, name: str) -> Any:
    value = item[name] if isinstance(item, dict) else getattr(item, name)
    return getattr(value, "value", value)


# --- UserService -----------------------------------------------------------------


@pytest.mark.grade("D13", 2)
async def test_create_user_stores_an_argon2id_hash_never_the_password(schema: AsyncEngine) -> None:
    email = new_email("create")
    async with services() as (service, _):
        user = await service.create_user(user_create(email, PASSWORD, "Cee Reate"))
    user_id = field(user, "id")
    row = await read_row(schema, uuid.UUID(str(user_id)))
    assert row is not None, "expected create_user to store the user (a committed users row)"
    assert row["password_hash"] != PASSWORD and PASSWORD not in row["password_hash"], (
        "expected create_user to store a hash of the password, found the password itself"
    )
    assert row["password_hash"].startswith("$argon2id$"), (
        f"expected the stored password_hash to be an Argon2id hash, "
        f"found {row['password_hash']:.20}…"
    )
    assert (row["email"], row["full_name"], row["role"]) == (email, "Cee Reate", "user"), (
        f"expected the stored user to be ({email}, Cee Reate, user), "
        f"found ({row['email']}, {row['full_name']}, {row['role']})"
    )


@pytest.mark.grade("D13", 2)
async def test_create_user_with_a_taken_email_in_any_case_raises_409(schema: AsyncEngine) -> None:
    email = new_email("dup")
    await add_user(schema, email=email)
    async with services() as (service, _):
        exc = await raised(lambda: service.create_user(user_create(email.upper(), PASSWORD)))
    expect_status(exc, 409, f"create_user with the taken email {email.upper()}")
    assert await count_email(schema, email) == 1, "expected no second user with that email"


@pytest.mark.grade("D13", 1)
async def test_a_registration_that_loses_the_race_for_an_email_raises_409(
    schema: AsyncEngine,
) -> None:
    email = new_email("race")
    await add_user(schema, email=email)

    async def not_yet(*args: Any, **kwargs: Any) -> bool:
        return False

    async def register() -> None:
        # The 409 leaves the unit of work, which rolls back, as in a request.
        async with services() as (service, repository):
            # As if another request inserted the email just after this one checked it.
            repository.email_exists = not_yet
            await service.create_user(user_create(email, PASSWORD))

    exc = await raised(register)
    if isinstance(exc, ImportError):
        raise exc  # the code does not load: the grader explains that, not this check
    assert exc is not None and status_of(exc) == 409, (
        "expected create_user to answer 409 when the email is taken between the check and "
        "the insert (two concurrent registrations: the unique index refuses the second "
        "insert), found "
        + (describe(exc) if exc else "that it returned")
        + ": catch the IntegrityError of the insert and raise the same 409"
    )
    assert await count_email(schema, email) == 1, "expected no second user with that email"


@pytest.mark.grade("D13", 2)
async def test_get_user_returns_the_user_and_404_for_unknown_or_soft_deleted(
    schema: AsyncEngine,
) -> None:
    live = await add_user(schema, full_name="Gina Get")
    gone = await add_user(schema, deleted=True)
    unknown = uuid.uuid4()
    async with services() as (service, _):
        found = await service.get_user(live.id)
        assert field(found, "email") == live.email, (
            f"expected get_user(id) to return that user ({live.email}), found {found!r:.80}"
        )
        exc = await raised(lambda: service.get_user(unknown))
        expect_status(exc, 404, "get_user(<unknown id>)")
        assert exc is not None, "expected get_user(<unknown id>) to raise"
        assert message_of(exc) == f"User with id '{unknown}' not found", (
            f"expected the message \"User with id '{unknown}' not found\", "
            f"found {message_of(exc)!r}"
        )
        expect_status(
            await raised(lambda: service.get_user(gone.id)),
            404,
            "get_user(<soft-deleted user's id>)",
        )


def wrote_none(exc: BaseException) -> bool:
    """Whether the database refused a NULL: a NOT NULL column written with None."""
    text = str(exc)
    return isinstance(exc, IntegrityError) or "NOT NULL" in text or "not-null" in text


async def update_as(service: Any, user_id: uuid.UUID, data: Any, acting: Any) -> Any:
    """service.update_user(user_id, data), passing the acting admin if the learner's asks."""
    extra = other_arguments(service.update_user, skip=2, acting=acting)
    return await maybe_await(service.update_user(user_id, data, **extra))


async def update(user_id: uuid.UUID, data: Any, what: str, acting: Any) -> None:
    """service.update_user(user_id, data) on a session that commits; a NULL refused by the
    database fails the check with the reason."""
    try:
        async with services() as (service, _):
            await update_as(service, user_id, data, acting)
    except Exception as exc:
        if not wrote_none(exc):
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        pytest.fail(
            f"expected {what} to change the given fields only, found {type(exc).__name__}: "
            f"{first[:200]} from the repository: update_user must send only the fields that "
            "were given, data.model_dump(exclude_unset=True); model_dump() sends every field "
            "of the schema, None for those left out, and the database refuses None in a NOT "
            "NULL column"
        )


@pytest.mark.grade("D13", 2)
async def test_update_user_changes_only_the_given_fields(schema: AsyncEngine) -> None:
    from app.domain.schemas.user import UserUpdate

    user = await add_user(schema, role="moderator", full_name="Old Name")
    admin = await add_user(schema, role="admin")
    await update(
        user.id,
        UserUpdate(full_name="New Name"),
        "update_user(id, UserUpdate(full_name=...))",
        admin,
    )
    row = await read_row(schema, user.id)
    assert row is not None, "expected the user to stay in the table after update_user"
    found = (row["full_name"], row["role"], bool(row["is_active"]), row["email"])
    assert found == ("New Name", "moderator", True, user.email), (
        "expected update_user(id, UserUpdate(full_name=...)) to change the name only, "
        f"found (full_name, role, is_active, email) = {found}"
    )
    await update(
        user.id, UserUpdate(is_active=False), "update_user(id, UserUpdate(is_active=False))", admin
    )
    row = await read_row(schema, user.id)
    assert row is not None, "expected the user to stay in the table after update_user"
    after = (row["full_name"], row["role"], bool(row["is_active"]))
    assert after == ("New Name", "moderator", False), (
        "expected update_user(id, UserUpdate(is_active=False)) to leave the other fields, "
        f"found (full_name, role, is_active) = {after}"
    )
    nulls = UserUpdate(full_name=None, role=None, is_active=None)
    async with services() as (service, _):
        exc = await raised(lambda: update_as(service, user.id, nulls, admin))
    assert exc is None, (
        "expected update_user(id, UserUpdate(full_name=None, role=None, is_active=None)) to "
        "change nothing (an explicit null is the same as leaving the field out), found "
        f"{describe(exc) if exc else ''}: take the values from "
        "data.model_dump(exclude_unset=True, exclude_none=True)"
    )
    row = await read_row(schema, user.id)
    assert row is not None, "expected the user to stay in the table after update_user"
    unchanged = (row["full_name"], row["role"], bool(row["is_active"]))
    assert unchanged == after, (
        "expected update_user with explicit nulls to change nothing, found (full_name, role, "
        f"is_active) = {unchanged}, was {after}"
    )
    async with services() as (service, _):
        exc = await raised(
            lambda: update_as(service, uuid.uuid4(), UserUpdate(full_name="X"), admin)
        )
    expect_status(exc, 404, "update_user(<unknown id>, ...)")


@pytest.mark.grade("D13", 1)
async def test_update_user_refuses_an_admin_demoting_or_deactivating_themself(
    schema: AsyncEngine,
) -> None:
    from app.domain.schemas.user import UserUpdate

    admin = await add_user(schema, role="admin")
    await add_user(schema, role="admin")  # another admin: the refusal is about yourself
    async with services() as (service, _):
        if not other_arguments(service.update_user, skip=2, acting=admin):
            return  # no acting user at this layer: the router must refuse (checked in step 7)
    # The target's id as a router has it: parsed from the path, equal to the acting
    # admin's id but another object.
    own_id = uuid.UUID(str(admin.id))
    for change in ({"role": "user"}, {"is_active": False}):
        async with services() as (service, _):
            data = UserUpdate(**change)
            exc = await raised(lambda: update_as(service, own_id, data, admin))  # noqa: B023
        expect_status(
            exc, 400, f"update_user of the acting admin themself with {change} (compare the "
            "ids with ==: the id from the path and the acting admin's are equal, not the same "
            "object)",
        )  # fmt: skip
    row = await read_row(schema, admin.id)
    assert row is not None and (row["role"], bool(row["is_active"])) == ("admin", True), (
        "expected the admin to stay an active admin"
    )
    for change in ({"full_name": "Renamed Admin"}, {"role": "admin", "is_active": True}):
        async with services() as (service, _):
            data = UserUpdate(**change)
            exc = await raised(lambda: update_as(service, own_id, data, admin))  # noqa: B023
        assert exc is None, (
            f"expected an admin's update_user of themself with {change} to work: renaming "
            "yourself or restating your own role and state takes no rights away; found "
            f"{describe(exc) if exc else ''}"
        )


@pytest.mark.grade("D13", 2)
async def test_the_last_active_admin_cannot_be_demoted_deactivated_or_deleted(
    schema: AsyncEngine,
) -> None:
    from app.domain.schemas.user import UserUpdate

    only = await add_user(schema, role="admin")
    # Admin accounts that do not count: a deactivated one (who acts here, as a script
    # might) and a soft-deleted one.
    acting = await add_user(schema, role="admin", is_active=False)
    await add_user(schema, role="admin", deleted=True)
    for change in ({"role": "moderator"}, {"is_active": False}):
        async with services() as (service, _):
            data = UserUpdate(**change)
            exc = await raised(lambda: update_as(service, only.id, data, acting))  # noqa: B023
        expect_status(
            exc, 409, f"update_user({change}) of the last active admin (count the live, "
            "active admins inside the transaction, locked: SELECT ... FOR UPDATE)",
        )  # fmt: skip
    async with services() as (service, _):
        exc = await raised(lambda: delete(service, only.id, acting))
    expect_status(exc, 409, "delete_user of the last active admin")
    row = await read_row(schema, only.id)
    assert row is not None, "expected the last admin to stay in the table"
    found = (row["role"], bool(row["is_active"]), row["deleted_at"])
    assert found == ("admin", True, None), (
        f"expected the last admin to stay an active admin, found (role, is_active, "
        f"deleted_at) = {found}"
    )
    other = await add_user(schema, role="admin")
    async with services() as (service, _):
        await update_as(service, other.id, UserUpdate(role="user"), acting)
    row = await read_row(schema, other.id)
    assert row is not None and row["role"] == "user", (
        "expected update_user to demote an admin while another active admin remains"
    )


@pytest.mark.grade("D13", 2)
async def test_delete_user_is_a_soft_delete_and_spares_the_acting_user(schema: AsyncEngine) -> None:
    user = await add_user(schema)
    admin = await add_user(schema, role="admin")
    async with services() as (service, _):
        await delete(service, user.id, admin)
    row = await read_row(schema, user.id)
    assert row is not None, "expected delete_user to keep the row (a soft delete), found it gone"
    assert row["deleted_at"] is not None, "expected delete_user to set deleted_at"
    async with services() as (service, _):
        expect_status(
            await raised(lambda: service.get_user(user.id)), 404, "get_user after delete_user"
        )
        exc = await raised(lambda: delete(service, uuid.uuid4(), admin))
    expect_status(exc, 404, "delete_user(<unknown id>)")
    async with services() as (service, _):
        if not other_arguments(service.delete_user, skip=1, acting=admin):
            return  # no acting user at this layer: the router must refuse (checked in step 7)
        exc = await raised(lambda: delete(service, admin.id, admin))
    expect_status(exc, 400, "delete_user of the acting admin themself")
    row = await read_row(schema, admin.id)
    assert row is not None and row["deleted_at"] is None, "expected the admin not to be deleted"


@pytest.mark.grade("D13", 1)
async def test_list_users_pages_and_skips_soft_deleted(schema: AsyncEngine) -> None:
    live = [await add_user(schema, full_name=f"List {index}") for index in range(3)]
    await add_user(schema, deleted=True, full_name="List Deleted")
    async with services() as (service, _):
        first, total = await list_page(service, page=1, limit=2)
        second, _ = await list_page(service, page=2, limit=2)
    assert total == 3, f"expected a total of 3 live users (one is soft-deleted), found {total}"
    assert (len(first), len(second)) == (2, 1), (
        f"expected pages of 2 and 1 users with limit 2, found {len(first)} and {len(second)}"
    )
    emails = {field(item, "email") for item in first + second}
    assert emails == {user.email for user in live}, (
        "expected the two pages to hold exactly the three live users"
    )


# --- AuthService ------------------------------------------------------------------


async def authenticate(email: str, password: str) -> Any:
    async with services() as (_, repository):
        method = authenticate_method(auth_service(repository))
        return await maybe_await(method(email, password))


@pytest.mark.grade("D13", 2)
async def test_authenticate_gives_one_401_for_unknown_email_and_wrong_password(
    schema: AsyncEngine,
) -> None:
    user = await stored_user(schema)
    assert await authenticate(user.email, PASSWORD), (
        "expected AuthService.authenticate(email, right password) to succeed"
    )
    wrong = await raised(lambda: authenticate(user.email, "wrong-password-1"))
    unknown = await raised(lambda: authenticate(new_email("nobody"), PASSWORD))
    expect_status(wrong, 401, "authenticate with a wrong password")
    expect_status(unknown, 401, "authenticate with an unknown email")
    assert wrong is not None and unknown is not None, "expected authenticate to raise"
    assert message_of(wrong) == message_of(unknown), (
        "expected the same message for an unknown email and a wrong password (else the answer "
        f"tells which emails have accounts), found {message_of(unknown)!r} and "
        f"{message_of(wrong)!r}"
    )


@pytest.mark.grade("D13", 2)
async def test_authenticate_inactive_user_403_only_with_the_right_password(
    schema: AsyncEngine,
) -> None:
    user = await stored_user(schema, is_active=False)
    expect_status(
        await raised(lambda: authenticate(user.email, PASSWORD)),
        403,
        "authenticate for a deactivated user with the right password",
    )
    expect_status(
        await raised(lambda: authenticate(user.email, "wrong-password-1")),
        401,
        "authenticate for a deactivated user with a wrong password",
    )


@pytest.mark.grade("D13", 2)
async def test_unknown_email_costs_as_much_as_a_wrong_password(
    schema: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await stored_user(schema)

    async def best_of(runs: int, email: str) -> float:
        durations = []
        for _ in range(runs):
            started = time.perf_counter()
            exc = await raised(lambda: authenticate(email, "wrong-password-1"))
            durations.append(time.perf_counter() - started)
            expect_status(exc, 401, f"authenticate({email}, wrong password)")
        return min(durations)

    await best_of(1, new_email("warm"))  # a dummy hash may be made once and cached
    known = await best_of(3, user.email)
    unknown = await best_of(3, new_email("nobody"))
    assert unknown >= 0.3 * known, (
        f"expected a login with an unknown email to take about as long as one with a wrong "
        f"password (verify against a dummy hash), found {unknown * 1000:.0f} ms vs "
        f"{known * 1000:.0f} ms"
    )
    runs = {"a wrong password": await argon2_runs(user.email, monkeypatch)}
    runs["an unknown email"] = await argon2_runs(new_email("nobody"), monkeypatch)
    assert runs["an unknown email"] == runs["a wrong password"], (
        "expected a login with an unknown email to cost as many Argon2 computations as one "
        f"with a wrong password, found {runs}: make the dummy hash once and cache it "
        "(@cache on _dummy_hash), then verify against it; hashing anew on every such login "
        "costs a hash on top, and the time tells again which emails exist"
    )


async def argon2_runs(email: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many Argon2 hashes and verifications authenticate(email, a wrong password) ran."""
    from pwdlib.hashers.argon2 import Argon2Hasher

    runs: list[str] = []
    with monkeypatch.context() as patch:
        for name in ("hash", "verify"):
            real = getattr(Argon2Hasher, name)

            def counted(self: Any, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
                runs.append("run")  # list.append is atomic: worker threads may call it
                return _real(self, *args, **kwargs)

            patch.setattr(Argon2Hasher, name, counted)
        exc = await raised(lambda: authenticate(email, "wrong-password-1"))
    expect_status(exc, 401, f"authenticate({email}, wrong password)")
    return len(runs)
