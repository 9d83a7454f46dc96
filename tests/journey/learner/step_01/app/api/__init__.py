"""HTTP layer: FastAPI routers and dependencies."""
