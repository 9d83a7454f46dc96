"""A uvicorn server in its own process, pinned to one core, and its memory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from course.pgcluster import free_port

SERVER_CORE = "0"  # the server on one core, the load generator on the other
LOAD_CORE = "1"


def pinned(core: str, command: list[str]) -> list[str]:
    """`command` pinned to `core` with taskset, or unpinned where taskset is missing."""
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", core, *command]
    return command


@dataclass
class Server:
    """A running uvicorn process and where to reach it."""

    base_url: str
    process: subprocess.Popen[bytes]

    def rss_mb(self) -> float:
        """Resident memory of the server now, in MB (from /proc, no psutil needed)."""
        return _status_kb(self.process.pid, "VmRSS") / 1024

    def peak_rss_mb(self) -> float:
        """The highest resident memory the server has had since it started, in MB."""
        return _status_kb(self.process.pid, "VmHWM") / 1024


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


@contextmanager
def uvicorn(
    app: str, *, cwd: Path, env: dict[str, str], ready_path: str, log: IO[bytes]
) -> Iterator[Server]:
    """Serve `app` with one worker and no access log, pinned to the server core.

    `--no-access-log` matches the peers' settings; the solution's own request-log
    middleware still writes one line per request (to `log`), as in production.
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
    ]
    process = subprocess.Popen(
        pinned(SERVER_CORE, command), cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    server = Server(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"uvicorn exited early ({process.returncode}); see {log.name}")
            try:
                if httpx.get(server.base_url + ready_path, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not become ready in 30 s; see {log.name}")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
