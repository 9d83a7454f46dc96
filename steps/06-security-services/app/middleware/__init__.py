"""ASGI middleware and the error handlers."""
