"""The measured runs: the bare-FastAPI ceiling, then the solution endpoint by endpoint."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from course.bench import load
from course.bench.load import Request, Result
from course.bench.server import Server, uvicorn
from course.manifest import REPO_ROOT

SOLUTION = REPO_ROOT / "solution"
API = "/api/v1"
CONNECTIONS = 32  # wrk -c32, as in the peers' measurements
LOGIN_CLIENTS = 4  # "health while four clients log in"
DEMO_USERS = 50
DEMO_LOGIN = "username=demo001%40example.com&password=demo-password"
ADMIN_EMAIL = "admin@example.com"


@dataclass
class Row:
    """One line of the table: a wrk run and the server's memory after it."""

    name: str
    target: str  # "ceiling" or "solution"
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    rss_mb: float

    @classmethod
    def of(cls, name: str, target: str, connections: int, result: Result, rss: float) -> Row:
        """Build a row from a wrk result."""
        return cls(
            name,
            target,
            connections,
            round(result.rps, 1),
            round(result.p50_ms, 3),
            round(result.p99_ms, 3),
            result.non_2xx,
            result.socket_errors,
            round(rss, 1),
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


class Bench:
    """Runs every scenario with one duration; rows accumulate in `rows`."""

    def __init__(self, seconds: float, workdir: Path) -> None:
        self.seconds = seconds
        self.warmup = max(1, min(2, round(seconds / 5)))  # wrk takes whole seconds
        self.workdir = workdir
        self.rows: list[Row] = []
        self.peak_login_rss_mb = 0.0

    def _measure(
        self,
        server: Server,
        name: str,
        target: str,
        request: Request,
        connections: int = CONNECTIONS,
    ) -> Result:
        """Warm the endpoint up, run wrk, record the row with the RSS after it."""
        load.run(server.base_url, request, connections=connections, seconds=self.warmup)
        result = load.run(server.base_url, request, connections=connections, seconds=self.seconds)
        self.rows.append(Row.of(name, target, connections, result, server.rss_mb()))
        return result

    def ceiling(self) -> None:
        """The bare FastAPI /ping app: throughput at 32 connections and latency alone."""
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        with (
            (self.workdir / "ping.log").open("wb") as log,
            uvicorn(
                "course.bench.ping_app:app", cwd=self.workdir, env=env, ready_path="/ping", log=log
            ) as server,
        ):
            self._measure(server, "health", "ceiling", Request("/ping"))
            self._measure(server, "health p99, 1 client", "ceiling", Request("/ping"), 1)

    def solution(self, database_url: str) -> None:
        """The solution on `database_url`: migrate, seed, then every endpoint."""
        env = solution_env(database_url)
        prepare_database(env)
        with (
            (self.workdir / "solution.log").open("wb") as log,
            uvicorn(
                "app.main:app", cwd=self.workdir, env=env, ready_path=f"{API}/health/ready", log=log
            ) as server,
        ):
            token, user_id = admin_token_and_a_user(server.base_url, env)
            self._measure(server, "health", "solution", Request(f"{API}/health"))
            self._measure(
                server, "current user", "solution", Request(f"{API}/users/me", token=token)
            )
            self._measure(
                server, "list 20 users", "solution", Request(f"{API}/users?limit=20", token=token)
            )
            self._measure(
                server, "user by id", "solution", Request(f"{API}/users/{user_id}", token=token)
            )
            self._login_with_peak_rss(server)
            self._health_under_logins(server)

    def _login_with_peak_rss(self, server: Server) -> None:
        """32 concurrent logins, sampling the server's memory as they run."""
        login = Request(f"{API}/auth/login", method="POST", form=DEMO_LOGIN)
        peak = [server.rss_mb()]
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], server.rss_mb())
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            self._measure(server, "login", "solution", login)
        finally:
            stop.set()
            sampler.join()
        self.peak_login_rss_mb = round(max(peak[0], server.rss_mb()), 1)

    def _health_under_logins(self, server: Server) -> None:
        """Health latency from one client, alone and while four clients log in."""
        health = Request(f"{API}/health")
        self._measure(server, "health p99, 1 client", "solution", health, 1)
        login = Request(f"{API}/auth/login", method="POST", form=DEMO_LOGIN)
        # The logins start first and outlast the probe, so it sees hashing all along.
        logins = load.start(
            server.base_url,
            login,
            connections=LOGIN_CLIENTS,
            seconds=self.seconds + 2 * self.warmup,
        )
        try:
            time.sleep(self.warmup)
            result = load.run(server.base_url, health, connections=1, seconds=self.seconds)
        finally:
            login_result = load.finish(logins)
        row = Row.of(
            f"health p99, 1 client + {LOGIN_CLIENTS} logging in",
            "solution",
            1,
            result,
            server.rss_mb(),
        )
        self.rows.append(row)
        self.rows.append(
            Row.of(
                f"login, {LOGIN_CLIENTS} clients (beside the probe)",
                "solution",
                LOGIN_CLIENTS,
                login_result,
                server.rss_mb(),
            )
        )


def solution_env(database_url: str) -> dict[str, str]:
    """The solution's settings for the benchmark: production mode, JSON logs at INFO."""
    return {
        **os.environ,
        "PYTHONPATH": str(SOLUTION),
        "DATABASE_URL": database_url,
        "ENVIRONMENT": "production",  # what a deployment runs; it demands real secrets
        "DEBUG": "false",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_REFRESH_SECRET_KEY": secrets.token_urlsafe(48),
        "FIRST_ADMIN_EMAIL": ADMIN_EMAIL,
        "FIRST_ADMIN_PASSWORD": secrets.token_urlsafe(24),
        # A pool as large as wrk's connections: no request waits for a connection.
        "DB_POOL_SIZE": str(CONNECTIONS),
        "DB_MAX_OVERFLOW": "0",
    }


def prepare_database(env: dict[str, str]) -> None:
    """Apply the migrations and seed the admin and the demo users.

    The seed script refuses demo users in production, so it alone runs as development:
    the database is the bench's own, thrown away afterwards.
    """
    for command, overrides in (
        (["-m", "alembic", "upgrade", "head"], {}),
        (["-m", "scripts.seed", "--demo", str(DEMO_USERS)], {"ENVIRONMENT": "development"}),
    ):
        subprocess.run(
            [sys.executable, *command], cwd=SOLUTION, env={**env, **overrides}, check=True,
            capture_output=True,
        )  # fmt: skip


def admin_token_and_a_user(base_url: str, env: dict[str, str]) -> tuple[str, str]:
    """Log in as the admin; return the access token and the id of a demo user."""
    form = {"username": ADMIN_EMAIL, "password": env["FIRST_ADMIN_PASSWORD"]}
    with httpx.Client(base_url=base_url, timeout=30) as client:
        response = client.post(f"{API}/auth/login", data=form)
        response.raise_for_status()
        token = response.json()["access_token"]
        search = urllib.parse.quote("demo002")
        users = client.get(
            f"{API}/users?search={search}", headers={"Authorization": f"Bearer {token}"}
        )
        users.raise_for_status()
        return token, users.json()["items"][0]["id"]
