"""Run & verify: the app served by uvicorn in its own process, as in production.

The other tests call the app in-process; this one proves the same behaviour holds
through a real server and a real socket, with JSON logs on stdout.
"""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import API, SOLUTION_DIR

PASSWORD = "server-process-password"


@dataclass
class Server:
    """A running uvicorn process and where to reach it."""

    base_url: str
    process: subprocess.Popen[str]

    def stop(self) -> list[str]:
        """Stop the server and return what it printed, one line per item."""
        self.process.terminate()
        output, _ = self.process.communicate(timeout=15)
        return output.splitlines()


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """uvicorn serving the app on the test database, logging JSON."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "DEBUG": "false",
        "ENVIRONMENT": "staging",
    }
    process = subprocess.Popen(
        # As docker/entrypoint.sh serves it: uvicorn names itself in no `server` header.
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--port",
            str(port),
            "--no-server-header",
        ],
        cwd=tmp_path,  # no stray .env, and proof that the app does not depend on its cwd
        env={**env, "PYTHONPATH": str(SOLUTION_DIR)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = Server(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{server.base_url}{API}/health", timeout=1)
            break
        except httpx.TransportError:
            if process.poll() is not None:
                pytest.fail("uvicorn exited early:\n" + "\n".join(server.stop()))
            time.sleep(0.1)
    else:
        pytest.fail("uvicorn did not answer within 20 s:\n" + "\n".join(server.stop()))
    yield server
    if process.poll() is None:
        server.stop()


def test_server_process_serves_health_auth_and_crud_with_json_logs(server: Server) -> None:
    with httpx.Client(base_url=server.base_url + API, timeout=10) as http:
        health = http.get("/health", headers={"X-Request-ID": "verify-1"})
        assert health.status_code == 200
        assert health.json()["status"] == "healthy"
        assert health.headers["X-Request-ID"] == "verify-1"
        assert "server" not in health.headers
        assert health.headers["X-Content-Type-Options"] == "nosniff"
        assert http.get("/health/ready").json() == {"status": "ready", "database": "ok"}

        email = "run-and-verify@example.com"
        registered = http.post(
            "/auth/register", json={"email": email, "password": PASSWORD, "full_name": "Run Verify"}
        )
        assert registered.status_code == 201
        login = http.post("/auth/login", data={"username": email, "password": PASSWORD})
        assert login.status_code == 200
        tokens = login.json()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert http.get("/users/me", headers=headers).json()["email"] == email
        renamed = http.patch("/users/me", json={"full_name": "Renamed"}, headers=headers)
        assert renamed.json()["full_name"] == "Renamed"
        assert http.get("/users/me", headers=headers).json()["full_name"] == "Renamed"
        assert http.get(f"{server.base_url}/docs").status_code == 404  # DEBUG is off

    lines = server.stop()
    records = [json.loads(line)["record"] for line in lines if line.strip()]  # every line is JSON
    requests = [r["extra"] for r in records if "status_code" in r["extra"]]
    [first] = [r for r in requests if r["request_id"] == "verify-1"]  # one line per request
    assert (first["method"], first["path"], first["status_code"]) == ("GET", f"{API}/health", 200)
    assert first["duration_ms"] >= 0
    seen = {(r["method"], r["path"], r["status_code"]) for r in requests}
    assert {
        ("GET", f"{API}/health/ready", 200),
        ("POST", f"{API}/auth/register", 201),
        ("POST", f"{API}/auth/login", 200),
        ("GET", f"{API}/users/me", 200),
        ("PATCH", f"{API}/users/me", 200),
        ("GET", "/docs", 404),
    } <= seen
    assert all(r["request_id"] not in ("", "-") for r in requests)
    assert any(r["name"].startswith("uvicorn") for r in records), "uvicorn's logs reach Loguru"
    output = "\n".join(lines)
    for secret in (PASSWORD, tokens["access_token"], tokens["refresh_token"], "$argon2"):
        assert secret not in output


def test_server_process_refuses_a_streamed_body_over_the_limit(server: Server) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(64):  # 2 MiB in all, no Content-Length: chunked
            yield b" " * 32768

    with httpx.Client(base_url=server.base_url + API, timeout=10) as http:
        response = http.post(
            "/auth/register", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 413, response.text
        assert response.json()["request_id"] == response.headers["X-Request-ID"]
        assert "server" not in response.headers
        declared = http.post("/auth/register", content=b" " * (1048576 + 1))
        assert declared.status_code == 413, declared.text
        assert http.get("/health").status_code == 200  # and the server serves on


def test_server_process_keeps_sessions_in_the_database(server: Server) -> None:
    """Sessions through a real server: rotation, reuse, logout and a new password."""
    with httpx.Client(base_url=server.base_url + API, timeout=10) as http:
        email = "sessions-over-http@example.com"
        body = {"email": email, "password": PASSWORD, "full_name": "Session Person"}
        assert http.post("/auth/register", json=body).status_code == 201

        def log_in(password: str = PASSWORD) -> dict[str, str]:
            response = http.post("/auth/login", data={"username": email, "password": password})
            assert response.status_code == 200, response.text
            assert response.headers["Cache-Control"] == "no-store"
            tokens: dict[str, str] = response.json()
            return tokens

        def bearer(tokens: dict[str, str]) -> dict[str, str]:
            return {"Authorization": f"Bearer {tokens['access_token']}"}

        def refresh(token: str) -> httpx.Response:
            return http.post("/auth/refresh", json={"refresh_token": token})

        first = log_in()
        second = refresh(first["refresh_token"])
        assert second.status_code == 200, second.text
        assert refresh(first["refresh_token"]).status_code == 401  # reused: the session ends
        assert refresh(second.json()["refresh_token"]).status_code == 401
        assert http.get("/users/me", headers=bearer(second.json())).status_code == 401

        laptop, phone = log_in(), log_in()
        assert http.post("/auth/logout", headers=bearer(laptop)).status_code == 204
        assert http.get("/users/me", headers=bearer(laptop)).status_code == 401
        assert http.get("/users/me", headers=bearer(phone)).status_code == 200

        change = {"password": "a-new-server-passphrase", "current_password": PASSWORD}
        assert http.patch("/users/me", json=change, headers=bearer(phone)).status_code == 200
        assert http.get("/users/me", headers=bearer(phone)).status_code == 401
        assert http.get("/users/me", headers=bearer(log_in(change["password"]))).status_code == 200
