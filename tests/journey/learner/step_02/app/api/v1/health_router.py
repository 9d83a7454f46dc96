"""Health probes for load balancers and orchestrators."""

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from app.core.config import settings

router = APIRouter(prefix="/health", tags=["health"])


class HealthResponse(BaseModel):
    """Answer of the liveness probe."""

    status: Literal["healthy"] = "healthy"
    version: str
    environment: str


@router.get("", response_model=HealthResponse, summary="Liveness probe")
async def health() -> HealthResponse:
    """Liveness: answers as long as the process runs; touches no database."""
    current_environment = settings.ENVIRONMENT.value
    return HealthResponse(environment=current_environment, version=settings.VERSION)
