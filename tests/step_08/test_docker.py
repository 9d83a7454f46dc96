"""Step 8, D18: docker/Dockerfile and docker/docker-compose.yml, read statically.

The grader builds no image (no Docker engine is assumed): it reads the files the
way `docker build` and `docker compose` would and checks what the spec promises.
"""

import json
import posixpath
import re
import shlex
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
HEALTH_PATH = "/api/v1/health"
# What a HEALTHCHECK may request the health route with; each fails on an error answer:
# curl with --fail (-f), wget, Python's urllib (urlopen raises), httpx or requests with a
# status check.
CURL = re.compile(r"\bcurl\b")
CURL_FAILS = re.compile(r"(?<!\S)(--fail(-with-body)?\b|-[a-zA-EG-Z]*f[a-zA-Z]*\b)")
WGET = re.compile(r"\bwget\b")
PYTHON_URLLIB = re.compile(r"\burlopen\b|\bhttp\.client\b")
PYTHON_CLIENT = re.compile(r"\b(httpx|requests)\.(get|head)\b")
STATUS_CHECKED = re.compile(r"raise_for_status|status_code|\.is_success|\.ok\b|\.status\b")
# Ways to turn a failed request into a success: the healthcheck could never fail.
NEUTRALISED = re.compile(
    r"\|\|\s*(true\b|:(?!\S)|exit\s+0\b|echo\b)|;\s*(true|:|exit\s+0|echo\b[^;&|]*)\s*$",
    re.MULTILINE,
)
SCRIPT = re.compile(r"[\w./-]+\.(sh|py)\b")

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


def healthcheck_command(arguments: str) -> str:
    """The command of `HEALTHCHECK [OPTIONS] CMD command` as the shell would run it:
    exec form (a JSON array) joined, `sh -c "..."` unwrapped, options dropped."""
    match = re.match(r"^(?:--[\w-]+(?:=\S+|\s+\S+)?\s+)*CMD\s+(?P<command>.+)$", arguments,
                     flags=re.IGNORECASE | re.DOTALL)  # fmt: skip
    if not match:
        return ""
    command = match.group("command").strip()
    if command.startswith("["):
        try:
            words = json.loads(command)
        except ValueError:
            return command
        if isinstance(words, list) and all(isinstance(word, str) for word in words):
            if len(words) >= 3 and Path(words[0]).name in ("sh", "bash") and words[1] == "-c":
                return str(words[2])
            return shlex.join(words)
    return command


def with_scripts(project: Project, command: str) -> str:
    """`command`, followed by the text of the scripts it runs that the project holds."""
    parts = [command]
    for match in SCRIPT.finditer(command):
        if match.group(0).startswith(("http:", "https:")):
            continue
        content = find_script(project, match.group(0))
        if content is not None:
            parts.append(
                "\n".join(line for line in content.splitlines() if not line.strip().startswith("#"))
            )
    return "\n".join(parts)


@pytest.mark.grade("D18", 1)
def test_dockerfile_has_a_healthcheck_on_the_health_route(project: Project) -> None:
    """The healthcheck must request the health route and fail when the request does:
    `CMD echo health` or `curl ... || true` report a dead app as healthy."""
    checks = [
        arguments for instruction, arguments in final_stage(project) if instruction == "HEALTHCHECK"
    ]
    assert checks and checks[-1].upper() != "NONE", (
        "expected a HEALTHCHECK in the final stage of the Dockerfile, found none"
    )
    command = healthcheck_command(checks[-1])
    assert command, f"expected HEALTHCHECK [options] CMD <command>, found: HEALTHCHECK {checks[-1]}"
    text = with_scripts(project, command)
    assert HEALTH_PATH in text, (
        f"expected the HEALTHCHECK to request the app's health route ({HEALTH_PATH}, e.g. "
        f"`curl -f http://127.0.0.1:8000{HEALTH_PATH}`), found: {command[:200]}"
    )
    neutralised = NEUTRALISED.search(text)
    assert not neutralised, (
        "expected the HEALTHCHECK to fail when the health route does (exit non-zero), found "
        f"`{neutralised.group(0).strip()}`, which makes it succeed whatever happens: drop it "
        "(`|| exit 1` is fine)"
    )
    if CURL.search(text):
        assert CURL_FAILS.search(text), (
            "expected curl in the HEALTHCHECK to use --fail (-f): without it curl exits 0 on "
            f"an error answer such as 500, found: {command[:200]}"
        )
        return
    if WGET.search(text) or PYTHON_URLLIB.search(text):
        return  # both exit non-zero on a refused connection and on an error status
    if PYTHON_CLIENT.search(text):
        assert STATUS_CHECKED.search(text), (
            "expected the HEALTHCHECK to check the answer's status (`.raise_for_status()`): "
            f"httpx and requests return error answers without raising, found: {command[:200]}"
        )
        return
    pytest.fail(
        f"expected the HEALTHCHECK to request {HEALTH_PATH} with a command that fails when it "
        "fails (`curl -f`, `wget -q -O /dev/null`, or Python's urllib.request.urlopen), "
        f"found: {command[:200]}"
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


def image_environment(project: Project) -> dict[str, str]:
    """The variables the final stage's ENV instructions set (`K=v K2=v2` or `K v`)."""
    found: dict[str, str] = {}
    for instruction, arguments in final_stage(project):
        if instruction != "ENV":
            continue
        try:
            words = shlex.split(arguments)
        except ValueError:
            continue
        if words and "=" not in words[0]:
            found[words[0]] = " ".join(words[1:])  # the legacy form: ENV KEY value
            continue
        found.update(word.split("=", 1) for word in words if "=" in word)  # type: ignore[misc]
    return found


@pytest.mark.grade("D18", 1)
def test_the_image_runs_in_production(project: Project) -> None:
    value = image_environment(project).get("ENVIRONMENT")
    found = "no ENVIRONMENT" if value is None else f"ENVIRONMENT={value!r}"
    assert value == "production", (
        "expected the final stage to set ENV ENVIRONMENT=production: an image is what runs in "
        f"production, and there the settings refuse development secrets and DEBUG; found {found}"
    )


@pytest.mark.grade("D18", 1)
def test_the_server_sends_no_server_header(project: Project) -> None:
    sequence = start_sequence(project)
    server = SERVER.search(sequence)
    assert server, f"expected the container to start uvicorn, found: {sequence.strip()[:200]}"
    command = re.split(r"(?<!\\)\n", sequence[server.start() :], maxsplit=1)[0]
    assert "--no-server-header" in command or "server_header=False" in command, (
        "expected the container's uvicorn to drop its `server` header (--no-server-header): "
        f"it tells an attacker what serves the API, found: {command.strip()[:200]}"
    )


def compose_file(project: Project) -> str:
    return next((name for name in COMPOSE_FILES if project.exists(name)), COMPOSE_FILES[0])


def compose(project: Project) -> dict[str, Any]:
    name = compose_file(project)
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
    return {str(k): str(v) for k, v in value.items() if v is not None}


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


def env_files(service: dict[str, Any]) -> list[str]:
    """The paths of a service's env_file (a string, a list of strings or of {path: ...})."""
    value = service.get("env_file") or []
    entries = value if isinstance(value, list) else [value]
    paths = [entry.get("path") if isinstance(entry, dict) else entry for entry in entries]
    return [str(path) for path in paths if path]


def dotenv_values(text: str) -> dict[str, str]:
    """KEY=VALUE lines (`export`, quotes and comments allowed), as compose reads them."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if value[:1] in ("'", '"') and value[-1:] == value[:1] and len(value) > 1:
            value = value[1:-1]
        else:
            value = value.split(" #", 1)[0].strip()
        values[key.strip()] = value
    return values


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `$VAR`, from `variables` or the default;
    an unknown variable without a default stays as it is."""

    def replace(match: re.Match[str]) -> str:
        name = match.group("name") or match.group("bare")
        if name in variables:
            return variables[name]
        default = match.group("default")
        return match.group(0) if default is None else default

    pattern = r"\$\{(?P<name>\w+)(?::?-(?P<default>[^}]*))?\}|\$(?P<bare>[A-Za-z_]\w*)"
    return re.sub(pattern, replace, value)


def database_url_of(project: Project, app: dict[str, Any]) -> tuple[str | None, str]:
    """The DATABASE_URL compose gives the app, and where it comes from.

    `environment:` wins over `env_file:`, a later env file over an earlier one; an env
    file the project does not hold (a .env that is not committed) gives nothing. `${VAR}`
    is read from docker/.env, compose's own variables file, else its default.
    """
    folder = Path(compose_file(project)).parent
    variables: dict[str, str] = {}
    if project.exists((folder / ".env").as_posix()):
        variables = dotenv_values(project.read((folder / ".env").as_posix()))
    url, source = environment(app).get("DATABASE_URL"), "environment:"
    if url is None:
        for name in env_files(app):
            relative = posixpath.normpath((folder / name).as_posix())
            if relative.startswith(("../", "/")) or not project.exists(relative):
                continue  # outside the project, or not committed
            if Path(project.path(relative)).is_file():
                found = dotenv_values(project.read(relative)).get("DATABASE_URL")
                if found is not None:
                    url, source = found, f"env_file {name}"
    return (None if url is None else interpolate(url, variables)), source


@pytest.mark.grade("D18", 1)
def test_compose_app_connects_to_postgres_with_asyncpg(project: Project) -> None:
    """The app must get the compose database's URL: an env_file holding a developer's
    local URL (SQLite, localhost) leaves it talking to another database, or to none."""
    data = compose(project)
    db_name, db = postgres_service(data)
    name, app = app_service(data)
    url, source = database_url_of(project, app)
    expected = f"postgresql+asyncpg://user:password@{db_name}:5432/dbname"
    assert url is not None, (
        f"expected the {name} service to set DATABASE_URL to the {db_name} service's database "
        f"(under environment:, e.g. DATABASE_URL: {expected}), found none in environment: or "
        "in an env_file the project holds"
    )
    try:
        parsed = make_url(url)
    except ArgumentError:
        pytest.fail(
            f"expected DATABASE_URL of {name} ({source}) to be a database URL such as "
            f"{expected}, found {url!r}"
        )
    hosts = {db_name, str(db.get("container_name") or db_name), str(db.get("hostname") or db_name)}
    assert parsed.drivername == "postgresql+asyncpg" and parsed.host in hosts, (
        f"expected DATABASE_URL of {name} ({source}) to name the {db_name} service with the "
        f"async driver, postgresql+asyncpg://…@{db_name}/… (inside compose the host is the "
        f"service's name), found {parsed.render_as_string(hide_password=True)!r}"
    )


REQUIRED_IN_COMPOSE = ["JWT_SECRET_KEY", "JWT_REFRESH_SECRET_KEY", "FIRST_ADMIN_PASSWORD"]


def required_variable(value: str, name: str) -> bool:
    """Whether `value` is `${name:?message}` (or `${name?message}`): compose refuses to
    start when the variable is not set, instead of using a default."""
    return re.fullmatch(rf"\s*\$\{{{re.escape(name)}:?\?[^}}]*\}}\s*", value) is not None


@pytest.mark.grade("D18", 2)
def test_compose_requires_the_secrets_instead_of_defaults(project: Project) -> None:
    name, app = app_service(compose(project))
    given = environment(app)
    wrong = {
        variable: given.get(variable, "not set")
        for variable in REQUIRED_IN_COMPOSE
        if not required_variable(given.get(variable, ""), variable)
    }
    assert not wrong, (
        f"expected the {name} service to require {', '.join(REQUIRED_IN_COMPOSE)} under "
        "environment:, each as ${NAME:?a message saying what to set}, so that compose refuses "
        f"to start without them rather than run on a published default, found {wrong}"
    )
