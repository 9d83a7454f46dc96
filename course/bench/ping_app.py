"""The ceiling: a bare FastAPI app with one route, served exactly like the solution.

Whatever the solution adds (middleware, validation, the database) shows up as the
distance between its figures and this app's, measured in the same run.
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/ping")
async def ping() -> dict[str, str]:
    """Answer at once: no middleware, no database, a tiny JSON body."""
    return {"status": "ok"}
