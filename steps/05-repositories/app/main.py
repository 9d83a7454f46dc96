"""The application factory.

`create_app()` wires settings, logging, the database, middleware, error handlers
and the versioned API into one FastAPI app; `app` is the instance uvicorn serves.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api.v1.router import api_v1_router
from app.core.config import Settings, get_settings
from app.core.database import DatabaseManager, database_manager
from app.core.logging import setup_logging
from app.middleware.error_handler import register_exception_handlers


def create_app(
    settings: Settings | None = None, database: DatabaseManager | None = None
) -> FastAPI:
    """Build the FastAPI application.

    Args:
        settings: configuration; defaults to the process-wide settings.
        database: the database to serve from; defaults to `database_manager`.
            Tests pass their own.
    """
    settings = settings or get_settings()
    database = database or database_manager
    # Configured here rather than in the lifespan: uvicorn imports the app before
    # it logs its first lines, so those go through Loguru too.
    setup_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await database.connect()
        try:
            yield
        finally:
            await database.disconnect()

    app = FastAPI(
        title=settings.PROJECT_NAME,
        description=settings.PROJECT_DESCRIPTION,
        version=settings.VERSION,
        lifespan=lifespan,
        # Interactive docs only in DEBUG: in production they advertise every route.
        docs_url="/docs" if settings.DEBUG else None,
        redoc_url="/redoc" if settings.DEBUG else None,
        openapi_url=f"{settings.API_V1_PREFIX}/openapi.json" if settings.DEBUG else None,
        swagger_ui_parameters={"persistAuthorization": True},
    )
    app.state.database = database

    register_exception_handlers(app)

    app.include_router(api_v1_router, prefix=settings.API_V1_PREFIX)
    return app


app = create_app()
