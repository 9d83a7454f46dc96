"""Version 1 of the API: every router, gathered under one prefix in `main.py`."""

from fastapi import APIRouter

from app.api.v1 import health_router

api_v1_router = APIRouter()
api_v1_router.include_router(health_router.router)
