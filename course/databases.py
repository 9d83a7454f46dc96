"""Throwaway PostgreSQL databases: on the server `TEST_POSTGRES_URL` names, or (for a
grading, `grading_database`) in a private cluster the grading sandbox can reach."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine


async def _execute(server_url: str, statement: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@contextmanager
def throwaway_database(server_url: str, prefix: str = "grade") -> Iterator[str]:
    """Create an empty database on the server, yield its URL, drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    asyncio.run(_execute(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class DatabaseUnavailable(RuntimeError):
    """No PostgreSQL database can be made for a grading here."""


@contextmanager
def grading_database(*, sandboxed: bool) -> Iterator[str]:
    """A PostgreSQL database private to one grading; yield its URL, remove it afterwards.

    A cluster of its own (`course.pgcluster.socket_cluster`): no TCP, a Unix socket in a
    folder the grading sandbox is given, one role that is no superuser. The machine's
    servers stay out of the sandbox's reach. Without the PostgreSQL server binaries,
    and only when grading runs unsandboxed (where nothing is out of reach anyway): a
    throwaway database on the server `TEST_POSTGRES_URL` names, as before the sandbox.
    """
    from course.pgcluster import socket_cluster, socket_cluster_problem

    problem = socket_cluster_problem()
    if problem is None:
        with socket_cluster() as cluster:
            yield cluster.url
        return
    server = os.environ.get("TEST_POSTGRES_URL")
    if sandboxed or not server:
        fallback = "" if sandboxed else " and TEST_POSTGRES_URL names no server"
        raise DatabaseUnavailable(
            f"grading on PostgreSQL starts a private cluster, but {problem}{fallback} "
            "(Debian: apt-get install -y postgresql)"
        )
    with throwaway_database(server) as url:
        yield url
