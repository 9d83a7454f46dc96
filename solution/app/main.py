"""The application factory.

`create_app()` wires settings, logging, the database, middleware, error handlers
and the versioned API into one FastAPI app; `app` is the instance uvicorn serves.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api.v1.router import api_v1_router
from app.core.config import DEFAULT_FIRST_ADMIN_PASSWORD, Settings, get_settings
from app.core.database import DatabaseManager, database_manager
from app.core.logging import setup_logging
from app.core.security import verify_password
from app.middleware.body_limit import BodyLimitMiddleware
from app.middleware.cors import add_cors_middleware
from app.middleware.error_handler import register_exception_handlers
from app.middleware.logging import RequestLoggingMiddleware
from app.middleware.request_id import RequestIDMiddleware
from app.middleware.security_headers import SecurityHeadersMiddleware
from app.repository.user_repository import UserRepository


async def refuse_default_admin_password(database: DatabaseManager, settings: Settings) -> None:
    """In production, refuse to start while the first admin has the default password.

    The settings refuse a default FIRST_ADMIN_PASSWORD, but an admin seeded before it
    was changed keeps the published password in the database. Only the stored hash
    tells: it is checked against the default. No such user is fine. It runs right after
    `connect()`, which has just seen the database answer.
    """
    if settings.ENVIRONMENT != "production":
        return
    async with database.get_session() as session:
        admin = await UserRepository(session).get_by_email(settings.FIRST_ADMIN_EMAIL)
    if admin is not None and await verify_password(
        DEFAULT_FIRST_ADMIN_PASSWORD, admin.password_hash
    ):
        raise RuntimeError(
            f"FIRST_ADMIN_PASSWORD: the first admin ({settings.FIRST_ADMIN_EMAIL}) still has "
            "the development default password in the database; change that user's password "
            "before starting in production"
        )


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
        await refuse_default_admin_password(database, settings)
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

    # Middleware added last runs first: request id, security headers, logging, CORS,
    # the body limit, then the catch-all for unexpected errors (added by
    # register_exception_handlers). So a 413 and every error carry the request id, the
    # security headers and the CORS headers, and are logged.
    register_exception_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.MAX_REQUEST_BODY_BYTES)
    add_cors_middleware(app, settings)
    app.add_middleware(RequestLoggingMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.HSTS_ENABLED)
    app.add_middleware(RequestIDMiddleware)

    app.include_router(api_v1_router, prefix=settings.API_V1_PREFIX)
    return app


app = create_app()
