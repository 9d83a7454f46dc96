"""Step 8, the seed script: `python -m scripts.seed --demo N`, run twice on one database.

The first admin comes from the settings FIRST_ADMIN_EMAIL and FIRST_ADMIN_PASSWORD
(set in the environment here); the tables are built from the learner's models, so
these checks do not depend on the migrations. Every check of the runs needs a first
run that created the admin (and, for "twice changes nothing", the demo users): a
script that exits without seeding earns nothing. Two checks import the script and call
`seed()` and `main()` in the grader's process, on the grading database: what `seed()`
returns is seen only there, and a refused call costs no process.
"""

import inspect
import sys
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from course.grading.fixtures import Project, database_url, maybe_await
from course.grading.learner_code import Snapshot, describe_exception

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD, DEMO_USERS, SeedRuns

SEED_MODULE = "scripts.seed"  # its name when imported (`python -m` runs it as __main__)


def live(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for row in rows if row.get("deleted_at") is None]


def first_run(project: Project, runs: SeedRuns) -> list[dict[str, Any]]:
    if not project.exists("scripts/seed.py"):
        pytest.fail("expected the seed script scripts/seed.py, found none")
    assert runs.first.returncode == 0, (
        f"expected `python -m scripts.seed --demo {DEMO_USERS}` to succeed with "
        f"ENVIRONMENT=development, found: {runs.first.describe()}"
    )
    return runs.after_first


def emails(rows: list[dict[str, Any]]) -> list[str]:
    return [str(row.get("email", "")).lower() for row in live(rows)]


def seeded_admin(project: Project, runs: SeedRuns) -> list[dict[str, Any]]:
    """The first run succeeded and created the admin: a script that exits without
    seeding "runs", and a second run of it "changes nothing", trivially."""
    rows = first_run(project, runs)
    found = emails(rows)
    if not found:
        pytest.fail(
            f"expected `python -m scripts.seed --demo {DEMO_USERS}` to create the first admin "
            f"(FIRST_ADMIN_EMAIL={ADMIN_EMAIL}), found no users at all: the script exits "
            'without seeding. Run main() under `if __name__ == "__main__":` '
            "(`sys.exit(asyncio.run(main()))`) and have main() connect the database and call "
            "seed()"
        )
    assert ADMIN_EMAIL in found, (
        f"expected the seed script to create the first admin from FIRST_ADMIN_EMAIL "
        f"({ADMIN_EMAIL}), found only {found}: read the email from the settings"
    )
    return rows


def seeded(project: Project, runs: SeedRuns) -> list[dict[str, Any]]:
    """The first run succeeded and created the admin and the --demo users."""
    rows = seeded_admin(project, runs)
    others = [email for email in emails(rows) if email != ADMIN_EMAIL]
    assert len(others) == DEMO_USERS, (
        f"expected the first run (--demo {DEMO_USERS}) to create the admin and {DEMO_USERS} "
        f"demo users, found {len(others)} demo users ({others}): a second run can only "
        "prove it changes nothing once the first has seeded everything"
    )
    return rows


@pytest.mark.grade("seed", 1)
def test_seed_script_runs(project: Project, seed_runs: SeedRuns) -> None:
    seeded_admin(project, seed_runs)


@pytest.mark.grade("seed", 2)
async def test_seed_creates_the_first_admin_from_the_settings(
    project: Project, seed_runs: SeedRuns
) -> None:
    rows = first_run(project, seed_runs)
    admins = [row for row in live(rows) if str(row.get("email", "")).lower() == ADMIN_EMAIL]
    assert len(admins) == 1, (
        f"expected one user with FIRST_ADMIN_EMAIL ({ADMIN_EMAIL}), found {len(admins)} "
        f"among {[row.get('email') for row in rows]}"
    )
    admin = admins[0]
    assert admin.get("role") == "admin", (
        f"expected the first admin's role to be admin, found {admin.get('role')!r}"
    )
    assert admin.get("is_active") in ("True", "1", "true"), (
        f"expected the first admin to be active, found is_active={admin.get('is_active')!r}"
    )
    stored = str(admin.get("password_hash"))
    assert ADMIN_PASSWORD not in stored, (
        "expected the admin password to be stored hashed, found it in clear"
    )
    from app.core.security import verify_password

    assert await maybe_await(verify_password(ADMIN_PASSWORD, stored)) is True, (
        "expected the admin's hash to verify FIRST_ADMIN_PASSWORD, it does not"
    )


@pytest.mark.grade("seed", 1)
def test_seed_demo_option_creates_that_many_more_users(
    project: Project, seed_runs: SeedRuns
) -> None:
    rows = live(first_run(project, seed_runs))
    others = [row for row in rows if str(row.get("email", "")).lower() != ADMIN_EMAIL]
    assert len(others) == DEMO_USERS, (
        f"expected --demo {DEMO_USERS} to create {DEMO_USERS} demo users besides the admin, "
        f"found {len(others)}: {[row.get('email') for row in others]}"
    )


@pytest.mark.grade("seed", 2)
def test_seed_run_twice_changes_nothing(project: Project, seed_runs: SeedRuns) -> None:
    before = seeded(project, seed_runs)
    assert seed_runs.second.returncode == 0, (
        f"expected a second run of the seed script to succeed too, found: "
        f"{seed_runs.second.describe()}"
    )
    after = seed_runs.after_second
    assert after == before, (
        f"expected a second run to change nothing; the users went from {len(before)} to "
        f"{len(after)} rows"
        + ("" if len(after) != len(before) else " of which some values changed")
    )


@pytest.mark.grade("seed", 1)
def test_seed_refuses_demo_users_in_production(project: Project, seed_runs: SeedRuns) -> None:
    seeded_admin(project, seed_runs)  # the script seeds at all: refusing is not failing
    run = seed_runs.production
    assert run is not None, "expected a run with ENVIRONMENT=production, found none"
    command = f"`python -m scripts.seed --demo {DEMO_USERS}` with ENVIRONMENT=production"
    assert run.returncode not in (0, None), (
        f"expected {command} to refuse (exit non-zero): every demo user has a published "
        f"password, found it {'succeeded' if run.returncode == 0 else 'hung'}"
    )
    written = emails(seed_runs.after_production)
    assert not written, (
        f"expected {command} to write nothing (refuse before connecting), found {written}"
    )
    output = (run.stdout + run.stderr).lower()
    assert "production" in output and "demo" in output, (
        f"expected {command} to say why it refuses (--demo in production), found: {run.tail()}"
    )


@pytest.mark.grade("seed", 1)
def test_seed_demo_users_are_users_and_moderators(project: Project, seed_runs: SeedRuns) -> None:
    rows = seeded(project, seed_runs)
    roles = sorted(
        {str(row.get("role")) for row in live(rows) if str(row.get("email")).lower() != ADMIN_EMAIL}
    )
    assert set(roles) == {"moderator", "user"}, (
        f"expected the {DEMO_USERS} demo users of --demo {DEMO_USERS} to take their roles "
        "from DEMO_ROLES in turn (user, user, moderator: never admin), so that a demo shows "
        f"both roles, found the roles {roles}: give demo user n the role "
        "DEMO_ROLES[n % len(DEMO_ROLES)]"
    )


@pytest.mark.grade("seed", 1)
def test_seed_without_demo_creates_the_admin_alone_even_in_production(
    project: Project, seed_runs: SeedRuns
) -> None:
    seeded_admin(project, seed_runs)
    run = seed_runs.production_admin
    command = "`python -m scripts.seed` (no --demo) with ENVIRONMENT=production"
    assert run is not None, f"expected a run of {command}, found none (the run before hung)"
    assert run.returncode == 0, (
        f"expected {command} to succeed: only --demo is refused in production, and the "
        f"default of --demo is 0 demo users; found: {run.describe()}"
    )
    written = emails(seed_runs.after_production_admin)
    assert ADMIN_EMAIL in written, (
        f"expected {command} to create the first admin ({ADMIN_EMAIL}), found {written}"
    )
    # Only what this run added: a refusal that wrote users is the check above's to report.
    before = emails(seed_runs.after_production)
    others = [email for email in written if email not in before and email != ADMIN_EMAIL]
    assert not others, (
        f"expected {command} to create the first admin and nobody else, found also {others}"
    )


def load_seed_script(project: Project, snapshot: Snapshot) -> ModuleType:
    """scripts/seed.py imported as a module, as another program would import it."""
    if not project.exists("scripts/seed.py"):
        pytest.fail("expected the seed script scripts/seed.py, found none")
    path = project.path("scripts/seed.py")
    module = ModuleType(SEED_MODULE)
    module.__file__ = str(path)
    sys.modules[SEED_MODULE] = module  # as an import would: dataclasses look it up
    try:
        exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), module.__dict__)
    except BaseException as exc:
        sys.modules.pop(SEED_MODULE, None)
        if isinstance(exc, KeyboardInterrupt):
            raise
        pytest.fail(
            "expected importing scripts/seed.py to define demo_email, seed and main without "
            f"running anything, found {describe_exception(exc, snapshot)}: call main() "
            'only under `if __name__ == "__main__":`'
        )
    return module


def learner_database() -> Any:
    """The learner's DatabaseManager on the grading database, built as step 3 allows."""
    from app.core.database import DatabaseManager

    names = list(inspect.signature(DatabaseManager).parameters)
    argument = next((name for name in names if "url" in name.lower() or name == "dsn"), None)
    return DatabaseManager(**({argument: database_url()} if argument else {}))


async def seeded_emails(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        result = await connection.execute(
            text("SELECT email FROM users WHERE deleted_at IS NULL ORDER BY email")
        )
        return [str(email).lower() for email in result.scalars()]


@pytest.mark.grade("seed", 1)
async def test_seed_returns_how_many_users_it_created(
    project: Project, learner_snapshot: Snapshot, schema: AsyncEngine
) -> None:
    script = load_seed_script(project, learner_snapshot)
    from app.core.config import get_settings

    admin = get_settings().FIRST_ADMIN_EMAIL.lower()
    database = learner_database()
    await maybe_await(database.connect())
    created: list[Any] = []
    try:
        # The second call finds the admin and two demo users there, and adds four.
        for demo_users in (2, 6):
            call = f"seed(database, {demo_users})"
            try:
                created.append(await maybe_await(script.seed(database, demo_users)))
            except Exception as exc:
                pytest.fail(
                    f"expected {call} to create the demo users that are missing, found "
                    f"{describe_exception(exc, learner_snapshot)}"
                )
    finally:
        await maybe_await(database.disconnect())
    found = await seeded_emails(schema)
    wanted = sorted([admin, *(f"demo{n:03d}@example.com" for n in range(1, 7))])
    assert found == wanted, (
        "expected seed(database, 2) then seed(database, 6) to leave the admin and demo001 "
        f"to demo006, found the users {found}"
    )
    assert created == [3, 4], (
        "expected seed() to return how many users it created: 3 for seed(database, 2) on "
        "an empty database (the admin and 2 demo users), then 4 for seed(database, 6); "
        f"found {created}. Have _ensure_user return True only when it created the user, "
        "and add up what it returns"
    )


@pytest.mark.grade("seed", 1)
async def test_seed_refuses_a_negative_demo_count(
    project: Project, learner_snapshot: Snapshot, schema: AsyncEngine
) -> None:
    script = load_seed_script(project, learner_snapshot)
    command = "`python -m scripts.seed --demo -1`"
    try:
        code = await maybe_await(script.main(["--demo", "-1"]))
    except SystemExit as exc:
        code = exc.code
    except Exception as exc:
        pytest.fail(
            f"expected {command} to stop with a usage error, found "
            f"{describe_exception(exc, learner_snapshot)}"
        )
    assert code not in (0, None), (
        f"expected {command} to stop with a usage error (`parser.error(...)`, exit code 2): "
        "a count of demo users is 0 or more; found it succeeded"
    )
    written = await seeded_emails(schema)
    assert not written, (
        f"expected {command} to refuse before it writes anything, found the users {written}"
    )
