"""Step 3, readiness: GET /health/ready asks the database.

"Unreachable" is simulated behind the learner's back: the connection pool of the
engine held by `database_manager` (found by type, whatever its attribute is called)
is swapped for one that cannot connect, then put back. This assumes the probe goes
through `database_manager`'s engine, as section 2 (D5) has it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from course.grading.fixtures import API, serve
from tests.step_03.conftest import assert_envelope, unreachable_database

READY = f"{API}/health/ready"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """The learner's app; an exception escaping it becomes the 500 a server would send."""
    from app.main import create_app

    async with serve(create_app(), raise_app_exceptions=False) as http:
        yield http


@pytest.mark.grade("readiness", 2)
async def test_ready_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get(READY)
    assert response.status_code == 200, (
        f"expected GET {READY} to answer 200 with the database up, found {response.status_code}"
    )
    body = response.json()
    found = (
        {key: body.get(key) for key in ("status", "database")} if isinstance(body, dict) else body
    )
    assert found == {"status": "ready", "database": "ok"}, (
        f'expected GET {READY} to answer {{"status": "ready", "database": "ok"}}, found {body}'
    )


@pytest.mark.grade("readiness", 2)
async def test_not_ready_503_envelope_when_the_database_is_unreachable(
    client: httpx.AsyncClient,
) -> None:
    with unreachable_database():
        response = await client.get(READY)
    assert_envelope(response, 503, f"GET {READY} with the database unreachable")


@pytest.mark.grade("readiness", 1)
async def test_ready_again_when_the_database_returns(client: httpx.AsyncClient) -> None:
    with unreachable_database():
        await client.get(READY)
    response = await client.get(READY)
    assert response.status_code == 200, (
        f"expected GET {READY} to answer 200 again once the database is back, "
        f"found {response.status_code}"
    )


@pytest.mark.grade("readiness", 1)
def test_the_503_is_in_the_openapi_schema() -> None:
    from app.main import create_app

    operation = create_app().openapi().get("paths", {}).get(READY, {}).get("get", {})
    documented = sorted(operation.get("responses", {}))
    assert "503" in documented, (
        f"expected GET {READY} to document its 503 in the OpenAPI schema, found only "
        f"{documented}: FastAPI documents the 200 a route returns, not the exception it "
        'raises; declare it, responses={503: {"description": "The database is unreachable"}}'
    )
