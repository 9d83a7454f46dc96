"""Step 2, D16 (health part): GET /health and the `api_v1_router` aggregator."""

from __future__ import annotations

import httpx
import pytest

from course.grading.fixtures import API
from tests.step_02.conftest import freshly_imported_app, plain


@pytest.mark.grade("D16-health", 2)
async def test_health_answers_healthy_with_version_and_environment(
    client: httpx.AsyncClient,
) -> None:
    from app.core.config import settings

    response = await client.get(f"{API}/health")
    assert response.status_code == 200, (
        f"expected GET {API}/health to answer 200, found {response.status_code}"
    )
    body = response.json()
    expected = {
        "status": "healthy",
        "version": settings.VERSION,
        "environment": str(plain(settings.ENVIRONMENT)),
    }
    found = {key: body.get(key) for key in expected} if isinstance(body, dict) else body
    assert found == expected, f"expected GET {API}/health to answer {expected}, found {body}"


@pytest.mark.grade("D16-health", 1)
async def test_health_version_comes_from_settings() -> None:
    async with freshly_imported_app({"VERSION": "9.8.7-grading"}) as client:
        response = await client.get(f"{API}/health")
    body = response.json() if response.status_code == 200 else {}
    assert body.get("version") == "9.8.7-grading", (
        f"expected VERSION=9.8.7-grading to show in GET {API}/health, "
        f"found {response.status_code} {response.text[:200]}"
    )


@pytest.mark.grade("D16-health", 1)
async def test_api_v1_router_aggregates_the_health_route() -> None:
    from fastapi import APIRouter, FastAPI

    from app.api.v1.router import api_v1_router

    assert isinstance(api_v1_router, APIRouter), (
        f"expected api_v1_router to be an APIRouter, found {type(api_v1_router).__name__}"
    )
    # Mounted alone on a bare app: /health, or {API}/health if the aggregator has the prefix.
    bare = FastAPI()
    bare.include_router(api_v1_router)
    transport = httpx.ASGITransport(app=bare)
    async with httpx.AsyncClient(transport=transport, base_url="http://grader") as client:
        found = [(await client.get(path)).status_code for path in ("/health", f"{API}/health")]
    assert 200 in found, (
        "expected api_v1_router, included in a bare FastAPI app, to serve GET /health (200), "
        f"found {found[0]}"
    )
