"""Dependency providers: how a request gets what it needs.

Step 6 adds the session, repository and service providers and the current user.
"""

from typing import Annotated, cast

from fastapi import Depends, Request

from app.core.database import DatabaseManager


async def get_database(request: Request) -> DatabaseManager:
    """Return the database manager the app was created with."""
    # create_app() stores it on the application state, so tests can swap it.
    return cast(DatabaseManager, request.app.state.database)


DatabaseDep = Annotated[DatabaseManager, Depends(get_database)]
