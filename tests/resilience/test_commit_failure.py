"""A commit that fails must never be reported as a success."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.orm import Session

from tests.resilience.conftest import API, InProcessApi, assert_error_envelope


class InjectedCommitFailure(RuntimeError):
    """The fault: raised by every commit while the hook is installed."""


def _fail(_session: Session, *_args: Any) -> None:
    raise InjectedCommitFailure("injected: the commit fails")


WRITES = [
    ("POST", "/auth/register", {"json": {"email": "reg@example.com", "password": "long-enough-pw",
                                         "full_name": "Reg"}}),
    ("POST", "/users", {"json": {"email": "made@example.com", "password": "long-enough-pw",
                                 "full_name": "Made", "role": "moderator"}, "admin": True}),
    ("PATCH", "/users/me", {"json": {"full_name": "Renamed"}, "admin": True}),
]  # fmt: skip


async def test_a_failing_commit_never_answers_2xx(api: InProcessApi) -> None:
    event.listen(Session, "before_commit", _fail)
    try:
        # raise_app_exceptions=False: the client sees what a real server would send.
        transport = httpx.ASGITransport(app=api.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for method, path, spec in WRITES:
                headers = api.admin_headers if spec.get("admin") else {}
                response = await client.request(method, API + path, json=spec["json"],
                                                headers=headers)  # fmt: skip
                assert response.status_code >= 500, f"{method} {path}: {response.status_code}"
                assert_error_envelope(response)
    finally:
        event.remove(Session, "before_commit", _fail)
    # Nothing was written: the admin can read, and the new users do not exist.
    transport = httpx.ASGITransport(app=api.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        me = await client.get(f"{API}/users/me", headers=api.admin_headers)
        assert me.json()["full_name"] == "Administrator"
        listed = await client.get(f"{API}/users", headers=api.admin_headers)
        assert [user["email"] for user in listed.json()["items"]] == ["admin@example.com"]
