"""The application factory.

`create_app()` wires settings, logging, the database, middleware, error handlers
and the versioned API into one FastAPI app; `app` is the instance uvicorn serves.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api.v1.router import api_v1_router
from app.core.config import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the FastAPI application.

    Args:
        settings: configuration; defaults to the process-wide settings.
    """
    # TODO(step 2): build FastAPI with title/version from settings, a lifespan, docs only in DEBUG, and api_v1_router under API_V1_PREFIX
    raise NotImplementedError


app = create_app()
