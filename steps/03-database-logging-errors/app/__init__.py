"""Clean FastAPI Backend: the workshop's reference solution."""
