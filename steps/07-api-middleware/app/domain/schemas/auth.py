"""Schemas of the authentication endpoints."""

from typing import Literal

from pydantic import ConfigDict

from app.domain.schemas.base import BaseSchema


class TokenResponse(BaseSchema):
    """A token pair, as OAuth2's password flow returns it."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int  # seconds until the access token expires


class RefreshRequest(BaseSchema):
    """Body of `POST /auth/refresh`."""

    model_config = ConfigDict(extra="forbid")

    refresh_token: str
