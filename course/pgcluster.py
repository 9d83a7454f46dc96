"""A throwaway PostgreSQL cluster: initdb + pg_ctl in a temp dir, as the `postgres` user.

The resilience tests stop and restart it under a running API, which they must not do
to a shared server; the benchmark falls back to it when TEST_POSTGRES_URL is unset.
PostgreSQL refuses to run as root, hence `runuser -u postgres`.

`socket_cluster` is the grader's: a cluster per grading with no TCP at all, reachable
through a Unix socket in a folder of its own (bound into the grading sandbox) by one
role that is no superuser.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "postgres"


def postgres_bin_dir() -> Path | None:
    """The directory holding initdb and pg_ctl, or None if PostgreSQL is not installed."""
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    # Debian keeps the server binaries off PATH, one directory per major version.
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def unavailable_reason() -> str | None:
    """Why a throwaway cluster cannot be started here, or None if it can."""
    if postgres_bin_dir() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    if os.geteuid() != 0:
        return "starting a cluster as the postgres user needs root (runuser)"
    if shutil.which("runuser") is None:
        return "runuser is not available"
    try:
        import pwd

        pwd.getpwnam(SUPERUSER)
    except KeyError:
        return f"there is no {SUPERUSER!r} system user"
    return None


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Cluster:
    """A running throwaway cluster; `url` reaches its `postgres` database over TCP."""

    bin_dir: Path
    data_dir: Path
    log_file: Path
    port: int

    @property
    def url(self) -> str:
        """SQLAlchemy URL (asyncpg) of the cluster's `postgres` database."""
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", SUPERUSER, "--", str(self.bin_dir / "pg_ctl"), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1"
        self._pg_ctl(
            "-D", str(self.data_dir), "-l", str(self.log_file), "-o", options, "-w", "start"
        )

    def stop(self) -> None:
        """Stop the server at once, dropping every connection (`-m fast`)."""
        self._pg_ctl("-D", str(self.data_dir), "-m", "fast", "-w", "stop")


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """Create and start a cluster in a temp dir owned by postgres; remove it afterwards."""
    reason = unavailable_reason()
    if reason:
        raise RuntimeError(reason)
    bin_dir = postgres_bin_dir()
    assert bin_dir is not None
    root = Path(tempfile.mkdtemp(prefix="pgcluster-"))
    shutil.chown(root, SUPERUSER, SUPERUSER)
    root.chmod(0o700)
    cluster = Cluster(bin_dir, root / "data", root / "server.log", free_port())
    try:
        subprocess.run(
            [
                "runuser",
                "-u",
                SUPERUSER,
                "--",
                str(bin_dir / "initdb"),
                "-D",
                str(cluster.data_dir),
                "-A",
                "trust",
                "-U",
                SUPERUSER,
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        cluster.start()
        try:
            yield cluster
        finally:
            # Already stopped by a test that stops it on purpose: nothing to do.
            subprocess.run(
                [
                    "runuser",
                    "-u",
                    SUPERUSER,
                    "--",
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(cluster.data_dir),
                    "-m",
                    "immediate",
                    "stop",
                ],
                capture_output=True,
                timeout=60,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


GRADER_ROLE = "grader"  # the one role a socket cluster lets in: LOGIN CREATEDB, no superuser
GRADER_DATABASE = "grade"  # owned by GRADER_ROLE


def socket_cluster_problem() -> str | None:
    """Why `socket_cluster` cannot start a cluster here, or None if it can.

    As root the server runs as the `postgres` user (`runuser`); any other user runs it
    as themselves.
    """
    if postgres_bin_dir() is None:
        return "the PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    if os.geteuid() == 0:
        return unavailable_reason()
    return None


@dataclass
class SocketCluster:
    """A running socket cluster: `url` reaches its database as GRADER_ROLE."""

    root: Path
    socket_dir: Path  # the only way in: bind it into a sandbox, nothing else

    @property
    def url(self) -> str:
        """SQLAlchemy URL (asyncpg, Unix socket) of GRADER_DATABASE as GRADER_ROLE."""
        return f"postgresql+asyncpg://{GRADER_ROLE}@/{GRADER_DATABASE}?host={self.socket_dir}"


def _as_server_user(*command: str) -> list[str]:
    return ["runuser", "-u", SUPERUSER, "--", *command] if os.geteuid() == 0 else list(command)


# pg_hba.conf of a socket cluster: GRADER_ROLE over the socket and nothing else, so no
# one reaches a superuser (who could run programs on the machine: COPY ... TO PROGRAM).
SOCKET_HBA = f"local all {GRADER_ROLE} trust\n"
SETUP = (
    f"CREATE ROLE {GRADER_ROLE} LOGIN CREATEDB NOSUPERUSER NOCREATEROLE\n"
    f"CREATE DATABASE {GRADER_DATABASE} OWNER {GRADER_ROLE}\n"
)


@contextmanager
def socket_cluster() -> Iterator[SocketCluster]:
    """Create and start a private cluster; stop it and remove every file afterwards.

    It listens on no TCP port (`listen_addresses` empty), only on a Unix socket in
    `socket_dir`; its one role and database are made in single-user mode before it
    starts. Durability is off: it lives as long as one grading.
    """
    reason = socket_cluster_problem()
    if reason:
        raise RuntimeError(reason)
    bin_dir = postgres_bin_dir()
    assert bin_dir is not None
    root = Path(tempfile.mkdtemp(prefix="grade-pg-"))
    data, sockets = root / "data", root / "socket"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, SUPERUSER, SUPERUSER)
        shutil.chown(sockets, SUPERUSER, SUPERUSER)
    sockets.chmod(0o711)  # the sandbox's user may reach the socket, not list the folder
    cluster = SocketCluster(root, sockets)

    def server(*command: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            _as_server_user(*command), input=stdin, text=True, capture_output=True,
            timeout=120, check=True, cwd=root,
        )  # fmt: skip

    try:
        server(str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "reject",
               "--no-sync", "--no-instructions")  # fmt: skip
        single = server(str(bin_dir / "postgres"), "--single", "-D", str(data), "postgres",
                        stdin=SETUP)  # fmt: skip
        if "ERROR" in single.stderr:
            raise RuntimeError(f"setting up the grading cluster failed: {single.stderr[-500:]}")
        (data / "pg_hba.conf").write_text(SOCKET_HBA, encoding="utf-8")
        options = (f"-c listen_addresses='' -k {sockets} -c fsync=off -c full_page_writes=off "
                   "-c synchronous_commit=off")  # fmt: skip
        server(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"),
               "-o", options, "-w", "start")  # fmt: skip
        try:
            yield cluster
        finally:
            subprocess.run(
                _as_server_user(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                "-w", "stop"),
                capture_output=True, timeout=60, cwd=root,
            )  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)
