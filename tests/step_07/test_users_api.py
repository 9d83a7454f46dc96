"""Step 7, D16: the /users resource for staff, and authorization read from the database."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from course.grading.fixtures import API

from .conftest import assert_error, assert_status, read_row, set_column, store_user

LIST_KEYS = {"items", "total", "page", "limit", "total_pages"}


async def list_users(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> Any:
    response = await client.get(f"{API}/users", params=params, headers=headers)
    body = assert_status(
        response, 200, f"GET /users?{'&'.join(f'{k}={v}' for k, v in params.items())}"
    )
    missing = LIST_KEYS - set(body)
    assert not missing, (
        f"expected GET /users to answer {sorted(LIST_KEYS)}, missing {sorted(missing)}"
    )
    return body


# --- POST /users ---------------------------------------------------------------------


@pytest.mark.grade("D16", 2)
async def test_admin_creates_users_with_any_role_others_get_403(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    admin = await store_user(schema, "admin")
    email = f"made-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": "made-password-1", "full_name": "Made By Admin"}
    response = await client.post(
        f"{API}/users", json={**body, "role": "moderator"}, headers=admin.headers
    )
    created = assert_status(response, 201, "POST /users as admin with role 'moderator'")
    assert created.get("role") == "moderator", (
        f"expected the admin's choice of role (moderator), found {created.get('role')!r}"
    )
    response = await client.post(f"{API}/users", json=body, headers=admin.headers)
    assert_error(response, 409, "POST /users with a taken email")
    for role in ("moderator", "user"):
        other = await store_user(schema, role)
        response = await client.post(
            f"{API}/users", json={**body, "email": f"x{email}"}, headers=other.headers
        )
        assert_error(response, 403, f"POST /users as a {role}")


# --- GET /users ----------------------------------------------------------------------


@pytest.mark.grade("D16", 2)
async def test_list_users_paginates_for_admins_and_moderators_only(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    admin = await store_user(schema, "admin")
    moderator = await store_user(schema, "moderator")
    plain = await store_user(schema, "user")
    for index in range(4):
        await store_user(schema, full_name=f"Page Person {index}")
    total = 7
    for staff in (admin, moderator):
        for page, size in ((1, 3), (3, 1)):
            body = await list_users(client, staff.headers, page=page, limit=3)
            found = (
                body["total"],
                body["page"],
                body["limit"],
                body["total_pages"],
                len(body["items"]),
            )
            expected = (total, page, 3, math.ceil(total / 3), size)
            assert found == expected, (
                f"expected GET /users?page={page}&limit=3 as {staff.role} with {total} users "
                f"to give (total, page, limit, total_pages, items) = {expected}, found {found}"
            )
    assert not [key for key in body["items"][0] if "password" in key], (
        f"expected listed users to show no password field, found {sorted(body['items'][0])}"
    )
    response = await client.get(f"{API}/users", headers=plain.headers)
    assert_error(response, 403, "GET /users as a plain user")


async def refused_queries(
    client: httpx.AsyncClient, schema: AsyncEngine, queries: list[str]
) -> None:
    admin = await store_user(schema, "admin")
    await list_users(client, admin.headers)
    for query in queries:
        response = await client.get(f"{API}/users?{query}", headers=admin.headers)
        assert_error(response, 422, f"GET /users?{query}")


@pytest.mark.grade("D16", 1)
async def test_list_users_refuses_page_and_limit_out_of_bounds_with_422(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    await refused_queries(client, schema, ["limit=0", "limit=101", "page=0"])


@pytest.mark.grade("D16", 2)
async def test_list_users_sorts_only_by_whitelisted_fields_and_orders(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    await refused_queries(
        client, schema, ["sort_by=password_hash", "sort_by=id;drop", "sort_order=sideways"]
    )


@pytest.mark.grade("D16", 2)
async def test_list_users_search_is_case_insensitive_and_takes_percent_and_underscore_literally(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    admin = await store_user(schema, "admin")
    tag = uuid.uuid4().hex[:6]
    people = {
        "…100% Sure": await store_user(schema, full_name=f"Pct {tag} 100% Sure"),
        "…1000 Other": await store_user(schema, full_name=f"Pct {tag} 1000 Other"),
        "…snake_case": await store_user(schema, full_name=f"Und {tag} snake_case"),
        "…snakeXcase": await store_user(schema, full_name=f"Und {tag} snakeXcase"),
        "findme-…@example.com": await store_user(schema, email=f"findme-{tag}@example.com"),
    }
    cases = [
        (f"PCT {tag.upper()}", {"…100% Sure", "…1000 Other"}),
        ("100%", {"…100% Sure"}),
        (f"{tag} snake_", {"…snake_case"}),
        (f"FINDME-{tag.upper()}", {"findme-…@example.com"}),
    ]
    for search, expected in cases:
        body = await list_users(client, admin.headers, search=search, limit=100)
        found = {
            name
            for name, user in people.items()
            if str(user.id) in {item["id"] for item in body["items"]}
        }
        assert found == expected and body["total"] == len(expected), (
            f"expected search={search!r} to find {sorted(expected)} (case-insensitive; % and _ "
            f"are plain characters), found {sorted(found)} with total {body['total']}"
        )


@pytest.mark.grade("D16", 1)
async def test_list_users_sorts_by_a_whitelisted_field_both_ways(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    admin = await store_user(schema, "admin")
    tag = uuid.uuid4().hex[:6]
    emails = [f"sort{tag}-{letter}@example.com" for letter in "cab"]
    for email in emails:
        await store_user(schema, email=email)
    for order in ("asc", "desc"):
        body = await list_users(
            client, admin.headers, search=f"sort{tag}", sort_by="email", sort_order=order
        )
        found = [item["email"] for item in body["items"]]
        expected = sorted(emails, reverse=order == "desc")
        assert found == expected, (
            f"expected sort_by=email&sort_order={order} to give {expected}, found {found}"
        )


@pytest.mark.grade("D16", 1)
async def test_list_users_leaves_out_soft_deleted_users(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    admin = await store_user(schema, "admin")
    gone = await store_user(schema, deleted=True)
    body = await list_users(client, admin.headers, limit=100)
    ids = {item["id"] for item in body["items"]}
    assert str(gone.id) not in ids and body["total"] == 1, (
        f"expected only the admin in GET /users (the other user is soft-deleted), found "
        f"total {body['total']}"
    )


# --- GET /users/{id} -----------------------------------------------------------------------


@pytest.mark.grade("D16", 2)
async def test_get_user_by_id_for_staff_and_yourself_403_for_someone_elses(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    target = await store_user(schema, full_name="Tara Target")
    for reader in (
        await store_user(schema, "admin"),
        await store_user(schema, "moderator"),
        target,
    ):
        response = await client.get(f"{API}/users/{target.id}", headers=reader.headers)
        who = "the user themself" if reader is target else f"a {reader.role}"
        body = assert_status(response, 200, f"GET /users/{{id}} as {who}")
        assert body.get("id") == str(target.id), f"expected the user {target.id}, found {body}"
    other = await store_user(schema)
    # Both ways round: one of the two ids is the smaller, whatever the UUIDs drawn.
    for reader, read in ((other, target), (target, other)):
        response = await client.get(f"{API}/users/{read.id}", headers=reader.headers)
        assert_error(response, 403, "GET /users/{id} of someone else, as a plain user")


@pytest.mark.grade("D16", 1)
async def test_get_user_unknown_or_deleted_gives_404_and_malformed_id_422(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    admin = await store_user(schema, "admin")
    unknown = uuid.uuid4()
    response = await client.get(f"{API}/users/{unknown}", headers=admin.headers)
    assert_error(response, 404, "GET /users/<unknown id>", f"User with id '{unknown}' not found")
    gone = await store_user(schema, deleted=True)
    response = await client.get(f"{API}/users/{gone.id}", headers=admin.headers)
    assert_error(response, 404, "GET /users/<soft-deleted user's id>")
    response = await client.get(f"{API}/users/not-a-uuid", headers=admin.headers)
    assert_error(response, 422, "GET /users/not-a-uuid")


# --- PATCH and DELETE /users/{id} ------------------------------------------------------------


@pytest.mark.grade("D16", 2)
async def test_admin_patches_a_user_partially(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    admin = await store_user(schema, "admin")
    user = await store_user(schema, full_name="Pat Patch")
    response = await client.patch(
        f"{API}/users/{user.id}", json={"role": "moderator"}, headers=admin.headers
    )
    assert_status(response, 200, "PATCH /users/{id} as admin with a new role")
    response = await client.patch(
        f"{API}/users/{user.id}", json={"is_active": False}, headers=admin.headers
    )
    body = assert_status(response, 200, "PATCH /users/{id} as admin with is_active false")
    found = (body.get("full_name"), body.get("role"), body.get("is_active"))
    assert found == ("Pat Patch", "moderator", False), (
        f"expected only the given fields to change (full_name, role, is_active) = "
        f"('Pat Patch', 'moderator', False), found {found}"
    )
    response = await client.patch(
        f"{API}/users/{uuid.uuid4()}", json={"full_name": "X"}, headers=admin.headers
    )
    assert_error(response, 404, "PATCH /users/<unknown id>")
    moderator = await store_user(schema, "moderator")
    response = await client.patch(
        f"{API}/users/{user.id}", json={"full_name": "Mod Was Here"}, headers=moderator.headers
    )
    assert_error(response, 403, "PATCH /users/{id} as a moderator")


@pytest.mark.grade("D16", 1)
async def test_an_admin_cannot_demote_or_deactivate_themself(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    admin = await store_user(schema, "admin")
    await store_user(schema, "admin")  # another admin: the refusal is about yourself
    for change in ({"role": "user"}, {"is_active": False}):
        response = await client.patch(f"{API}/users/{admin.id}", json=change, headers=admin.headers)
        assert_error(response, 400, f"PATCH /users/{{your own id}} with {change}")
    row = await read_row(schema, admin.id)
    assert row is not None and (row["role"], bool(row["is_active"])) == ("admin", True), (
        "expected the admin to stay an active admin after refusing to demote themself"
    )
    response = await client.patch(
        f"{API}/users/{admin.id}", json={"full_name": "Still In Charge"}, headers=admin.headers
    )
    assert_status(response, 200, "PATCH /users/{your own id} with a new full_name only")


@pytest.mark.grade("D16", 2)
async def test_admin_soft_deletes_a_user_but_not_themself(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    admin = await store_user(schema, "admin")
    user = await store_user(schema)
    moderator = await store_user(schema, "moderator")
    response = await client.delete(f"{API}/users/{user.id}", headers=moderator.headers)
    assert_error(response, 403, "DELETE /users/{id} as a moderator")
    response = await client.delete(f"{API}/users/{user.id}", headers=admin.headers)
    body = assert_status(response, 200, "DELETE /users/{id} as admin")
    assert isinstance(body.get("message"), str) and body.get("success") is True, (
        f"expected {{message, success: true}}, found {body}"
    )
    row = await read_row(schema, user.id)
    assert row is not None and row["deleted_at"] is not None, (
        "expected a soft delete (the row stays, deleted_at is set)"
    )
    response = await client.get(f"{API}/users/{user.id}", headers=admin.headers)
    assert_error(response, 404, "GET /users/{id} after deleting that user")
    response = await client.delete(f"{API}/users/{user.id}", headers=admin.headers)
    assert_error(response, 404, "DELETE /users/{id} of an already deleted user")
    response = await client.delete(f"{API}/users/{admin.id}", headers=admin.headers)
    assert_error(response, 400, "DELETE /users/{id} of yourself")


@pytest.mark.grade("D16", 1)
async def test_role_and_state_come_from_the_database_on_every_request(
    client: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    admin = await store_user(schema, "admin")
    headers = admin.headers
    await list_users(client, headers)
    await set_column(schema, admin.id, role="user")
    response = await client.get(f"{API}/users", headers=headers)
    assert_error(response, 403, "GET /users with the token of an admin since demoted to user")
    await set_column(schema, admin.id, deleted_at=datetime.now(UTC))
    response = await client.get(f"{API}/users/me", headers=headers)
    assert_error(response, 401, "GET /users/me with the token of a since deleted user")
