"""The benchmark's database is prepared as the served solution runs: in production."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from course.bench.scenarios import ADMIN_EMAIL, DEMO_USERS, prepare_database, solution_env


def test_the_production_settings_migrate_and_seed_the_demo_users(tmp_path: Path) -> None:
    database = tmp_path / "bench.db"
    prepare_database(solution_env(f"sqlite+aiosqlite:///{database}"))
    with sqlite3.connect(database) as connection:
        emails = [row[0] for row in connection.execute("SELECT email FROM users")]
    assert ADMIN_EMAIL in emails
    assert len(emails) == DEMO_USERS + 1
