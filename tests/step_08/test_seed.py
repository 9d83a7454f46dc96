"""Step 8, the seed script: `python -m scripts.seed --demo N`, run twice on one database.

The first admin comes from the settings FIRST_ADMIN_EMAIL and FIRST_ADMIN_PASSWORD
(set in the environment here); the tables are built from the learner's models, so
these checks do not depend on the migrations. Every check needs a first run that
created the admin (and, for "twice changes nothing", the demo users): a script that
exits without seeding earns nothing.
"""

from typing import Any

import pytest

from course.grading.fixtures import Project, maybe_await

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD, DEMO_USERS, SeedRuns


def live(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for row in rows if row.get("deleted_at") is None]


def first_run(project: Project, runs: SeedRuns) -> list[dict[str, Any]]:
    if not project.exists("scripts/seed.py"):
        pytest.fail("expected the seed script scripts/seed.py, found none")
    assert runs.first.returncode == 0, (
        f"expected `python -m scripts.seed --demo {DEMO_USERS}` to succeed, found: "
        f"{runs.first.describe()}"
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
