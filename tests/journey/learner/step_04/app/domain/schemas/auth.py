"""Schemas of the authentication endpoints."""

from typing import Literal

from pydantic import ConfigDict

from app.domain.schemas.base import BaseSchema


class TokenResponse(BaseSchema):
    """An access/refresh token pair, shaped like an OAuth2 token response."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105  (a token type, not a secret)
    expires_in: int  # lifetime of the access token, in seconds


class RefreshRequest(BaseSchema):
    """Body of the token refresh endpoint."""

    model_config = ConfigDict(extra="forbid")

    refresh_token: str
