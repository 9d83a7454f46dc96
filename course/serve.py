"""Run a learner's own project: its tables first, then its app under uvicorn.

How far the project has come decides how its database is prepared:

- with migrations (step 8 on): `alembic upgrade head`, then the seed script;
- with models (`app/domain/models/base.py`, step 4 on): the tables are created from
  the models' metadata;
- before that there are no tables to make, and the app starts as it is.

Everything runs in the project's folder, so `app` is the learner's package and
relative settings (`sqlite+aiosqlite:///./app.db`) point into it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

# Creates the tables of `Base.metadata` on the project's DATABASE_URL. The learner's
# own models register on it when `app.domain.models` is imported (step 4).
CREATE_TABLES = """
import asyncio
from sqlalchemy.ext.asyncio import create_async_engine
from app.core.config import get_settings
from app.domain.models import Base

async def main() -> None:
    engine = create_async_engine(get_settings().DATABASE_URL)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    await engine.dispose()
    print("tables:", ", ".join(sorted(Base.metadata.tables)) or "none")

asyncio.run(main())
"""


def project_environment(project: Path) -> dict[str, str]:
    """The environment the project runs in: its own folder first on the import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(project), env.get("PYTHONPATH")]))
    env.setdefault("DEBUG", "true")
    return env


def has_migrations(project: Path) -> bool:
    """Whether the project has Alembic set up with at least one migration."""
    versions = project / "alembic" / "versions"
    return (project / "alembic.ini").is_file() and any(versions.glob("*.py"))


def prepare_database(project: Path, say: Callable[[str], None]) -> bool:
    """Create the project's tables the way its step allows; False if that failed."""
    env = project_environment(project)

    def run(*args: str) -> bool:
        say("$ " + " ".join(args))
        return subprocess.run([sys.executable, *args], cwd=project, env=env).returncode == 0

    if has_migrations(project):
        if not run("-m", "alembic", "upgrade", "head"):
            say("The migrations failed (above); fix them and try again.")
            return False
        if (project / "scripts" / "seed.py").is_file() and not run("-m", "scripts.seed"):
            say("The seed script failed (above); the API starts without its users.")
        return True
    if (project / "app" / "domain" / "models" / "base.py").is_file():
        if not run("-c", CREATE_TABLES):
            say("The tables could not be created from your models (above): until step 4 is "
                "done the API starts without them.")  # fmt: skip
        return True
    say("No models yet (step 4 writes them): the API starts without tables.")
    return True


def serve(project: Path, uvicorn_args: Sequence[str], say: Callable[[str], None]) -> int:
    """Prepare the project's database, then become uvicorn serving its app.

    Returns only when the project cannot be served; otherwise this process is uvicorn
    from then on, so Ctrl-C and signals reach the server itself.
    """
    if not (project / "app" / "main.py").is_file():
        say(f"Nothing to serve in {project}: app/main.py is written in step 2.")
        return 2
    if not prepare_database(project, say):
        return 1
    args = ["-m", "uvicorn", "app.main:app", "--no-server-header", *uvicorn_args]
    say("$ python " + " ".join(args))
    os.chdir(project)
    os.execve(sys.executable, [sys.executable, *args], project_environment(project))
