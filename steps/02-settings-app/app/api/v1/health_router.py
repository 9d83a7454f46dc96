"""Liveness and readiness probes."""

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from app.core.config import settings

router = APIRouter(prefix="/health", tags=["health"])


class HealthResponse(BaseModel):
    """The app is up."""

    status: Literal["healthy"] = "healthy"
    version: str
    environment: str


@router.get("", response_model=HealthResponse)
async def health() -> HealthResponse:
    """Liveness: answers as long as the process runs; touches no database."""
    # TODO(step 2): implement this function (see its docstring)
    raise NotImplementedError
