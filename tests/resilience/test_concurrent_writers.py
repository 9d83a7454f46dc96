"""Many clients writing at once: every 201 is a row, and every row had a 201."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.resilience.conftest import API, Server, login, prepare

pytestmark = pytest.mark.timeout(120)
CLIENTS = 20
REGISTRATIONS = 200


async def _client_work(base_url: str, emails: list[str]) -> list[tuple[str, int, int]]:
    """Register each email, then rename it through its own token: (email, 201?, 200?)."""
    outcomes = []
    async with httpx.AsyncClient(base_url=base_url + API, timeout=60) as client:
        for email in emails:
            body = {"email": email, "password": "concurrent-pw", "full_name": "Before"}
            created = await client.post("/auth/register", json=body)
            updated = 0
            if created.status_code == 201:
                form = {"username": email, "password": "concurrent-pw"}
                token = (await client.post("/auth/login", data=form)).json()["access_token"]
                auth = {"Authorization": f"Bearer {token}"}
                renamed = await client.patch("/users/me", json={"full_name": "After"}, headers=auth)
                updated = renamed.status_code
            outcomes.append((email, created.status_code, updated))
    return outcomes


def test_every_201_is_a_row_and_every_row_had_a_201(
    tmp_path: Path, serve: Callable[[str], Server]
) -> None:
    database_file = tmp_path / "writers.db"
    url = f"sqlite+aiosqlite:///{database_file}"
    prepare(url)
    server = serve(url)
    with httpx.Client(base_url=server.base_url + API) as client:
        login(client)  # the server is up and the admin exists
    run = uuid.uuid4().hex[:8]
    # Some emails are registered twice, by different clients: one 201, one 409.
    emails = [f"w{run}-{n % (REGISTRATIONS - 20)}@example.com" for n in range(REGISTRATIONS)]
    shares = [emails[i::CLIENTS] for i in range(CLIENTS)]

    async def everyone() -> list[tuple[str, int, int]]:
        results = await asyncio.gather(*(_client_work(server.base_url, s) for s in shares))
        return [outcome for result in results for outcome in result]

    outcomes = asyncio.run(everyone())
    statuses = {status for _, status, _ in outcomes}
    assert statuses <= {201, 409}, f"unexpected statuses: {statuses}"
    created = {email for email, status, _ in outcomes if status == 201}
    assert len(created) == len(set(emails))
    assert all(updated == 200 for _, status, updated in outcomes if status == 201)

    engine = create_engine(f"sqlite:///{database_file}")
    with engine.connect() as connection:
        rows = dict(
            connection.execute(
                text("SELECT email, full_name FROM users WHERE email LIKE :p"), {"p": f"w{run}-%"}
            ).all()
        )
    engine.dispose()
    assert set(rows) == created, "a 201 without a row, or a row without a 201"
    assert set(rows.values()) == {"After"}, "an update answered 200 but is not in the database"
