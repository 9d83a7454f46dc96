"""`nox -s serve -- workspace`: a learner runs their own app, with its tables from step 4."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from course.checkpoints import Stage, build
from course.grading.runner import LEARNER_SETTINGS
from course.manifest import REPO_ROOT, load_manifest
from course.pgcluster import free_port
from tests.solution_server import Server

MANIFEST = load_manifest()


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Stage]:
    return build(MANIFEST, tmp_path_factory.mktemp("stages"))


@contextmanager
def served(project: Path) -> Iterator[Server]:
    """`python -m course serve PROJECT` on a free port, stopped (its whole group) on exit."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in LEARNER_SETTINGS}
    process = subprocess.Popen(
        [sys.executable, "-m", "course", "serve", str(project), "--no-access-log"],
        cwd=REPO_ROOT, env={**env, "PORT": str(port)}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        yield Server(f"http://127.0.0.1:{port}", process)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()


def tables(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def test_at_step_2_the_learners_app_serves_its_health_check(
    stages: dict[int, Stage], tmp_path: Path
) -> None:
    project = tmp_path / "workspace"
    shutil.copytree(stages[2].end, project)
    with served(project) as server:
        response = server.wait_until_answering("/api/v1/health", seconds=60)
    assert response.status_code == 200 and response.json()["status"] == "healthy"


def test_from_step_4_the_learners_tables_are_created_first(
    stages: dict[int, Stage], tmp_path: Path
) -> None:
    project = tmp_path / "workspace"
    shutil.copytree(stages[4].end, project)
    with served(project) as server:
        response = server.wait_until_answering("/api/v1/health/ready", seconds=60)
    assert response.status_code == 200, response.text
    assert "users" in tables(project / "app.db")


def test_from_step_8_the_migrations_and_the_seed_script_run_first(
    stages: dict[int, Stage], tmp_path: Path
) -> None:
    project = tmp_path / "workspace"
    shutil.copytree(stages[8].end, project)
    with served(project) as server:
        response = server.wait_until_answering("/api/v1/health/ready", seconds=60)
    assert response.status_code == 200, response.text
    assert {"users", "alembic_version"} <= tables(project / "app.db")
    with sqlite3.connect(project / "app.db") as connection:
        [(admins,)] = connection.execute("SELECT count(*) FROM users WHERE role = 'admin'")
    assert admins == 1, "the seed script created the first admin"
