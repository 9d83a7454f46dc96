"""Deployment files, checked statically: this machine has no Docker engine."""

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from sqlalchemy import make_url

from app.core.config import Settings
from tests.conftest import SOLUTION_DIR

DOCKERFILE = SOLUTION_DIR / "docker" / "Dockerfile"
ENTRYPOINT = SOLUTION_DIR / "docker" / "entrypoint.sh"
COMPOSE_FILE = SOLUTION_DIR / "docker" / "docker-compose.yml"
MAKEFILE = SOLUTION_DIR / "Makefile"
ENV_EXAMPLE = SOLUTION_DIR / ".env.example"
GITIGNORE = SOLUTION_DIR / ".gitignore"

MAKE_TARGETS = [
    "help",
    "install",
    "dev",
    "test",
    "lint",
    "format",
    "migrate-up",
    "migrate-down",
    "migrate-create",
    "migrate-history",
    "seed",
    "docker-up",
    "docker-down",
    "docker-build",
    "clean",
]


# --- Dockerfile -------------------------------------------------------------------


def dockerfile_stages() -> list[tuple[str, list[tuple[str, str]]]]:
    """The Dockerfile as stages: (FROM arguments, [(INSTRUCTION, arguments), ...])."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())  # join continued lines
    stages: list[tuple[str, list[tuple[str, str]]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            stages.append((arguments.strip(), []))
        else:
            assert stages, f"{instruction} before the first FROM"
            stages[-1][1].append((instruction, arguments.strip()))
    return stages


def final_stage() -> list[tuple[str, str]]:
    return dockerfile_stages()[-1][1]


def test_dockerfile_is_multi_stage_with_named_stages() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    names = []
    for from_arguments, _ in stages:
        match = re.fullmatch(r"\S+\s+AS\s+([\w.-]+)", from_arguments, flags=re.IGNORECASE)
        assert match, f"unnamed stage: FROM {from_arguments}"
        names.append(match.group(1))
    assert len(set(names)) == len(names)
    # The runtime stage takes what the earlier stages built.
    copies_from = {
        match.group(1)
        for instruction, arguments in final_stage()
        if instruction == "COPY" and (match := re.search(r"--from=(\S+)", arguments))
    }
    assert copies_from
    assert copies_from <= set(names[:-1])


def test_dockerfile_final_stage_runs_as_a_non_root_user() -> None:
    users = [arguments for instruction, arguments in final_stage() if instruction == "USER"]
    assert users, "the final stage sets no USER: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    # The user exists in the image: the stage creates it.
    runs = " ".join(arguments for instruction, arguments in final_stage() if instruction == "RUN")
    assert re.search(rf"(useradd|adduser)\b.*\b{re.escape(user)}\b", runs)


def test_dockerfile_final_stage_has_a_healthcheck_on_the_health_route() -> None:
    checks = [arguments for instruction, arguments in final_stage() if instruction == "HEALTHCHECK"]
    assert len(checks) == 1
    assert checks[0].upper() != "NONE"
    assert "CMD" in checks[0]
    assert "/api/v1/health" in checks[0]


def test_container_runs_migrations_then_execs_the_server() -> None:
    stage = final_stage()
    starts = [arguments for instruction, arguments in stage if instruction in {"ENTRYPOINT", "CMD"}]
    assert any("entrypoint.sh" in arguments for arguments in starts)
    assert any(
        instruction == "COPY" and "docker/entrypoint.sh" in arguments
        for instruction, arguments in stage
    )

    commands = [
        line.strip()
        for line in ENTRYPOINT.read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert "set -e" in commands  # a failed migration stops the container
    migrate = next(i for i, line in enumerate(commands) if line == "alembic upgrade head")
    serve = next(
        i for i, line in enumerate(commands) if line.startswith("exec uvicorn app.main:app")
    )
    assert migrate < serve
    assert "--no-server-header" in commands[serve].split()


def test_the_image_runs_in_production() -> None:
    env = " ".join(arguments for instruction, arguments in final_stage() if instruction == "ENV")
    assert re.search(r"(^|\s)ENVIRONMENT=production(\s|$)", env)


# --- docker-compose.yml ----------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    """A service's `environment`, written as a mapping or as a list of NAME=value."""
    environment = service.get("environment", {})
    if isinstance(environment, list):
        return dict(item.split("=", 1) for item in environment)
    return {name: str(value) for name, value in environment.items()}


def test_compose_defines_the_app_and_db_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"app", "db"}
    assert compose["services"]["db"]["image"].startswith("postgres:")


def test_compose_db_has_a_pg_isready_healthcheck_and_a_named_volume(
    compose: dict[str, Any],
) -> None:
    db = compose["services"]["db"]
    test = db["healthcheck"]["test"]
    command = " ".join(test) if isinstance(test, list) else test
    assert "pg_isready" in command

    named = {volume.split(":")[0] for volume in db["volumes"]}
    declared = set(compose.get("volumes") or {})
    assert named & declared, f"no named volume among {db['volumes']}"
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in db["volumes"])


def test_compose_app_starts_after_a_healthy_db_and_connects_with_asyncpg(
    compose: dict[str, Any],
) -> None:
    app, db = compose["services"]["app"], compose["services"]["db"]
    assert app["depends_on"]["db"]["condition"] == "service_healthy"

    url = make_url(environment_of(app)["DATABASE_URL"])
    db_env = environment_of(db)
    assert url.drivername == "postgresql+asyncpg"
    assert url.host == "db"
    assert url.port in (None, 5432)
    assert url.username == db_env["POSTGRES_USER"]
    assert url.password == db_env["POSTGRES_PASSWORD"]
    assert url.database == db_env["POSTGRES_DB"]


@pytest.mark.parametrize(
    "name", ["JWT_SECRET_KEY", "JWT_REFRESH_SECRET_KEY", "FIRST_ADMIN_PASSWORD"]
)
def test_compose_requires_the_secrets_instead_of_a_default(
    compose: dict[str, Any], name: str
) -> None:
    # ${NAME:?message}: compose stops with the message when NAME is unset or empty.
    value = environment_of(compose["services"]["app"])[name]
    assert re.fullmatch(rf"\$\{{{name}:\?[^}}]+\}}", value), value


def test_compose_builds_the_app_from_the_dockerfile(compose: dict[str, Any]) -> None:
    build = compose["services"]["app"]["build"]
    context = (COMPOSE_FILE.parent / build["context"]).resolve()
    assert context == SOLUTION_DIR
    assert (context / build["dockerfile"]).resolve() == DOCKERFILE


# --- Makefile -------------------------------------------------------------------------


def makefile_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z][\w-]*):(?!=)", MAKEFILE.read_text(), flags=re.MULTILINE))


def test_makefile_defines_every_course_target() -> None:
    missing = set(MAKE_TARGETS) - makefile_targets()
    assert not missing


def test_makefile_declares_its_targets_phony() -> None:
    phony: set[str] = set()
    for match in re.finditer(r"^\.PHONY:(.*)$", MAKEFILE.read_text(), flags=re.MULTILINE):
        phony.update(match.group(1).split())
    assert set(MAKE_TARGETS) <= phony


def run_make(*args: str) -> subprocess.CompletedProcess[str]:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    return subprocess.run(
        [make, "--no-print-directory", "-f", "Makefile", *args],
        cwd=SOLUTION_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_make_dev_serves_without_the_server_header() -> None:
    result = run_make("-n", "dev")
    assert result.returncode == 0, result.stderr
    assert "--no-server-header" in result.stdout.split()


def test_make_dry_run_of_help_succeeds() -> None:
    result = run_make("-n", "help")
    assert result.returncode == 0, result.stderr


def test_make_help_lists_every_target_with_a_description() -> None:
    result = run_make("help")
    assert result.returncode == 0, result.stderr
    listed = {}
    for line in re.sub(r"\x1b\[[0-9;]*m", "", result.stdout).splitlines():
        name, _, description = line.strip().partition(" ")
        listed[name] = description.strip()
    for target in MAKE_TARGETS:
        assert listed.get(target), f"`make help` does not describe {target}"


# --- .env.example and .gitignore -----------------------------------------------------


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if match := re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line.strip()):
            values[match.group(1)] = match.group(2)
    return values


def test_env_example_lists_exactly_the_settings_fields() -> None:
    assert sorted(env_example()) == sorted(Settings.model_fields)


def test_env_example_values_are_valid_and_are_the_defaults_except_debug(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)
    from_example = Settings(_env_file=ENV_EXAMPLE)  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]

    differing = {
        name
        for name in Settings.model_fields
        if getattr(from_example, name) != getattr(defaults, name)
    }
    # The file says: "these are the defaults unless a comment says otherwise".
    assert differing == {"DEBUG"}
    assert from_example.DEBUG is True


@pytest.fixture(scope="module")
def git_ignored(tmp_path_factory: pytest.TempPathFactory) -> Callable[[list[str]], set[str]]:
    """Return a function telling which of some paths the project's .gitignore ignores.

    It asks git itself, in a scratch repository holding only a copy of .gitignore,
    with the user's and the system's git configuration left out.
    """
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    repository = tmp_path_factory.mktemp("gitignore")
    shutil.copy(GITIGNORE, repository / ".gitignore")
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run([git, "init", "-q", str(repository)], check=True, env=env, timeout=60)

    def ignored(paths: list[str]) -> set[str]:
        result = subprocess.run(
            [git, "check-ignore", "--no-index", "--stdin"],
            cwd=repository,
            input="\n".join(paths) + "\n",
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert result.returncode in (0, 1), result.stderr  # 1: none of them is ignored
        return set(result.stdout.splitlines())

    return ignored


def test_gitignore_ignores_env_files_but_not_env_example(
    git_ignored: Callable[[list[str]], set[str]],
) -> None:
    assert git_ignored([".env", ".env.local", ".env.production", ".env.example"]) == {
        ".env",
        ".env.local",
        ".env.production",
    }


def test_gitignore_ignores_generated_files_and_keeps_the_project_files(
    git_ignored: Callable[[list[str]], set[str]],
) -> None:
    generated = [
        "app/__pycache__/main.cpython-311.pyc",
        ".venv/bin/python",
        "venv/bin/python",
        ".idea/workspace.xml",
        ".vscode/settings.json",
        "htmlcov/index.html",
        ".coverage",
        ".pytest_cache/v/cache/nodeids",
        ".mypy_cache/3.11/app.json",
        ".ruff_cache/content",
        ".import_linter_cache/CACHEDIR.TAG",  # written by `lint-imports` (make lint)
        "clean_fastapi_backend.egg-info/PKG-INFO",  # written by `pip install -e .`
        "uploads/avatar.png",
        "docker/docker-compose.override.yml",
        "app.db",
        ".DS_Store",
    ]
    project = [
        ".gitignore",
        "app/main.py",
        "alembic/versions/0001_create_users_table.py",
        "docker/docker-compose.yml",
        "docker/Dockerfile",
        "docker/entrypoint.sh",
        "Makefile",
        "pyproject.toml",
    ]
    ignored = git_ignored(generated + project)
    assert sorted(set(generated) - ignored) == []
    assert sorted(ignored & set(project)) == []
