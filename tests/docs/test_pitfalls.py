"""Every "Pitfall" box of the course pages, checked against the libraries installed here.

A pitfall box says how a library behaves: SQLAlchemy, aiosqlite, FastAPI, uvicorn,
logging, Alembic, pwdlib, passlib with bcrypt. Each test below is a short experiment
that shows it with the installed versions, so that a library release that changes
the behaviour fails here instead of leaving a wrong sentence in the course.

`PITFALLS` maps the exact title of every box to the tests that verify it, and
`test_every_pitfall_on_the_pages_has_its_check` fails when a box has none, so a new
pitfall cannot be added without its experiment. A title whose claim cannot be
executed at all goes to `NOT_EXECUTABLE` with the reason instead.

Logging is process-wide state, so the experiments that configure it run in a fresh
interpreter. Nothing here touches the network: engines for PostgreSQL are created,
never connected. passlib and bcrypt are the workflow's libraries, not the course's:
they come from the `pitfalls` dependency group, and their tests skip without them.
"""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations, and
# those name dependencies local to a test.
import ast
import asyncio
import importlib
import importlib.util
import inspect
import json
import logging
import re
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import tomllib
import traceback
import unicodedata
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
import httpx
import jwt
import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import NullPool, StaticPool
from starlette.concurrency import run_in_threadpool

from course.grading.fixtures import http_scope
from course.manifest import REPO_ROOT

DOCS = REPO_ROOT / "docs"
SOLUTION = REPO_ROOT / "solution"

# The title of every box on the pages. Each maps to the tests that verify its claims:
# a name in this module, or `path::name` for a test another file holds.
PITFALLS: dict[str, tuple[str, ...]] = {
    # docs/steps/01-skeleton.md
    "python-jose and passlib": ("test_passlib_cannot_hash_with_bcrypt_5",),
    # docs/steps/02-settings-app.md
    "a list setting read one way only": (
        "test_a_list_setting_is_json_unless_nodecode_and_then_only_what_the_validator_reads",
        "test_cors_compares_origins_as_exact_strings",
    ),
    "a database URL built for PostgreSQL only": (
        "test_a_plain_postgresql_url_selects_a_driver_the_project_does_not_install",
    ),
    "production with development secrets": (
        "test_anyone_with_the_published_secret_can_forge_a_token",
        "test_production_settings_refuse_development_secrets_and_open_cors",
    ),
    # docs/steps/03-database-logging-errors.md
    "one URL, and pool options only where the driver takes them": (
        "test_in_memory_sqlite_has_one_static_connection_and_rejects_pool_options",
        "test_sqlite_enforces_foreign_keys_only_on_connections_that_ask",
    ),
    "bound values in database errors": (
        "test_hide_parameters_keeps_bound_values_out_of_errors_and_logs",
    ),
    "uvicorn's loggers do not propagate": (
        "test_uvicorn_loggers_keep_their_lines_from_the_root_logger",
    ),
    "the older `InterceptHandler` recipe on Python 3.11": (
        "test_the_older_intercept_recipe_names_logging_not_the_caller",
    ),
    "the root logger at level 0, and the drivers' debug logs": (
        "test_root_logger_at_level_0_enables_aiosqlite_debug_lines_not_sql",
        "test_hide_parameters_keeps_bound_values_out_of_errors_and_logs",
    ),
    "a 422 that echoes the password back": (
        "test_fastapi_default_422_echoes_input_and_ctx_holds_the_exception",
    ),
    # docs/steps/04-domain.md
    "`postgresql.UUID` on SQLite": (
        "test_postgresql_uuid_on_sqlite_stores_an_all_digit_uuid_as_a_number",
        "test_generic_uuid_is_native_on_postgresql_and_32_hex_characters_on_sqlite",
    ),
    "a unique email that soft deletion breaks": (
        "test_a_plain_unique_email_blocks_soft_deleted_users_and_ignores_case",
        "test_a_partial_unique_index_on_lower_email_allows_reuse_after_soft_delete",
        "test_check_then_insert_lets_two_registrations_through_without_the_index",
    ),
    "`ON DELETE CASCADE` on SQLite": (
        "test_sqlite_runs_on_delete_cascade_only_on_connections_with_foreign_keys_on",
    ),
    "`EmailStr` and `str.lower` leave full-width letters": (
        "test_emailstr_keeps_full_width_letters_before_the_at_and_lower_keeps_them_wide",
    ),
    # docs/steps/05-repositories.md
    "sorting by any column the client names": (
        "test_sorting_by_a_client_named_attribute_reaches_hashes_or_fails",
        "test_the_sort_whitelist_excludes_the_password_hash",
    ),
    "`%` and `_` in a search term": ("test_like_wildcards_in_a_search_term_and_their_escape",),
    "a rotation that reads, then writes": (
        "test_a_rotation_that_reads_then_writes_lets_one_token_through_twice",
        "test_the_solutions_rotation_has_one_winner_when_two_run_at_once",
    ),
    # docs/steps/06-security-services.md
    "passlib and python-jose": (
        "test_passlib_cannot_hash_with_bcrypt_5",
        "test_bcrypt_5_refuses_a_password_over_72_bytes",
        "test_argon2id_reads_every_byte_of_a_long_password",
    ),
    "hashing on the event loop": (
        "test_one_argon2_hash_takes_tens_of_milliseconds_of_cpu",
        "test_a_hash_on_the_event_loop_stalls_it_and_one_in_a_thread_does_not",
    ),
    "`aud` without `audience`": (
        "test_pyjwt_refuses_a_token_with_aud_unless_decode_names_the_audience",
        "test_pyjwt_checks_iss_only_when_an_issuer_is_given",
    ),
    "check-then-insert races": (
        "test_check_then_insert_lets_two_registrations_through_without_the_index",
    ),
    "a queue bound read from the limiter's statistics": (
        "test_a_burst_reads_an_empty_limiter_queue_before_run_sync_joins_it",
    ),
    "the 401 that rolls back its own evidence": (
        "test_a_write_before_an_error_is_rolled_back_unless_committed_first",
    ),
    "a last-admin count that two requests both pass": (
        "test_two_counts_before_two_writes_leave_no_admin_on_sqlite_unless_a_write_comes_first",
        "test_for_update_is_rendered_for_postgresql_only",
    ),
    "committing after the response": (
        "test_yield_dependency_commits_after_the_response_unless_scope_function",
    ),
    "plain `def` providers": (
        "test_fastapi_runs_a_plain_def_dependency_in_a_worker_thread",
        "test_a_thread_hop_costs_more_than_building_a_provider_object",
    ),
    # docs/steps/07-api-middleware.md: written by another engineer, in its own file.
    "`BaseHTTPMiddleware`": (
        "tests/docs/test_basehttp_middleware.py::test_basehttpmiddleware_pitfall",
    ),
    "an exception raised while FastAPI reads the body": (
        "test_fastapi_turns_an_exception_from_receive_into_a_400_unless_it_is_an_http_exception",
    ),
    "the proxy's address in every event": (
        "test_uvicorn_trusts_forwarded_for_only_from_forwarded_allow_ips",
    ),
    # docs/steps/08-migrations-delivery.md
    "uvicorn names itself": ("test_uvicorn_sends_its_server_header_unless_told_not_to",),
    "a synchronous migration setup for an async app": (
        "test_a_plain_postgresql_url_selects_a_driver_the_project_does_not_install",
        "test_alembic_has_an_async_template_and_the_url_is_written_once",
    ),
    "SQLite cannot alter tables": ("test_sqlite_cannot_alter_a_column_and_batch_mode_copies",),
}

# Titles whose claim no experiment can check here, each with the reason. Keep it short:
# a claim that can be run belongs in PITFALLS. (Sentences such as "passlib is
# unmaintained" or "FastAPI's own documentation moved away from both" are about
# projects' histories; their boxes are listed above for the claims that do run.)
NOT_EXECUTABLE: dict[str, str] = {}

# `!!! warning "Pitfall: …"`, also indented (inside a tab) or collapsible (`???`).
PITFALL_TITLE = re.compile(r'^[ \t]*(?:!!!|\?\?\?\+?) *warning +"Pitfall: (?P<title>[^"]*)"', re.M)
REGISTRY_TESTS = {
    "test_every_pitfall_on_the_pages_has_its_check",
    "test_every_check_named_in_this_file_exists",
    "test_checks_in_other_files_exist",
    "test_every_experiment_here_verifies_a_pitfall",
}
# PostgreSQL's dialect, to compile DDL with (nothing connects).
POSTGRESQL = make_url("postgresql+asyncpg://").get_dialect()
SECRET_HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$SECRET-HASH-VALUE"
RESULT = "RESULT:"


# --- helpers -----------------------------------------------------------------------


def page_pitfalls() -> dict[str, list[str]]:
    """Every pitfall title on the course pages, with the pages that hold it."""
    found: dict[str, list[str]] = {}
    for page in sorted(DOCS.rglob("*.md")):
        for match in PITFALL_TITLE.finditer(page.read_text(encoding="utf-8")):
            found.setdefault(match.group("title"), []).append(str(page.relative_to(REPO_ROOT)))
    return found


def solution(module: str) -> Any:
    """Import a module of the reference solution (its folder goes on sys.path)."""
    if str(SOLUTION) not in sys.path:
        sys.path.insert(0, str(SOLUTION))
    return importlib.import_module(module)


def run_python(code: str, tmp_path: Path) -> Any:
    """Run `code` in a fresh interpreter and return the JSON it prints after RESULT."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith(RESULT)]
    assert lines, f"no result printed:\n{result.stdout}{result.stderr}"
    return json.loads(lines[-1].removeprefix(RESULT))


@contextmanager
def logged(name: str, level: int) -> Iterator[list[logging.LogRecord]]:
    """The records of logger `name` at `level`; the logger is put back as it was."""
    records: list[logging.LogRecord] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    std_logger, handler = logging.getLogger(name), Capture()
    saved_level = std_logger.level
    std_logger.setLevel(level)
    std_logger.addHandler(handler)
    try:
        yield records
    finally:
        std_logger.removeHandler(handler)
        std_logger.setLevel(saved_level)


@asynccontextmanager
async def http_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def asgi_get(app: FastAPI, events: list[str]) -> BaseException | None:
    """GET / straight through ASGI, appending `response <status>` to `events` when the
    response starts; return what the app raised, if anything."""

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            events.append(f"response {message['status']}")

    scope = http_scope("GET", "/")
    try:
        await app(scope, receive, send)
    except Exception as exc:  # what the server would see
        return exc
    return None


def bcrypt_5() -> Any:
    """The installed bcrypt, if it is version 5 or later (what the pitfalls are about)."""
    bcrypt = pytest.importorskip("bcrypt", reason="bcrypt is not installed (group pitfalls)")
    if int(str(bcrypt.__version__).split(".")[0]) < 5:
        pytest.skip(f"the pitfall is about bcrypt 5; bcrypt {bcrypt.__version__} is installed")
    return bcrypt


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(255), unique=True)


def users_table(metadata: sa.MetaData, *, partial_index: bool, unique_email: bool) -> sa.Table:
    """A users table with soft deletion: a plain unique email, or the course's index."""
    table = sa.Table(
        "users",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(255), nullable=False, unique=unique_email),
        sa.Column("deleted_at", sa.DateTime, nullable=True),
    )
    if partial_index:
        sa.Index(
            "uq_users_email_active",
            sa.func.lower(table.c.email),
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )
    return table


# --- the registry ------------------------------------------------------------------


def test_every_pitfall_on_the_pages_has_its_check() -> None:
    titles = page_pitfalls()
    assert len(titles) >= 10, f"expected the course's Pitfall boxes, found {sorted(titles)}"
    unchecked = sorted(set(titles) - set(PITFALLS) - set(NOT_EXECUTABLE))
    assert not unchecked, (
        "Pitfall boxes without a test in PITFALLS (or a reason in NOT_EXECUTABLE): "
        f"{[(title, titles[title]) for title in unchecked]}"
    )
    stale = sorted((set(PITFALLS) | set(NOT_EXECUTABLE)) - set(titles))
    assert not stale, f"registered titles that no page has (renamed or removed?): {stale}"
    assert not set(PITFALLS) & set(NOT_EXECUTABLE), "a title is both tested and untestable"
    empty = [title for title, reason in NOT_EXECUTABLE.items() if len(reason.split()) < 5]
    assert not empty, f"say why these cannot be executed: {empty}"


def test_every_check_named_in_this_file_exists() -> None:
    for title, checks in PITFALLS.items():
        assert checks, f"no test named for {title!r}"
        for check in checks:
            if "::" not in check:
                assert check.startswith("test_") and callable(globals().get(check)), (
                    f"{title!r} names {check}, which this file does not define"
                )


def test_checks_in_other_files_exist() -> None:
    for title, checks in PITFALLS.items():
        for check in (c for c in checks if "::" in c):
            path, name = check.split("::")
            file = REPO_ROOT / path
            assert file.is_file(), f"{title!r} is verified by {check}, but {path} does not exist"
            tree = ast.parse(file.read_text(encoding="utf-8"))
            defined = {
                node.name
                for node in ast.walk(tree)
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            }
            assert name in defined, f"{title!r} is verified by {check}, which {path} lacks"


def test_every_experiment_here_verifies_a_pitfall() -> None:
    named = {check for checks in PITFALLS.values() for check in checks}
    tests = {name for name in globals() if name.startswith("test_")} - REGISTRY_TESTS
    assert not tests - named, f"tests that no pitfall names: {sorted(tests - named)}"


# --- step 1, step 6: passlib, bcrypt, Argon2id -------------------------------------


def test_passlib_cannot_hash_with_bcrypt_5() -> None:
    """passlib probes bcrypt with a 255-byte password on first use; bcrypt 5 refuses it.

    Not executed: that passlib is unmaintained, python-jose barely maintained, and what
    FastAPI's documentation recommends (facts about the projects, not their code).
    """
    bcrypt_5()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # passlib imports `crypt`
        passlib_context = pytest.importorskip(
            "passlib.context", reason="passlib is not installed (group pitfalls)"
        )
    context = passlib_context.CryptContext(schemes=["bcrypt"], deprecated="auto")
    with pytest.raises(ValueError, match="longer than 72 bytes") as caught:
        context.hash("correct horse battery staple")  # a short password
    frames = [frame.name for frame in traceback.extract_tb(caught.value.__traceback__)]
    assert "detect_wrap_bug" in frames, f"expected passlib's first-use probe, found {frames}"


def test_bcrypt_5_refuses_a_password_over_72_bytes() -> None:
    bcrypt = bcrypt_5()
    salt = bcrypt.gensalt(rounds=4)
    hashed = bcrypt.hashpw(b"p" * 72, salt)
    assert bcrypt.checkpw(b"p" * 72, hashed)
    with pytest.raises(ValueError, match="72 bytes"):
        bcrypt.hashpw(b"p" * 73, salt)
    with pytest.raises(ValueError, match="72 bytes"):
        bcrypt.checkpw(b"p" * 73, hashed)


def test_argon2id_reads_every_byte_of_a_long_password() -> None:
    password_hash = solution("app.core.security").password_hash
    hashed = password_hash.hash("p" * 99 + "A")
    assert hashed.startswith("$argon2id$")
    assert password_hash.verify("p" * 99 + "A", hashed)
    assert not password_hash.verify("p" * 99 + "B", hashed)


# --- step 2: URLs and secrets --------------------------------------------------------


def test_a_plain_postgresql_url_selects_a_driver_the_project_does_not_install() -> None:
    url = make_url("postgresql://app:app@localhost:5432/app")
    dialect = url.get_dialect()
    # SQLAlchemy 2.1 picks psycopg (version 3) for a bare postgresql://; 2.0 picked psycopg2.
    assert dialect.driver == "psycopg", f"postgresql:// now selects {dialect.driver}"
    declared: list[str] = []
    workshop = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared += [d for d in workshop["dependency-groups"]["grade"] if isinstance(d, str)]
    project = tomllib.loads((SOLUTION / "pyproject.toml").read_text(encoding="utf-8"))
    declared += project["project"]["dependencies"]
    names = {re.split(r"[\[<>=~! ;]", d, maxsplit=1)[0].lower() for d in declared}
    assert not names & {"psycopg", "psycopg-binary", "psycopg2", "psycopg2-binary"}, names
    if importlib.util.find_spec("psycopg") is None:
        # The synchronous Alembic template builds its engine like this: it fails at once.
        with pytest.raises(ModuleNotFoundError, match="psycopg"):
            sa.engine_from_config({"sqlalchemy.url": str(url)}, prefix="sqlalchemy.")
        with pytest.raises(ModuleNotFoundError, match="psycopg"):
            create_async_engine(url)
    # The course's URL names its async driver, which the project does install.
    engine = create_async_engine("postgresql+asyncpg://app:app@localhost:5432/app")
    assert engine.dialect.driver == "asyncpg" and engine.dialect.is_async


def test_anyone_with_the_published_secret_can_forge_a_token() -> None:
    config = solution("app.core.config")
    published = (SOLUTION / ".env.example").read_text(encoding="utf-8")
    assert f"JWT_SECRET_KEY={config.DEFAULT_JWT_SECRET_KEY}" in published
    now = datetime.now(UTC)
    claims = {"sub": str(uuid.uuid4()), "role": "admin", "type": "access"}
    forged = jwt.encode(
        {**claims, "iat": now, "exp": now + timedelta(hours=1)},
        config.DEFAULT_JWT_SECRET_KEY,
        algorithm="HS256",
    )
    # What a server running with the default secret checks: the forgery passes.
    decoded = jwt.decode(forged, config.DEFAULT_JWT_SECRET_KEY, algorithms=["HS256"])
    assert decoded["role"] == "admin"


def test_production_settings_refuse_development_secrets_and_open_cors() -> None:
    config = solution("app.core.config")
    safe = {
        "ENVIRONMENT": "production",
        "JWT_SECRET_KEY": "a" * 40,
        "JWT_REFRESH_SECRET_KEY": "b" * 40,
        "FIRST_ADMIN_PASSWORD": "a-real-admin-password",
        "CORS_ORIGINS": ["https://app.example.com"],
    }
    assert config.Settings(_env_file=None, **safe).ENVIRONMENT == "production"
    unsafe = [
        ({"JWT_SECRET_KEY": config.DEFAULT_JWT_SECRET_KEY}, "JWT_SECRET_KEY"),
        ({"JWT_SECRET_KEY": "s" * (config.MIN_SECRET_LENGTH - 1)}, "JWT_SECRET_KEY"),
        ({"JWT_REFRESH_SECRET_KEY": config.DEFAULT_JWT_REFRESH_SECRET_KEY},
         "JWT_REFRESH_SECRET_KEY"),
        ({"CORS_ORIGINS": ["*"], "CORS_ALLOW_CREDENTIALS": True}, "CORS_ORIGINS"),
        ({"FIRST_ADMIN_PASSWORD": config.DEFAULT_FIRST_ADMIN_PASSWORD}, "FIRST_ADMIN_PASSWORD"),
        ({"DEBUG": True}, "DEBUG"),
    ]  # fmt: skip
    for change, setting in unsafe:
        with pytest.raises(ValidationError) as refused:
            config.Settings(_env_file=None, **{**safe, **change})
        assert setting in str(refused.value), f"{change}: the error does not name {setting}"
        # The same values start a development app: a fresh clone runs.
        config.Settings(_env_file=None, **{**safe, **change, "ENVIRONMENT": "development"})


def test_a_list_setting_is_json_unless_nodecode_and_then_only_what_the_validator_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pydantic_settings import BaseSettings, NoDecode, SettingsError

    class Decoded(BaseSettings):
        CORS_ORIGINS: list[str] = []

    class CommasOnly(BaseSettings):
        CORS_ORIGINS: Annotated[list[str], NoDecode] = []

        @field_validator("CORS_ORIGINS", mode="before")
        @classmethod
        def _split(cls, value: object) -> object:
            return [item.strip() for item in value.split(",")] if isinstance(value, str) else value

    monkeypatch.setenv("CORS_ORIGINS", "http://a,http://b")
    with pytest.raises(SettingsError, match='"CORS_ORIGINS" from source "EnvSettingsSource"'):
        Decoded()
    assert CommasOnly().CORS_ORIGINS == ["http://a", "http://b"]
    monkeypatch.setenv("CORS_ORIGINS", '["https://a.example"]')
    assert Decoded().CORS_ORIGINS == ["https://a.example"]
    assert CommasOnly().CORS_ORIGINS == ['["https://a.example"]'], "brackets and quotes kept"

    # The course's settings read both forms.
    settings = solution("app.core.config").Settings
    for value in ('["http://a.example", "http://b.example"]', "http://a.example,http://b.example"):
        monkeypatch.setenv("CORS_ORIGINS", value)
        assert settings(_env_file=None).CORS_ORIGINS == ["http://a.example", "http://b.example"]
    monkeypatch.setenv("CORS_ORIGINS", '["https://a.example/"]')  # then each is checked
    with pytest.raises(ValidationError, match="CORS_ORIGINS"):
        settings(_env_file=None)


async def test_cors_compares_origins_as_exact_strings() -> None:
    from starlette.middleware.cors import CORSMiddleware

    async def allowed(configured: str, origin: str) -> bool:
        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=[configured])

        @app.get("/")
        async def root() -> dict[str, bool]:
            return {"ok": True}

        async with http_client(app) as client:
            response = await client.get("/", headers={"Origin": origin})
        return bool(response.headers.get("access-control-allow-origin") == origin)

    assert await allowed("https://a.example", "https://a.example")
    assert not await allowed('["https://a.example"]', "https://a.example")
    assert not await allowed("https://a.example/", "https://a.example")


# --- step 3: engine, logging, errors --------------------------------------------------


async def test_in_memory_sqlite_has_one_static_connection_and_rejects_pool_options(
    tmp_path: Path,
) -> None:
    pool_options = {"pool_size": 5, "max_overflow": 10, "pool_timeout": 30.0}
    for url in ("sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"):
        assert isinstance(create_async_engine(url).sync_engine.pool, StaticPool)
        with pytest.raises(TypeError, match="pool_size"):
            create_async_engine(url, **pool_options)
    # A file database and a server take them.
    for url in (f"sqlite+aiosqlite:///{tmp_path / 'app.db'}", "postgresql+asyncpg://u:p@h/db"):
        engine = create_async_engine(url, pool_pre_ping=True, **pool_options)
        assert engine.sync_engine.pool.size() == 5  # type: ignore[attr-defined]
        await engine.dispose()


async def test_sqlite_enforces_foreign_keys_only_on_connections_that_ask(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fk.db'}"
    orphan = sa.text("INSERT INTO child (parent_id) VALUES (42)")
    engine = create_async_engine(url, poolclass=NullPool)  # a new connection each time
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        await conn.execute(sa.text(
            "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id))"
        ))  # fmt: skip
    async with engine.connect() as asking:
        await asking.execute(sa.text("PRAGMA foreign_keys=ON"))
        with pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"):
            await asking.execute(orphan)
    async with engine.begin() as other:  # another connection: the pragma is gone
        assert (await other.execute(sa.text("PRAGMA foreign_keys"))).scalar() == 0
        await other.execute(orphan)
    await engine.dispose()

    # What the course does: a `connect` listener asks on every new connection.
    engine = create_async_engine(url, poolclass=NullPool)

    def foreign_keys_on(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    sa.event.listen(engine.sync_engine, "connect", foreign_keys_on)
    for _ in range(2):
        async with engine.connect() as conn:
            with pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"):
                await conn.execute(orphan)
    await engine.dispose()


async def test_hide_parameters_keeps_bound_values_out_of_errors_and_logs() -> None:
    hidden = "[SQL parameters hidden due to hide_parameters=True]"
    for hide in (False, True):
        engine = create_async_engine("sqlite+aiosqlite://", hide_parameters=hide)
        with logged("sqlalchemy.engine", logging.INFO) as records:
            async with engine.connect() as conn:
                await conn.execute(sa.text("CREATE TABLE users (password_hash TEXT UNIQUE)"))
                insert = sa.text("INSERT INTO users VALUES (:h)")
                await conn.execute(insert, {"h": SECRET_HASH})
                with pytest.raises(sa.exc.IntegrityError) as failed:
                    await conn.execute(insert, {"h": SECRET_HASH})
        await engine.dispose()
        message, log = str(failed.value), "\n".join(r.getMessage() for r in records)
        assert "INSERT INTO users" in message and "INSERT INTO users" in log
        if hide:
            assert SECRET_HASH not in message and hidden in message
            assert SECRET_HASH not in log and hidden in log
        else:
            assert SECRET_HASH in message, "the error message shows the bound values"
            assert SECRET_HASH in log, "the SQL log shows the bound values"


UVICORN_LOGGING = f"""
    import json, logging
    import uvicorn

    async def app(scope, receive, send):
        pass

    uvicorn.Config(app)  # what `uvicorn app.main:app` does first: it configures logging
    names = ("uvicorn", "uvicorn.error", "uvicorn.access")
    loggers = {{
        name: {{"handlers": len(logging.getLogger(name).handlers),
                "propagate": logging.getLogger(name).propagate}}
        for name in names
    }}
    reached = []

    class Intercept(logging.Handler):  # the workflow's handler, on the root logger only
        def emit(self, record):
            reached.append(record.name)

    logging.getLogger().addHandler(Intercept())

    def log_lines():
        logging.getLogger("uvicorn.error").info("Started server process")
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:50000", "GET", "/", "1.1", 200
        )

    log_lines()
    before = list(reached)
    reached.clear()
    for name in names:  # the course's fix
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    log_lines()
    print("{RESULT}" + json.dumps({{"loggers": loggers, "before": before, "after": reached}}))
"""


def test_uvicorn_loggers_keep_their_lines_from_the_root_logger(tmp_path: Path) -> None:
    result = run_python(UVICORN_LOGGING, tmp_path)
    loggers = result["loggers"]
    # `uvicorn` and `uvicorn.access` have handlers of their own and do not propagate;
    # `uvicorn.error` has none and propagates, but only as far as `uvicorn`.
    assert loggers["uvicorn"] == {"handlers": 1, "propagate": False}
    assert loggers["uvicorn.access"] == {"handlers": 1, "propagate": False}
    assert loggers["uvicorn.error"] == {"handlers": 0, "propagate": True}
    assert result["before"] == [], "uvicorn's lines reached the root logger"
    assert result["after"] == ["uvicorn.error", "uvicorn.access"]


class OlderIntercept(logging.Handler):
    """The recipe many projects still carry: start at logging.currentframe(), depth 2."""

    def emit(self, record: logging.LogRecord) -> None:
        from loguru import logger

        frame, depth = logging.currentframe(), 2
        while frame is not None and frame.f_code.co_filename == logging.__file__:
            frame = frame.f_back
            depth += 1
        logger.opt(depth=depth).log(record.levelname, record.getMessage())


class CourseIntercept(logging.Handler):
    """The course's walk: from the handler's own frame, out of the logging module."""

    def emit(self, record: logging.LogRecord) -> None:
        from loguru import logger

        frame, depth = inspect.currentframe(), 0
        while frame is not None and (depth == 0 or frame.f_code.co_filename == logging.__file__):
            frame = frame.f_back
            depth += 1
        logger.opt(depth=depth).log(record.levelname, record.getMessage())


def caller_named_by(handler: logging.Handler) -> str:
    """The function Loguru names for a warning logged here through `handler`."""
    from loguru import logger

    functions: list[str] = []
    sink = logger.add(lambda message: functions.append(message.record["function"]))
    forwarding = logging.getLogger(f"pitfall.intercept.{type(handler).__name__}")
    forwarding.handlers, forwarding.propagate = [handler], False
    try:
        forwarding.warning("who logged this?")
    finally:
        logger.remove(sink)
    return functions[-1]


def test_the_older_intercept_recipe_names_logging_not_the_caller() -> None:
    assert sys.version_info >= (3, 11)
    assert caller_named_by(OlderIntercept()) == "callHandlers"  # inside logging/__init__.py
    assert caller_named_by(CourseIntercept()) == "caller_named_by"


ROOT_AT_LEVEL_0 = f"""
    import asyncio, json, logging

    records = []

    class Intercept(logging.Handler):
        def emit(self, record):
            records.append([record.name, record.levelname, record.getMessage()])

    logging.basicConfig(handlers=[Intercept()], level=0)  # the workflow's call
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    names = ("sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "aiosqlite")
    levels = {{name: logging.getLogger(name).level for name in names}}
    debug = {{name: logging.getLogger(name).isEnabledFor(logging.DEBUG) for name in names}}

    async def insert(**options):
        records.clear()
        engine = create_async_engine("sqlite+aiosqlite://", **options)
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE users (password_hash TEXT)"))
            await conn.execute(text("INSERT INTO users VALUES (:h)"), {{"h": {SECRET_HASH!r}}})
        await engine.dispose()
        return list(records)

    plain = asyncio.run(insert())
    echo = asyncio.run(insert(echo=True))
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    explicit = asyncio.run(insert())
    result = {{"levels": levels, "debug": debug, "plain": plain, "echo": echo,
               "explicit": explicit}}
    print("{RESULT}" + json.dumps(result))
"""


def test_root_logger_at_level_0_enables_aiosqlite_debug_lines_not_sql(tmp_path: Path) -> None:
    result = run_python(ROOT_AT_LEVEL_0, tmp_path)

    def statements(records: list[list[str]]) -> list[str]:
        return [m for name, _, m in records if name.startswith("sqlalchemy.engine")]

    # SQLAlchemy gives its `sqlalchemy` logger WARN; `sqlalchemy.engine` (and
    # `sqlalchemy.pool`) have no level of their own and inherit it.
    assert result["levels"] == {
        "sqlalchemy": logging.WARNING,
        "sqlalchemy.engine": logging.NOTSET,
        "sqlalchemy.pool": logging.NOTSET,
        "aiosqlite": logging.NOTSET,
    }
    assert result["debug"] == {
        "sqlalchemy": False,
        "sqlalchemy.engine": False,
        "sqlalchemy.pool": False,
        "aiosqlite": True,
    }
    assert statements(result["plain"]) == [], "level 0 alone turned the SQL log on"
    assert any("INSERT INTO users" in m for m in statements(result["echo"]))
    assert any("INSERT INTO users" in m for m in statements(result["explicit"]))
    leaks = [m for name, level, m in result["plain"] if SECRET_HASH in m]
    assert leaks, "expected aiosqlite to log the statement with its bound values"
    assert all(
        name == "aiosqlite" and level == "DEBUG"
        for name, level, m in result["plain"]
        if SECRET_HASH in m
    )


class Registration(BaseModel):
    email: str
    password: str = Field(min_length=12)

    @field_validator("email")
    @classmethod
    def _has_an_at(cls, value: str) -> str:
        if "@" not in value:
            raise ValueError("not an email address")
        return value


def registration_app() -> FastAPI:
    app = FastAPI()

    @app.post("/register")
    async def register(body: Registration) -> dict[str, str]:
        return {"email": body.email}

    return app


async def test_fastapi_default_422_echoes_input_and_ctx_holds_the_exception() -> None:
    rejected = {"email": "nobody", "password": "hunter2"}
    async with http_client(registration_app()) as client:
        response = await client.post("/register", json=rejected)
    assert response.status_code == 422
    errors = {error["loc"][-1]: error for error in response.json()["detail"]}
    assert errors["password"]["input"] == "hunter2", "the default body shows the password"
    # In the default body the exception has been encoded, as an empty object.
    assert errors["email"]["ctx"] == {"error": {}}

    # What an exception handler receives: `ctx` holds the exception object itself.
    app, received = registration_app(), list[dict[str, Any]]()

    @app.exception_handler(RequestValidationError)
    async def keep(_request: Request, exc: RequestValidationError) -> JSONResponse:
        received.extend(exc.errors())
        return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)

    async with http_client(app) as client:
        await client.post("/register", json=rejected)
    error = next(e for e in received if e["loc"][-1] == "email")
    assert isinstance(error["ctx"]["error"], ValueError)
    with pytest.raises(TypeError, match="not JSON serializable"):
        json.dumps(error["ctx"])


# --- step 4: models -------------------------------------------------------------------


async def test_postgresql_uuid_on_sqlite_stores_an_all_digit_uuid_as_a_number() -> None:
    metadata = sa.MetaData()
    table = sa.Table("t", metadata, sa.Column("pg", postgresql.UUID), sa.Column("g", sa.Uuid))
    ddl = str(sa.schema.CreateTable(table).compile(dialect=sqlite.dialect()))
    assert "pg UUID" in ddl  # no such SQLite type: the column gets NUMERIC affinity
    digits = uuid.UUID("12345678-1234-4234-9234-123456789012")
    assert digits.version == 4 and digits.hex.isdigit()
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(table.insert(), {"pg": digits, "g": digits})
        stored = (await conn.execute(sa.text("SELECT typeof(pg), typeof(g) FROM t"))).one()
        assert tuple(stored) == ("real", "text")
        try:
            read_back = (await conn.execute(sa.select(table.c.pg))).scalar_one()
        except (AttributeError, TypeError, ValueError):  # 'float' object has no 'replace'
            read_back = None
        assert read_back != digits
        assert (await conn.execute(sa.select(table.c.g))).scalar_one() == digits
        # A UUID with a letter in it stays text, which is why the bug hides in testing.
        await conn.execute(table.delete())
        lettered = uuid.UUID("12345678-1234-4234-9234-12345678901a")
        await conn.execute(table.insert(), {"pg": lettered, "g": lettered})
        assert (await conn.execute(sa.select(table.c.pg))).scalar_one() == lettered
    await engine.dispose()


async def test_generic_uuid_is_native_on_postgresql_and_32_hex_characters_on_sqlite() -> None:
    column = sa.Column("id", sa.Uuid, primary_key=True)
    table = sa.Table("t", sa.MetaData(), column)
    assert "id UUID" in str(sa.schema.CreateTable(table).compile(dialect=POSTGRESQL()))
    assert "id CHAR(32)" in str(sa.schema.CreateTable(table).compile(dialect=sqlite.dialect()))
    value = uuid.uuid4()
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(table.metadata.create_all)
        await conn.execute(table.insert(), {"id": value})
        assert (await conn.execute(sa.text("SELECT id FROM t"))).scalar() == value.hex
        assert (await conn.execute(sa.select(column))).scalar() == value
    await engine.dispose()


async def test_a_plain_unique_email_blocks_soft_deleted_users_and_ignores_case() -> None:
    metadata = sa.MetaData()
    users = users_table(metadata, partial_index=False, unique_email=True)
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(users.insert(), [{"email": "Ada@x.io"}, {"email": "ada@x.io"}])
        assert (await conn.execute(sa.select(sa.func.count()).select_from(users))).scalar() == 2
        await conn.execute(users.update().values(deleted_at=datetime(2025, 1, 1)))
    with pytest.raises(sa.exc.IntegrityError, match="UNIQUE"):
        async with engine.begin() as conn:  # the soft-deleted user still owns the email
            await conn.execute(users.insert(), {"email": "ada@x.io"})
    await engine.dispose()


async def test_a_partial_unique_index_on_lower_email_allows_reuse_after_soft_delete() -> None:
    metadata = sa.MetaData()
    users = users_table(metadata, partial_index=True, unique_email=False)
    (index,) = users.indexes
    for dialect in (sqlite.dialect(), POSTGRESQL()):
        ddl = str(sa.schema.CreateIndex(index).compile(dialect=dialect))
        assert "lower(email)" in ddl and "WHERE deleted_at IS NULL" in ddl, ddl
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(users.insert(), {"email": "Ada@x.io"})
    with pytest.raises(sa.exc.IntegrityError, match="UNIQUE"):
        async with engine.begin() as conn:
            await conn.execute(users.insert(), {"email": "ada@x.io"})
    async with engine.begin() as conn:
        await conn.execute(users.update().values(deleted_at=datetime(2025, 1, 1)))
        await conn.execute(users.insert(), {"email": "ada@x.io"})  # registers again
    await engine.dispose()


async def test_check_then_insert_lets_two_registrations_through_without_the_index(
    tmp_path: Path,
) -> None:
    for guarded in (False, True):
        metadata = sa.MetaData()
        users = users_table(metadata, partial_index=guarded, unique_email=False)
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / f'race-{guarded}.db'}")
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        sessions = async_sessionmaker(engine)
        exists = sa.select(sa.exists().where(sa.func.lower(users.c.email) == "ada@x.io"))
        async with sessions() as first, sessions() as second:
            # Both requests check before either inserts: both see a free email.
            assert not await first.scalar(exists) and not await second.scalar(exists)
            await first.execute(users.insert(), {"email": "ada@x.io"})
            await first.commit()
            if guarded:  # the index catches the second insert
                with pytest.raises(sa.exc.IntegrityError, match="UNIQUE"):
                    await second.execute(users.insert(), {"email": "Ada@x.io"})
            else:
                await second.execute(users.insert(), {"email": "Ada@x.io"})
            await second.commit()
        async with engine.connect() as conn:
            count = (await conn.execute(sa.select(sa.func.count()).select_from(users))).scalar()
        assert count == (1 if guarded else 2)
        await engine.dispose()


def test_sqlite_runs_on_delete_cascade_only_on_connections_with_foreign_keys_on(
    tmp_path: Path,
) -> None:
    def foreign_keys_on(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    for cascade, foreign_keys in ((True, False), (True, True), (False, True)):
        metadata = sa.MetaData()
        users = sa.Table("users", metadata, sa.Column("id", sa.Integer, primary_key=True))
        sessions = sa.Table(
            "user_sessions",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column(
                "user_id",
                sa.ForeignKey("users.id", ondelete="CASCADE" if cascade else None),
                nullable=False,
            ),
        )
        ddl = str(sa.schema.CreateTable(sessions).compile(dialect=sqlite.dialect()))
        assert ("ON DELETE CASCADE" in ddl) is cascade, ddl
        engine = sa.create_engine(f"sqlite:///{tmp_path / f'cascade-{cascade}-{foreign_keys}.db'}")
        if foreign_keys:
            sa.event.listen(engine, "connect", foreign_keys_on)
        with engine.begin() as conn:
            metadata.create_all(conn)
            conn.execute(users.insert(), [{"id": 1}, {"id": 2}])
            conn.execute(sessions.insert(), [{"user_id": 1}, {"user_id": 1}, {"user_id": 2}])
        count = sa.select(sa.func.count()).select_from(sessions)
        if not cascade:  # foreign keys on, no cascade: the delete is refused
            with pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"), engine.begin() as conn:
                conn.execute(users.delete().where(users.c.id == 1))
        else:
            with engine.begin() as conn:
                conn.execute(users.delete().where(users.c.id == 1))
        with engine.connect() as conn:
            left = conn.execute(count).scalar_one()
        # Without the pragma, SQLite keeps the deleted user's sessions and says nothing.
        assert left == {(True, False): 3, (True, True): 1, (False, True): 3}[cascade, foreign_keys]
        engine.dispose()


def test_emailstr_keeps_full_width_letters_before_the_at_and_lower_keeps_them_wide() -> None:
    from pydantic import EmailStr, TypeAdapter

    email = TypeAdapter(EmailStr).validate_python
    wide = "\uff21\uff24\uff21"  # "ADA" in full-width letters
    # Before the @: NFC only, case and width kept (but RFC 2142 role names lower-cased).
    assert email(f"{wide}@example.com") == f"{wide}@example.com"
    assert email("Info@example.com") == "info@example.com"
    assert email("Ada@example.com") == "Ada@example.com"
    # str.lower() gives full-width lower-case letters: still not "ada".
    assert email(f"{wide}@example.com").lower() == "\uff41\uff44\uff41@example.com"
    # After the @: UTS-46 folds case and width; Punycode comes back in Unicode.
    assert email("ada@\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com") == "ada@example.com"
    assert email("ada@XN--BCHER-KVA.example") == "ada@b\u00fccher.example"
    # NFKC then lower-case makes one spelling; validating after NFKC matters, because a
    # full-width at sign is accepted before the @ and NFKC turns it into a second "@".
    assert unicodedata.normalize("NFKC", email(f"{wide}@example.com")).lower() == (
        "ada@example.com"
    )
    assert email("a\uff20b@example.com") == "a\uff20b@example.com"
    with pytest.raises(ValidationError):
        email(unicodedata.normalize("NFKC", "a\uff20b@example.com"))
    normalize_email = solution("app.domain.models.user").normalize_email
    assert normalize_email(f" {wide}@Example.COM ") == "ada@example.com"


# --- step 5: repositories ---------------------------------------------------------------


async def test_sorting_by_a_client_named_attribute_reaches_hashes_or_fails() -> None:
    user_model = solution("app.domain.models.user")
    user = user_model.User
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(user.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as session:
        for name, hashed in (("Ada", "$c"), ("Grace", "$a"), ("Alan", "$b")):
            session.add(user(email=f"{name}@x.io", password_hash=hashed, full_name=name))
        await session.commit()
        by_hash = sa.select(user.full_name).order_by(getattr(user, "password_hash"))  # noqa: B009
        assert list(await session.scalars(by_hash)) == ["Grace", "Alan", "Ada"]
    await engine.dispose()
    with pytest.raises(sa.exc.ArgumentError):  # a property, not a column: a 500
        sa.select(user).order_by(getattr(user, "is_deleted"))  # noqa: B009
    with pytest.raises(AttributeError):  # no such attribute: a 500
        getattr(user, "no_such_column")  # noqa: B009


def test_the_sort_whitelist_excludes_the_password_hash() -> None:
    repository = solution("app.repository.user_repository")
    common = solution("app.domain.schemas.common")
    assert "password_hash" not in repository.SORTABLE_COLUMNS
    assert set(common.SortField.__args__) == set(repository.SORTABLE_COLUMNS)
    with pytest.raises(ValidationError):  # FastAPI answers this with a 422
        common.PaginationParams(sort_by="password_hash")


async def test_like_wildcards_in_a_search_term_and_their_escape() -> None:
    escape_like = solution("app.utils.pagination").escape_like
    metadata = sa.MetaData()
    users = sa.Table("users", metadata, sa.Column("name", sa.String))
    names = ["Ada Lovelace", "grace_hopper", "100% Turing", "back\\slash"]
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(users.insert(), [{"name": name} for name in names])

        async def found(pattern: str, **escape: str) -> list[str]:
            query = sa.select(users.c.name).where(users.c.name.ilike(pattern, **escape))
            return sorted((await conn.execute(query)).scalars())

        assert await found("%_%") == sorted(names), "`_` matches every name"
        assert await found("%%%") == sorted(names), "`%` matches every name"
        for term, match in (("_", "grace_hopper"), ("%", "100% Turing"), ("\\", "back\\slash")):
            assert await found(f"%{escape_like(term)}%", escape="\\") == [match]
    await engine.dispose()


async def test_a_rotation_that_reads_then_writes_lets_one_token_through_twice(
    tmp_path: Path,
) -> None:
    metadata = sa.MetaData()
    sessions = sa.Table(
        "user_sessions",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("refresh_token_id", sa.String(64), nullable=False),
    )
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'rotate.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    factory = async_sessionmaker(engine)
    current = sa.select(sessions.c.refresh_token_id).where(sessions.c.id == 1)
    for conditional in (False, True):
        async with engine.begin() as conn:
            await conn.execute(sessions.delete())
            await conn.execute(sessions.insert(), {"id": 1, "refresh_token_id": "used"})
        winners = []
        async with factory() as first, factory() as second:
            # Two requests with the same refresh token: both read before either writes.
            assert await first.scalar(current) == await second.scalar(current) == "used"
            for session, new in ((first, "first"), (second, "second")):
                condition = [sessions.c.id == 1]
                if conditional:  # the comparison moves into the UPDATE
                    condition.append(sessions.c.refresh_token_id == "used")
                update = sessions.update().where(*condition).values(refresh_token_id=new)
                result = await session.execute(update)
                await session.commit()
                if result.rowcount == 1:
                    winners.append(new)
        assert winners == (["first"] if conditional else ["first", "second"])
    await engine.dispose()


async def test_the_solutions_rotation_has_one_winner_when_two_run_at_once(
    tmp_path: Path,
) -> None:
    models = solution("app.domain.models")
    repository = solution("app.repository.session_repository").SessionRepository
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'sessions.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(models.Base.metadata.create_all)
    factory = async_sessionmaker(engine, expire_on_commit=False)
    user = models.User(email="ada@x.io", password_hash=SECRET_HASH, full_name="Ada")
    async with factory() as session:
        session.add(user)
        await session.flush()
        login = models.UserSession(
            user_id=user.id, refresh_token_id="used", expires_at=datetime.now(UTC) + timedelta(1)
        )
        session.add(login)
        await session.commit()

    async def refresh(new: str) -> bool:
        async with factory() as session:
            rotated = await repository(session).rotate(
                login.id, user.id, used_token_id="used", new_token_id=new
            )
            await session.commit()
        return rotated is not None

    assert sorted(await asyncio.gather(refresh("first"), refresh("second"))) == [False, True]
    async with factory() as session:
        stored = await session.get(models.UserSession, login.id)
        assert stored is not None and stored.refresh_token_id in ("first", "second")
    await engine.dispose()


# --- step 6: services and dependencies ------------------------------------------------


def test_one_argon2_hash_takes_tens_of_milliseconds_of_cpu() -> None:
    password_hash = solution("app.core.security").password_hash
    times = []
    for _ in range(3):
        start = time.thread_time()
        password_hash.hash("correct horse battery staple")
        times.append(time.thread_time() - start)
    assert min(times) >= 0.010, f"one hash took {min(times) * 1000:.1f} ms of CPU"


async def longest_pause(work: Callable[[], Awaitable[None]]) -> float:
    """The longest the event loop went without running a 1 ms ticker while `work` ran."""
    pauses: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            pauses.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.005)
    await work()
    done.set()
    await task
    return max(pauses)


async def test_a_hash_on_the_event_loop_stalls_it_and_one_in_a_thread_does_not() -> None:
    password_hash = solution("app.core.security").password_hash
    cpu: list[float] = []

    async def on_the_loop() -> None:
        for _ in range(2):
            start = time.thread_time()
            password_hash.hash("correct horse battery staple")
            cpu.append(time.thread_time() - start)
            await asyncio.sleep(0)

    async def in_a_thread() -> None:
        for _ in range(2):
            await anyio.to_thread.run_sync(password_hash.hash, "correct horse battery staple")

    await anyio.to_thread.run_sync(password_hash.hash, "start the worker thread")
    # On the loop, nothing else runs for at least the CPU time of a hash.
    stalled = await longest_pause(on_the_loop)
    assert stalled >= 0.9 * max(cpu), f"{stalled * 1000:.0f} ms, a hash {max(cpu) * 1000:.0f} ms"
    # In a worker thread the loop goes on (argon2 releases the GIL while it hashes).
    free = min([await longest_pause(in_a_thread) for _ in range(3)])  # the least disturbed
    assert free < stalled / 2, f"in a thread {free * 1000:.1f} ms, on the loop {stalled * 1000:.1f}"


def commit_after_yield_app(
    sessions: async_sessionmaker[AsyncSession],
    scope: Literal["function", "request"] | None,
    events: list[str],
) -> FastAPI:
    """An endpoint whose write fails at the commit after `yield` in `get_db`."""

    async def get_db() -> AsyncIterator[AsyncSession]:
        async with sessions() as session:
            yield session
            events.append("commit")
            await session.commit()  # the email is taken: IntegrityError

    app = FastAPI()

    @app.get("/")
    async def register(
        session: Annotated[AsyncSession, Depends(get_db, scope=scope)],
    ) -> dict[str, bool]:
        session.add(Account(email="taken@x.io"))
        events.append("endpoint")
        return {"created": True}

    return app


async def test_yield_dependency_commits_after_the_response_unless_scope_function() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
        await conn.execute(sa.insert(Account), {"email": "taken@x.io"})
    sessions = async_sessionmaker(engine)
    scopes: tuple[Literal["function", "request"] | None, ...] = (None, "request", "function")
    outcomes: dict[str | None, list[str]] = {}
    for scope in scopes:
        events: list[str] = []
        raised = await asgi_get(commit_after_yield_app(sessions, scope, events), events)
        assert isinstance(raised, sa.exc.IntegrityError), raised
        outcomes[scope] = events
    # The default scope ("request"): the client has its 200 before the commit fails.
    assert outcomes[None] == outcomes["request"] == ["endpoint", "response 200", "commit"]
    # scope="function": the commit fails before the response, which becomes a 500.
    assert outcomes["function"] == ["endpoint", "commit", "response 500"]
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(Account))).scalar() == 1
    await engine.dispose()


def test_pyjwt_refuses_a_token_with_aud_unless_decode_names_the_audience() -> None:
    secret = "a-secret-of-at-least-thirty-two-bytes!"
    now = datetime.now(UTC)
    with_aud = jwt.encode({"sub": "1", "aud": "api", "exp": now + timedelta(minutes=1)}, secret)
    without_aud = jwt.encode({"sub": "1", "exp": now + timedelta(minutes=1)}, secret)
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(with_aud, secret, algorithms=["HS256"])
    assert jwt.decode(with_aud, secret, algorithms=["HS256"], audience="api")["aud"] == "api"
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(with_aud, secret, algorithms=["HS256"], audience="another-api")
    with pytest.raises(jwt.MissingRequiredClaimError):
        jwt.decode(without_aud, secret, algorithms=["HS256"], audience="api")


def test_pyjwt_checks_iss_only_when_an_issuer_is_given() -> None:
    secret = "a-secret-of-at-least-thirty-two-bytes!"
    token = jwt.encode({"sub": "1", "iss": "someone-else"}, secret)
    assert jwt.decode(token, secret, algorithms=["HS256"])["iss"] == "someone-else"
    with pytest.raises(jwt.InvalidIssuerError):
        jwt.decode(token, secret, algorithms=["HS256"], issuer="us")
    with pytest.raises(jwt.MissingRequiredClaimError):
        jwt.decode(jwt.encode({"sub": "1"}, secret), secret, algorithms=["HS256"], issuer="us")


async def test_a_write_before_an_error_is_rolled_back_unless_committed_first() -> None:
    """The course's unit of work: a yield dependency that commits when the endpoint
    returns and rolls back when it raises (scope="function", as `get_db`)."""
    from fastapi import HTTPException

    engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine)

    async def get_db() -> AsyncIterator[AsyncSession]:
        async with sessions() as session:
            try:
                yield session
                await session.commit()
            except Exception:
                await session.rollback()
                raise

    app = FastAPI()
    db = Annotated[AsyncSession, Depends(get_db, scope="function")]

    @app.get("/{email}")
    async def record_then_refuse(email: str, session: db, commit_first: bool = False) -> None:
        session.add(Account(email=email))
        await session.flush()
        if commit_first:
            await session.commit()
        raise HTTPException(status_code=401)

    async def count(email: str) -> int:
        async with engine.connect() as conn:
            query = sa.select(sa.func.count()).where(Account.email == email)
            return int((await conn.execute(query)).scalar_one())

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/rolled-back@x.io")).status_code == 401
        assert (await client.get("/kept@x.io", params={"commit_first": True})).status_code == 401
    assert await count("rolled-back@x.io") == 0
    assert await count("kept@x.io") == 1
    await engine.dispose()


async def test_fastapi_runs_a_plain_def_dependency_in_a_worker_thread() -> None:
    threads: dict[str, int] = {}

    def plain_provider() -> object:
        threads["def"] = threading.get_ident()
        return object()

    async def async_provider() -> object:
        threads["async def"] = threading.get_ident()
        return object()

    app = FastAPI()

    @app.get("/")
    async def endpoint(
        _plain: Annotated[object, Depends(plain_provider)],
        _async: Annotated[object, Depends(async_provider)],
    ) -> dict[str, bool]:
        threads["endpoint"] = threading.get_ident()
        return {"ok": True}

    async with http_client(app) as client:
        assert (await client.get("/")).status_code == 200
    assert threads["async def"] == threads["endpoint"] == threading.get_ident()
    assert threads["def"] != threads["endpoint"], "the plain def ran on the event loop"


async def test_a_thread_hop_costs_more_than_building_a_provider_object() -> None:
    class UserService:  # what a provider builds: an object around another
        def __init__(self, repository: object) -> None:
            self.repository = repository

    async def hops() -> float:
        start = time.perf_counter()
        for _ in range(100):
            await run_in_threadpool(UserService, None)  # FastAPI's call of a plain def
        return time.perf_counter() - start

    def direct() -> float:
        start = time.perf_counter()
        for _ in range(100):
            UserService(None)
        return time.perf_counter() - start

    await run_in_threadpool(UserService, None)  # start the worker thread first
    hop = min([await hops() for _ in range(3)]) / 100  # the least disturbed runs
    build = min(direct() for _ in range(5)) / 100
    assert hop > 10 * build, f"a hop {hop * 1e6:.1f} us, building {build * 1e6:.2f} us"


def test_two_counts_before_two_writes_leave_no_admin_on_sqlite_unless_a_write_comes_first(
    tmp_path: Path,
) -> None:
    path = tmp_path / "admins.db"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, role TEXT)")
        setup.executemany("INSERT INTO users VALUES (?, 'admin')", [(1,), (2,)])
    count = "SELECT count(*) FROM users WHERE role = 'admin'"
    first = sqlite3.connect(path, timeout=5, check_same_thread=False)
    second = sqlite3.connect(path, timeout=5, check_same_thread=False)
    # Count, then write: a SELECT opens no transaction, so both counts see two admins.
    assert first.execute(count).fetchone() == (2,) and not first.in_transaction
    assert second.execute(count).fetchone() == (2,) and not second.in_transaction
    first.execute("UPDATE users SET role = 'user' WHERE id = 2")
    first.commit()
    second.execute("UPDATE users SET role = 'user' WHERE id = 1")  # waits, then succeeds
    second.commit()
    assert first.execute(count).fetchone() == (0,)
    first.execute("UPDATE users SET role = 'admin'")
    first.commit()
    # An UPDATE that matches no row first: it takes the write lock, the other one waits.
    first.execute("UPDATE users SET role = role WHERE 0")
    assert first.in_transaction
    seen: list[tuple[int, float]] = []

    def other() -> None:
        started = time.perf_counter()
        second.execute("UPDATE users SET role = role WHERE 0")
        seen.append((second.execute(count).fetchone()[0], time.perf_counter() - started))
        second.rollback()

    thread = threading.Thread(target=other)
    thread.start()
    time.sleep(0.3)
    assert not seen  # still waiting for the lock
    assert first.execute(count).fetchone() == (2,)
    first.execute("UPDATE users SET role = 'user' WHERE id = 2")
    first.commit()
    thread.join(timeout=10)
    [(admins, waited)] = seen
    assert admins == 1 and waited >= 0.25  # it counted after the first one committed
    first.close()
    second.close()


def test_for_update_is_rendered_for_postgresql_only() -> None:
    users = sa.table("users", sa.column("id"), sa.column("role"))
    locked = sa.select(users.c.id).where(users.c.role == "admin").with_for_update()
    assert str(locked.compile(dialect=POSTGRESQL())).endswith("FOR UPDATE")
    assert "FOR UPDATE" not in str(locked.compile(dialect=sqlite.dialect()))
    repository = solution("app.repository.user_repository")
    source = inspect.getsource(repository.UserRepository.lock_active_admin_ids)
    assert "with_for_update()" in source and "sqlite" in source


# --- step 8: migrations ----------------------------------------------------------------


def test_alembic_has_an_async_template_and_the_url_is_written_once() -> None:
    import alembic

    template = Path(alembic.__file__).parent / "templates" / "async" / "env.py"
    text = template.read_text(encoding="utf-8")
    assert "async_engine_from_config" in text and "run_sync(" in text
    ini = (SOLUTION / "alembic.ini").read_text(encoding="utf-8")
    assert not re.search(r"^\s*sqlalchemy\.url\s*=", ini, re.M), "alembic.ini sets a URL"
    env = (SOLUTION / "alembic" / "env.py").read_text(encoding="utf-8")
    assert "create_async_engine" in env and "run_sync(" in env and "DATABASE_URL" in env


def test_sqlite_cannot_alter_a_column_and_batch_mode_copies() -> None:
    raw = sqlite3.connect(":memory:")
    raw.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(10))")
    with pytest.raises(sqlite3.OperationalError, match="syntax error"):
        raw.execute("ALTER TABLE users ALTER COLUMN name SET NOT NULL")
    raw.close()

    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(10))")
        conn.exec_driver_sql("INSERT INTO users (name) VALUES ('ada')")
        operations = Operations(MigrationContext.configure(conn))
        with pytest.raises(NotImplementedError, match="batch"):
            operations.create_unique_constraint("uq_users_name", "users", ["name"])
        statements: list[str] = []
        sa.event.listen(conn, "before_cursor_execute", lambda *args: statements.append(args[2]))
        with operations.batch_alter_table("users") as batch:
            batch.alter_column("name", nullable=False, type_=sa.String(100),
                               existing_type=sa.String(10))  # fmt: skip
            batch.create_unique_constraint("uq_users_name", ["name"])
        ddl = [
            s.strip().split("(")[0].strip()
            for s in statements
            if not s.startswith(("PRAGMA", "SELECT"))
        ]
        assert ddl == [
            "CREATE TABLE _alembic_tmp_users",
            "INSERT INTO _alembic_tmp_users",
            "DROP TABLE users",
            "ALTER TABLE _alembic_tmp_users RENAME TO users",
        ], ddl
        assert conn.exec_driver_sql("SELECT name FROM users").scalar() == "ada"
    engine.dispose()

    # On PostgreSQL the same batch block is plain ALTER TABLE statements.
    from io import StringIO

    buffer = StringIO()
    context = MigrationContext.configure(
        dialect_name="postgresql", opts={"as_sql": True, "output_buffer": buffer}
    )
    with Operations(context).batch_alter_table("users") as batch:
        batch.alter_column("name", nullable=False, type_=sa.String(100),
                           existing_type=sa.String(10))  # fmt: skip
    sql = buffer.getvalue()
    assert "ALTER TABLE users ALTER COLUMN name TYPE VARCHAR(100)" in sql
    assert "ALTER TABLE users ALTER COLUMN name SET NOT NULL" in sql
    assert "_alembic_tmp" not in sql


# --- step 7: the body limit -----------------------------------------------------------


def test_fastapi_turns_an_exception_from_receive_into_a_400_unless_it_is_an_http_exception() -> (
    None
):
    from starlette.exceptions import HTTPException

    class TooLarge(Exception):
        pass

    class TooLargeHTTP(HTTPException):
        def __init__(self) -> None:
            super().__init__(status_code=413, detail="too large")

    def raising(error: type[Exception]) -> Any:
        class Middleware:
            """Raises `error` from receive, as a counting body limit would."""

            def __init__(self, app: Any) -> None:
                self.app = app

            async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
                async def receive_and_raise() -> Any:
                    await receive()
                    raise error()

                await self.app(scope, receive_and_raise, send)

        return Middleware

    async def status_of(error: type[Exception]) -> tuple[int, Any]:
        app = FastAPI()

        class Item(BaseModel):
            name: str

        @app.post("/items")
        async def create(item: Item) -> dict[str, str]:
            return {"name": item.name}

        app.add_middleware(raising(error))
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            response = await http.post("/items", json={"name": "x"})
        return response.status_code, response.json()

    status, body = asyncio.run(status_of(TooLarge))
    assert (status, body) == (400, {"detail": "There was an error parsing the body"})
    assert asyncio.run(status_of(TooLargeHTTP)) == (413, {"detail": "too large"})


# --- step 8: delivery ----------------------------------------------------------------


def test_uvicorn_sends_its_server_header_unless_told_not_to() -> None:
    import uvicorn
    from click.testing import CliRunner
    from uvicorn.main import main as command_line

    async def app(scope: Any, receive: Any, send: Any) -> None:  # never called
        raise AssertionError

    default = uvicorn.Config(app)
    default.load()
    assert (b"server", b"uvicorn") in default.encoded_headers
    quiet = uvicorn.Config(app, server_header=False)
    quiet.load()
    assert b"server" not in dict(quiet.encoded_headers)
    # The command line's switch for it.
    assert "--no-server-header" in CliRunner().invoke(command_line, ["--help"]).output


def test_uvicorn_trusts_forwarded_for_only_from_forwarded_allow_ips() -> None:
    import uvicorn

    def client_seen(peer: str, **options: Any) -> str:
        seen: list[str] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            seen.append(scope["client"][0])

        config = uvicorn.Config(app, **options)
        config.load()
        scope = {
            "type": "http",
            "client": (peer, 40000),
            "scheme": "http",
            "headers": [(b"x-forwarded-for", b"203.0.113.7")],
        }
        asyncio.run(config.loaded_app(scope, None, None))
        return seen[0]

    # By default uvicorn reads X-Forwarded-For, but only from a peer on loopback.
    assert uvicorn.Config(lambda *_: None).proxy_headers is True
    assert client_seen("127.0.0.1") == "203.0.113.7"
    # A proxy on another host (another container): the app sees the proxy's address.
    assert client_seen("10.0.0.5") == "10.0.0.5"
    assert client_seen("10.0.0.5", forwarded_allow_ips="10.0.0.5") == "203.0.113.7"
    # Trusting every peer lets any client that reaches uvicorn directly name any address.
    assert client_seen("198.51.100.9", forwarded_allow_ips="*") == "203.0.113.7"
    # Without proxy headers the header is ignored even from loopback.
    assert client_seen("127.0.0.1", proxy_headers=False) == "127.0.0.1"


def test_a_burst_reads_an_empty_limiter_queue_before_run_sync_joins_it() -> None:
    """Tasks started together all see `tasks_waiting == 0`, yet most of them queue."""

    async def main() -> tuple[list[int], int]:
        limiter = anyio.CapacityLimiter(1)
        release = threading.Event()
        seen: list[int] = []
        peak = 0

        async def call() -> None:
            seen.append(limiter.statistics().tasks_waiting)  # the "bound" check
            await anyio.to_thread.run_sync(release.wait, 5, limiter=limiter)

        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(call)
            await anyio.sleep(0.2)
            peak = limiter.statistics().tasks_waiting
            release.set()
        return seen, peak

    seen, peak = asyncio.run(main())
    assert seen == [0] * 5  # every check passed a bound of 1
    assert peak == 4  # and four of them wait
