"""Step 8, D20: Alembic builds the schema from empty, agrees with the models, goes up and down.

Every check reads the report of one probe run (alembic_probe.py) in a copy of the
project, with the database URL given ONLY as the DATABASE_URL setting: no `-x url`
(but in the phase that checks it), no `sqlalchemy.url` from the grader. See that file
for the phases. The log check reads the `alembic upgrade head` run before the server.
"""

import re
from typing import Any

import pytest

from course.grading.fixtures import Project

from .conftest import ServerRun, learner_metadata

DEPEND_ON_UPGRADE = ("check", "index", "downgrade")


def phase(report: dict[str, Any], name: str, what: str) -> dict[str, Any]:
    """One phase of the probe; fail with the reason if it did not succeed."""
    entry = report.get(name)
    if entry is None:
        upgrade = report.get("upgrade") or {}
        if name in DEPEND_ON_UPGRADE and upgrade and not upgrade.get("ok"):
            pytest.fail(
                f"could not check this: `alembic upgrade head` failed first: {upgrade.get('error')}"
            )
        pytest.fail(
            f"could not check this: the Alembic run stopped early: {report['process'].describe()}"
        )
    if not entry.get("ok"):
        pytest.fail(f"expected {what}, found: {entry.get('error', 'an error')}")
    return entry


@pytest.mark.grade("D20", 1)
def test_alembic_files_are_present(project: Project) -> None:
    missing = [name for name in ("alembic.ini", "alembic/env.py") if not project.exists(name)]
    assert not missing, f"expected {', '.join(missing)} in the project, found none"
    versions = project.path("alembic/versions")
    revisions = sorted(path.name for path in versions.glob("*.py")) if versions.is_dir() else []
    assert revisions, "expected at least one migration in alembic/versions/, found none"


@pytest.mark.grade("D20", 2)
def test_upgrade_head_builds_the_schema_from_empty(alembic_report: dict[str, Any]) -> None:
    phase(alembic_report, "upgrade", "`alembic upgrade head` to succeed on an empty database")


@pytest.mark.grade("D20", 2)
def test_upgrade_reaches_the_database_named_by_the_database_url_setting(
    alembic_report: dict[str, Any],
) -> None:
    state = phase(alembic_report, "upgrade", "`alembic upgrade head` to succeed")["state"]
    tables = state.get("tables", [])
    assert "users" in tables and "alembic_version" in tables, (
        "expected `alembic upgrade head` to create users and alembic_version in the database "
        f"that DATABASE_URL names, found the tables {tables}: does alembic/env.py read the URL "
        "from the app settings (not from alembic.ini)?"
    )


@pytest.mark.grade("D20", 1)
def test_migrated_users_table_has_the_models_columns(alembic_report: dict[str, Any]) -> None:
    state = phase(alembic_report, "upgrade", "`alembic upgrade head` to succeed")["state"]
    model_columns = sorted(learner_metadata().tables["users"].columns.keys())
    migrated = state.get("users_columns", [])
    assert migrated == model_columns, (
        f"expected the migrated users table to have the model's columns {model_columns}, "
        f"found {migrated}"
    )


@pytest.mark.grade("D20", 2)
def test_alembic_check_finds_no_difference(alembic_report: dict[str, Any]) -> None:
    phase(
        alembic_report,
        "check",
        "`alembic check` to find no difference between the models and the migrations",
    )


@pytest.mark.grade("D20", 2)
def test_every_revision_goes_up_down_and_up_again(alembic_report: dict[str, Any]) -> None:
    phase(alembic_report, "downgrade", "`alembic downgrade base` to succeed")
    base = alembic_report["downgrade"]["state"]
    left = [name for name in base.get("tables", []) if name != "alembic_version"]
    assert not left, f"expected `alembic downgrade base` to drop every table, found {left} left"
    phase(alembic_report, "stairway", "every revision to go up, down and up again")


@pytest.mark.grade("D20", 1)
def test_offline_mode_prints_the_sql_without_touching_the_database(
    alembic_report: dict[str, Any],
) -> None:
    entry = phase(alembic_report, "offline", "`alembic upgrade head --sql` (offline mode) to work")
    sql = entry.get("sql", "")
    assert re.search(r'create\s+table\s+"?users"?', sql, flags=re.IGNORECASE), (
        "expected `alembic upgrade head --sql` to print CREATE TABLE users, found: "
        f"{sql.strip()[:200] or 'nothing'}"
    )
    tables = entry.get("state", {}).get("tables", [])
    assert not tables, f"expected offline mode to leave the database empty, found {tables}"


@pytest.mark.grade("D20", 1)
def test_the_x_url_option_overrides_the_database_url_setting(
    alembic_report: dict[str, Any],
) -> None:
    entry = phase(
        alembic_report, "x_url", "`alembic -x url=<another database> upgrade head` to work"
    )
    tables = entry.get("other", {}).get("tables", [])
    assert "users" in tables and "alembic_version" in tables, (
        "expected `alembic -x url=<another database> upgrade head` to migrate the database "
        f"that -x url names, found its tables {tables}: in alembic/env.py, take the URL "
        'from `context.get_x_argument(as_dictionary=True).get("url")` first, and fall back '
        "to DATABASE_URL only without it"
    )


@pytest.mark.grade("D20", 1)
def test_upgrade_head_logs_the_revisions_it_applies(server_run: ServerRun) -> None:
    migration = server_run.migration
    assert migration is not None, "expected a run of `alembic upgrade head`, found none"
    output = migration.stdout + migration.stderr
    assert re.search(r"running upgrade", output, flags=re.IGNORECASE), (
        "expected `alembic upgrade head` to log each revision it applies (`INFO "
        "[alembic.runtime.migration] Running upgrade  -> 0001, ...`), found: "
        f"{migration.tail()}. Keep `fileConfig(config.config_file_name, ...)` at the top of "
        "alembic/env.py: it applies the logging of alembic.ini, whose [logger_alembic] "
        "is at INFO"
    )


@pytest.mark.grade("D20", 1)
def test_env_py_renders_migrations_in_batch_mode(project: Project) -> None:
    source = project.read("alembic/env.py")
    assert re.search(r"render_as_batch\s*=\s*(?!False\b)\S", source), (
        "expected alembic/env.py to pass render_as_batch=True to context.configure(), so that "
        "SQLite can alter tables"
    )


@pytest.mark.grade("D20", 2)
def test_migrations_make_emails_unique_among_live_users_in_any_case(
    alembic_report: dict[str, Any],
) -> None:
    entry = phase(alembic_report, "index", "users to be stored in the migrated database")
    assert entry.get("other_case_accepted") is False, (
        "expected the migrated database to refuse MIG@example.com while mig@example.com "
        "exists: the migration needs the unique index on lower(email)"
    )
    assert entry.get("reuse_accepted") is True, (
        "expected the migrated database to accept mig@example.com again once its user is "
        "soft-deleted: the migration's unique index must have WHERE deleted_at IS NULL"
    )
