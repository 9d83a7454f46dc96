"""Plausible learner mistakes, as edits to a copy of the solution.

Each mutant names the step whose grading tests must notice it: the step that
teaches the thing the mistake breaks. Many come from the workflow itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    """A mistake: text replacements in solution files, and the step that must catch it."""

    name: str
    step: int
    edits: tuple[tuple[str, str, str], ...]  # (file, old text, new text)
    # Checks (test names) that must fail, the checks written for this mistake: the
    # mutants' test grades only them, so none can go blind behind another check.
    fails: tuple[str, ...] = ()


BASE_HTTP_REQUEST_ID = """

async def request_id_dispatch(request, call_next):  # type: ignore[no-untyped-def]
    request_id = choose_request_id(request.headers.get(REQUEST_ID_HEADER))
    response = await call_next(request)
    response.headers[REQUEST_ID_HEADER] = request_id
    return response
"""

# The request id done completely, but as BaseHTTPMiddleware: the id reaches the endpoint's
# log lines, yet what the app sets in its context never flows back out.
BASE_HTTP_COMPLETE = """

class RequestIDMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):  # type: ignore[no-untyped-def]
        request_id = choose_request_id(request.headers.get(REQUEST_ID_HEADER))
        token = _request_id.set(request_id)
        try:
            with logger.contextualize(request_id=request_id):
                response = await call_next(request)
        finally:
            _request_id.reset(token)
        response.headers[REQUEST_ID_HEADER] = request_id
        return response
"""

# How the body limit and the catch-all note that the answer started (both the same text).
NOTES_THE_START = """            if message["type"] == "http.response.start":
                response_started = True"""

# The reference HEALTHCHECK command (docker/Dockerfile).
HEALTHCHECK_COMMAND = (
    """    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\\"http://"""
    """127.0.0.1:{os.environ.get('PORT', '8000')}/api/v1/health\\", timeout=4)"]"""
)

# --- login sessions (steps 4 and 5): the text the session mutants below edit ----------------

SESSION_MODEL = "app/domain/models/session.py"
SESSION_REPOSITORY = "app/repository/session_repository.py"
FAILURE_MODEL = "app/domain/models/login_failure.py"
FAILURE_REPOSITORY = "app/repository/login_failure_repository.py"

# The reference rotation: one conditional UPDATE ... RETURNING.
ROTATE_IN_ONE_UPDATE = """        statement = (
            update(UserSession)
            .where(
                UserSession.id == session_id,
                UserSession.user_id == user_id,
                UserSession.refresh_token_id == used_token_id,
                UserSession.deleted_at.is_(None),
                UserSession.expires_at > datetime.now(UTC),
            )
            .values(refresh_token_id=new_token_id, updated_at=datetime.now(UTC))
            .returning(UserSession)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()
"""


def rotate_read_then_write(flush: bool = True) -> str:
    """A rotation that reads the session, compares in Python, then writes: right one
    request at a time, but two requests can both read the old token id and both win."""
    read = """        found = await self.session.scalar(
            select(UserSession).where(
                UserSession.id == session_id,
                UserSession.user_id == user_id,
                UserSession.deleted_at.is_(None),
                UserSession.expires_at > datetime.now(UTC),
            )
        )
        if found is None or found.refresh_token_id != used_token_id:
            return None
        found.refresh_token_id = new_token_id
"""
    write = "        await self.session.flush()\n" if flush else ""
    return read + write + "        return found\n"


GET_LIVE_USER_IN_ONE_QUERY = """        query = (
            select(User)
            .join(UserSession, UserSession.user_id == User.id)
            .where(
                UserSession.id == session_id,
                UserSession.user_id == user_id,
                UserSession.deleted_at.is_(None),
                UserSession.expires_at > datetime.now(UTC),
                User.deleted_at.is_(None),
            )
        )
        return (await self.session.execute(query)).scalar_one_or_none()
"""

# The session first, then its user: right, but two round trips on every request.
GET_LIVE_USER_IN_TWO_QUERIES = """        live = await self.session.scalar(
            select(UserSession.id).where(
                UserSession.id == session_id,
                UserSession.user_id == user_id,
                UserSession.deleted_at.is_(None),
                UserSession.expires_at > datetime.now(UTC),
            )
        )
        if live is None:
            return None
        return await self.session.scalar(
            select(User).where(User.id == user_id, User.deleted_at.is_(None))
        )
"""
# --- end of the session mutants' text -----------------------------------------------------
# The app service's environment in docker/docker-compose.yml.
COMPOSE_ENVIRONMENT = (
    "    environment:\n"
    "      DATABASE_URL: postgresql+asyncpg://app:app@db:5432/app\n"
    "      JWT_SECRET_KEY: ${JWT_SECRET_KEY:?set JWT_SECRET_KEY to a random secret of 32+ "
    "characters}\n"
    "      JWT_REFRESH_SECRET_KEY: ${JWT_REFRESH_SECRET_KEY:?set JWT_REFRESH_SECRET_KEY to "
    "another random secret of 32+ characters}\n"
    "      FIRST_ADMIN_PASSWORD: ${FIRST_ADMIN_PASSWORD:?set FIRST_ADMIN_PASSWORD, the first "
    "admin's password}\n"
)

SECURITY_HEADERS_LINE = (
    "    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.HSTS_ENABLED)\n"
)

MUTANTS = [
    Mutant("requires-python excludes the course's Python", 1, (
        ("pyproject.toml", 'requires-python = ">=3.11"', 'requires-python = ">=3.12"'),),
        fails=("test_pyproject_requires_python_311_or_newer",)),
    Mutant("production guard missing", 2, (
        ("app/core/config.py", 'if self.ENVIRONMENT != "production":', "if True:"),),
        fails=("test_production_refuses_unsafe_setting_naming_it",)),
    Mutant("production accepts equal JWT secrets", 2, (
        ("app/core/config.py", "if self.JWT_SECRET_KEY == self.JWT_REFRESH_SECRET_KEY:",
         "if False:"),),
        fails=("test_production_refuses_unsafe_setting_naming_it",)),
    Mutant("production accepts DEBUG", 2, (
        ("app/core/config.py", "        if self.DEBUG:\n", "        if False:\n"),),
        fails=("test_production_refuses_unsafe_setting_naming_it",)),
    # Found by `nox -s mutation`: what the step 2 checks did not notice before.
    Mutant("CORS origins not validated", 2, (
        ("app/core/config.py",
         "            if origin != \"*\":\n                _check_origin(origin)\n",
         "            pass\n"),),
        fails=("test_each_cors_origin_is_validated_naming_the_setting",)),
    Mutant("32-character secrets refused", 2, (
        ("app/core/config.py", "MIN_SECRET_LENGTH = 32", "MIN_SECRET_LENGTH = 33"),),
        fails=("test_production_accepts_strong_settings",)),
    Mutant("the default secret written again accepted", 2, (
        ("app/core/config.py", "if value == default or", "if value is default or"),),
        fails=("test_production_refuses_unsafe_setting_naming_it",)),
    Mutant("secrets sorting after the default refused", 2, (
        ("app/core/config.py", "if value == default or", "if value >= default or"),),
        fails=("test_production_accepts_strong_settings",)),
    Mutant("origins that sort before * not validated", 2, (
        ("app/core/config.py", '            if origin != "*":\n',
         '            if origin > "*":\n'),),
        fails=("test_each_cors_origin_is_validated_naming_the_setting",)),
    Mutant("setting names case-insensitive", 2, (
        ("app/core/config.py", "case_sensitive=True,", "case_sensitive=False,"),),
        fails=("test_setting_names_are_case_sensitive",)),
    Mutant("a port without bounds", 2, (
        ("app/core/config.py", "PORT: int = Field(default=8000, ge=1, le=65535)",
         "PORT: int = 8000"),),
        fails=("test_port_is_1_to_65535",)),
    Mutant("a pool timeout of another default", 2, (
        ("app/core/config.py", "DB_POOL_TIMEOUT: float = Field(default=30.0,",
         "DB_POOL_TIMEOUT: float = Field(default=5.0,"),),
        fails=("test_defaults_are_those_of_the_settings_reference",)),
    Mutant("an API prefix ending with a slash", 2, (
        ("app/core/config.py", 'if not value.startswith("/") or value.endswith("/"):',
         'if not value.startswith("/"):'),),
        fails=("test_api_prefix_in_use_starts_with_a_slash_and_does_not_end_with_one",)),
    Mutant("production accepts the default admin password", 2, (
        ("app/core/config.py",
         "if self.FIRST_ADMIN_PASSWORD.get_secret_value() == DEFAULT_FIRST_ADMIN_PASSWORD:",
         "if False:"),),
        fails=("test_production_refuses_unsafe_setting_naming_it",)),
    Mutant("health without the version", 2, (
        ("app/api/v1/health_router.py", "version=settings.VERSION", 'version="unknown"'),),
        fails=("test_health_answers_healthy_with_version_and_environment",
               "test_health_version_comes_from_settings")),
    Mutant("session never commits", 3, (
        ("app/core/database.py", "                await session.commit()\n",
         "                pass\n"),),
        fails=("test_get_session_commits_when_the_block_succeeds",)),
    Mutant("expire_on_commit left on", 3, (
        ("app/core/database.py", "expire_on_commit=False,", "expire_on_commit=True,"),),
        fails=("test_objects_stay_readable_after_the_session_commits",)),
    Mutant("SQLite foreign keys off", 3, (
        ("app/core/database.py", '"PRAGMA foreign_keys=ON"', '"PRAGMA foreign_keys=OFF"'),),
        fails=("test_foreign_keys_are_enforced",)),
    Mutant("JSON log format not serialized", 3, (
        ("app/core/logging.py", "serialize=True,", "serialize=False,"),),
        fails=("test_json_format_writes_one_json_object_per_line",)),
    Mutant("root logger at level 0 leaks SQL", 3, (
        ("app/core/logging.py", "level=level_number, force=True", "level=0, force=True"),
        ("app/core/logging.py", 'logging.getLogger("sqlalchemy.engine").setLevel(sql_level)',
         "pass"),
        ("app/core/database.py", '"hide_parameters": True', '"hide_parameters": False'),
    ),
        fails=("test_database_errors_do_not_show_bound_values",)),
    Mutant("NotFound message without the id", 3, (
        ("app/core/exceptions.py", "message = f\"{resource} with id '{identifier}' not found\"",
         'message = f"{resource} not found"'),),
        fails=("test_not_found_message_names_the_resource_and_the_id",)),
    Mutant("422 echoes the rejected input", 3, (
        ("app/middleware/error_handler.py", 'VALIDATION_ERROR_KEYS = ("loc", "msg", "type")',
         'VALIDATION_ERROR_KEYS = ("loc", "msg", "type", "input")'),),
        fails=("test_validation_error_does_not_echo_the_rejected_input",)),
    Mutant("readiness always ready", 3, (
        ("app/api/v1/health_router.py", "if not await database.ping():", "if False:"),),
        fails=("test_not_ready_503_envelope_when_the_database_is_unreachable",)),
    Mutant("database errors show bound values", 3, (
        ("app/core/database.py", '"hide_parameters": True', '"hide_parameters": False'),),
        fails=("test_database_errors_do_not_show_bound_values",)),
    # Sessions on an engine of their own, on a URL that reaches nothing: a failed
    # connection carries no bound values, so "errors hide them" must not pass by it.
    Mutant("sessions on an unreachable database show bound values", 3, (
        ("app/core/database.py", "            bind=self.engine,\n",
         '            bind=create_async_engine("sqlite+aiosqlite:////nonexistent-dir/app.db"),\n'),),
        fails=("test_database_errors_do_not_show_bound_values",)),
    Mutant("pool sizing passed to SQLite", 3, (
        ("app/core/database.py", "        return options\n    options.update(\n        pool_size=",
         "    options.update(\n        pool_size="),),
        fails=("test_database_manager_works_on_sqlite_in_memory_and_in_a_file",)),
    # Found by `nox -s mutation`: what the step 3 checks did not notice before.
    Mutant("forwarded records name the handler, not the caller", 3, (
        ("app/core/logging.py", "logger.opt(depth=depth, exception=record.exc_info)",
         "logger.opt(depth=0, exception=record.exc_info)"),),
        fails=("test_forwarded_records_name_the_code_that_logged",)),
    Mutant("a level Loguru does not know breaks the handler", 3, (
        ("app/core/logging.py",
         "        try:\n            level: str | int = logger.level(record.levelname).name\n"
         "        except ValueError:\n            level = record.levelno\n",
         "        level = logger.level(record.levelname).name\n"),),
        fails=("test_a_level_loguru_does_not_know_is_forwarded_by_its_number",)),
    Mutant("uvicorn's access log left on", 3, (
        ("app/core/logging.py", 'logging.getLogger("uvicorn.access").disabled = True', "pass"),),
        fails=("test_uvicorn_access_log_is_switched_off",)),
    Mutant("StaticPool on a SQLite file too", 3, (
        ("app/core/database.py", 'if url.database in (None, "", ":memory:"):', "if True:"),),
        fails=("test_sessions_on_a_sqlite_file_have_connections_of_their_own",)),
    Mutant("server pool without pre-ping", 3, (
        ("app/core/database.py", "pool_pre_ping=True,", "pool_pre_ping=False,"),),
        fails=("test_a_server_database_gets_the_pool_of_the_settings",)),
    Mutant("server pool not sized from the settings", 3, (
        ("app/core/database.py", "        pool_size=settings.DB_POOL_SIZE,\n", ""),
        ("app/core/database.py", "        max_overflow=settings.DB_MAX_OVERFLOW,\n", ""),),
        fails=("test_a_server_database_gets_the_pool_of_the_settings",)),
    Mutant("AppException without a status code is a 400", 3, (
        ("app/core/exceptions.py", "    status_code: int = 500\n",
         "    status_code: int = 400\n"),),
        fails=("test_app_exception_carries_message_status_code_and_detail",)),
    # Found by `nox -s mutation`: what the step 4 checks did not notice before.
    Mutant("timestamps may be NULL", 4, (
        ("app/domain/models/base.py",
         "UTCDateTime, default=utc_now, server_default=func.now(), nullable=False",
         "UTCDateTime, default=utc_now, server_default=func.now(), nullable=True"),),
        fails=("test_timestamps_are_timezone_aware_with_server_defaults",)),
    Mutant("role may be NULL", 4, (
        ("app/domain/models/user.py", "String(20), nullable=False,",
         "String(20), nullable=True,"),),
        fails=("test_every_user_column_is_required",)),
    Mutant("email normalised only after EmailStr", 4, (
        ("app/domain/schemas/user.py", "BeforeValidator(_normalize_text), ", ""),),
        fails=("test_a_full_width_at_sign_is_refused_not_turned_into_a_second_at",)),
    Mutant("passwords trimmed like other strings", 4, (
        ("app/domain/schemas/user.py", "max_length=128, strip_whitespace=False)",
         "max_length=128, strip_whitespace=True)"),),
        fails=("test_passwords_keep_their_spaces",)),
    Mutant("full_name without bounds", 4, (
        ("app/domain/schemas/user.py",
         "FullName = Annotated[str, StringConstraints(min_length=1, max_length=100)]",
         "FullName = str"),),
        fails=("test_full_name_is_1_to_100_characters",)),
    Mutant("an empty page refused", 4, (
        ("app/domain/schemas/user.py", "    total: int = Field(ge=0)",
         "    total: int = Field(ge=1)"),),
        fails=("test_user_list_response_holds_an_empty_first_page",)),
    Mutant("a limit of 1 refused", 4, (
        ("app/domain/schemas/common.py", "limit: int = Field(default=20, ge=1,",
         "limit: int = Field(default=20, ge=2,"),),
        fails=("test_pagination_params_bounds",)),
    Mutant("postgresql.UUID on SQLite", 4, (
        ("app/domain/models/base.py", "mapped_column(Uuid, primary_key=True",
         "mapped_column(postgresql.UUID(as_uuid=True), primary_key=True"),
        ("app/domain/models/base.py", "import uuid\n",
         "import uuid\n\nfrom sqlalchemy.dialects import postgresql\n"),
    ),
        fails=("test_id_is_a_generic_uuid_primary_key_with_a_python_default",
               "test_an_all_digit_uuid_round_trips")),
    Mutant("no sort_by whitelist", 4, (
        ("app/domain/schemas/common.py", 'sort_by: SortField = "created_at"',
         'sort_by: str = "created_at"'),),
        fails=("test_pagination_params_bounds",)),
    Mutant("limit up to 1000", 4, (
        ("app/domain/schemas/common.py", "ge=1, le=100,", "ge=1, le=1000,"),),
        fails=("test_pagination_params_bounds",)),
    Mutant("emails lower-cased without NFKC", 4, (
        ("app/domain/models/user.py", 'return unicodedata.normalize("NFKC", email).strip().lower()',
         "return email.strip().lower()"),),
        fails=("test_user_schemas_store_one_spelling_of_an_email",)),
    Mutant("email lookups only lower-cased", 5, (
        ("app/repository/user_repository.py",
         "self._live().where(func.lower(User.email) == normalize_email(email))",
         "self._live().where(func.lower(User.email) == email.lower())"),
        ("app/repository/user_repository.py",
         "func.lower(User.email) == normalize_email(email), User.deleted_at.is_(None)",
         "func.lower(User.email) == email.lower(), User.deleted_at.is_(None)"),
    ), fails=("test_email_lookups_normalise_the_unicode_width",)),
    Mutant("deactivated admins still count", 5, (
        ("app/repository/user_repository.py",
         "                User.is_active.is_(True),\n                User.deleted_at.is_(None),\n",
         "                User.deleted_at.is_(None),\n"),),
        fails=("test_lock_active_admin_ids_lists_the_live_active_admins_only",)),
    Mutant("soft-delete filter dropped", 5, (
        ("app/repository/base.py", "select(self.model).where(self.model.deleted_at.is_(None))",
         "select(self.model)"),),
        fails=("test_get_all_returns_the_live_rows_and_their_total",
               "test_get_by_email_skips_soft_deleted_users",
               "test_get_by_id_skips_soft_deleted_rows")),
    Mutant("pages without an id tie-breaker", 5, (
        ("app/repository/base.py", "query.order_by(*order_by, self.model.id)",
         "query.order_by(*order_by)"),),
        fails=("test_pages_never_overlap_when_sort_values_tie",)),
    Mutant("search wildcards not escaped", 5, (
        ("app/repository/user_repository.py", 'pattern = f"%{escape_like(search)}%"',
         'pattern = f"%{search}%"'),),
        fails=("test_get_users_searches_names_and_emails",)),
    # --- login sessions, step 4: the UserSession model ---------------------------------------
    Mutant("session foreign key without ON DELETE CASCADE", 4, (
        (SESSION_MODEL, 'ForeignKey("users.id", ondelete="CASCADE")', 'ForeignKey("users.id")'),),
        fails=("test_deleting_a_user_deletes_their_sessions",)),
    Mutant("session user_id not indexed", 4, (
        (SESSION_MODEL, "nullable=False, index=True", "nullable=False"),),
        fails=("test_user_id_is_an_indexed_foreign_key_to_users_id",)),
    Mutant("session refresh_token_id nullable", 4, (
        (SESSION_MODEL, "mapped_column(String(64), nullable=False)",
         "mapped_column(String(64), nullable=True)"),),
        fails=("test_session_columns_are_required",)),
    # DateTime(timezone=True) without BaseModel's UTC type: SQLite hands the expiry back naive.
    Mutant("session expiry without the UTC type", 4, (
        (SESSION_MODEL, "mapped_column(UTCDateTime, nullable=False)",
         "mapped_column(DateTime(timezone=True), nullable=False)"),
        (SESSION_MODEL, "from sqlalchemy import ForeignKey,",
         "from sqlalchemy import DateTime, ForeignKey,"),
    ), fails=("test_a_session_is_stored_with_an_aware_expiry",)),
    Mutant("UserSession not re-exported by the models package", 4, (
        ("app/domain/models/__init__.py", "from app.domain.models.session import UserSession\n",
         ""),), fails=("test_the_models_package_exports_user_session_and_registers_its_table",)),
    # --- login sessions, step 5: SessionRepository -------------------------------------------
    Mutant("get_live_user ignores the expiry", 5, (
        (SESSION_REPOSITORY,
         "                UserSession.expires_at > datetime.now(UTC),\n"
         "                User.deleted_at",
         "                User.deleted_at"),),
        fails=("test_get_live_user_is_none_unless_the_session_and_user_are_live",)),
    Mutant("get_live_user ignores whose session it is", 5, (
        (SESSION_REPOSITORY,
         "                UserSession.user_id == user_id,\n"
         "                UserSession.deleted_at.is_(None),\n"
         "                UserSession.expires_at > datetime.now(UTC),\n"
         "                User.deleted_at",
         "                UserSession.deleted_at.is_(None),\n"
         "                UserSession.expires_at > datetime.now(UTC),\n"
         "                User.deleted_at"),),
        fails=("test_get_live_user_is_none_unless_the_session_and_user_are_live",)),
    Mutant("get_live_user returns a soft-deleted user", 5, (
        (SESSION_REPOSITORY, "                User.deleted_at.is_(None),\n", ""),),
        fails=("test_get_live_user_is_none_unless_the_session_and_user_are_live",)),
    Mutant("get_live_user in two queries", 5, (
        (SESSION_REPOSITORY, GET_LIVE_USER_IN_ONE_QUERY, GET_LIVE_USER_IN_TWO_QUERIES),),
        fails=("test_get_live_user_runs_one_query",)),
    Mutant("rotate without the used-token condition", 5, (
        (SESSION_REPOSITORY, "                UserSession.refresh_token_id == used_token_id,\n",
         ""),),
        fails=("test_rotate_replaces_the_current_token_id_once",
               "test_rotate_refuses_what_is_not_the_live_current_token",
               "test_two_concurrent_rotations_of_one_token_have_exactly_one_winner")),
    Mutant("rotate ignores the expiry", 5, (
        (SESSION_REPOSITORY,
         "                UserSession.expires_at > datetime.now(UTC),\n            )\n"
         "            .values(refresh_token_id",
         "            )\n            .values(refresh_token_id"),),
        fails=("test_rotate_refuses_what_is_not_the_live_current_token",)),
    Mutant("rotate revives an ended session", 5, (
        (SESSION_REPOSITORY,
         "                UserSession.refresh_token_id == used_token_id,\n"
         "                UserSession.deleted_at.is_(None),\n",
         "                UserSession.refresh_token_id == used_token_id,\n"),),
        fails=("test_rotate_refuses_what_is_not_the_live_current_token",)),
    Mutant("rotate reads, compares, then writes", 5, (
        (SESSION_REPOSITORY, ROTATE_IN_ONE_UPDATE, rotate_read_then_write()),),
        fails=("test_two_concurrent_rotations_of_one_token_have_exactly_one_winner",)),
    Mutant("rotate leaves its write unflushed", 5, (
        (SESSION_REPOSITORY, ROTATE_IN_ONE_UPDATE, rotate_read_then_write(flush=False)),),
        fails=("test_writes_flush_but_do_not_commit",)),
    Mutant("end_all ends every user's sessions", 5, (
        (SESSION_REPOSITORY, "self.end_where(UserSession.user_id == user_id)",
         "self.end_where(UserSession.user_id.is_not(None))"),),
        fails=("test_end_all_ends_only_that_users_open_sessions",)),
    Mutant("ending ends ended sessions again", 5, (
        (SESSION_REPOSITORY, ".where(condition, UserSession.deleted_at.is_(None))",
         ".where(condition)"),),
        fails=("test_end_soft_deletes_an_open_session_and_says_whether_it_was_open",
               "test_end_all_ends_only_that_users_open_sessions")),
    Mutant("get_live_user compares the user id with >=", 5, (
        (SESSION_REPOSITORY,
         "                UserSession.user_id == user_id,\n"
         "                UserSession.deleted_at.is_(None),\n"
         "                UserSession.expires_at > datetime.now(UTC),\n"
         "                User.deleted_at",
         "                UserSession.user_id >= user_id,\n"
         "                UserSession.deleted_at.is_(None),\n"
         "                UserSession.expires_at > datetime.now(UTC),\n"
         "                User.deleted_at"),),
        fails=("test_get_live_user_is_none_unless_the_session_and_user_are_live",)),
    Mutant("rotate compares the user id with <=", 5, (
        (SESSION_REPOSITORY,
         "                UserSession.user_id == user_id,\n"
         "                UserSession.refresh_token_id == used_token_id,\n",
         "                UserSession.user_id <= user_id,\n"
         "                UserSession.refresh_token_id == used_token_id,\n"),),
        fails=("test_rotate_refuses_what_is_not_the_live_current_token",)),
    Mutant("end ends every session with a greater id", 5, (
        (SESSION_REPOSITORY, "self.end_where(UserSession.id == session_id)",
         "self.end_where(UserSession.id >= session_id)"),),
        fails=("test_end_soft_deletes_an_open_session_and_says_whether_it_was_open",)),
    Mutant("ending a session deletes its row", 5, (
        (SESSION_REPOSITORY,
         "            update(UserSession)\n"
         "            .where(condition, UserSession.deleted_at.is_(None))\n"
         "            .values(deleted_at=now, updated_at=now)\n",
         "            delete(UserSession)\n"
         "            .where(condition, UserSession.deleted_at.is_(None))\n"),
        (SESSION_REPOSITORY, "CursorResult, select, update",
         "CursorResult, delete, select, update"),
    ), fails=("test_end_soft_deletes_an_open_session_and_says_whether_it_was_open",)),
    Mutant("ending sessions commits", 5, (
        (SESSION_REPOSITORY,
         "        result = cast(CursorResult[None], await self.session.execute(statement))\n",
         "        result = cast(CursorResult[None], await self.session.execute(statement))\n"
         "        await self.session.commit()\n"),),
        fails=("test_writes_flush_but_do_not_commit",)),
    Mutant("commit() only flushes", 5, (
        (SESSION_REPOSITORY, "        await self.session.commit()\n",
         "        await self.session.flush()\n"),),
        fails=("test_commit_commits_the_sessions_writes",)),
    # --- login throttling, step 4: the LoginFailure model -------------------------------------
    Mutant("login failures without the (email, created_at) index", 4, (
        (FAILURE_MODEL,
         '        Index("ix_login_failures_email_created_at", "email", "created_at"),\n', ""),),
        fails=("test_one_emails_recent_failures_are_counted_through_an_index",)),
    Mutant("login failures without the created_at index", 4, (
        (FAILURE_MODEL, '        Index("ix_login_failures_created_at", "created_at"),\n', ""),),
        fails=("test_old_failures_are_purged_through_an_index",)),
    Mutant("login failures only for existing accounts", 4, (
        (FAILURE_MODEL, "String(255), nullable=False)",
         'String(255), ForeignKey("users.email"), nullable=False)'),
        (FAILURE_MODEL, "import Index, String", "import ForeignKey, Index, String"),
    ), fails=("test_email_is_a_required_string_of_255_without_a_foreign_key",)),
    Mutant("LoginFailure not exported by the models package", 4, (
        ("app/domain/models/__init__.py",
         "from app.domain.models.login_failure import LoginFailure\n", ""),
        ("app/domain/models/__init__.py", '    "LoginFailure",\n', ""),
    ), fails=("test_the_models_package_exports_login_failure_and_registers_its_table",)),
    # --- login throttling, step 5: LoginFailureRepository ------------------------------------
    Mutant("failures counted under the email as typed", 5, (
        (FAILURE_REPOSITORY, "    return normalize_email(email)[:EMAIL_LENGTH]",
         "    return email[:EMAIL_LENGTH]"),),
        fails=("test_failure_key_normalises_and_cuts_to_the_column",
               "test_blocking_failure_counts_under_the_normalised_email",
               "test_clear_deletes_only_that_emails_failures")),
    Mutant("a failure recorded but not flushed", 5, (
        (FAILURE_REPOSITORY,
         "created_at=datetime.now(UTC)))\n        await self.session.flush()\n",
         "created_at=datetime.now(UTC)))\n"),),
        fails=("test_record_adds_one_failure_under_its_key_and_flushes",)),
    Mutant("the purge only of the email that failed", 5, (
        (FAILURE_REPOSITORY,
         "delete(LoginFailure).where(LoginFailure.created_at < purge_before)",
         "delete(LoginFailure).where(\n                LoginFailure.created_at < purge_before,\n"
         "                LoginFailure.email == failure_key(email),\n            )"),),
        fails=("test_record_purges_every_emails_failures_before_the_window",)),
    Mutant("the blocking failure counted from the oldest", 5, (
        (FAILURE_REPOSITORY, ".order_by(LoginFailure.created_at.desc())",
         ".order_by(LoginFailure.created_at)"),),
        fails=("test_blocking_failure_is_the_limit_th_newest_after_since",)),
    Mutant("the blocking failure ignores the window", 5, (
        (FAILURE_REPOSITORY,
         ".where(LoginFailure.email == failure_key(email), LoginFailure.created_at > since)",
         ".where(LoginFailure.email == failure_key(email))"),),
        fails=("test_blocking_failure_is_the_limit_th_newest_after_since",)),
    Mutant("the blocking failure reads every failure", 5, (
        (FAILURE_REPOSITORY, "            .limit(limit)\n", ""),
        (FAILURE_REPOSITORY, "        return times[-1] if len(times) >= limit else None",
         "        return times[limit - 1] if len(times) >= limit else None"),
    ), fails=("test_blocking_failure_is_one_query_that_reads_at_most_the_limit",)),
    Mutant("clear deletes everyone's failures", 5, (
        (FAILURE_REPOSITORY,
         "delete(LoginFailure).where(LoginFailure.email == failure_key(email))",
         "delete(LoginFailure)"),),
        fails=("test_clear_deletes_only_that_emails_failures",)),
    Mutant("total_pages rounds down in the helper", 5, (
        ("app/utils/pagination.py", "return math.ceil(total / limit)", "return total // limit"),),
        fails=("test_the_helpers_count_pages_and_offsets",)),
    Mutant("escape_like leaves the escape character alone", 5, (
        ("app/utils/pagination.py", "term.replace(escape, escape * 2)",
         "term.replace(escape, escape)"),),
        fails=("test_escape_like_makes_every_character_of_a_term_literal",)),
    Mutant("clear deletes the failures of every email sorting before", 5, (
        (FAILURE_REPOSITORY,
         "delete(LoginFailure).where(LoginFailure.email == failure_key(email))",
         "delete(LoginFailure).where(LoginFailure.email <= failure_key(email))"),),
        fails=("test_clear_deletes_only_that_emails_failures",)),
    Mutant("hard_delete says there was a row when there was none", 5, (
        ("app/repository/base.py", "        if entity is None:\n            return False\n",
         "        if entity is None:\n            return True\n"),),
        fails=("test_soft_and_hard_delete_say_whether_there_was_a_row",)),
    Mutant("a failure's commit only flushes", 5, (
        (FAILURE_REPOSITORY, "        await self.session.commit()\n",
         "        await self.session.flush()\n"),),
        fails=("test_commit_makes_the_failure_stand_although_the_request_fails",)),
    # --- end of the login session mutants ----------------------------------------------------
    Mutant("TooManyRequestsException without Retry-After", 3, (
        ("app/core/exceptions.py",
         'super().__init__(message, headers={"Retry-After": str(retry_after)})',
         "super().__init__(message)"),),
        fails=("test_too_many_requests_is_429_with_retry_after",)),
    Mutant("login's 429 and 503 undocumented", 7, (
        ("app/api/v1/auth_router.py", """        429: {
            "model": ErrorResponse,""", """        -429: {
            "model": ErrorResponse,"""),),
        fails=("test_a_throttled_login_answers_429_with_retry_after_and_is_documented",)),
    Mutant("the third migration without the throttle's index", 8, (
        ("alembic/versions/0003_create_login_failures_table.py",
         """    op.create_index("ix_login_failures_email_created_at", "login_failures", """
         """["email", "created_at"])
""", ""),
        ("alembic/versions/0003_create_login_failures_table.py",
         """    op.drop_index("ix_login_failures_email_created_at", table_name="login_failures")
""", ""),),
        fails=("test_alembic_check_finds_no_difference",)),
    Mutant("token type unchecked", 6, (
        ("app/core/security.py", 'if payload.get("type") != token_type:', "if False:"),),
        fails=("test_decoders_reject_bad_tokens",)),
    Mutant("signature not verified", 6, (
        ("app/core/security.py", 'options={"require": REQUIRED_CLAIMS},',
         'options={"require": REQUIRED_CLAIMS, "verify_signature": False},'),),
        fails=("test_decoders_reject_bad_tokens",)),
    Mutant("password stored in plain text", 6, (
        ("app/core/security.py", "return await _run_hashing(password_hash.hash, password)",
         "return password"),),
        fails=("test_create_user_stores_an_argon2id_hash_never_the_password",
               "test_hash_password_makes_argon2id_hashes_that_verify_password_checks")),
    Mutant("hashing on the event loop", 6, (
        ("app/core/security.py", "return await _run_hashing(password_hash.hash, password)",
         "return password_hash.hash(password)"),),
        fails=("test_hashing_and_verifying_do_not_block_the_event_loop",)),
    # Login throttling (step 6) and the bounded hashing queue.
    Mutant("failed logins are not throttled", 6, (
        ("app/service/auth_service.py", "        await self.check_throttle(email)\n", ""),),
        fails=("test_failed_logins_throttle_an_email_even_with_the_right_password",
               "test_an_unknown_email_is_throttled_alike")),
    Mutant("a failed login's record is rolled back with its 401", 6, (
        ("app/service/auth_service.py", "            await self.failures.commit()\n", ""),),
        fails=("test_failed_logins_throttle_an_email_even_with_the_right_password",)),
    Mutant("the right password passes the throttle", 6, (
        ("app/service/auth_service.py", """        await self.check_throttle(email)
        try:
            user = await self.authenticate(email, password)
        except UnauthorizedException:
""", """        try:
            user = await self.authenticate(email, password)
        except UnauthorizedException:
            await self.check_throttle(email)
"""),),
        fails=("test_failed_logins_throttle_an_email_even_with_the_right_password",)),
    Mutant("the throttle is checked after verifying", 6, (
        ("app/service/auth_service.py", """        await self.check_throttle(email)
        try:
            user = await self.authenticate(email, password)
        except UnauthorizedException:
""", """        try:
            user = await self.authenticate(email, password)
            await self.check_throttle(email)
        except UnauthorizedException:
            await self.check_throttle(email)
"""),),
        fails=("test_a_throttled_login_verifies_no_password",)),
    Mutant("failures counted per spelling of the email", 6, (
        ("app/repository/login_failure_repository.py",
         "    return normalize_email(email)[:EMAIL_LENGTH]",
         "    return email[:EMAIL_LENGTH]"),),
        fails=("test_the_count_is_per_normalised_email",)),
    Mutant("a success does not clear the count", 6, (
        ("app/service/auth_service.py", "        await self.failures.clear(email)\n", ""),),
        fails=("test_a_successful_login_clears_the_count",)),
    Mutant("failures count for ever", 6, (
        ("app/service/auth_service.py", "email, since=now - window, limit=",
         "email, since=now - 1000 * window, limit="),),
        fails=("test_the_login_works_again_after_the_window",)),
    Mutant("Retry-After counts the whole window from now", 6, (
        ("app/service/auth_service.py",
         "seconds = math.ceil((blocking + window - now).total_seconds())",
         "seconds = math.ceil(window.total_seconds()) + 60"),),
        fails=("test_failed_logins_throttle_an_email_even_with_the_right_password",)),
    Mutant("hashing queue without a bound", 6, (
        ("app/core/security.py", "    if waiting >= hashing_queue_limit():\n",
         "    if False:\n"),),
        fails=("test_a_full_hashing_queue_answers_503_with_retry_after",)),
    # The limiter's own statistics lag a burst: run_sync yields before it queues.
    Mutant("hashing queue measured by the limiter's statistics", 6, (
        ("app/core/security.py",
         "    waiting = _hashing_pending - int(_hashing_limiter.total_tokens)\n",
         "    waiting = _hashing_limiter.statistics().tasks_waiting\n"),),
        fails=("test_a_full_hashing_queue_answers_503_with_retry_after",)),
    Mutant("unknown email answers faster", 6, (
        ("app/service/auth_service.py", "await spend_verify_time(password)", "pass"),),
        fails=("test_unknown_email_costs_as_much_as_a_wrong_password",)),
    Mutant("inactive user may log in", 6, (
        ("app/service/auth_service.py",
         "if not user.is_active:\n"
         '            security_event(SecurityEvent.LOGIN_FAILED, '
         'outcome="deactivated", user_id=user.id)\n'
         '            raise ForbiddenException("This account is deactivated")',
         "pass"),),
        fails=("test_authenticate_inactive_user_403_only_with_the_right_password",)),
    Mutant("deactivated user's token still works", 6, (
        ("app/service/auth_service.py", "if user is None or not user.is_active:",
         "if user is None:"),),
        fails=("test_get_current_user_refuses_with_401",
               "test_role_and_state_are_read_from_the_database_not_the_token")),
    # Without either guard (the last-admin check refuses yourself too).
    Mutant("admin may delete themselves", 6, (
        ("app/service/user_service.py",
         'if user_id == acting_user_id:\n            raise BadRequestException("You cannot delete',
         'if False:\n            raise BadRequestException("You cannot delete'),
        ("app/service/user_service.py",
         "        await self._keep_an_active_admin(user_id, acting_user_id)\n"
         "        if not await self.repository.soft_delete(user_id):",
         "        if not await self.repository.soft_delete(user_id):"),
    ), fails=("test_delete_user_is_a_soft_delete_and_spares_the_acting_user",
              "test_the_last_active_admin_cannot_be_demoted_deactivated_or_deleted")),
    Mutant("the last admin may be demoted", 6, (
        ("app/service/user_service.py", "if len(admin_ids) == 1:", "if False:"),),
        fails=("test_the_last_active_admin_cannot_be_demoted_deactivated_or_deleted",)),
    Mutant("admin may demote themselves", 6, (
        ("app/service/user_service.py",
         "if user_id == acting_user_id:\n            raise BadRequestException(OWN_STANDING)",
         "if False:\n            raise BadRequestException(OWN_STANDING)"),),
        fails=("test_update_user_refuses_an_admin_demoting_or_deactivating_themself",)),
    Mutant("commit after the response", 6, (
        ("app/api/deps.py", 'Depends(get_db, scope="function")', "Depends(get_db)"),),
        fails=("test_a_failing_commit_never_gives_a_2xx",)),
    # Sessions (step 6), their routes (step 7) and their migration (step 8).
    Mutant("tokens without issuer and audience checks", 6, (
        ("app/core/security.py", """            audience=settings.JWT_AUDIENCE,
            issuer=settings.JWT_ISSUER,
""", """            options={"verify_aud": False, "verify_iss": False, "require": REQUIRED_CLAIMS},
"""),
        ("app/core/security.py", """            leeway=settings.JWT_LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
""", """            leeway=settings.JWT_LEEWAY_SECONDS,
"""),
    ), fails=("test_decoders_reject_bad_tokens",)),
    Mutant("no leeway for clock skew", 6, (
        ("app/core/security.py", "            leeway=settings.JWT_LEEWAY_SECONDS,\n", ""),
    ), fails=("test_decoders_tolerate_clock_skew_within_the_leeway",)),
    Mutant("refresh token outlives its session", 6, (
        ("app/core/security.py", "min(datetime.now(UTC) + lifetime, session_expires_at)",
         "datetime.now(UTC) + lifetime"),
    ), fails=("test_refresh_token_carries_sub_sid_its_id_and_never_outlives_its_session",)),
    Mutant("access tokens not bound to a live session", 6, (
        ("app/service/auth_service.py",
         """        user = await self.sessions.get_live_user(session_id, user_id)
""", """        del session_id
        user = await self.repository.get_by_id(user_id)
"""),
    ), fails=("test_get_current_user_refuses_with_401",
              "test_logout_ends_the_session_of_the_access_token")),
    Mutant("refresh without rotation", 6, (
        ("app/service/auth_service.py", 'new_token_id=uuid.uuid4().hex',
         'new_token_id=str(claims["jti"])'),
    ), fails=("test_a_refresh_token_works_once_and_its_successor_works",)),
    Mutant("a reused refresh token ends nothing", 6, (
        ("app/service/auth_service.py", """            if await self.sessions.end(session_id):
                await self.sessions.commit()
                security_event(SecurityEvent.REFRESH_REUSED, outcome="ended", user_id=user_id)
""", ""),
    ), fails=("test_reusing_a_refresh_token_ends_the_session_for_good",)),
    Mutant("the end of a reused session is rolled back", 6, (
        ("app/service/auth_service.py", """            if await self.sessions.end(session_id):
                await self.sessions.commit()
                security_event(SecurityEvent.REFRESH_REUSED, outcome="ended", user_id=user_id)
""", """            await self.sessions.end(session_id)
            security_event(SecurityEvent.REFRESH_REUSED, outcome="ended", user_id=user_id)
"""),
    ), fails=("test_reusing_a_refresh_token_ends_the_session_for_good",)),
    Mutant("password change without the current password", 6, (
        ("app/service/user_service.py",
         "            if not await verify_password(current, user.password_hash):\n"
         '                security_event(SecurityEvent.PASSWORD_CHANGED, '
         'outcome="refused", user_id=user.id)\n'
         "                raise BadRequestException(WRONG_CURRENT_PASSWORD)\n", ""),
    ), fails=("test_a_new_password_needs_the_current_one_and_ends_every_session",)),
    Mutant("password change keeps the sessions", 6, (
        ("app/service/user_service.py", """        if "password_hash" in values:
            await self.sessions.end_all(user.id)
""", """        if "password_hash" in values:
"""),
    ), fails=("test_a_new_password_needs_the_current_one_and_ends_every_session",)),
    Mutant("a change of rights keeps the sessions", 6, (
        ("app/service/user_service.py", """        if rights_change:
            await self.sessions.end_all(user_id)
""", ""),
    ), fails=("test_a_change_of_role_or_state_ends_the_users_sessions",)),
    Mutant("any admin edit ends the sessions", 6, (
        ("app/service/user_service.py", "        if rights_change:\n", "        if True:\n"),
    ), fails=("test_a_change_that_keeps_the_rights_ends_no_session",)),
    Mutant("a failed login logs the email", 6, (
        ("app/service/auth_service.py",
         'security_event(SecurityEvent.LOGIN_FAILED, '
         'outcome="unknown_email")',
         'security_event(SecurityEvent.LOGIN_FAILED, outcome=f"unknown_email {email}")'),
    ), fails=("test_failed_logins_are_events_naming_the_user_by_id_never_the_email",)),
    Mutant("a wrong password is not logged", 6, (
        ("app/service/auth_service.py",
         '            security_event(SecurityEvent.LOGIN_FAILED, '
         'outcome="wrong_password", user_id=user.id)\n',
         ""),
    ), fails=("test_failed_logins_are_events_naming_the_user_by_id_never_the_email",)),
    Mutant("a reused refresh token is not logged", 6, (
        ("app/service/auth_service.py",
         '                security_event(SecurityEvent.REFRESH_REUSED, '
         'outcome="ended", user_id=user_id)\n',
         ""),
    ), fails=("test_a_reused_refresh_token_is_an_event",)),
    Mutant("a logout event without the user id", 6, (
        ("app/service/auth_service.py",
         'security_event(SecurityEvent.LOGOUT, '
         'outcome="ended", user_id=_uuid_claim(claims, "sub"))',
         'security_event(SecurityEvent.LOGOUT, outcome="ended")'),
    ), fails=("test_logout_is_an_event_with_the_user_id",)),
    Mutant("a refused password change is not logged", 6, (
        ("app/service/user_service.py",
         '                security_event(SecurityEvent.PASSWORD_CHANGED, '
         'outcome="refused", user_id=user.id)\n',
         ""),
    ), fails=("test_a_password_change_and_a_refused_one_are_events",)),
    Mutant("an admin's change names no actor", 6, (
        ("app/service/user_service.py", "            actor_id=acting_user_id,\n", ""),
    ), fails=("test_an_admins_changes_to_users_are_events_naming_the_admin",)),
    Mutant("every security event at INFO", 6, (
        ("app/core/security_events.py", '        "WARNING" if failed else "INFO",\n',
         '        "INFO",\n'),
    ), fails=("test_failed_logins_are_events_naming_the_user_by_id_never_the_email",)),
    Mutant("security events name security_event as their caller", 6, (
        ("app/core/security_events.py", ".opt(depth=1).log(", ".log("),
    ), fails=("test_logout_is_an_event_with_the_user_id",)),
    Mutant("the message of a security event names nobody", 6, (
        ("app/core/security_events.py",
         '        fields["user_id"] or "-",\n        fields["actor_id"] or "-",\n',
         '        "-",\n        "-",\n'),
    ), fails=("test_failed_logins_are_events_naming_the_user_by_id_never_the_email",)),
    Mutant("the client address is never reset", 6, (
        ("app/core/security_events.py", "        _client.reset(token)\n", "        del token\n"),
    ), fails=("test_an_event_carries_the_client_address_of_its_block",)),
    Mutant("the dummy hash is made anew for each unknown email", 6, (
        ("app/core/security.py", "@cache\ndef _dummy_hash() -> str:", "def _dummy_hash() -> str:"),
    ), fails=("test_unknown_email_costs_as_much_as_a_wrong_password",)),
    Mutant("a full hashing queue asks to retry in 30 seconds", 6, (
        ("app/core/security.py", "HASHING_RETRY_AFTER_SECONDS = 1\n",
         "HASHING_RETRY_AFTER_SECONDS = 30\n"),
    ), fails=("test_a_full_hashing_queue_answers_503_with_retry_after",)),
    Mutant("Retry-After rounded down", 6, (
        ("app/service/auth_service.py", "seconds = math.ceil(", "seconds = math.floor("),
    ), fails=("test_the_login_works_again_after_the_window",)),
    Mutant("expires_in in minutes", 6, (
        ("app/service/auth_service.py",
         "expires_in=settings.JWT_ACCESS_TOKEN_EXPIRE_MINUTES * 60,",
         "expires_in=settings.JWT_ACCESS_TOKEN_EXPIRE_MINUTES,"),
    ), fails=("test_login_starts_a_session_its_tokens_name",)),
    Mutant("a malformed id claim is a 500", 6, (
        ("app/service/auth_service.py", "except (KeyError, ValueError) as exc:",
         "except KeyError as exc:"),
    ), fails=("test_claims_that_name_no_user_or_session_get_401",)),
    Mutant("an explicit null is written", 6, (
        ("app/service/user_service.py",
         "values = data.model_dump(exclude_unset=True, exclude_none=True)",
         "values = data.model_dump(exclude_unset=True)"),
    ), fails=("test_update_user_changes_only_the_given_fields",)),
    # Over HTTP the target's id comes from the path, the acting admin's from the database.
    Mutant("the own-standing check compares ids with is", 6, (
        ("app/service/user_service.py",
         "if user_id == acting_user_id:\n            raise BadRequestException(OWN_STANDING)",
         "if user_id is acting_user_id:\n            raise BadRequestException(OWN_STANDING)"),
    ), fails=("test_update_user_refuses_an_admin_demoting_or_deactivating_themself",)),
    # A field left out read as False: renaming yourself then counts as deactivating.
    Mutant("an admin cannot rename themselves", 6, (
        ("app/service/user_service.py", 'and values.get("is_active", True) is not False',
         'and values.get("is_active") is True'),
    ), fails=("test_update_user_refuses_an_admin_demoting_or_deactivating_themself",)),
    Mutant("a registration that loses the race is a 500", 6, (
        ("app/service/user_service.py", """        try:
            return await self.repository.create(user)
        except IntegrityError as exc:
            # Another request registered the same email between our check and
            # our insert; the unique index caught it.
            raise ConflictException(EMAIL_TAKEN) from exc
""", """        return await self.repository.create(user)
"""),
    ), fails=("test_a_registration_that_loses_the_race_for_an_email_raises_409",)),
    Mutant("security events carry no client address", 7, (
        ("app/middleware/request_id.py", ", client_address(client_host(scope))", ""),
    ), fails=("test_security_events_carry_the_client_address_and_the_request_id",)),
    Mutant("the client address is a constant", 7, (
        ("app/middleware/request_id.py", "return str(client[0]) if client else None",
         'return "127.0.0.1"'),
    ), fails=("test_security_events_carry_the_client_address_and_the_request_id",)),
    Mutant("logout ends nothing", 7, (
        ("app/api/v1/auth_router.py", "    await auth_service.logout(claims)\n",
         "    del claims\n"),
    ), fails=("test_logout_ends_this_session_and_no_other",)),
    Mutant("new password accepted without the current one", 4, (
        ("app/domain/schemas/user.py",
         "        if self.password is not None and self.current_password is None:\n",
         "        if False:\n"),
    ), fails=("test_user_self_update_asks_for_the_current_password_with_a_new_one",)),
    Mutant("no migration for the sessions table", 8, (
        ("alembic/versions/0002_create_user_sessions_table.py", "def upgrade() -> None:",
         "def upgrade() -> None:\n    return\n\n\ndef _unused() -> None:"),
    ), fails=("test_alembic_check_finds_no_difference",)),
    Mutant("register answers 200", 7, (
        ("app/api/v1/auth_router.py", "status_code=status.HTTP_201_CREATED,",
         "status_code=status.HTTP_200_OK,"),),
        fails=("test_register_creates_a_plain_active_user_and_shows_no_password",)),
    Mutant("role accepted at registration", 7, (
        ("app/domain/schemas/user.py", 'model_config = ConfigDict(extra="forbid")\n\n    email',
         'model_config = ConfigDict(extra="allow")\n\n    email'),
        ("app/service/auth_service.py",
         "user_data = UserCreate(**data.model_dump(), role=UserRole.USER)",
         "user_data = UserCreate(**{'role': UserRole.USER, **data.model_dump()})"),
    ),
        fails=("test_register_refuses_role_and_other_unknown_fields_with_422",)),
    Mutant("emails not lower-cased", 7, (
        ("app/domain/schemas/user.py",
         "Email = Annotated[EmailStr, BeforeValidator(_normalize_text), "
         "AfterValidator(normalize_email)]",
         "Email = EmailStr"),),
        fails=("test_register_creates_a_plain_active_user_and_shows_no_password",)),
    # The schemas normalise, so registering the full-width spelling again is a 409; but
    # login's username is a form field no schema sees.
    Mutant("login username only lower-cased", 7, (
        ("app/repository/user_repository.py",
         "self._live().where(func.lower(User.email) == normalize_email(email))",
         "self._live().where(func.lower(User.email) == email.lower())"),),
        fails=("test_a_full_width_spelling_is_the_same_account",)),
    # The router hands the service someone else as the acting admin.
    Mutant("router forgets who is acting", 7, (
        ("app/api/v1/user_router.py",
         "await service.update_user(user_id, data, acting_user_id=admin.id)",
         "await service.update_user(user_id, data, acting_user_id=uuid.uuid4())"),),
        fails=("test_an_admin_cannot_demote_or_deactivate_themself",)),
    Mutant("total_pages rounds down", 7, (
        ("app/utils/pagination.py", "return math.ceil(total / limit)", "return total // limit"),),
        fails=("test_list_users_paginates_for_admins_and_moderators_only",)),
    Mutant("refused preflight in plain text", 7, (
        ("app/middleware/cors.py",
         "        if response.status_code < 400:\n            return response\n",
         "        return response\n"),),
        fails=("test_a_refused_preflight_answers_the_error_envelope",)),
    Mutant("CORS allows every origin", 7, (
        ("app/middleware/cors.py", "allow_origins=settings.CORS_ORIGINS,",
         'allow_origins=["*"],'),),
        fails=("test_cors_refuses_an_origin_not_in_the_settings",)),
    Mutant("invalid request ids echoed", 7, (
        ("app/middleware/request_id.py",
         "if incoming is not None and VALID_REQUEST_ID.fullmatch(incoming):", "if incoming:"),),
        fails=("test_an_invalid_incoming_request_id_is_replaced",)),
    Mutant("BaseHTTPMiddleware loses the request id", 7, (
        ("app/middleware/request_id.py", "class RequestIDMiddleware:",
         BASE_HTTP_REQUEST_ID.lstrip() + "\n\nclass RequestIDMiddleware:"),
        ("app/main.py", "app.add_middleware(RequestIDMiddleware)",
         "app.add_middleware(BaseHTTPMiddleware, dispatch=request_id_dispatch)"),
        ("app/main.py", "from app.middleware.request_id import RequestIDMiddleware",
         "from starlette.middleware.base import BaseHTTPMiddleware\n\n"
         "from app.middleware.request_id import RequestIDMiddleware, request_id_dispatch"),
    ),
        fails=("test_every_response_carries_a_new_request_id_and_errors_repeat_it",
               "test_the_request_id_reaches_log_lines_written_in_the_endpoint")),
    Mutant("request id as a complete BaseHTTPMiddleware", 7, (
        ("app/middleware/request_id.py", "from loguru import logger\n",
         "from loguru import logger\nfrom starlette.middleware.base import BaseHTTPMiddleware\n"),
        ("app/middleware/request_id.py", "\n\nclass RequestIDMiddleware:",
         BASE_HTTP_COMPLETE + "\n\nclass _Pure:"),
    ),
        fails=("test_what_the_endpoint_sets_in_its_context_flows_back_out_of_the_middleware",)),
    Mutant("body limit trusts Content-Length alone", 7, (
        ("app/middleware/body_limit.py", 'received += len(message.get("body", b""))',
         "received += 0"),),
        fails=("test_a_streamed_body_is_refused_when_it_crosses_the_limit",)),
    Mutant("body limit reads the body before refusing", 7, (
        ("app/middleware/body_limit.py", "if length is not None and length > limit:",
         "if False:"),),
        fails=("test_a_declared_length_over_the_limit_is_refused_before_reading",)),
    Mutant("body limit refuses a body of exactly the limit", 7, (
        ("app/middleware/body_limit.py", "if length is not None and length > limit:",
         "if length is not None and length >= limit:"),
        ("app/middleware/body_limit.py", "if received > limit:", "if received >= limit:"),),
        fails=("test_a_body_of_exactly_the_limit_is_accepted",)),
    Mutant("body limit ignores MAX_REQUEST_BODY_BYTES", 7, (
        ("app/main.py", "max_body_bytes=settings.MAX_REQUEST_BODY_BYTES",
         "max_body_bytes=1048576"),),
        fails=("test_the_limit_is_max_request_body_bytes",)),
    Mutant("security headers inside CORS and the body limit", 7, (
        ("app/main.py", SECURITY_HEADERS_LINE, ""),
        ("app/main.py", "    register_exception_handlers(app)\n",
         "    register_exception_handlers(app)\n" + SECURITY_HEADERS_LINE),),
        fails=("test_every_response_carries_the_security_headers",)),
    Mutant("HSTS always on", 7, (
        ("app/middleware/security_headers.py", "        if hsts:\n", "        if True:\n"),),
        fails=("test_every_response_carries_the_security_headers",)),
    Mutant("auth responses cacheable", 7, (
        ("app/api/v1/auth_router.py", "dependencies=[Depends(no_store)]", "dependencies=[]"),),
        fails=("test_login_and_refresh_answer_cache_control_no_store",)),
    Mutant("first admin's default password not checked at start", 7, (
        ("app/main.py", "        await refuse_default_admin_password(database, settings)\n", ""),),
        fails=("test_production_refuses_to_start_while_the_first_admin_has_the_default_password",)),
    Mutant("production refuses to start whatever the admin's password", 7, (
        ("app/main.py", "    if admin is not None and await verify_password(",
         "    if True or admin is not None and await verify_password("),),
        fails=("test_production_starts_once_the_first_admin_password_is_not_the_default",)),
    Mutant("a route's 404 undocumented", 7, (
        ("app/api/v1/user_router.py",
         '    404: {"model": ErrorResponse, "description": "No such user"}\n', ""),),
        fails=("test_every_refusal_of_the_api_is_in_the_openapi_schema",)),
    Mutant("body limit answers 413 only inside FastAPI", 7, (
        ("app/middleware/body_limit.py", "        except RequestBodyTooLarge:",
         "        except ZeroDivisionError:"),),
        fails=("test_outside_a_fastapi_route_the_middleware_answers_413_itself",)),
    Mutant("body limit answers 413 after the app answered", 7, (
        ("app/middleware/body_limit.py", NOTES_THE_START, NOTES_THE_START.replace(
            "response_started = True", "pass")),),
        fails=("test_once_the_app_has_answered_the_middleware_lets_the_error_through",)),
    Mutant("a streamed body one byte over the limit accepted", 7, (
        ("app/middleware/body_limit.py", "        received = 0\n", "        received = -1\n"),),
        fails=("test_the_limit_is_max_request_body_bytes",)),
    Mutant("the duration logged in seconds as milliseconds", 7, (
        ("app/middleware/logging.py", "round((time.perf_counter() - start) * 1000, 2)",
         "round(time.perf_counter() - start, 2)"),),
        fails=("test_the_logged_duration_is_the_request_time_in_milliseconds",)),
    Mutant("a refused preflight loses Vary", 7, (
        ("app/middleware/cors.py", 'if key.lower() == "vary"}', "if False}"),),
        fails=("test_a_refused_preflight_answers_the_error_envelope",)),
    Mutant("a plain user reads the users of smaller ids", 7, (
        ("app/api/v1/user_router.py", "and user.id != user_id:", "and user.id < user_id:"),),
        fails=("test_get_user_by_id_for_staff_and_yourself_403_for_someone_elses",)),
    Mutant("the default admin password checked in every environment", 7, (
        ("app/main.py", '    if settings.ENVIRONMENT != "production":\n        return\n', ""),),
        fails=("test_outside_production_the_default_admin_password_does_not_stop_the_start",)),
    Mutant("the admins not locked on SQLite", 5, (
        ("app/repository/user_repository.py", 'dialect.name == "sqlite":',
         'dialect.name == "no such database":'),),
        fails=("test_lock_active_admin_ids_holds_the_admins_until_the_transaction_ends",)),
    Mutant("forwarded records walk past a caller whose file sorts first", 3, (
        ("app/core/logging.py", "frame.f_code.co_filename == logging.__file__",
         "frame.f_code.co_filename <= logging.__file__"),),
        fails=("test_forwarded_records_name_the_code_that_logged",)),
    Mutant("an error mid-answer answered again", 3, (
        ("app/middleware/error_handler.py", NOTES_THE_START, NOTES_THE_START.replace(
            "response_started = True", "pass")),),
        fails=("test_an_error_after_the_answer_started_sends_no_second_answer",)),
    Mutant("an unreachable database is a 500", 3, (
        ("app/middleware/error_handler.py", """    for exception in DATABASE_UNAVAILABLE:
        app.exception_handler(exception)(database_unavailable_handler)
""", ""),),
        fails=("test_an_unreachable_database_is_a_503_envelope",)),
    Mutant("readiness's 503 undocumented", 3, (
        ("app/api/v1/health_router.py",
         '    responses={503: {"description": "The database is unreachable (error envelope)"}},\n',
         ""),),
        fails=("test_the_503_is_in_the_openapi_schema",)),
    Mutant("ReDoc never served", 2, (
        ("app/main.py", 'redoc_url="/redoc" if settings.DEBUG else None,', "redoc_url=None,"),),
        fails=("test_interactive_docs_served_in_debug",)),
    Mutant("alembic ignores the app settings", 8, (
        ("alembic/env.py", "or get_settings().DATABASE_URL",
         'or "sqlite+aiosqlite:///./elsewhere.db"'),),
        fails=("test_upgrade_reaches_the_database_named_by_the_database_url_setting",)),
    Mutant("container runs as root", 8, (
        ("docker/Dockerfile", "USER app\n", ""),),
        fails=("test_dockerfile_runs_as_a_non_root_user",)),
    Mutant("HEALTHCHECK can never fail", 8, (
        ("docker/Dockerfile", HEALTHCHECK_COMMAND,
         "    CMD curl -f http://127.0.0.1:8000/api/v1/health || exit 0"),),
        fails=("test_dockerfile_has_a_healthcheck_on_the_health_route",)),
    Mutant("compose app without the compose database's URL", 8, (
        ("docker/docker-compose.yml",
         "      DATABASE_URL: postgresql+asyncpg://app:app@db:5432/app\n", ""),),
        fails=("test_compose_app_connects_to_postgres_with_asyncpg",)),
    Mutant("seed main() does nothing", 8, (
        ("scripts/seed.py", "    args = parser.parse_args(argv)\n",
         "    args = parser.parse_args(argv)\n    return 0\n"),),
        fails=("test_seed_script_runs", "test_seed_run_twice_changes_nothing")),
    Mutant("image runs in development", 8, (
        ("docker/Dockerfile", "    LOG_FORMAT=json \\\n    ENVIRONMENT=production\n",
         "    LOG_FORMAT=json\n"),),
        fails=("test_the_image_runs_in_production",)),
    Mutant("compose falls back to a published JWT secret", 8, (
        ("docker/docker-compose.yml",
         "${JWT_SECRET_KEY:?set JWT_SECRET_KEY to a random secret of 32+ characters}",
         "${JWT_SECRET_KEY:-dev-only-access-secret-change-me}"),),
        fails=("test_compose_requires_the_secrets_instead_of_defaults",)),
    Mutant("container's uvicorn names itself", 8, (
        ("docker/entrypoint.sh", "--no-access-log --no-server-header", "--no-access-log"),),
        fails=("test_the_server_sends_no_server_header",)),
    Mutant("make dev sends the server header", 8, (
        ("Makefile", "--reload --no-server-header", "--reload"),),
        fails=("test_make_dev_serves_without_the_server_header",)),
    Mutant("seed creates demo users in production", 8, (
        ("scripts/seed.py", 'if args.demo and settings.ENVIRONMENT == "production":',
         "if False:"),),
        fails=("test_seed_refuses_demo_users_in_production",)),
    Mutant("seed is not idempotent", 8, (
        ("scripts/seed.py", "if await users.email_exists(email):\n        return False",
         "if False:\n        return False"),),
        fails=("test_seed_run_twice_changes_nothing",)),
    Mutant("seed's demo users are all plain users", 8, (
        ("scripts/seed.py", "role = DEMO_ROLES[n % len(DEMO_ROLES)]", "role = UserRole.USER"),),
        fails=("test_seed_demo_users_are_users_and_moderators",)),
    Mutant("seed refuses even the admin alone in production", 8, (
        ("scripts/seed.py", 'if args.demo and settings.ENVIRONMENT == "production":',
         'if settings.ENVIRONMENT == "production":'),),
        fails=("test_seed_without_demo_creates_the_admin_alone_even_in_production",)),
    Mutant("seed counts the users it skipped", 8, (
        ("scripts/seed.py", "    if await users.email_exists(email):\n        return False",
         "    if await users.email_exists(email):\n        return True"),),
        fails=("test_seed_returns_how_many_users_it_created",)),
    Mutant("seed accepts a negative --demo", 8, (
        ("scripts/seed.py",
         '    if args.demo < 0:\n        parser.error("--demo must be 0 or more")\n',
         ""),),
        fails=("test_seed_refuses_a_negative_demo_count",)),
    Mutant("seed runs main() when imported", 8, (
        ("scripts/seed.py", 'if __name__ == "__main__":\n    sys.exit(asyncio.run(main()))',
         "sys.exit(asyncio.run(main()))"),),
        fails=("test_seed_returns_how_many_users_it_created",
               "test_seed_refuses_a_negative_demo_count")),
    Mutant("alembic ignores -x url", 8, (
        ("alembic/env.py", '        context.get_x_argument(as_dictionary=True).get("url")\n'
         '        or config.get_main_option("sqlalchemy.url")\n',
         '        config.get_main_option("sqlalchemy.url")\n'),),
        fails=("test_the_x_url_option_overrides_the_database_url_setting",)),
    Mutant("alembic/env.py leaves out alembic.ini's logging", 8, (
        ("alembic/env.py",
         "    fileConfig(config.config_file_name, disable_existing_loggers=False)",
         "    pass"),),
        fails=("test_upgrade_head_logs_the_revisions_it_applies",)),
]  # fmt: skip
