"""Logging: one line per request, JSON lines, stdlib routed into Loguru, no secrets."""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from loguru import logger
from sqlalchemy import select, text

from app.core.config import Settings, settings
from app.core.database import DatabaseManager
from app.core.logging import UVICORN_LOGGERS, setup_logging
from app.domain.models.user import User
from app.main import create_app
from tests.conftest import API, serve

REQUEST_FIELDS = {"method", "path", "status_code", "duration_ms", "request_id"}


class Capture:
    """A Loguru sink keeping every serialized line (message, record, exception text)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, message: str) -> None:
        self.lines.append(str(message))

    @property
    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line)["record"] for line in self.lines]

    def messages(self) -> list[str]:
        return [record["message"] for record in self.records]

    def request_lines(self, path: str | None = None) -> list[dict[str, Any]]:
        return [
            record
            for record in self.records
            if REQUEST_FIELDS.issubset(record["extra"])
            and (path is None or record["extra"]["path"] == path)
        ]


def is_client_line(line: str) -> bool:
    """Whether a captured line comes from httpx, the tests' HTTP client."""
    return str(json.loads(line)["record"]["name"]).startswith("httpx")


@contextmanager
def capture_logs() -> Iterator[Capture]:
    """Capture every Loguru record, whatever its level, while the block runs."""
    capture = Capture()
    sink_id = logger.add(capture, serialize=True, level=0)
    try:
        yield capture
    finally:
        logger.remove(sink_id)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Leave logging as the app configures it, whatever a test did to it."""
    yield
    setup_logging(settings)


@pytest.fixture
def capture(client: httpx.AsyncClient) -> Iterator[Capture]:
    """Records logged after the client started (its lifespan calls `logger.remove()`)."""
    with capture_logs() as captured:
        yield captured


# --- One line per request --------------------------------------------------------


async def test_one_request_log_line_per_request_with_fields(
    client: httpx.AsyncClient, capture: Capture
) -> None:
    response = await client.get(f"{API}/health")
    assert response.status_code == 200
    lines = capture.request_lines()
    assert len(lines) == 1
    extra = lines[0]["extra"]
    assert extra["method"] == "GET"
    assert extra["path"] == f"{API}/health"
    assert extra["status_code"] == 200
    assert isinstance(extra["duration_ms"], int | float)
    assert extra["duration_ms"] >= 0
    assert extra["request_id"] == response.headers["X-Request-ID"]
    assert lines[0]["level"]["name"] == "INFO"
    assert lines[0]["message"].startswith(f"GET {API}/health 200 ")
    assert lines[0]["message"].endswith("ms")


async def test_each_request_logs_its_own_line_with_its_status_and_id(
    client: httpx.AsyncClient, capture: Capture
) -> None:
    responses = [
        await client.get(f"{API}/health", headers={"X-Request-ID": "first-1"}),
        await client.get(f"{API}/no-such-route"),
        await client.post(f"{API}/auth/register", json={}),
        await client.delete(f"{API}/health"),
    ]
    lines = capture.request_lines()
    assert [line["extra"]["status_code"] for line in lines] == [200, 404, 422, 405]
    assert [line["extra"]["method"] for line in lines] == ["GET", "GET", "POST", "DELETE"]
    assert [line["extra"]["request_id"] for line in lines] == [
        response.headers["X-Request-ID"] for response in responses
    ]
    assert lines[0]["extra"]["request_id"] == "first-1"


async def test_request_line_records_500_for_crashing_endpoint(
    app: FastAPI, client: httpx.AsyncClient, capture: Capture
) -> None:
    async def crash() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/probe/crash", crash, methods=["GET"])
    response = await client.get("/probe/crash")
    assert response.status_code == 500
    lines = capture.request_lines("/probe/crash")
    assert len(lines) == 1
    assert lines[0]["extra"]["status_code"] == 500
    assert lines[0]["extra"]["request_id"] == response.headers["X-Request-ID"]


async def test_request_line_logs_path_without_query_string(
    client: httpx.AsyncClient, capture: Capture
) -> None:
    response = await client.get(f"{API}/health", params={"token": "query-secret-value"})
    assert response.status_code == 200
    lines = capture.request_lines()
    assert len(lines) == 1
    assert lines[0]["extra"]["path"] == f"{API}/health"
    # httpx, the test's client, logs the URL it requested: that line is not the app's.
    app_lines = [line for line in capture.lines if not is_client_line(line)]
    assert not [line for line in app_lines if "query-secret-value" in line]


async def test_cors_preflight_gets_a_request_line(
    client: httpx.AsyncClient, capture: Capture
) -> None:
    response = await client.options(
        f"{API}/health",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"},
    )
    lines = capture.request_lines()
    assert len(lines) == 1
    assert lines[0]["extra"]["method"] == "OPTIONS"
    assert lines[0]["extra"]["status_code"] == response.status_code == 200


# --- Formats -------------------------------------------------------------------


async def test_json_format_writes_json_lines_to_stdout(
    database: DatabaseManager, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(settings=Settings(LOG_FORMAT="json"), database=database)
    async with serve(app) as client:
        response = await client.get(f"{API}/health")
    assert response.status_code == 200
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert lines
    records = [json.loads(line)["record"] for line in lines]  # every line is JSON
    request_lines = [r for r in records if r["extra"].get("path") == f"{API}/health"]
    assert len(request_lines) == 1
    assert request_lines[0]["extra"]["request_id"] == response.headers["X-Request-ID"]
    assert request_lines[0]["extra"]["status_code"] == 200


def test_text_format_is_human_readable_not_json(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(Settings(LOG_FORMAT="text"))
    with logger.contextualize(request_id="rid-text-1"):
        logger.info("plain text line")
    lines = [line for line in capsys.readouterr().out.splitlines() if "plain text line" in line]
    assert len(lines) == 1
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[0])
    assert "rid-text-1" in lines[0]
    assert "INFO" in lines[0]


def test_text_format_outside_a_request_shows_dash_request_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup_logging(Settings(LOG_FORMAT="text"))
    logger.info("no request here")
    lines = [line for line in capsys.readouterr().out.splitlines() if "no request here" in line]
    assert len(lines) == 1
    assert " | - | " in lines[0]


def test_log_level_setting_filters_lower_levels(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(Settings(LOG_LEVEL="WARNING", LOG_FORMAT="json"))
    logger.info("below the level")
    logger.warning("at the level")
    out = capsys.readouterr().out
    assert "below the level" not in out
    assert "at the level" in out


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_exception_log_shows_no_variable_values_without_debug(
    capsys: pytest.CaptureFixture[str], log_format: str
) -> None:
    setup_logging(Settings(DEBUG=False, LOG_FORMAT=log_format))
    log_failure()
    out = capsys.readouterr().out
    assert "RuntimeError" in out  # the traceback is there...
    assert "hunter2-local-value" not in out  # ...but not the values of variables


def test_exception_log_shows_variable_values_in_debug(capsys: pytest.CaptureFixture[str]) -> None:
    # The counterpart of the test above: proves it would see a leaked value.
    setup_logging(Settings(DEBUG=True, LOG_FORMAT="json"))
    log_failure()
    assert "hunter2-local-value" in capsys.readouterr().out


def log_failure() -> None:
    secret_local = "hunter2-local-value"
    try:
        raise RuntimeError("failed" + secret_local[:0])
    except RuntimeError:
        logger.exception("operation failed")


# --- Standard-library logging ----------------------------------------------------


def test_stdlib_logs_reach_loguru() -> None:
    setup_logging(Settings())
    with capture_logs() as capture:
        logging.getLogger("some.lib").warning("hello from %s", "stdlib")
    records = [r for r in capture.records if r["message"] == "hello from stdlib"]
    assert len(records) == 1
    assert records[0]["level"]["name"] == "WARNING"


def test_stdlib_logs_below_log_level_are_dropped() -> None:
    setup_logging(Settings(LOG_LEVEL="WARNING"))
    with capture_logs() as capture:
        logging.getLogger("some.lib").info("chatty info")
    assert "chatty info" not in capture.messages()


def test_uvicorn_loggers_have_no_own_handlers_and_propagate() -> None:
    # What uvicorn's own logging config leaves behind before the app starts.
    for name in UVICORN_LOGGERS:
        std_logger = logging.getLogger(name)
        std_logger.addHandler(logging.StreamHandler())
        std_logger.propagate = False
    setup_logging(Settings())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        std_logger = logging.getLogger(name)
        assert std_logger.handlers == [], name
        assert std_logger.propagate is True, name
    with capture_logs() as capture:
        logging.getLogger("uvicorn.error").info("Application startup complete.")
    assert "Application startup complete." in capture.messages()


def test_uvicorn_access_log_does_not_duplicate_request_lines() -> None:
    setup_logging(Settings())
    with capture_logs() as capture:
        logging.getLogger("uvicorn.access").info('127.0.0.1:1 - "GET / HTTP/1.1" 200')
    assert capture.lines == []


@pytest.mark.parametrize("log_level", ["TRACE", "DEBUG", "INFO"])
def test_sqlalchemy_sql_logging_stays_off_without_db_echo(log_level: str) -> None:
    setup_logging(Settings(LOG_LEVEL=log_level, DB_ECHO=False))
    assert logging.getLogger().level == logger.level(log_level).no != 0
    assert not logging.getLogger("sqlalchemy.engine").isEnabledFor(logging.INFO)
    assert not logging.getLogger("sqlalchemy.engine.Engine").isEnabledFor(logging.INFO)


def test_sqlalchemy_sql_logging_on_with_db_echo() -> None:
    setup_logging(Settings(DB_ECHO=True))
    assert logging.getLogger("sqlalchemy.engine").isEnabledFor(logging.INFO)
    assert logging.getLogger("sqlalchemy.engine.Engine").isEnabledFor(logging.INFO)


@pytest.mark.parametrize("db_echo", [False, True])
async def test_sql_statements_reach_loguru_only_with_db_echo(
    database: DatabaseManager, db_echo: bool
) -> None:
    setup_logging(Settings(LOG_LEVEL="DEBUG", DB_ECHO=db_echo))
    with capture_logs() as capture:
        async with database.session_factory() as session:
            await session.execute(text("SELECT 'sql-echo-marker'"))
    logged = any("sql-echo-marker" in line for line in capture.lines)
    assert logged is db_echo


# --- No secrets ----------------------------------------------------------------


async def read_password_hash(database: DatabaseManager, email: str) -> str:
    async with database.session_factory() as session:
        query = select(User.password_hash).where(User.email == email)
        return (await session.execute(query)).scalar_one()


async def test_no_password_hash_or_token_in_any_log_line_at_debug(
    database: DatabaseManager,
) -> None:
    email = "leak-check@example.com"
    first_password = "first-Secret-pass-123"
    second_password = "second-Secret-pass-456"
    wrong_password = "wrong-Secret-pass-789"
    rejected_password = "short1"
    secrets: list[str] = [first_password, second_password, wrong_password, rejected_password]

    app = create_app(settings=Settings(LOG_LEVEL="DEBUG"), database=database)
    async with serve(app) as client:
        with capture_logs() as capture:
            logging.getLogger("canary").debug("stdlib debug canary")

            response = await client.post(
                f"{API}/auth/register",
                json={"email": email, "password": first_password, "full_name": "Leak Check"},
            )
            assert response.status_code == 201
            first_hash = await read_password_hash(database, email)

            response = await client.post(
                f"{API}/auth/login", data={"username": email, "password": wrong_password}
            )
            assert response.status_code == 401

            response = await client.post(
                f"{API}/auth/login", data={"username": email, "password": first_password}
            )
            assert response.status_code == 200
            tokens = response.json()
            secrets += [tokens["access_token"], tokens["refresh_token"]]

            response = await client.post(
                f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
            )
            assert response.status_code == 200
            tokens = response.json()
            secrets += [tokens["access_token"], tokens["refresh_token"]]
            auth = {"Authorization": f"Bearer {tokens['access_token']}"}

            response = await client.get(f"{API}/users/me", headers=auth)
            assert response.status_code == 200

            response = await client.patch(
                f"{API}/users/me",
                json={"password": second_password, "current_password": first_password},
                headers=auth,
            )
            assert response.status_code == 200
            second_hash = await read_password_hash(database, email)
            response = await client.post(  # the change ended the session: log in again
                f"{API}/auth/login", data={"username": email, "password": second_password}
            )
            assert response.status_code == 200
            tokens = response.json()
            secrets += [tokens["access_token"], tokens["refresh_token"]]
            auth = {"Authorization": f"Bearer {tokens['access_token']}"}

            response = await client.post(
                f"{API}/auth/register",
                json={
                    "email": "other@example.com",
                    "password": rejected_password,
                    "full_name": "Other",
                },
            )
            assert response.status_code == 422

            response = await client.patch(
                f"{API}/users/me", json={"password": rejected_password}, headers=auth
            )
            assert response.status_code == 422

            response = await client.post(
                f"{API}/auth/login", data={"username": email, "password": second_password}
            )
            assert response.status_code == 200
            secrets += [response.json()["access_token"], response.json()["refresh_token"]]

    assert first_hash != second_hash
    for stored_hash in (first_hash, second_hash):
        secrets += [stored_hash, stored_hash.rsplit("$", 1)[-1]]  # whole hash and its digest

    # The capture works and saw debug-level stdlib logs and every request.
    assert "stdlib debug canary" in capture.messages()
    assert len(capture.request_lines()) == 10
    leaks = {
        f"{secret[:12]}... by {json.loads(line)['record']['name']}"
        for secret in secrets
        for line in capture.lines
        if secret in line
    }
    assert leaks == set(), "secrets in the logs"

    # The security events were among those lines, and name the user by id, not email.
    event_lines = [line for line in capture.lines if "event" in json.loads(line)["record"]["extra"]]
    logged = {json.loads(line)["record"]["extra"]["event"] for line in event_lines}
    assert {"login_failed", "password_changed"} <= logged
    assert [line for line in event_lines if email in line or "leak-check" in line] == []
