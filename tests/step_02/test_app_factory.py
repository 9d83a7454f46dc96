"""Step 2, D3: `create_app()` factory with a lifespan, the v1 router under API_V1_PREFIX,
the interactive docs only in DEBUG, and the module-level `app`.

Where a check needs other settings, the learner's app is imported anew with them in
the environment (`freshly_imported_app`), as a server started with them would be:
it does not matter where the learner reads the settings.
"""

from __future__ import annotations

import httpx
import pytest

from course.grading.fixtures import API, serve
from tests.step_02.conftest import freshly_imported_app


@pytest.mark.grade("D3", 1)
def test_create_app_builds_a_new_fastapi_app_each_call() -> None:
    from fastapi import FastAPI

    from app.main import create_app

    first, second = create_app(), create_app()
    assert isinstance(first, FastAPI), (
        f"expected create_app() to return a FastAPI app, found {type(first).__name__}"
    )
    assert first is not second, (
        "expected create_app() to build a new app on each call (a factory), found the same object"
    )


@pytest.mark.grade("D3", 1)
def test_main_module_has_an_app_for_uvicorn() -> None:
    from fastapi import FastAPI

    from app import main

    found = getattr(main, "app", None)
    assert isinstance(found, FastAPI), (
        "expected app/main.py to define `app = create_app()` for `uvicorn app.main:app`, "
        f"found {type(found).__name__}"
    )


@pytest.mark.grade("D3", 1)
async def test_app_starts_serves_and_stops() -> None:
    from app.main import create_app

    async with serve(create_app()) as client:  # runs the lifespan's start-up and shutdown
        response = await client.get(f"{API}/health")
    assert response.status_code == 200, (
        f"expected the started app to answer GET {API}/health with 200, "
        f"found {response.status_code}"
    )


@pytest.mark.grade("D3", 1)
async def test_v1_router_is_mounted_under_the_api_prefix(client: httpx.AsyncClient) -> None:
    inside = await client.get(f"{API}/health")
    outside = await client.get("/health")
    assert inside.status_code == 200, (
        f"expected GET {API}/health to answer 200, found {inside.status_code}"
    )
    assert outside.status_code == 404, (
        f"expected GET /health (without {API}) to answer 404, found {outside.status_code}"
    )


@pytest.mark.grade("D3", 1)
async def test_api_prefix_comes_from_settings() -> None:
    async with freshly_imported_app({"API_V1_PREFIX": "/api/v2"}) as client:
        moved = await client.get("/api/v2/health")
        old = await client.get("/api/v1/health")
    assert moved.status_code == 200, (
        "expected API_V1_PREFIX=/api/v2 to serve GET /api/v2/health (200), "
        f"found {moved.status_code}"
    )
    assert old.status_code == 404, (
        f"expected API_V1_PREFIX=/api/v2 to leave /api/v1/health unserved (404), "
        f"found {old.status_code}"
    )


@pytest.mark.grade("D3", 1)
async def test_interactive_docs_served_in_debug(client: httpx.AsyncClient) -> None:
    for path, what in (("/docs", "Swagger UI"), ("/redoc", "ReDoc")):
        response = await client.get(path)
        assert response.status_code == 200, (
            f"expected GET {path} to show {what} (200) with DEBUG=true, "
            f"found {response.status_code}"
        )


@pytest.mark.grade("D3", 1)
async def test_interactive_docs_hidden_without_debug() -> None:
    async with freshly_imported_app({"DEBUG": "false"}) as client:
        paths = ("/docs", "/redoc", "/openapi.json", f"{API}/openapi.json")
        pages = {path: await client.get(path) for path in paths}
        health = await client.get(f"{API}/health")
    served = {path: response.status_code for path, response in pages.items()}
    assert set(served.values()) == {404}, (
        f"expected GET /docs, /redoc and the OpenAPI schema to answer 404 with DEBUG=false (no "
        f"interactive docs and no schema in production), found {served}: pass docs_url, "
        "redoc_url and openapi_url to FastAPI() only when settings.DEBUG is on, else None"
    )
    assert health.status_code == 200, (
        f"expected GET {API}/health to still answer 200 with DEBUG=false, "
        f"found {health.status_code}"
    )
