"""Step 8, D18: docker/Dockerfile and docker/docker-compose.yml, read statically.

The grader builds no image (no Docker engine is assumed): it reads the files the
way `docker build` and `docker compose` would and checks what the spec promises.
"""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from course.grading.fixtures import Project

DOCKERFILE = "docker/Dockerfile"
COMPOSE_FILES = ["docker/docker-compose.yml", "docker/docker-compose.yaml"]
BUILT_IN_USERS = {"nobody", "nonroot", "daemon", "www-data"}
SERVER = re.compile(r"\b(uvicorn|gunicorn|hypercorn|granian|fastapi\s+run)\b")
MIGRATE = re.compile(r"\balembic\b[^\n;&|]*\bupgrade\b")

Stage = tuple[str, list[tuple[str, str]]]  # (FROM arguments, [(INSTRUCTION, arguments)])


def stages(project: Project) -> list[Stage]:
    """The Dockerfile as stages; continued lines joined, comments dropped."""
    source = re.sub(r"\\[ \t]*\r?\n", " ", project.read(DOCKERFILE))
    found: list[Stage] = []
    for raw in source.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            found.append((arguments.strip(), []))
        elif found:
            found[-1][1].append((instruction, arguments.strip()))
    if not found:
        pytest.fail(f"expected {DOCKERFILE} to have a FROM line, found none")
    return found


def final_stage(project: Project) -> list[tuple[str, str]]:
    return stages(project)[-1][1]


def stage_name(from_arguments: str) -> str | None:
    match = re.search(r"\s+AS\s+(\S+)\s*$", from_arguments, flags=re.IGNORECASE)
    return match.group(1).lower() if match else None


def find_script(project: Project, name: str) -> str | None:
    """The text of a start script named in ENTRYPOINT/CMD (looked up by file name)."""
    base = Path(name).name
    for folder in ("docker", "scripts", ".", "bin"):
        path = project.path(folder) / base
        if path.is_file():
            return path.read_text(encoding="utf-8", errors="replace")
    return None


def start_sequence(project: Project) -> str:
    """What the container runs at start: ENTRYPOINT, its script if any, then CMD."""
    stage = final_stage(project)
    parts = []
    for kind in ("ENTRYPOINT", "CMD"):
        values = [arguments for instruction, arguments in stage if instruction == kind]
        if not values:
            continue
        text = values[-1]
        parts.append(text)
        for script in re.findall(r"[\w./-]+\.sh\b", text):
            content = find_script(project, script)
            if content is not None:
                parts.append(
                    "\n".join(
                        line for line in content.splitlines() if not line.strip().startswith("#")
                    )
                )
    return "\n".join(parts)


@pytest.mark.grade("D18", 2)
def test_dockerfile_is_multi_stage(project: Project) -> None:
    found = stages(project)
    assert len(found) >= 2, (
        f"expected a multi-stage {DOCKERFILE} (a build stage, then a slim runtime stage), "
        f"found {len(found)} FROM line"
    )
    earlier = {stage_name(arguments) for arguments, _ in found[:-1]} | {
        str(index) for index in range(len(found) - 1)
    }
    copies = [
        match.group(1).lower()
        for instruction, arguments in found[-1][1]
        if instruction == "COPY" and (match := re.search(r"--from=(\S+)", arguments))
    ]
    assert any(source in earlier for source in copies), (
        "expected the final stage to COPY --from=<an earlier stage> what that stage built, "
        f"found COPY --from of {copies or 'nothing'}"
    )


@pytest.mark.grade("D18", 2)
def test_dockerfile_runs_as_a_non_root_user(project: Project) -> None:
    stage = final_stage(project)
    users = [arguments for instruction, arguments in stage if instruction == "USER"]
    assert users, "expected the final stage to set USER: without it the container runs as root"
    user = users[-1].split(":")[0].strip()
    assert user not in ("root", "0"), f"expected a non-root USER, found USER {users[-1]}"
    if user.isdigit() or user in BUILT_IN_USERS:
        return
    runs = " ".join(arguments for instruction, arguments in stage if instruction == "RUN")
    assert re.search(rf"\b(useradd|adduser)\b[^;&]*\b{re.escape(user)}\b", runs), (
        f"expected the final stage to create the user {user!r} (useradd or adduser) before "
        f"USER {user}, found no such RUN"
    )


@pytest.mark.grade("D18", 1)
def test_dockerfile_has_a_healthcheck_on_the_health_route(project: Project) -> None:
    checks = [
        arguments for instruction, arguments in final_stage(project) if instruction == "HEALTHCHECK"
    ]
    assert checks and checks[-1].upper() != "NONE", (
        "expected a HEALTHCHECK in the final stage of the Dockerfile, found none"
    )
    assert "CMD" in checks[-1].upper() and "health" in checks[-1], (
        f"expected the HEALTHCHECK to call the health route (/api/v1/health), found: {checks[-1]}"
    )


@pytest.mark.grade("D18", 2)
def test_container_runs_migrations_then_the_server(project: Project) -> None:
    sequence = start_sequence(project)
    migrate, server = MIGRATE.search(sequence), SERVER.search(sequence)
    assert sequence, "expected the final stage to have an ENTRYPOINT or a CMD, found neither"
    assert migrate, (
        "expected the container to run `alembic upgrade head` at start (in CMD, ENTRYPOINT or "
        f"the script they run), found: {sequence.strip()[:200]}"
    )
    assert server and server.start() > migrate.start(), (
        "expected the container to start the server (uvicorn app.main:app) after the "
        f"migrations, found: {sequence.strip()[:200]}"
    )


@pytest.mark.grade("D18", 1)
def test_a_failed_migration_stops_the_container(project: Project) -> None:
    sequence = start_sequence(project)
    migrate = MIGRATE.search(sequence)
    assert migrate, "expected the container to run `alembic upgrade head` at start, found none"
    before, after = sequence[: migrate.start()], sequence[migrate.end() :]
    rest_of_command = re.split(r"[\n;]", after, maxsplit=1)[0]
    stops = (
        re.search(r"^\s*set\s+-[a-z]*e", before, flags=re.MULTILINE)
        or re.search(r"set\s+-o\s+errexit", before)
        or "&&" in rest_of_command
        or re.search(r"\|\|\s*exit", rest_of_command)
    )
    assert stops, (
        "expected a failed migration to stop the start (`set -e` in the script, or "
        "`alembic upgrade head && uvicorn ...`), found the server started regardless"
    )


def compose(project: Project) -> dict[str, Any]:
    name = next((name for name in COMPOSE_FILES if project.exists(name)), COMPOSE_FILES[0])
    try:
        data = yaml.safe_load(project.read(name))
    except yaml.YAMLError as exc:
        pytest.fail(f"expected {name} to be valid YAML, found: {str(exc).splitlines()[0]}")
    services = data.get("services") if isinstance(data, dict) else None
    if not isinstance(services, dict) or not services:
        pytest.fail(f"expected {name} to define services, found none")
    return data


def postgres_service(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    for name, service in data["services"].items():
        image = str((service or {}).get("image", "")) if isinstance(service, dict) else ""
        if image.split("/")[-1].startswith("postgres"):
            return name, service
    pytest.fail(f"expected a service with a postgres image, found {sorted(data['services'])}")


def app_service(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    for name, service in data["services"].items():
        if isinstance(service, dict) and "build" in service:
            return name, service
    pytest.fail("expected an app service built from the Dockerfile (build:), found none")


def environment(service: dict[str, Any]) -> dict[str, str]:
    value = service.get("environment") or {}
    if isinstance(value, list):
        return dict(item.split("=", 1) for item in map(str, value) if "=" in item)
    return {str(k): str(v) for k, v in value.items()}


@pytest.mark.grade("D18", 1)
def test_compose_runs_the_app_and_postgres(project: Project) -> None:
    data = compose(project)
    postgres_service(data)
    app_service(data)


@pytest.mark.grade("D18", 2)
def test_compose_postgres_has_a_healthcheck_and_a_volume(project: Project) -> None:
    name, service = postgres_service(compose(project))
    check = service.get("healthcheck") or {}
    assert check.get("test") and not check.get("disable"), (
        f"expected the {name} service to have a healthcheck (e.g. pg_isready), found none"
    )
    volumes = [
        str(v if not isinstance(v, dict) else v.get("target", ""))
        for v in service.get("volumes") or []
    ]
    assert any("/var/lib/postgresql" in volume for volume in volumes), (
        f"expected the {name} service to keep its data in a volume at /var/lib/postgresql/data, "
        f"found volumes {volumes}"
    )


@pytest.mark.grade("D18", 2)
def test_compose_app_starts_after_postgres_is_healthy(project: Project) -> None:
    data = compose(project)
    db_name, _ = postgres_service(data)
    name, app = app_service(data)
    depends = app.get("depends_on") or {}
    condition = depends.get(db_name, {}).get("condition") if isinstance(depends, dict) else None
    assert condition == "service_healthy", (
        f"expected the {name} service to depend on {db_name} with condition: service_healthy, "
        f"found depends_on: {depends or 'nothing'}"
    )


@pytest.mark.grade("D18", 1)
def test_compose_app_connects_to_postgres_with_asyncpg(project: Project) -> None:
    data = compose(project)
    db_name, _ = postgres_service(data)
    name, app = app_service(data)
    url = environment(app).get("DATABASE_URL")
    if url is None:
        assert app.get("env_file"), (
            f"expected the {name} service to set DATABASE_URL (environment: or env_file:), "
            "found neither"
        )
        return
    try:
        parsed = make_url(url)
    except ArgumentError:
        pytest.fail(f"expected DATABASE_URL of {name} to be a database URL, found {url!r}")
    assert parsed.drivername == "postgresql+asyncpg" and parsed.host == db_name, (
        f"expected DATABASE_URL of {name} to be postgresql+asyncpg://…@{db_name}/…, found {url!r}"
    )
