"""The reference solution served by uvicorn in a subprocess, for the tests that need a
real server (the fault tests, the Swagger UI check)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from course.pgcluster import free_port


@dataclass
class Server:
    """The solution served by uvicorn in a subprocess."""

    base_url: str
    process: subprocess.Popen[str]

    def wait_until_answering(self, path: str, seconds: float) -> httpx.Response:
        """Poll `path` until the server answers it at all; fail the test if it exits first."""
        deadline = time.monotonic() + seconds
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"uvicorn exited early:\n{self.process.communicate()[0]}")
            try:
                return httpx.get(f"{self.base_url}{path}", timeout=2)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail(f"uvicorn did not answer within {seconds:g} s")
                time.sleep(0.1)


@contextmanager
def uvicorn_solution(env: dict[str, str], cwd: Path) -> Iterator[Server]:
    """Start `app.main:app` (PYTHONPATH in `env` names the project) on a free port.

    `cwd` is a temporary folder, so no `.env` file plays a part. The server is stopped on
    exit, killed if it does not stop within 15 s.
    """
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port), "--no-access-log"],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        yield Server(f"http://127.0.0.1:{port}", process)
    finally:
        process.terminate()
        try:
            process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
