"""Version 1 of the API: every router, gathered under one prefix in `main.py`."""

from fastapi import APIRouter

from app.api.v1 import health_router

api_v1_router = APIRouter()
# TODO(step 2): include the health router.
