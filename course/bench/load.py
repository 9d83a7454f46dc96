"""wrk runs: one endpoint, one set of settings, one parsed result."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from course.bench.server import LOAD_CORE, pinned

SCRIPT = Path(__file__).with_name("wrk.lua")
MARKER = "BENCH_RESULT "
INSTALL_HINT = (
    "wrk is not installed: on Debian/Ubuntu `sudo apt-get install -y wrk`, "
    "on macOS `brew install wrk`"
)


@dataclass(frozen=True)
class Request:
    """What wrk sends: a path, and optionally a bearer token or a login form."""

    path: str
    method: str = "GET"
    token: str = ""
    form: str = ""


@dataclass
class Result:
    """One wrk run, latencies in milliseconds."""

    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        """Requests per second over the run."""
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_available() -> bool:
    """Whether the wrk binary is on PATH."""
    return shutil.which("wrk") is not None


def start(
    base_url: str, request: Request, *, connections: int, seconds: float
) -> subprocess.Popen[str]:
    """Start wrk (one thread, pinned to the load core) on `request`; collect with `finish`."""
    env = {
        **os.environ,
        "BENCH_METHOD": request.method,
        "BENCH_TOKEN": request.token,
        "BENCH_FORM": request.form,
    }
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "30s",
        "-s",
        str(SCRIPT),
        base_url + request.path,
    ]
    return subprocess.Popen(
        pinned(LOAD_CORE, command),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> Result:
    """Wait for a wrk run and parse the line the Lua script prints at the end."""
    output, _ = process.communicate()
    for line in output.splitlines():
        if line.startswith(MARKER):
            raw = json.loads(line.removeprefix(MARKER))
            return Result(
                requests=raw["requests"],
                seconds=raw["duration_us"] / 1e6,
                non_2xx=raw["status_errors"],
                socket_errors=raw["socket_errors"],
                p50_ms=raw["p50_us"] / 1000,
                p99_ms=raw["p99_us"] / 1000,
                max_ms=raw["max_us"] / 1000,
            )
    raise RuntimeError(f"wrk printed no result:\n{output}")


def run(base_url: str, request: Request, *, connections: int, seconds: float) -> Result:
    """One wrk run, start to finish."""
    return finish(start(base_url, request, connections=connections, seconds=seconds))
