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
        answer = super().preflight_response(request_headers)
        if answer.status_code >= 400:
            # Starlette answers a refusal in plain text ("Disallowed CORS origin"):
            # wrap that text in the envelope every other error uses, keeping Vary.
            reason = bytes(answer.body).decode("utf-8")
            kept_headers: dict[str, str] = {}
            vary = answer.headers.get("vary")
            if vary is not None:
                kept_headers["Vary"] = vary
            return error_response(answer.status_code, reason, headers=kept_headers)
        return answer


def add_cors_middleware(app: FastAPI, settings: Settings) -> None:
    """Allow the configured origins, methods and headers to call `app` from a browser."""
    app.add_middleware(
        EnvelopeCORSMiddleware,
        allow_origins=list(settings.CORS_ORIGINS),
        allow_methods=list(settings.CORS_ALLOW_METHODS),
        allow_headers=list(settings.CORS_ALLOW_HEADERS),
        allow_credentials=settings.CORS_ALLOW_CREDENTIALS,
        # Let browser code read the request id of a cross-origin response.
        expose_headers=["X-Request-ID"],
    )
