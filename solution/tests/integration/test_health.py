"""GET /health and GET /health/ready."""

import httpx
from fastapi import FastAPI

from app.core.database import DatabaseManager
from tests.conftest import API

# A port nothing listens on: connections are refused at once.
UNREACHABLE_URL = "postgresql+asyncpg://nobody:nothing@127.0.0.1:9/none"


async def test_health_returns_status_version_and_environment(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "version": "1.0.0", "environment": "testing"}


async def test_health_ready_reports_database_ok(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok"}


async def test_health_ready_503_envelope_when_database_unreachable_then_recovers(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    healthy = app.state.database
    app.state.database = DatabaseManager(UNREACHABLE_URL)
    try:
        response = await client.get(f"{API}/health/ready")
        assert response.status_code == 503
        body = response.json()
        assert body["status_code"] == 503
        assert body["message"] == "Database is unreachable"
        assert body["request_id"] == response.headers["X-Request-ID"]
    finally:
        await app.state.database.disconnect()
        app.state.database = healthy
    assert (await client.get(f"{API}/health/ready")).status_code == 200
