"""Liveness and readiness probes."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends

from app.api.deps import get_database
from app.core.config import settings
from app.core.database import DatabaseManager
from app.core.exceptions import ServiceUnavailableException
from app.domain.schemas.base import BaseSchema
from app.domain.schemas.common import ErrorResponse

router = APIRouter(prefix="/health", tags=["health"])


class HealthResponse(BaseSchema):
    """The app is up."""

    status: Literal["healthy"] = "healthy"
    version: str
    environment: str


class ReadinessResponse(BaseSchema):
    """The app and its database can serve requests."""

    status: Literal["ready"] = "ready"
    database: Literal["ok"] = "ok"


@router.get("", response_model=HealthResponse)
async def health() -> HealthResponse:
    """Liveness: answers as long as the process runs; touches no database."""
    return HealthResponse(version=settings.VERSION, environment=settings.ENVIRONMENT)


@router.get(
    "/ready",
    response_model=ReadinessResponse,
    responses={503: {"model": ErrorResponse, "description": "The database is unreachable"}},
)
async def readiness(
    database: Annotated[DatabaseManager, Depends(get_database)],
) -> ReadinessResponse:
    """Readiness: 200 when the database answers, 503 when it does not."""
    if not await database.ping():
        raise ServiceUnavailableException("Database is unreachable")
    return ReadinessResponse()
