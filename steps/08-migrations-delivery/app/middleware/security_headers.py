"""Security headers on every response: errors, 404s, 413s and CORS preflights included.

A JSON API renders no pages, but a browser may still be pointed at it: these headers
keep it from guessing another content type, from sending the API's URL on to another
site, and from framing a response. HSTS only when the API is served over HTTPS alone.

Pure ASGI, like the request id: it wraps `send` and sets the headers on
`http.response.start`, whoever sends it.
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {
    # Take Content-Type at its word: never sniff a JSON body into HTML or script.
    "X-Content-Type-Options": "nosniff",
    # Send no Referer from a page the API served: its URL may carry ids or tokens.
    "Referrer-Policy": "no-referrer",
    # No page may show a response in a frame (clickjacking).
    "X-Frame-Options": "DENY",
}
# Two years, subdomains included. A browser that saw it refuses plain HTTP to the host
# (and its subdomains) for that long, so it is opt-in: HSTS_ENABLED.
HSTS_HEADER = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")


class SecurityHeadersMiddleware:
    """Adds `SECURITY_HEADERS` (and HSTS when `hsts` is true) to every HTTP response."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.headers = dict(SECURITY_HEADERS)
        if hsts:
            self.headers[HSTS_HEADER[0]] = HSTS_HEADER[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)  # a route may choose its own
            await send(message)

        await self.app(scope, receive, send_with_headers)
