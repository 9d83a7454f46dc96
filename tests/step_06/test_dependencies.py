"""Step 6, D15: the dependency providers, exercised through FastAPI itself.

The routers come in step 7, so these checks add throwaway routes to the learner's
`create_app()` app that use get_db / get_user_repository / get_user_service,
get_current_user and require_roles exactly as a router would.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from course.grading.fixtures import add_session, add_user, count_email, serve

from .conftest import (
    craft_token,
    jwt_settings,
    new_email,
    user_create,
)

PROBE = "/grader-probe"


def probe_app() -> Any:
    """The learner's app plus throwaway routes built on their dependency providers."""
    from fastapi import Depends
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.api import deps
    from app.main import create_app
    from app.repository.user_repository import UserRepository
    from app.service.user_service import UserService

    application = create_app()

    async def chain(
        session: Any = Depends(deps.get_db),  # noqa: B008
        repository: Any = Depends(deps.get_user_repository),  # noqa: B008
        service: Any = Depends(deps.get_user_service),  # noqa: B008
    ) -> dict[str, Any]:
        one = (await session.execute(text("SELECT 1"))).scalar_one()
        return {
            "session": isinstance(session, AsyncSession),
            "session_type": type(session).__name__,
            "select_1": one,
            "repository": isinstance(repository, UserRepository),
            "repository_type": type(repository).__name__,
            "service": isinstance(service, UserService),
            "service_type": type(service).__name__,
        }

    async def create(email: str, service: Any = Depends(deps.get_user_service)) -> dict[str, str]:  # noqa: B008
        user = await service.create_user(user_create(email, "probe-password-1"))
        return {"id": str(getattr(user, "id", ""))}

    application.add_api_route(f"{PROBE}/chain", chain, methods=["GET"])
    application.add_api_route(f"{PROBE}/create", create, methods=["POST"], status_code=201)

    current_user = getattr(deps, "get_current_user", None)
    if current_user is not None:

        async def me(user: Any = Depends(current_user)) -> dict[str, str]:  # noqa: B008
            return {"id": str(user.id), "role": str(getattr(user.role, "value", user.role))}

        application.add_api_route(f"{PROBE}/me", me, methods=["GET"])

    require_roles = getattr(deps, "require_roles", None)
    if require_roles is not None:
        from app.domain.models.user import UserRole

        async def admin_only(user: Any = Depends(require_roles(UserRole.ADMIN))) -> dict[str, str]:  # noqa: B008
            return {"id": str(user.id)}

        application.add_api_route(f"{PROBE}/admin", admin_only, methods=["GET"])
    return application


@pytest.fixture
async def probe(schema: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the probe app, on empty tables; app exceptions become 500 responses."""
    async with serve(probe_app(), raise_app_exceptions=False) as http:
        yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def access_token(
    schema: AsyncEngine, user_id: Any, role: str, *, session: Any = None, subject: Any = None
) -> str:
    """The learner's access token for `user_id`, in `session` or a new live one of theirs."""
    from app.core.security import create_access_token

    login = session or await add_session(schema, user_id)
    return str(create_access_token(str(subject or user_id), role, str(login.id)))


def needs(name: str) -> None:
    from app.api import deps

    assert callable(getattr(deps, name, None)), f"expected app/api/deps.py to define {name}"


# --- get_db -> get_user_repository -> get_user_service ---------------------------


@pytest.mark.grade("D15", 2)
async def test_the_provider_chain_gives_a_session_a_repository_and_a_service(
    probe: httpx.AsyncClient,
) -> None:
    response = await probe.get(f"{PROBE}/chain")
    assert response.status_code == 200, (
        f"expected a route using get_db, get_user_repository and get_user_service to answer "
        f"200, found {response.status_code}: {response.text[:200]}"
    )
    body = response.json()
    for key, expected in (
        ("session", "an AsyncSession"),
        ("repository", "a UserRepository"),
        ("service", "a UserService"),
    ):
        assert body[key] is True, (
            f"expected get_{'db' if key == 'session' else 'user_' + key} to provide {expected}, "
            f"found a {body[key + '_type']}"
        )


@pytest.mark.grade("D15", 1)
async def test_a_write_through_the_providers_is_committed(
    probe: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    email = new_email("commit")
    response = await probe.post(f"{PROBE}/create", params={"email": email})
    assert response.status_code == 201, (
        f"expected a route creating a user through get_user_service to answer 201, "
        f"found {response.status_code}: {response.text[:200]}"
    )
    assert await count_email(schema, email) == 1, (
        "expected the user created through get_user_service to be committed once the "
        "response arrived, found no row"
    )


@pytest.mark.grade("D15", 3)
async def test_a_failing_commit_never_gives_a_2xx(
    probe: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    from sqlalchemy.orm import Session

    refused: list[bool] = []

    def refuse(_session: Any) -> None:
        refused.append(True)
        raise RuntimeError("the grader refuses this commit")

    email = new_email("nocommit")
    event.listen(Session, "before_commit", refuse)
    try:
        response = await probe.post(f"{PROBE}/create", params={"email": email})
    finally:
        event.remove(Session, "before_commit", refuse)
    assert refused, (
        "expected a route creating a user through get_user_service to commit its session, "
        f"found no commit (the route answered {response.status_code}: {response.text[:150]})"
    )
    assert response.status_code >= 500, (
        f"expected a 5xx when the session's commit fails, found {response.status_code}: the "
        'commit runs after the response was sent (use Depends(get_db, scope="function") '
        "or commit before returning)"
    )
    assert await count_email(schema, email) == 0, "expected no row after a failed commit"


# --- get_current_user and the role dependency --------------------------------------


async def _token_for(case: str, schema: AsyncEngine) -> dict[str, str]:
    config = jwt_settings()
    if case == "no-token":
        return {}
    if case == "not-a-jwt":
        return bearer("not.a.jwt")
    user = await add_user(
        schema, is_active=case != "deactivated-user", deleted=case == "deleted-user"
    )
    if case == "refresh-token":
        from app.core.security import create_refresh_token

        login = await add_session(schema, user.id)
        return bearer(
            create_refresh_token(
                str(user.id), str(login.id), login.refresh_token_id, login.expires_at
            )
        )
    if case == "expired":
        return bearer(
            craft_token(
                config["access"],
                sub=str(user.id),
                token_type="access",
                role="user",
                algorithm=config["algorithm"],
                age=timedelta(hours=2),
                lifetime=timedelta(hours=1),
            )
        )
    if case == "unknown-user":
        return bearer(await access_token(schema, user.id, "admin", subject=uuid.uuid4()))
    if case == "no-such-session":
        return bearer(
            craft_token(
                config["access"],
                sub=str(user.id),
                token_type="access",
                role="user",
                algorithm=config["algorithm"],
                sid=str(uuid.uuid4()),
            )
        )
    if case == "ended-session":
        login = await add_session(schema, user.id, ended=True)
        return bearer(await access_token(schema, user.id, "user", session=login))
    if case == "expired-session":
        login = await add_session(schema, user.id, lifetime=timedelta(seconds=-1))
        return bearer(await access_token(schema, user.id, "user", session=login))
    if case == "someone-elses-session":
        other = await add_user(schema)
        login = await add_session(schema, other.id)
        return bearer(await access_token(schema, user.id, "user", session=login))
    return bearer(await access_token(schema, user.id, "user"))


UNAUTHORIZED: dict[str, str] = {
    "no-token": "no Authorization header",
    "not-a-jwt": "a bearer token that is not a JWT",
    "refresh-token": "a refresh token used as an access token",
    "expired": "an expired access token",
    "unknown-user": "a valid token for a user id that does not exist",
    "deactivated-user": "a valid token of a deactivated user",
    "deleted-user": "a valid token of a soft-deleted user",
    "no-such-session": "a valid token whose `sid` names no session",
    "ended-session": "a valid token of a session that has ended (logged out)",
    "expired-session": "a valid token of a session past its absolute lifetime",
    "someone-elses-session": "a valid token whose `sid` is another user's session",
}


@pytest.mark.grade("D15", 1)
@pytest.mark.parametrize("case", list(UNAUTHORIZED))
async def test_get_current_user_refuses_with_401(
    probe: httpx.AsyncClient, schema: AsyncEngine, case: str
) -> None:
    needs("get_current_user")
    user = await add_user(schema)
    headers = bearer(await access_token(schema, user.id, "user"))
    ok = await probe.get(f"{PROBE}/me", headers=headers)
    assert ok.status_code == 200 and ok.json()["id"] == str(user.id), (
        f"expected a route using get_current_user to answer 200 with the token's user, "
        f"found {ok.status_code}: {ok.text[:200]}"
    )
    response = await probe.get(f"{PROBE}/me", headers=await _token_for(case, schema))
    assert response.status_code == 401, (
        f"expected get_current_user to answer 401 for {UNAUTHORIZED[case]}, "
        f"found {response.status_code}"
    )


@pytest.mark.grade("D15", 2)
async def test_admin_role_dependency_lets_admins_in_and_gives_others_403(
    probe: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    needs("require_roles")
    for role, expected in (("admin", 200), ("moderator", 403), ("user", 403)):
        user = await add_user(schema, role=role)
        headers = bearer(await access_token(schema, user.id, role))
        response = await probe.get(f"{PROBE}/admin", headers=headers)
        assert response.status_code == expected, (
            f"expected require_roles(UserRole.ADMIN) to answer {expected} for a {role}, "
            f"found {response.status_code}"
        )
    response = await probe.get(f"{PROBE}/admin")
    assert response.status_code == 401, (
        f"expected require_roles(...) without a token to answer 401, found {response.status_code}"
    )


async def _set(schema: AsyncEngine, user_id: Any, column: str, value: Any) -> None:
    from app.domain.models.user import User

    table = User.__table__
    async with schema.begin() as connection:
        await connection.execute(
            table.update().where(table.c.id == user_id).values({column: value})
        )


@pytest.mark.grade("D15", 2)
async def test_role_and_state_are_read_from_the_database_not_the_token(
    probe: httpx.AsyncClient, schema: AsyncEngine
) -> None:
    needs("require_roles")
    plain = await add_user(schema, role="user")
    headers = bearer(await access_token(schema, plain.id, "admin"))
    response = await probe.get(f"{PROBE}/admin", headers=headers)
    assert response.status_code == 403, (
        "expected a token whose role claim says admin, for a user the database says is a "
        f"plain user, to get 403 on an admin route, found {response.status_code}"
    )
    admin = await add_user(schema, role="admin")
    headers = bearer(await access_token(schema, admin.id, "admin"))
    assert (await probe.get(f"{PROBE}/admin", headers=headers)).status_code == 200, (
        "expected an admin's token to open an admin route"
    )
    await _set(schema, admin.id, "role", "user")
    response = await probe.get(f"{PROBE}/admin", headers=headers)
    assert response.status_code == 403, (
        f"expected an admin demoted in the database to lose admin rights at once (403) "
        f"with the token issued before, found {response.status_code}"
    )
    await _set(schema, admin.id, "is_active", False)
    response = await probe.get(f"{PROBE}/admin", headers=headers)
    assert response.status_code == 401, (
        f"expected a user deactivated in the database to get 401 with an older token, "
        f"found {response.status_code}"
    )
