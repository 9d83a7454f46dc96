"""Run the learner's Alembic setup through its paces, in one process; report as JSON.

Usage (cwd = a copy of the learner's project, DATABASE_URL = an empty database):

    python alembic_probe.py RESULT.json OTHER_URL

The URL is given to the app settings only (the DATABASE_URL environment
variable), never to Alembic, so a migration that reaches the database proves that
alembic/env.py reads it from the settings. OTHER_URL names a second empty database,
for `-x url=`. Phases, in order, each recorded as it ends (a process that dies or
hangs still leaves the phases before it):

- offline: `alembic upgrade head --sql` (captured), then the database must be untouched;
- upgrade: `alembic upgrade head` from empty;
- check: `alembic check` (models and migrations agree);
- index: rows written with plain SQL: is an email unique among live users in any
  letter case, and free again once its user is soft-deleted?
- downgrade: `alembic downgrade base`;
- stairway: every revision, oldest first: up, down one step, up again;
- x_url: `alembic -x url=OTHER_URL upgrade head`: the option overrides DATABASE_URL.

This file runs in the learner's environment: it imports alembic, sqlalchemy and
the learner's models (for the index phase), never the grader.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

RESULT = Path(sys.argv[1])
URL = os.environ["DATABASE_URL"]
OTHER_URL = sys.argv[2]
report: dict[str, Any] = {}


def save() -> None:
    RESULT.write_text(json.dumps(report, default=str), encoding="utf-8")


def describe(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"the code called sys.exit({exc.code!r})"
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    text = f"{type(exc).__name__}: {lines[0][:300]}" if lines else type(exc).__name__
    where = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename.startswith(os.getcwd()) and "site-packages" not in frame.filename
    ]
    if where:
        frame = where[-1]
        text += f" (in {os.path.relpath(frame.filename)} line {frame.lineno})"
    return text


def state(url: str = URL) -> dict[str, Any]:
    """The tables, the Alembic revision and the columns of users, read from the database."""
    from sqlalchemy import inspect, text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    def read(connection: Any) -> dict[str, Any]:
        inspector = inspect(connection)
        tables = sorted(inspector.get_table_names())
        version = None
        if "alembic_version" in tables:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
            version = [row[0] for row in rows]
        columns = []
        if "users" in tables:
            columns = sorted(column["name"] for column in inspector.get_columns("users"))
        return {"tables": tables, "version": version, "users_columns": columns}

    async def run() -> dict[str, Any]:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(read)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except Exception as exc:  # reading the state must never stop the probe
        return {"error": describe(exc)}


def config(buffer: io.StringIO | None = None, x: list[str] | None = None) -> Any:
    from alembic.config import Config

    options: dict[str, Any] = {}
    if Path("pyproject.toml").is_file():
        options["toml_file"] = "pyproject.toml"
    if buffer is not None:
        options["output_buffer"] = buffer
    if x is not None:  # what the command line's `-x` options leave for env.py
        options["cmd_opts"] = argparse.Namespace(x=x)
    try:
        return Config("alembic.ini", **options)
    except TypeError:  # an Alembic without toml_file
        options.pop("toml_file", None)
        return Config("alembic.ini", **options)


def phase(name: str, action: Any) -> bool:
    """Run one phase; record ok/error and the database state after it."""
    entry: dict[str, Any] = {"ok": False}
    report[name] = entry
    save()
    try:
        extra = action()
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        entry["error"] = describe(exc)
    else:
        entry["ok"] = True
        if isinstance(extra, dict):
            entry.update(extra)
    entry["state"] = state()
    save()
    return bool(entry["ok"])


def offline() -> dict[str, Any]:
    from alembic import command

    buffer = io.StringIO()
    command.upgrade(config(buffer), "head", sql=True)
    return {"sql": buffer.getvalue()[-20000:]}


def upgrade() -> None:
    from alembic import command

    command.upgrade(config(), "head")


def check() -> None:
    from alembic import command

    command.check(config())


def unique_email_index() -> dict[str, Any]:
    """Is an email unique among live users in any case, and free again once deleted?

    Rows go in through the learner's own table definition (so ids and timestamps
    get the right types) with plain Core inserts; the table is emptied afterwards.
    """
    import uuid
    from datetime import UTC, datetime

    from sqlalchemy import delete, insert, update
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    import app.domain.models.user  # noqa: F401  (registers the users table)
    from app.domain.models.base import Base

    users = Base.metadata.tables["users"]
    now = datetime.now(UTC)

    def row(email: str) -> dict[str, Any]:
        return {
            "id": uuid.uuid4(),
            "email": email,
            "password_hash": "h",
            "full_name": "Mig",
            "created_at": now,
            "updated_at": now,
        }

    async def attempt(statement: Any) -> bool:
        try:
            async with engine.begin() as connection:
                await connection.execute(statement)
        except IntegrityError:
            return False
        return True

    async def run() -> dict[str, Any]:
        first = row("mig@example.com")
        try:
            await attempt(insert(users).values(**first))
            other_case = await attempt(insert(users).values(**row("MIG@example.com")))
            await attempt(update(users).where(users.c.id == first["id"]).values(deleted_at=now))
            reused = await attempt(insert(users).values(**row("mig@example.com")))
        finally:
            async with engine.begin() as connection:
                await connection.execute(delete(users))
        return {"other_case_accepted": other_case, "reuse_accepted": reused}

    engine = create_async_engine(URL, poolclass=NullPool)
    try:
        return asyncio.run(run())
    finally:
        asyncio.run(engine.dispose())


def downgrade() -> None:
    from alembic import command

    command.downgrade(config(), "base")


def stairway() -> dict[str, Any]:
    from alembic import command
    from alembic.script import ScriptDirectory

    cfg = config()
    script = ScriptDirectory.from_config(cfg)
    heads = list(script.get_heads())
    if len(heads) != 1:
        raise RuntimeError(f"expected exactly one head revision, found {heads}")
    revisions = [revision.revision for revision in reversed(list(script.walk_revisions()))]
    if not revisions:
        raise RuntimeError("alembic/versions holds no revision")
    steps = []
    for revision in revisions:
        down = script.get_revision(revision).down_revision
        for label, run, expected in (
            ("up", lambda r=revision: command.upgrade(cfg, r), revision),
            ("down", lambda: command.downgrade(cfg, "-1"), down),
            ("up again", lambda r=revision: command.upgrade(cfg, r), revision),
        ):
            try:
                run()
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt):
                    raise
                raise RuntimeError(
                    f"revision {revision} failed going {label}: {describe(exc)}"
                ) from None
            after = state()
            version = after.get("version") or []
            wanted = [] if expected is None else [expected]
            if isinstance(expected, tuple):
                wanted = sorted(expected)
            if sorted(version) != wanted:
                raise RuntimeError(
                    f"after revision {revision} went {label}, the database is at "
                    f"{version or 'base'}, expected {wanted or 'base'}"
                )
            if label == "down" and expected is None:
                left = [t for t in after.get("tables", []) if t != "alembic_version"]
                if left:
                    raise RuntimeError(
                        f"after revision {revision} went down to base, tables remain: {left}"
                    )
            steps.append(f"{revision} {label}")
    return {"revisions": revisions, "head": heads[0], "steps": steps}


def x_url() -> dict[str, Any]:
    from alembic import command

    command.upgrade(config(x=[f"url={OTHER_URL}"]), "head")
    return {"other": state(OTHER_URL)}


def main() -> None:
    report["empty"] = state()
    save()
    phase("offline", offline)
    if phase("upgrade", upgrade):
        phase("check", check)
        phase("index", unique_email_index)
        phase("downgrade", downgrade)
    phase("stairway", stairway)
    phase("x_url", x_url)
    report["done"] = True
    save()


if __name__ == "__main__":
    main()
