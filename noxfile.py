"""Every workshop task is a nox session: `nox -l` lists them.

    nox -s serve    run the reference API on SQLite (migrate, seed the first admin, uvicorn);
                    `-- workspace` (or any project folder): run your own app
    nox -s tests    run every check of the repository (lint, types, layers, tests)
    nox -s lint     ruff, mypy --strict and the layer contracts on solution/
    nox -s grade    grade workspace/ (or `-- PATH`) step by step, with hints and reports;
                    `-- DIR1 DIR2 ...` or `-- --class DIR`: a batch, a gradebook and a dashboard
    nox -s gradebook  `-- merge REPORTS...`: one class from the report folders of several batches
    nox -s watch    re-grade the step you are working on each time you save
    nox -s start    create workspace/ from a checkpoint: `nox -s start -- 3`
    nox -s next     move workspace/ on to the next step, merging it into your code
    nox -s diff     a submission's step files beside the reference (terminal + HTML)
    nox -s checkpoints   regenerate what is generated: steps/ from solution/, and the tables
                    in docs/ pages (`python -m course docs`); `-- --check` only compares
    nox -s bench    the solution under wrk against a bare-FastAPI ceiling, and the grader's speed
    nox -s docs     build the course site into site/ (`-- serve`: live preview)
    nox -s notebooks     execute every notebook against the solution on SQLite

Each session builds its own virtual environment and installs into it exactly what
uv.lock pins for its dependency groups (`uv sync --locked`), so the only thing to install
by hand is nox with uv: `python -m pip install "nox[uv]"`. `uv lock --upgrade-package NAME`
moves one pin; solution/uv.lock pins the solution as a project of its own.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
SOLUTION = ROOT / "solution"

nox.options.default_venv_backend = "uv|virtualenv"
# uv skips compiling bytecode by default; the grader starts many Python processes,
# and each would otherwise compile FastAPI and SQLAlchemy again.
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")
nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests"]


def install(session: nox.Session, *groups: str, solution: bool = True) -> None:
    """Install the workshop's dependency groups (and the solution, editable) from uv.lock.

    `uv sync --locked` installs exactly the pinned versions, with their hashes, and fails
    when uv.lock no longer matches pyproject.toml (`uv lock` brings it up to date). The
    environment holds nothing else: without `solution`, not the reference `app` package
    (the grader runs a learner's `app` with it).
    """
    if session.venv_backend != "uv" and not shutil.which("uv"):
        session.error('uv installs from uv.lock: python -m pip install "nox[uv]"')
    chosen = [*groups, "solution"] if solution else list(groups)
    session.run_install(
        "uv", "sync", "--locked", "--no-default-groups",
        *(f"--group={group}" for group in chosen),
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
    )  # fmt: skip


def admin_credentials_source() -> str:
    """Say where the first admin's email and password come from."""
    if "FIRST_ADMIN_PASSWORD" in os.environ:
        return "FIRST_ADMIN_EMAIL / FIRST_ADMIN_PASSWORD from the environment"
    if (SOLUTION / ".env").is_file():
        return "FIRST_ADMIN_EMAIL / FIRST_ADMIN_PASSWORD in solution/.env"
    return (
        "admin@example.com / change-me-admin-password "
        "(development defaults; set FIRST_ADMIN_EMAIL and FIRST_ADMIN_PASSWORD to change them)"
    )


@nox.session
def serve(session: nox.Session) -> None:
    """Run the reference API on SQLite: migrate, seed the first admin, start uvicorn.

    `nox -s serve -- workspace` (or another project folder) runs that project's own
    app instead: its tables as far as its step allows, then uvicorn.
    `PORT=8080 nox -s serve` picks another port; extra arguments go to uvicorn
    (`nox -s serve -- --reload`). Settings come from the environment or
    solution/.env (see solution/.env.example).
    """
    if session.posargs and not session.posargs[0].startswith("-"):
        # A learner's project: the app's libraries, never the reference's `app` package.
        install(session, "grade", solution=False)
        session.run("python", "-m", "course", "serve", *session.posargs)
        return
    install(session)
    env = {"DEBUG": os.environ.get("DEBUG", "true")}
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    with session.chdir(SOLUTION):
        session.run("alembic", "upgrade", "head", env=env)
        session.run("python", "-m", "scripts.seed", env=env)
        session.log(f"API:        http://{host}:{port}/api/v1/health")
        session.log(f"Swagger UI: http://{host}:{port}/docs (DEBUG={env['DEBUG']})")
        session.log(f"Admin login: {admin_credentials_source()}")
        # --no-server-header: uvicorn would name itself in every response.
        uvicorn = ["uvicorn", "app.main:app", "--host", host, "--port", port, "--no-server-header"]
        session.run(*uvicorn, *session.posargs, env=env)


def run_lint(session: nox.Session) -> None:
    with session.chdir(SOLUTION):
        session.run("ruff", "check", ".")
        session.run("ruff", "format", "--check", ".")
        session.run("mypy", "--strict", "app", "scripts", "alembic")
        session.run("lint-imports")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, mypy --strict and the import-linter layer contracts on solution/."""
    install(session, "lint")
    run_lint(session)


@nox.session
def tests(session: nox.Session) -> None:
    """Everything: lint and types, then the solution's tests on SQLite (and PostgreSQL).

    PostgreSQL is covered when TEST_POSTGRES_URL names a server, e.g.
    postgresql+asyncpg://user:pass@localhost:5432/postgres (the user needs CREATEDB).
    """
    install(session, "test", "lint", "grade", "docs", "browser", "notebooks", "watch", "pitfalls",
            "locks", "mutation")  # fmt: skip
    run_lint(session)
    session.log("The course site, built strictly")
    session.run("python", "-m", "course", "docs", "--check")
    build_docs(session)
    if not os.environ.get("TEST_POSTGRES_URL"):
        session.warn("TEST_POSTGRES_URL is not set: database tests run on SQLite only")
    session.log("The solution's own tests")
    with session.chdir(SOLUTION):
        session.run("pytest", *session.posargs)
    session.run("python", "-m", "course", "checkpoints", "--check")
    session.log("The grader's tests and the course's consistency: staircase, mutants, broken code")
    session.run("pytest", "-n", "2", *session.posargs)


@nox.session
def grade(session: nox.Session) -> None:
    """Grade a project folder (default workspace/): scoreboard, grade-report.json, JUnit XML.

    `nox -s grade -- solution`, `-- --step 3`, `-- --strict` (exit 1 unless full marks),
    `-- --database postgresql` (a private cluster: the PostgreSQL server binaries),
    `-- --summary-md FILE`.
    A batch: `nox -s grade -- DIR1 DIR2 ...` or `-- --class DIR` (each sub-folder is a
    submission) writes reports/class-TIME/ with gradebook.csv, summary.md, dashboard.html.
    """
    install(session, "grade", solution=False)
    session.run("python", "-m", "course", "grade", *session.posargs)


@nox.session
def gradebook(session: nox.Session) -> None:
    """One class's reports from several batches: `-- merge REPORTS1 REPORTS2 ... [--reports OUT]`.

    Each REPORTS is the report folder of a batch (`nox -s grade -- --class ...`), say
    one per machine; the merged gradebook, summary and dashboard are what one batch of
    all their submissions would have written.
    """
    install(session, "grade", solution=False)
    session.run("python", "-m", "course", "gradebook", *session.posargs)


@nox.session
def watch(session: nox.Session) -> None:
    """Re-grade the current step of workspace/ (or `-- PATH`) on every save; Ctrl-C stops."""
    install(session, "watch", solution=False)
    session.run("python", "-m", "course", "watch", *session.posargs)


@nox.session
def start(session: nox.Session) -> None:
    """Create workspace/ from checkpoint N: `nox -s start -- N [--force]`."""
    if not session.posargs:
        session.error("Which step? For example: nox -s start -- 1")
    install(session, "course", solution=False)
    session.run("python", "-m", "course", "start", *session.posargs)


@nox.session(name="next")
def next_step(session: nox.Session) -> None:
    """Move workspace/ (or `-- PATH`) from step N to N+1, merging the new step into your code.

    It grades step N first and refuses while it is incomplete (`-- --force` moves on
    anyway); `-- --dry-run` lists what would change. The workspace is backed up first.
    """
    install(session, "grade", solution=False)
    session.run("python", "-m", "course", "next", *session.posargs)


@nox.session
def checkpoints(session: nox.Session) -> None:
    """Regenerate what is generated; `-- --check` only compares and fails on any drift.

    steps/ from solution/ and the recipes, the generated sections of the docs pages
    (the tables from the manifest, the grading tests and the solution: `python -m course
    docs`), and the published digest of the grading files (`python -m course digest`).
    """
    install(session, "course", solution=False)
    session.run("python", "-m", "course", "checkpoints", *session.posargs)
    session.run("python", "-m", "course", "docs", *session.posargs)
    check = "--check" in session.posargs
    session.run("python", "-m", "course", "digest", "--check" if check else "--write")


@nox.session
def diff(session: nox.Session) -> None:
    """Show a submission's files for a step beside the reference: `-- [--step N] [PATH]`."""
    install(session, "course", solution=False)
    session.run("python", "-m", "course", "diff", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmark the solution against a bare FastAPI app, and time the grader.

    Needs wrk (`apt-get install -y wrk`). PostgreSQL by default: a throwaway database
    on the server TEST_POSTGRES_URL names, else a throwaway local cluster (root and the
    PostgreSQL binaries). `-- --sqlite` for the embedded default, `-- --quick` for short
    runs, `-- grader` for the grader alone, `-- --no-grader` to skip it. Writes
    reports/bench/*.json and *.md.
    """
    install(session, "bench")
    session.run("python", "-m", "course.bench", *session.posargs)


@nox.session
def mutation(session: nox.Session) -> None:
    """Mutation-test the grading tests with Cosmic Ray over solution/app, alembic, scripts.

    Each mutant of a file is graded on the steps that own the file; survivors are listed
    for triage (course/mutation-triage.toml). `-- --step N` for one step (repeatable),
    `-- --report-only` to rewrite the table from the last results. Writes
    docs/mutation/step-N.json and docs/reference/mutation-results.md. Hours for every
    step on 2 cores; not part of `nox -s tests`, which checks the table is current.
    """
    install(session, "mutation", solution=False)
    session.run("python", "-m", "course", "mutation", *session.posargs)


# Material for MkDocs prints a banner about its successor on every build.
MKDOCS_ENV = {"NO_MKDOCS_2_WARNING": "1"}


def build_docs(session: nox.Session, *, solutions: bool = True) -> None:
    env = MKDOCS_ENV if solutions else {**MKDOCS_ENV, "COURSE_DOCS_NO_SOLUTIONS": "1"}
    session.run("mkdocs", "build", "--strict", "--site-dir", str(ROOT / "site"), env=env)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the course site into site/ with `mkdocs build --strict`; `-- serve` previews it.

    `nox -s docs -- serve` serves it on http://127.0.0.1:8001 and rebuilds on every save;
    `nox -s docs -- --no-solutions` builds it without the reference answers, for a
    graded class.
    """
    install(session, "docs", solution=False)
    if session.posargs[:1] == ["serve"]:
        address = ["--dev-addr", "127.0.0.1:8001"]
        session.run("mkdocs", "serve", "--livereload", *address, *session.posargs[1:],
                    env=MKDOCS_ENV)  # fmt: skip
        return
    build_docs(session, solutions="--no-solutions" not in session.posargs)


@nox.session
def notebooks(session: nox.Session) -> None:
    """Execute every notebook under notebooks/ against the solution on SQLite (nbclient).

    Each runs in a temporary copy of solution/ with a temporary database; nothing is
    written into solution/ or into the notebooks. `-- 03` runs only the notebooks whose
    name starts with 03.
    """
    install(session, "notebooks")
    session.run("python", "-m", "course.notebooks", *session.posargs)
