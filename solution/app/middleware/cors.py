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
        """Answer a preflight request; a refusal says what was not allowed, in the envelope.

        Starlette's answer is plain text: 200 `OK` with the CORS headers when allowed,
        400 `Disallowed CORS origin` (or method, headers...) when not. An allowed
        preflight keeps that answer; a refusal becomes the JSON error envelope, the
        parent's text as its message, with only the parent's `Vary` header.
        """
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
