"""Version 1 of the API: every router, gathered under one prefix in `main.py`."""

from fastapi import APIRouter

from app.api.v1.auth_router import router as auth_router
from app.api.v1.health_router import router as health_router
from app.api.v1.user_router import router as user_router

api_v1_router = APIRouter()
api_v1_router.include_router(health_router)
api_v1_router.include_router(auth_router)
api_v1_router.include_router(user_router)
