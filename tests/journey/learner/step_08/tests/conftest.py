"""Shared fixtures: the app on a throwaway SQLite database, and an HTTP client for it."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.core.database import DatabaseManager
from app.domain.models.base import Base
from app.main import create_app


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[DatabaseManager]:
    """A fresh SQLite file with the tables built from the models."""
    manager = DatabaseManager(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
    async with manager.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield manager
    await manager.disconnect()


@pytest.fixture
async def application(database: DatabaseManager) -> AsyncIterator[FastAPI]:
    """The app, started (lifespan included) on the test database."""
    app = create_app(database=database)
    async with LifespanManager(app):
        yield app


@pytest.fixture
async def client(application: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client that calls the app in-process."""
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
