"""The /users resource: creation, listing, reading, updating and soft deletion.

Authorization is exercised through the role fixtures' `headers` (a valid access
token, no login needed) and checked against the database's current state.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from app.core.database import DatabaseManager
from app.core.security import create_access_token
from app.domain.models.user import User, UserRole
from tests.conftest import API, MakeUser, TestUser, assert_error

EMAIL_TAKEN = "A user with this email already exists"
FORBIDDEN = "You do not have permission to perform this action"
USER_FIELDS = {"id", "email", "full_name", "role", "is_active", "created_at", "updated_at"}
PAGE_FIELDS = {"items", "total", "page", "limit", "total_pages"}
SORT_FIELDS = ["created_at", "updated_at", "email", "full_name", "role"]


def not_found(user_id: object) -> str:
    return f"User with id '{user_id}' not found"


def new_user_body(email: str, **extra: Any) -> dict[str, Any]:
    return {"email": email, "password": "a-good-password", "full_name": "Created One", **extra}


async def list_users(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    """GET /users, asserting a 200 page whose items never show a password or hash."""
    response = await client.get(f"{API}/users", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == PAGE_FIELDS
    for item in body["items"]:
        assert set(item) == USER_FIELDS
    assert "argon2" not in response.text
    return body


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


async def delete(client: httpx.AsyncClient, admin: TestUser, user_id: uuid.UUID) -> None:
    response = await client.delete(f"{API}/users/{user_id}", headers=admin.headers)
    assert response.status_code == 200, response.text


# --- POST /users -----------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "moderator", "user"])
async def test_create_user_as_admin_gives_201_with_the_requested_role(
    client: httpx.AsyncClient, admin: TestUser, role: str
) -> None:
    response = await client.post(
        f"{API}/users", json=new_user_body("Made.By@Admin.com", role=role), headers=admin.headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == USER_FIELDS
    assert body["role"] == role
    assert body["email"] == "made.by@admin.com"
    assert body["full_name"] == "Created One"
    assert body["is_active"] is True
    assert "a-good-password" not in response.text

    fetched = await client.get(f"{API}/users/{body['id']}", headers=admin.headers)
    assert fetched.status_code == 200, fetched.text
    assert fetched.json() == body


async def test_create_user_without_role_defaults_to_user(
    client: httpx.AsyncClient, admin: TestUser
) -> None:
    response = await client.post(
        f"{API}/users", json=new_user_body("plain@example.com"), headers=admin.headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["role"] == "user"


async def test_create_user_with_unknown_role_gives_422(
    client: httpx.AsyncClient, admin: TestUser
) -> None:
    response = await client.post(
        f"{API}/users", json=new_user_body("x@example.com", role="superuser"), headers=admin.headers
    )
    body = assert_error(response, 422, "Validation error")
    assert [error["loc"] for error in body["detail"]] == [["body", "role"]]


async def test_create_user_with_duplicate_email_gives_409_ignoring_case(
    client: httpx.AsyncClient, admin: TestUser, user: TestUser
) -> None:
    for email in (user.email, user.email.upper()):
        response = await client.post(
            f"{API}/users", json=new_user_body(email, role="moderator"), headers=admin.headers
        )
        assert_error(response, 409, EMAIL_TAKEN)
    page = await list_users(client, admin.headers, search=user.email)
    assert ids(page) == [str(user.id)]


@pytest.mark.parametrize("role", ["moderator", "user"])
async def test_create_user_as_moderator_or_user_gives_403(
    client: httpx.AsyncClient, make_user: MakeUser, admin: TestUser, role: str
) -> None:
    actor = await make_user(UserRole(role))
    response = await client.post(
        f"{API}/users", json=new_user_body("nope@example.com", role="admin"), headers=actor.headers
    )
    assert_error(response, 403, FORBIDDEN)
    assert (await list_users(client, admin.headers, search="nope@"))["total"] == 0


# --- GET /users ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "moderator"])
async def test_list_users_as_admin_or_moderator_paginates_with_total_pages_math(
    client: httpx.AsyncClient,
    make_user: MakeUser,
    admin: TestUser,
    moderator: TestUser,
    role: str,
) -> None:
    actor = admin if role == "admin" else moderator
    others = [await make_user() for _ in range(3)]
    everyone = {str(u.id) for u in [admin, moderator, *others]}

    pages = [await list_users(client, actor.headers, limit=2, page=page) for page in (1, 2, 3)]
    for number, page in enumerate(pages, start=1):
        assert page["total"] == 5
        assert page["limit"] == 2
        assert page["page"] == number
        assert page["total_pages"] == 3
    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    seen = [user_id for page in pages for user_id in ids(page)]
    assert sorted(seen) == sorted(everyone)  # no overlap, nobody missing

    beyond = await list_users(client, actor.headers, limit=2, page=4)
    assert beyond["items"] == []
    assert beyond["total"] == 5
    assert beyond["total_pages"] == 3


async def test_list_users_defaults_to_page_1_limit_20(
    client: httpx.AsyncClient, admin: TestUser
) -> None:
    page = await list_users(client, admin.headers)
    assert page == {
        "items": page["items"],
        "total": 1,
        "page": 1,
        "limit": 20,
        "total_pages": 1,
    }
    assert ids(page) == [str(admin.id)]


@pytest.mark.parametrize(("limit", "expected_pages"), [(1, 3), (100, 1)])
async def test_list_users_accepts_limit_bounds_1_and_100(
    client: httpx.AsyncClient,
    admin: TestUser,
    moderator: TestUser,
    user: TestUser,
    limit: int,
    expected_pages: int,
) -> None:
    page = await list_users(client, admin.headers, limit=limit)
    assert page["total"] == 3
    assert page["total_pages"] == expected_pages
    assert len(page["items"]) == min(limit, 3)


async def test_list_users_as_plain_user_gives_403(
    client: httpx.AsyncClient, user: TestUser
) -> None:
    response = await client.get(f"{API}/users", headers=user.headers)
    assert_error(response, 403, FORBIDDEN)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"page": 0}, "page"),
        ({"page": -1}, "page"),
        ({"limit": "ten"}, "limit"),
        # An offset beyond a 64-bit integer used to reach the database and answer 500.
        ({"page": 10**20}, "page"),
    ],
    ids=["limit-0", "limit-101", "page-0", "page-negative", "limit-not-int", "page-huge"],
)
async def test_list_users_rejects_limit_outside_1_to_100_or_page_below_1_with_422(
    client: httpx.AsyncClient, admin: TestUser, params: dict[str, Any], field: str
) -> None:
    response = await client.get(f"{API}/users", params=params, headers=admin.headers)
    body = assert_error(response, 422, "Validation error")
    assert [error["loc"] for error in body["detail"]] == [["query", field]]


async def test_list_users_search_is_case_insensitive_substring_of_name_or_email(
    client: httpx.AsyncClient, admin: TestUser, make_user: MakeUser
) -> None:
    by_name = await make_user(full_name="Zed Needleman")
    by_email = await make_user(email="haystack.NEEDLE@example.com", full_name="Yan Other")
    await make_user(full_name="Xavier Nobody", email="xavier@example.com")

    for term in ("needle", "NEEDLE", "NeEdLe"):
        page = await list_users(
            client, admin.headers, search=term, sort_by="full_name", sort_order="asc"
        )
        assert ids(page) == [str(by_email.id), str(by_name.id)], term
        assert page["total"] == 2
        assert page["total_pages"] == 1

    page = await list_users(client, admin.headers, search="ZED NEED")
    assert ids(page) == [str(by_name.id)]
    page = await list_users(client, admin.headers, search="no-such-thing")
    assert page == {"items": [], "total": 0, "page": 1, "limit": 20, "total_pages": 0}


async def test_list_users_search_treats_percent_literally(
    client: httpx.AsyncClient, admin: TestUser, make_user: MakeUser
) -> None:
    real = await make_user(full_name="100% Real")
    await make_user(full_name="1000 Real")

    page = await list_users(client, admin.headers, search="0%")
    assert ids(page) == [str(real.id)]
    assert page["total"] == 1
    page = await list_users(client, admin.headers, search="%")
    assert ids(page) == [str(real.id)]


async def test_list_users_search_treats_underscore_literally(
    client: httpx.AsyncClient, admin: TestUser, make_user: MakeUser
) -> None:
    snake = await make_user(full_name="snake_case Sam")
    await make_user(full_name="snakeXcase Sid")

    page = await list_users(client, admin.headers, search="e_c")
    assert ids(page) == [str(snake.id)]
    assert page["total"] == 1
    page = await list_users(client, admin.headers, search="_")
    assert ids(page) == [str(snake.id)]


async def test_list_users_search_treats_backslash_literally(
    client: httpx.AsyncClient, admin: TestUser, make_user: MakeUser
) -> None:
    slashed = await make_user(full_name="Back\\slash Bo")
    await make_user(full_name="Backslash Bea")

    page = await list_users(client, admin.headers, search="k\\s")
    assert ids(page) == [str(slashed.id)]


async def test_list_users_sort_by_created_at_orders_users_created_in_quick_succession(
    client: httpx.AsyncClient, admin: TestUser, make_user: MakeUser
) -> None:
    created = [admin, *[await make_user(full_name=f"Quick {i}") for i in range(4)]]
    oldest_first = [str(u.id) for u in created]

    page = await list_users(client, admin.headers, sort_by="created_at", sort_order="asc")
    stamps = [datetime.fromisoformat(item["created_at"]) for item in page["items"]]
    assert len(set(stamps)) == 5, f"created_at values collide: {stamps}"
    assert ids(page) == oldest_first
    page = await list_users(client, admin.headers, sort_by="created_at", sort_order="desc")
    assert ids(page) == oldest_first[::-1]
    assert ids(await list_users(client, admin.headers)) == oldest_first[::-1]  # the default


@pytest.mark.parametrize("sort_order", ["asc", "desc"])
@pytest.mark.parametrize("sort_by", SORT_FIELDS)
async def test_list_users_sort_by_each_allowed_field_orders_correctly(
    client: httpx.AsyncClient,
    database: DatabaseManager,
    make_user: MakeUser,
    sort_by: str,
    sort_order: str,
) -> None:
    # Three users whose order differs for every field (a wrong column shows).
    start = datetime(2024, 1, 1, tzinfo=UTC)
    a = await make_user(UserRole.ADMIN, email="b.sort@example.com", full_name="Carol")
    m = await make_user(UserRole.MODERATOR, email="c.sort@example.com", full_name="Alice")
    u = await make_user(UserRole.USER, email="a.sort@example.com", full_name="Bob")
    stamps = [(a, 2, 1), (m, 1, 3), (u, 3, 2)]  # hours after `start`: created, updated
    async with database.get_session() as session:
        for who, created, updated in stamps:
            await session.execute(
                update(User)
                .where(User.id == who.id)
                .values(
                    created_at=start + timedelta(hours=created),
                    updated_at=start + timedelta(hours=updated),
                )
            )
    ascending = {
        "created_at": [m, a, u],
        "updated_at": [a, u, m],
        "email": [u, a, m],
        "full_name": [m, u, a],
        "role": [a, m, u],
    }[sort_by]
    expected = ascending if sort_order == "asc" else ascending[::-1]

    page = await list_users(client, a.headers, sort_by=sort_by, sort_order=sort_order)
    assert ids(page) == [str(who.id) for who in expected]
    values = [item[sort_by] for item in page["items"]]
    assert values == sorted(values, reverse=sort_order == "desc")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort_by": "password_hash"}, "sort_by"),
        ({"sort_by": "id; DROP TABLE users"}, "sort_by"),
        ({"sort_order": "sideways"}, "sort_order"),
        ({"sort_order": "ASC"}, "sort_order"),
    ],
    ids=["sort_by-password_hash", "sort_by-injection", "sort_order-sideways", "sort_order-ASC"],
)
async def test_list_users_rejects_unknown_sort_by_or_sort_order_with_422(
    client: httpx.AsyncClient, admin: TestUser, params: dict[str, Any], field: str
) -> None:
    response = await client.get(f"{API}/users", params=params, headers=admin.headers)
    body = assert_error(response, 422, "Validation error")
    assert [error["loc"] for error in body["detail"]] == [["query", field]]


async def test_list_users_excludes_soft_deleted_users_from_items_and_total(
    client: httpx.AsyncClient, admin: TestUser, moderator: TestUser, make_user: MakeUser
) -> None:
    gone = await make_user(full_name="Gone Soon")
    kept = await make_user(full_name="Kept Around")
    assert (await list_users(client, admin.headers))["total"] == 4

    await delete(client, admin, gone.id)

    for actor in (admin, moderator):
        page = await list_users(client, actor.headers)
        assert page["total"] == 3
        assert sorted(ids(page)) == sorted(str(u.id) for u in (admin, moderator, kept))
    page = await list_users(client, admin.headers, search="Gone Soon")
    assert page["total"] == 0
    assert page["items"] == []


# --- GET /users/{id} -------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "moderator"])
async def test_get_user_by_id_as_admin_or_moderator_gives_200(
    client: httpx.AsyncClient, make_user: MakeUser, user: TestUser, role: str
) -> None:
    actor = await make_user(UserRole(role))
    response = await client.get(f"{API}/users/{user.id}", headers=actor.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == USER_FIELDS
    assert body["id"] == str(user.id)
    assert body["email"] == user.email
    assert body["full_name"] == "Uma User"
    assert body["role"] == "user"


async def test_get_user_by_id_as_that_user_themself_gives_200(
    client: httpx.AsyncClient, user: TestUser
) -> None:
    response = await client.get(f"{API}/users/{user.id}", headers=user.headers)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == str(user.id)


async def test_get_user_by_id_of_someone_else_as_plain_user_gives_403(
    client: httpx.AsyncClient, user: TestUser, make_user: MakeUser
) -> None:
    other = await make_user()
    response = await client.get(f"{API}/users/{other.id}", headers=user.headers)
    body = assert_error(response, 403, FORBIDDEN)
    assert other.email not in response.text
    assert body["detail"] is None


async def test_get_user_unknown_id_gives_404_envelope_with_message(
    client: httpx.AsyncClient, admin: TestUser
) -> None:
    unknown = uuid.uuid4()
    response = await client.get(f"{API}/users/{unknown}", headers=admin.headers)
    assert_error(response, 404, not_found(unknown))


async def test_get_user_soft_deleted_gives_404(
    client: httpx.AsyncClient, admin: TestUser, moderator: TestUser, user: TestUser
) -> None:
    await delete(client, admin, user.id)
    for actor in (admin, moderator):
        response = await client.get(f"{API}/users/{user.id}", headers=actor.headers)
        assert_error(response, 404, not_found(user.id))


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"])
async def test_get_user_malformed_id_gives_422(
    client: httpx.AsyncClient, admin: TestUser, bad_id: str
) -> None:
    response = await client.get(f"{API}/users/{bad_id}", headers=admin.headers)
    body = assert_error(response, 422, "Validation error")
    assert [error["loc"] for error in body["detail"]] == [["path", "user_id"]]


# --- PATCH /users/{id} -----------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"full_name": "Renamed Person"},
        {"role": "moderator"},
        {"is_active": False},
        {"full_name": "All At Once", "role": "admin", "is_active": False},
    ],
    ids=["full_name", "role", "is_active", "all-three"],
)
async def test_update_user_as_admin_changes_only_the_given_fields(
    client: httpx.AsyncClient, admin: TestUser, user: TestUser, change: dict[str, Any]
) -> None:
    before = (await client.get(f"{API}/users/{user.id}", headers=admin.headers)).json()

    response = await client.patch(f"{API}/users/{user.id}", json=change, headers=admin.headers)
    assert response.status_code == 200, response.text
    expected = {**before, **change}
    body = response.json()
    assert set(body) == USER_FIELDS
    assert {k: v for k, v in body.items() if k != "updated_at"} == {
        k: v for k, v in expected.items() if k != "updated_at"
    }

    fetched = await client.get(f"{API}/users/{user.id}", headers=admin.headers)
    assert fetched.json() == body


async def test_update_user_advances_updated_at_but_not_created_at(
    client: httpx.AsyncClient, database: DatabaseManager, admin: TestUser, user: TestUser
) -> None:
    long_ago = datetime(2024, 1, 1, tzinfo=UTC)
    async with database.get_session() as session:
        await session.execute(
            update(User).where(User.id == user.id).values(created_at=long_ago, updated_at=long_ago)
        )
    response = await client.patch(
        f"{API}/users/{user.id}", json={"full_name": "Fresh Name"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert datetime.fromisoformat(body["created_at"]) == long_ago
    assert datetime.fromisoformat(body["updated_at"]) > long_ago


async def test_update_user_with_empty_body_changes_nothing(
    client: httpx.AsyncClient, admin: TestUser, user: TestUser
) -> None:
    before = (await client.get(f"{API}/users/{user.id}", headers=admin.headers)).json()
    response = await client.patch(f"{API}/users/{user.id}", json={}, headers=admin.headers)
    assert response.status_code == 200, response.text
    assert {k: v for k, v in response.json().items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


@pytest.mark.parametrize(
    "body",
    [{"full_name": None}, {"role": None}, {"is_active": None}, {"full_name": None, "role": None}],
    ids=["full_name", "role", "is_active", "two"],
)
async def test_update_user_explicit_null_leaves_the_field_as_it_is(
    client: httpx.AsyncClient, admin: TestUser, user: TestUser, body: dict[str, Any]
) -> None:
    # The service writes model_dump(exclude_unset=True, exclude_none=True): a null is
    # dropped like a field left out, never written to the NOT NULL column.
    before = (await client.get(f"{API}/users/{user.id}", headers=admin.headers)).json()
    response = await client.patch(f"{API}/users/{user.id}", json=body, headers=admin.headers)
    assert response.status_code == 200, response.text
    unchanged = {k: v for k, v in before.items() if k != "updated_at"}
    assert {k: v for k, v in response.json().items() if k != "updated_at"} == unchanged
    fetched = (await client.get(f"{API}/users/{user.id}", headers=admin.headers)).json()
    assert {k: v for k, v in fetched.items() if k != "updated_at"} == unchanged


async def test_update_user_null_beside_a_value_changes_only_the_value(
    client: httpx.AsyncClient, admin: TestUser, user: TestUser
) -> None:
    before = (await client.get(f"{API}/users/{user.id}", headers=admin.headers)).json()
    response = await client.patch(
        f"{API}/users/{user.id}",
        json={"full_name": None, "role": "moderator"},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["role"] == "moderator"
    assert body["full_name"] == before["full_name"]


async def test_update_user_unknown_id_gives_404(client: httpx.AsyncClient, admin: TestUser) -> None:
    unknown = uuid.uuid4()
    response = await client.patch(
        f"{API}/users/{unknown}", json={"full_name": "Ghost"}, headers=admin.headers
    )
    assert_error(response, 404, not_found(unknown))


async def test_update_user_soft_deleted_gives_404(
    client: httpx.AsyncClient, admin: TestUser, user: TestUser
) -> None:
    await delete(client, admin, user.id)
    response = await client.patch(
        f"{API}/users/{user.id}", json={"is_active": True}, headers=admin.headers
    )
    assert_error(response, 404, not_found(user.id))


@pytest.mark.parametrize("role", ["moderator", "user"])
async def test_update_user_as_moderator_or_user_gives_403_and_changes_nothing(
    client: httpx.AsyncClient,
    admin: TestUser,
    make_user: MakeUser,
    role: str,
) -> None:
    actor = await make_user(UserRole(role))
    target = await make_user()
    response = await client.patch(
        f"{API}/users/{target.id}", json={"role": "admin"}, headers=actor.headers
    )
    assert_error(response, 403, FORBIDDEN)
    fetched = await client.get(f"{API}/users/{target.id}", headers=admin.headers)
    assert fetched.json()["role"] == "user"


@pytest.mark.parametrize(
    "body",
    [{"email": "new@example.com"}, {"password": "a-new-password"}, {"deleted_at": None}],
    ids=["email", "password", "deleted_at"],
)
async def test_update_user_unknown_field_gives_422(
    client: httpx.AsyncClient, admin: TestUser, user: TestUser, body: dict[str, Any]
) -> None:
    response = await client.patch(f"{API}/users/{user.id}", json=body, headers=admin.headers)
    detail = assert_error(response, 422, "Validation error")["detail"]
    assert [error["loc"] for error in detail] == [["body", next(iter(body))]]
    fetched = await client.get(f"{API}/users/{user.id}", headers=admin.headers)
    assert fetched.json()["email"] == user.email


async def test_update_user_invalid_role_gives_422(
    client: httpx.AsyncClient, admin: TestUser, user: TestUser
) -> None:
    response = await client.patch(
        f"{API}/users/{user.id}", json={"role": "root"}, headers=admin.headers
    )
    detail = assert_error(response, 422, "Validation error")["detail"]
    assert [error["loc"] for error in detail] == [["body", "role"]]


# --- DELETE /users/{id} ----------------------------------------------------------


async def test_delete_user_as_admin_gives_200_message_success_then_get_gives_404(
    client: httpx.AsyncClient, admin: TestUser, user: TestUser
) -> None:
    response = await client.delete(f"{API}/users/{user.id}", headers=admin.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "User deleted", "success": True}

    response = await client.get(f"{API}/users/{user.id}", headers=admin.headers)
    assert_error(response, 404, not_found(user.id))


async def test_delete_yourself_gives_400_and_you_stay(
    client: httpx.AsyncClient, admin: TestUser
) -> None:
    response = await client.delete(f"{API}/users/{admin.id}", headers=admin.headers)
    assert_error(response, 400, "You cannot delete your own account")
    assert (await client.get(f"{API}/users/me", headers=admin.headers)).status_code == 200


async def test_delete_unknown_or_already_deleted_user_gives_404(
    client: httpx.AsyncClient, admin: TestUser, user: TestUser
) -> None:
    unknown = uuid.uuid4()
    response = await client.delete(f"{API}/users/{unknown}", headers=admin.headers)
    assert_error(response, 404, not_found(unknown))

    await delete(client, admin, user.id)
    response = await client.delete(f"{API}/users/{user.id}", headers=admin.headers)
    assert_error(response, 404, not_found(user.id))


@pytest.mark.parametrize("role", ["moderator", "user"])
async def test_delete_user_as_moderator_or_user_gives_403_and_deletes_nothing(
    client: httpx.AsyncClient,
    admin: TestUser,
    make_user: MakeUser,
    role: str,
) -> None:
    actor = await make_user(UserRole(role))
    target = await make_user()
    response = await client.delete(f"{API}/users/{target.id}", headers=actor.headers)
    assert_error(response, 403, FORBIDDEN)
    assert (await client.get(f"{API}/users/{target.id}", headers=admin.headers)).status_code == 200


# --- authorization comes from the database, not the token --------------------------


async def test_a_demoted_admins_existing_token_stops_working(
    client: httpx.AsyncClient, admin: TestUser, make_user: MakeUser
) -> None:
    other_admin = await make_user(UserRole.ADMIN)
    token_headers = other_admin.headers  # claims role "admin", and keeps claiming it
    assert (await client.get(f"{API}/users", headers=token_headers)).status_code == 200

    response = await client.patch(
        f"{API}/users/{other_admin.id}", json={"role": "user"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "user"

    # The role change ended their sessions: nothing of the admin's rights lingers.
    assert_error(await client.get(f"{API}/users", headers=token_headers), 401)
    response = await client.delete(f"{API}/users/{admin.id}", headers=token_headers)
    assert_error(response, 401)


async def test_a_promoted_users_existing_token_ends_and_a_new_login_has_the_new_rights(
    client: httpx.AsyncClient, admin: TestUser, user: TestUser
) -> None:
    token_headers = user.headers  # claims role "user"
    assert_error(await client.get(f"{API}/users", headers=token_headers), 403, FORBIDDEN)
    response = await client.patch(
        f"{API}/users/{user.id}", json={"role": "admin"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    assert_error(await client.get(f"{API}/users", headers=token_headers), 401)
    login = await client.post(
        f"{API}/auth/login", data={"username": user.email, "password": user.password}
    )
    new_headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await client.get(f"{API}/users", headers=new_headers)).status_code == 200


async def test_token_whose_role_claim_says_admin_but_database_says_user_gets_403(
    client: httpx.AsyncClient, admin: TestUser, user: TestUser
) -> None:
    token = create_access_token(str(user.id), "admin", str(user.session_id))
    forged_role = {"Authorization": f"Bearer {token}"}
    assert_error(await client.get(f"{API}/users", headers=forged_role), 403, FORBIDDEN)
    response = await client.delete(f"{API}/users/{admin.id}", headers=forged_role)
    assert_error(response, 403, FORBIDDEN)
    response = await client.get(f"{API}/users/{admin.id}", headers=forged_role)
    assert_error(response, 403, FORBIDDEN)


async def test_deactivated_admins_existing_token_gets_401_on_admin_route(
    client: httpx.AsyncClient, admin: TestUser, make_user: MakeUser
) -> None:
    other_admin = await make_user(UserRole.ADMIN)
    token_headers = other_admin.headers
    response = await client.patch(
        f"{API}/users/{other_admin.id}", json={"is_active": False}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    response = await client.get(f"{API}/users", headers=token_headers)
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/users/me"),
        ("PATCH", "/users/me"),
        ("POST", "/users"),
        ("GET", "/users"),
        ("GET", "/users/{id}"),
        ("PATCH", "/users/{id}"),
        ("DELETE", "/users/{id}"),
    ],
)
async def test_protected_user_routes_without_token_give_401(
    client: httpx.AsyncClient, user: TestUser, method: str, path: str
) -> None:
    body = new_user_body("anon@example.com") if method == "POST" else {}
    if method == "PATCH":
        body = {"full_name": "Anonymous"}
    response = await client.request(
        method, API + path.format(id=user.id), json=body if method != "GET" else None
    )
    assert_error(response, 401, "Not authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"
