"""Step 8, run & verify: the workflow's success criteria, with the app served by uvicorn.

As a developer would: `alembic upgrade head`, then `uvicorn app.main:app`, in a copy
of the project (whose .env sets only VERSION), with LOG_FORMAT=json, on a scratch
database. One session of
requests is made (health, a user's round trip, an admin's CRUD) and every check
reads what it needs from it; the logs are read once the server has stopped.
"""

import importlib
import json
import re
from typing import Any

import pytest

from course.grading.fixtures import API, Project

from .conftest import DOTENV_VERSION, USER_PASSWORD, Reply, ServerRun

LOG_LINE = re.compile(
    r"^(TRACE|DEBUG|INFO|SUCCESS|WARNING|ERROR|CRITICAL)\b|^\d{4}-\d\d-\d\d[ T]\d\d:"
)


def started(run: ServerRun) -> ServerRun:
    if not run.started:
        pytest.fail(
            f"expected `uvicorn app.main:app` to start and answer GET {API}/health, but "
            f"{run.problem}"
        )
    return run


def reply(run: ServerRun, name: str) -> Reply:
    return started(run).replies.get(name) or Reply(None, "not sent: an earlier request failed", {})


def expect(run: ServerRun, name: str, request: str, status: int) -> Reply:
    answer = reply(run, name)
    assert answer.status == status, f"expected {request} to answer {status}, found {answer.show()}"
    return answer


def json_lines(text: str) -> tuple[list[Any], list[str]]:
    """The JSON objects among the lines of `text`, and the lines that are not JSON."""
    parsed, other = [], []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            parsed.append(json.loads(line))
        except ValueError:
            other.append(line)
    return parsed, other


@pytest.mark.grade("run-verify", 1)
def test_every_module_of_the_app_imports(project: Project) -> None:
    failed = []
    for path in sorted(project.path("app").rglob("*.py")):
        parts = list(path.relative_to(project.root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        try:
            importlib.import_module(name)
        except Exception as exc:
            failed.append(f"{name} ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})")
    assert not failed, f"expected every module of app/ to import, found: {'; '.join(failed[:3])}"


@pytest.mark.grade("run-verify", 2)
def test_the_server_starts_and_reports_healthy(server_run: ServerRun) -> None:
    health = expect(server_run, "health", f"GET {API}/health", 200)
    assert health.field("status") == "healthy", (
        f"expected GET {API}/health to say status 'healthy', found {health.body[:200]}"
    )


@pytest.mark.grade("run-verify", 1)
def test_the_server_reads_its_settings_from_the_dotenv_file(server_run: ServerRun) -> None:
    health = expect(server_run, "health", f"GET {API}/health", 200)
    assert health.field("version") == DOTENV_VERSION, (
        f"expected the version from .env (VERSION={DOTENV_VERSION}) in GET {API}/health, found "
        f"{health.field('version')!r}: are the settings read from a .env file?"
    )


@pytest.mark.grade("run-verify", 2)
def test_register_login_and_read_your_profile(server_run: ServerRun) -> None:
    expect(server_run, "register", f"POST {API}/auth/register", 201)
    login = expect(server_run, "login", f"POST {API}/auth/login", 200)
    assert isinstance(login.field("access_token"), str), (
        f"expected the login answer to carry an access_token, found {login.body[:200]}"
    )
    me = expect(server_run, "me", f"GET {API}/users/me", 200)
    assert str(me.field("email")).startswith("verify-"), (
        f"expected GET {API}/users/me to return the logged-in user, found {me.body[:200]}"
    )


@pytest.mark.grade("run-verify", 1)
def test_update_your_profile_and_read_it_back(server_run: ServerRun) -> None:
    expect(server_run, "patch_me", f"PATCH {API}/users/me", 200)
    again = expect(server_run, "me_again", f"GET {API}/users/me", 200)
    assert again.field("full_name") == "Renamed Verify", (
        f"expected PATCH {API}/users/me to rename the user for good, found {again.body[:200]}"
    )


@pytest.mark.grade("run-verify", 2)
def test_an_admin_can_run_every_crud_endpoint(server_run: ServerRun) -> None:
    expect(server_run, "login_admin", f"POST {API}/auth/login (as admin)", 200)
    expect(server_run, "create", f"POST {API}/users", 201)
    listed = expect(server_run, "list", f"GET {API}/users", 200)
    assert isinstance(listed.field("items"), list), (
        f"expected GET {API}/users to return items, found {listed.body[:200]}"
    )
    expect(server_run, "get", f"GET {API}/users/<id>", 200)
    updated = expect(server_run, "update", f"PATCH {API}/users/<id>", 200)
    assert updated.field("full_name") == "Updated Name", (
        f"expected PATCH {API}/users/<id> to return the new name, found {updated.body[:200]}"
    )
    expect(server_run, "delete", f"DELETE {API}/users/<id>", 200)
    expect(server_run, "get_deleted", f"GET {API}/users/<id> after DELETE", 404)


def log_records(run: ServerRun) -> tuple[list[Any], list[str]]:
    """The JSON log lines of the server, and its log lines that are not JSON.

    Every non-empty line on stdout is a log line; on stderr, the lines that look like
    logs (uvicorn's own `INFO:     ...` lines, timestamped lines). Either stream may
    carry the JSON lines.
    """
    started(run)
    parsed, other = json_lines(run.stdout)
    from_stderr, stderr_other = json_lines(run.stderr)
    return parsed + from_stderr, other + [line for line in stderr_other if LOG_LINE.match(line)]


@pytest.mark.grade("run-verify", 2)
def test_with_log_format_json_every_log_line_is_json(server_run: ServerRun) -> None:
    parsed, other = log_records(server_run)
    assert parsed, "expected JSON log lines with LOG_FORMAT=json, found none on stdout or stderr"
    assert not other, (
        f"expected every log line to be JSON with LOG_FORMAT=json, found {len(other)} other "
        f"line(s), e.g. {other[0][:160]!r} (are uvicorn's logs routed into Loguru?)"
    )


@pytest.mark.grade("run-verify", 1)
def test_the_request_log_line_carries_the_request_id(server_run: ServerRun) -> None:
    parsed, _ = log_records(server_run)
    request_id = server_run.request_id
    lines = [json.dumps(record) for record in parsed if request_id in json.dumps(record)]
    assert lines, (
        f"expected a JSON log line for GET {API}/health with its X-Request-ID ({request_id}), "
        "found none"
    )
    assert any("/health" in line and "200" in line for line in lines), (
        "expected the request's log line to name the path and the status 200, found "
        f"{lines[0][:200]}"
    )


@pytest.mark.grade("run-verify", 1)
def test_no_password_or_token_reaches_the_server_output(server_run: ServerRun) -> None:
    output = started(server_run).stdout + server_run.stderr
    leaked = [
        "the password" if USER_PASSWORD in output else "",
        "a token" if any(secret in output for secret in server_run.secrets) else "",
        "a password hash" if "$argon2" in output else "",
    ]
    leaked = [item for item in leaked if item]
    assert not leaked, f"expected no secret in the server's logs, found {' and '.join(leaked)}"
