"""The application factory.

`create_app()` builds a fully configured FastAPI application; `app` at the bottom
is the instance `uvicorn app.main:app` serves. Tests call `create_app()` with their
own settings instead of importing `app`.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from loguru import logger

from app.api.v1.router import api_v1_router
from app.core.config import Settings, get_settings
from app.core.database import DatabaseManager, database_manager
from app.core.logging import setup_logging
from app.core.security import verify_password
from app.middleware.body_limit import BodyLimitMiddleware
from app.middleware.cors import add_cors_middleware
from app.middleware.error_handler import DATABASE_UNAVAILABLE, register_exception_handlers
from app.middleware.logging import RequestLoggingMiddleware
from app.middleware.request_id import RequestIDMiddleware
from app.middleware.security_headers import SecurityHeadersMiddleware
from app.repository.user_repository import UserRepository


async def refuse_default_admin_password(database: DatabaseManager, settings: Settings) -> None:
    """Stop a production start while the seeded admin still logs in with the dev password."""
    if settings.ENVIRONMENT != "production":
        return
    published = Settings.model_fields["FIRST_ADMIN_PASSWORD"].default.get_secret_value()
    try:
        async with database.get_session() as session:
            admin = await UserRepository(session).get_by_email(settings.FIRST_ADMIN_EMAIL)
    except DATABASE_UNAVAILABLE:
        logger.warning("database down at start: the first admin's password is not checked")
        return
    if admin is None:
        return
    if await verify_password(published, admin.password_hash):
        raise RuntimeError(
            "refusing to start: FIRST_ADMIN_PASSWORD is still the development default for "
            f"the stored admin {settings.FIRST_ADMIN_EMAIL}"
        )


def create_app(
    settings: Settings | None = None, database: DatabaseManager | None = None
) -> FastAPI:
    """Build the FastAPI application.

    Args:
        settings: configuration; defaults to the process-wide settings.
        database: the database to use; defaults to the shared `database_manager`.
            Tests hand in their own.
    """
    config = settings if settings is not None else get_settings()
    db = database if database is not None else database_manager
    # Set up logging now, not in the lifespan: uvicorn imports the app before it
    # writes its start-up lines, and those should already go through Loguru.
    setup_logging(config)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        logger.info("{} {} starting ({})", config.PROJECT_NAME, config.VERSION, config.ENVIRONMENT)
        await db.connect()
        await refuse_default_admin_password(db, config)
        try:
            yield
        finally:
            await db.disconnect()
            logger.info("{} stopped", config.PROJECT_NAME)

    # The interactive documentation lists every route, so only DEBUG shows it.
    docs_url: str | None = None
    redoc_url: str | None = None
    openapi_url: str | None = None
    if config.DEBUG:
        docs_url = "/docs"
        redoc_url = "/redoc"
        openapi_url = f"{config.API_V1_PREFIX}/openapi.json"

    application = FastAPI(
        title=config.PROJECT_NAME,
        version=config.VERSION,
        description=config.PROJECT_DESCRIPTION,
        docs_url=docs_url,
        redoc_url=redoc_url,
        openapi_url=openapi_url,
        lifespan=lifespan,
    )
    # Dependencies (get_database) find the database here.
    application.state.database = db

    register_exception_handlers(application)
    # Middleware added last runs first, so from the outside in a request meets:
    # request id -> security headers -> request logging -> CORS -> body limit -> the
    # catch-all for crashes (added by register_exception_handlers). The id is
    # outermost, so every log line and every response, even a 500 or a 413, carries
    # it; the security headers sit outside everything that can answer on its own.
    application.add_middleware(BodyLimitMiddleware, max_body_bytes=config.MAX_REQUEST_BODY_BYTES)
    add_cors_middleware(application, config)
    application.add_middleware(RequestLoggingMiddleware)
    application.add_middleware(SecurityHeadersMiddleware, hsts=config.HSTS_ENABLED)
    application.add_middleware(RequestIDMiddleware)

    application.include_router(api_v1_router, prefix=config.API_V1_PREFIX)
    return application


app = create_app()
