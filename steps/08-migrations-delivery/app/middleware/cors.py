"""Cross-origin resource sharing, configured from the CORS_* settings."""

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from app.core.config import Settings
from app.middleware.error_handler import error_response


class EnvelopeCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware, refusing a preflight with the JSON error envelope."""

    def preflight_response(self, request_headers: Headers) -> Response:
        """Answer a preflight request; a refusal says what was not allowed."""
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        refusal = bytes(response.body).decode()
        headers = {key: value for key, value in response.headers.items() if key.lower() == "vary"}
        return error_response(response.status_code, refusal, headers=headers)


def add_cors_middleware(app: FastAPI, settings: Settings) -> None:
    """Allow the configured origins, methods and headers to call `app` from a browser."""
    app.add_middleware(
        EnvelopeCORSMiddleware,
        allow_origins=settings.CORS_ORIGINS,
        allow_credentials=settings.CORS_ALLOW_CREDENTIALS,
        allow_methods=settings.CORS_ALLOW_METHODS,
        allow_headers=settings.CORS_ALLOW_HEADERS,
        expose_headers=["X-Request-ID"],
    )
