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
        # TODO(step 7): implement this function (see its docstring)
        raise NotImplementedError


def add_cors_middleware(app: FastAPI, settings: Settings) -> None:
    """Allow the configured origins, methods and headers to call `app` from a browser."""
    # TODO(step 7): implement this function (see its docstring)
    raise NotImplementedError
