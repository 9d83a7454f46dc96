"""Liveness and readiness probes."""

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from app.api.deps import DatabaseDep
from app.core.config import settings
from app.core.exceptions import ServiceUnavailableException

router = APIRouter(prefix="/health", tags=["health"])


class HealthResponse(BaseModel):
    """The app is up."""

    status: Literal["healthy"] = "healthy"
    version: str
    environment: str


class ReadinessResponse(BaseModel):
    """The app and its database can serve requests."""

    status: Literal["ready"] = "ready"
    database: Literal["ok"] = "ok"


@router.get(
    "/ready",
    response_model=ReadinessResponse,
    responses={503: {"description": "The database is unreachable (error envelope)"}},
)
async def readiness(database: DatabaseDep) -> ReadinessResponse:
    """Readiness: 200 when the database answers, 503 when it does not."""
    if not await database.ping():
        raise ServiceUnavailableException("Database is unreachable")
    return ReadinessResponse()


@router.get("", response_model=HealthResponse)
async def health() -> HealthResponse:
    """Liveness: answers as long as the process runs; touches no database."""
    return HealthResponse(version=settings.VERSION, environment=settings.ENVIRONMENT)
