"""The HTTP layer: routers and dependency providers."""
