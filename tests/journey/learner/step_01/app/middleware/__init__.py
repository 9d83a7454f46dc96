"""ASGI middleware and exception handlers."""
