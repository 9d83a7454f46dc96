"""Version 1 of the API: every router, gathered under one prefix in `main.py`."""

from fastapi import APIRouter

from app.api.v1 import auth_router, health_router, user_router

api_v1_router = APIRouter()
api_v1_router.include_router(health_router.router)
api_v1_router.include_router(auth_router.router)
api_v1_router.include_router(user_router.router)
