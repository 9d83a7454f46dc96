"""The application factory.

`create_app()` wires settings, logging, the database, middleware, error handlers
and the versioned API into one FastAPI app; `app` is the instance uvicorn serves.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api.v1.router import api_v1_router
from app.core.config import Settings, get_settings


# TODO(step 3): in create_app(), take a `database: DatabaseManager | None = None`
# argument (default: database_manager), configure logging with setup_logging(),
# connect the database in the lifespan and disconnect it on shutdown, keep it on
# app.state.database, and register the error handlers.
def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the FastAPI application.

    Args:
        settings: configuration; defaults to the process-wide settings.
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield

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

    app.include_router(api_v1_router, prefix=settings.API_V1_PREFIX)
    return app


app = create_app()
