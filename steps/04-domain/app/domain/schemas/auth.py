"""Schemas of the authentication endpoints.

TODO(step 4): `TokenResponse` (access_token, refresh_token, token_type "bearer",
expires_in in seconds) and `RefreshRequest` (refresh_token).
Read docs/steps/04-domain.md.
"""
