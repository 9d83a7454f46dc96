"""Health probes for load balancers and orchestrators."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from app.api.deps import get_database
from app.core.config import settings
from app.core.database import DatabaseManager
from app.core.exceptions import ServiceUnavailableException

router = APIRouter(prefix="/health", tags=["health"])


class HealthResponse(BaseModel):
    """Answer of the liveness probe."""

    status: Literal["healthy"] = "healthy"
    version: str
    environment: str


class ReadinessResponse(BaseModel):
    """Answer of the readiness probe: the database answers too."""

    status: Literal["ready"] = "ready"
    database: Literal["ok"] = "ok"


@router.get("", response_model=HealthResponse, summary="Liveness probe")
async def health() -> HealthResponse:
    """Liveness: answers as long as the process runs; touches no database."""
    current_environment = settings.ENVIRONMENT.value
    return HealthResponse(environment=current_environment, version=settings.VERSION)


@router.get(
    "/ready",
    response_model=ReadinessResponse,
    summary="Readiness probe",
    responses={503: {"description": "The database does not answer (error envelope)"}},
)
async def readiness(
    database: Annotated[DatabaseManager, Depends(get_database)],
) -> ReadinessResponse:
    """Readiness: 200 when the database answers, 503 when it does not."""
    database_ok = await database.ping()
    if database_ok:
        return ReadinessResponse()
    raise ServiceUnavailableException("The database is not reachable")
