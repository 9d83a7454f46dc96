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
    # Checks (test names) that must fail: for a mistake that other checks of its step
    # notice too, the check written for it must not go blind behind them.
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

# The reference HEALTHCHECK command (docker/Dockerfile).
HEALTHCHECK_COMMAND = (
    """    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\\"http://"""
    """127.0.0.1:{os.environ.get('PORT', '8000')}/api/v1/health\\", timeout=4)"]"""
)

MUTANTS = [
    Mutant("requires-python excludes the course's Python", 1, (
        ("pyproject.toml", 'requires-python = ">=3.11"', 'requires-python = ">=3.12"'),)),
    Mutant("production guard missing", 2, (
        ("app/core/config.py", 'if self.ENVIRONMENT != "production":', "if True:"),)),
    Mutant("production accepts equal JWT secrets", 2, (
        ("app/core/config.py", "if self.JWT_SECRET_KEY == self.JWT_REFRESH_SECRET_KEY:",
         "if False:"),)),
    Mutant("production accepts the default admin password", 2, (
        ("app/core/config.py",
         "if self.FIRST_ADMIN_PASSWORD.get_secret_value() == DEFAULT_FIRST_ADMIN_PASSWORD:",
         "if False:"),)),
    Mutant("health without the version", 2, (
        ("app/api/v1/health_router.py", "version=settings.VERSION", 'version="unknown"'),)),
    Mutant("session never commits", 3, (
        ("app/core/database.py", "                await session.commit()\n",
         "                pass\n"),)),
    Mutant("expire_on_commit left on", 3, (
        ("app/core/database.py", "expire_on_commit=False,", "expire_on_commit=True,"),)),
    Mutant("SQLite foreign keys off", 3, (
        ("app/core/database.py", '"PRAGMA foreign_keys=ON"', '"PRAGMA foreign_keys=OFF"'),)),
    Mutant("JSON log format not serialized", 3, (
        ("app/core/logging.py", "serialize=True,", "serialize=False,"),)),
    Mutant("root logger at level 0 leaks SQL", 3, (
        ("app/core/logging.py", "level=level_number, force=True", "level=0, force=True"),
        ("app/core/logging.py", 'logging.getLogger("sqlalchemy.engine").setLevel(sql_level)',
         "pass"),
        ("app/core/database.py", '"hide_parameters": True', '"hide_parameters": False'),
    )),
    Mutant("NotFound message without the id", 3, (
        ("app/core/exceptions.py", "message = f\"{resource} with id '{identifier}' not found\"",
         'message = f"{resource} not found"'),)),
    Mutant("422 echoes the rejected input", 3, (
        ("app/middleware/error_handler.py", 'VALIDATION_ERROR_KEYS = ("loc", "msg", "type")',
         'VALIDATION_ERROR_KEYS = ("loc", "msg", "type", "input")'),)),
    Mutant("readiness always ready", 3, (
        ("app/api/v1/health_router.py", "if not await database.ping():", "if False:"),)),
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
         "    options.update(\n        pool_size="),)),
    Mutant("postgresql.UUID on SQLite", 4, (
        ("app/domain/models/base.py", "mapped_column(Uuid, primary_key=True",
         "mapped_column(postgresql.UUID(as_uuid=True), primary_key=True"),
        ("app/domain/models/base.py", "import uuid\n",
         "import uuid\n\nfrom sqlalchemy.dialects import postgresql\n"),
    )),
    Mutant("no sort_by whitelist", 4, (
        ("app/domain/schemas/common.py", 'sort_by: SortField = "created_at"',
         'sort_by: str = "created_at"'),)),
    Mutant("limit up to 1000", 4, (
        ("app/domain/schemas/common.py", "ge=1, le=100,", "ge=1, le=1000,"),)),
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
         "select(self.model)"),)),
    Mutant("pages without an id tie-breaker", 5, (
        ("app/repository/base.py", "query.order_by(*order_by, self.model.id)",
         "query.order_by(*order_by)"),)),
    Mutant("search wildcards not escaped", 5, (
        ("app/repository/user_repository.py", 'pattern = f"%{escape_like(search)}%"',
         'pattern = f"%{search}%"'),)),
    Mutant("token type unchecked", 6, (
        ("app/core/security.py", 'if payload.get("type") != token_type:', "if False:"),)),
    Mutant("signature not verified", 6, (
        ("app/core/security.py", 'options={"require": REQUIRED_CLAIMS},',
         'options={"require": REQUIRED_CLAIMS, "verify_signature": False},'),)),
    Mutant("password stored in plain text", 6, (
        ("app/core/security.py",
         "return await to_thread.run_sync(password_hash.hash, password, limiter=_hashing_limiter)",
         "return password"),)),
    Mutant("hashing on the event loop", 6, (
        ("app/core/security.py",
         "return await to_thread.run_sync(password_hash.hash, password, limiter=_hashing_limiter)",
         "return password_hash.hash(password)"),)),
    Mutant("unknown email answers faster", 6, (
        ("app/service/auth_service.py", "await spend_verify_time(password)", "pass"),)),
    Mutant("inactive user may log in", 6, (
        ("app/service/auth_service.py",
         "if not user.is_active:\n"
         '            raise ForbiddenException("This account is deactivated")',
         "pass"),)),
    Mutant("deactivated user's token still works", 6, (
        ("app/service/auth_service.py", "if user is None or not user.is_active:",
         "if user is None:"),)),
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
        ("app/api/deps.py", 'Depends(get_db, scope="function")', "Depends(get_db)"),)),
    Mutant("register answers 200", 7, (
        ("app/api/v1/auth_router.py", "status_code=status.HTTP_201_CREATED,",
         "status_code=status.HTTP_200_OK,"),)),
    Mutant("role accepted at registration", 7, (
        ("app/domain/schemas/user.py", 'model_config = ConfigDict(extra="forbid")\n\n    email',
         'model_config = ConfigDict(extra="allow")\n\n    email'),
        ("app/service/auth_service.py",
         "user_data = UserCreate(**data.model_dump(), role=UserRole.USER)",
         "user_data = UserCreate(**{'role': UserRole.USER, **data.model_dump()})"),
    )),
    Mutant("emails not lower-cased", 7, (
        ("app/domain/schemas/user.py",
         "Email = Annotated[EmailStr, BeforeValidator(_normalize_text), "
         "AfterValidator(normalize_email)]",
         "Email = EmailStr"),)),
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
        ("app/utils/pagination.py", "return math.ceil(total / limit)", "return total // limit"),)),
    Mutant("refused preflight in plain text", 7, (
        ("app/middleware/cors.py",
         "        if response.status_code < 400:\n            return response\n",
         "        return response\n"),)),
    Mutant("CORS allows every origin", 7, (
        ("app/middleware/cors.py", "allow_origins=settings.CORS_ORIGINS,",
         'allow_origins=["*"],'),)),
    Mutant("invalid request ids echoed", 7, (
        ("app/middleware/request_id.py",
         "if incoming is not None and VALID_REQUEST_ID.fullmatch(incoming):", "if incoming:"),)),
    Mutant("BaseHTTPMiddleware loses the request id", 7, (
        ("app/middleware/request_id.py", "class RequestIDMiddleware:",
         BASE_HTTP_REQUEST_ID.lstrip() + "\n\nclass RequestIDMiddleware:"),
        ("app/main.py", "app.add_middleware(RequestIDMiddleware)",
         "app.add_middleware(BaseHTTPMiddleware, dispatch=request_id_dispatch)"),
        ("app/main.py", "from app.middleware.request_id import RequestIDMiddleware",
         "from starlette.middleware.base import BaseHTTPMiddleware\n\n"
         "from app.middleware.request_id import RequestIDMiddleware, request_id_dispatch"),
    )),
    Mutant("request id as a complete BaseHTTPMiddleware", 7, (
        ("app/middleware/request_id.py", "from loguru import logger\n",
         "from loguru import logger\nfrom starlette.middleware.base import BaseHTTPMiddleware\n"),
        ("app/middleware/request_id.py", "\n\nclass RequestIDMiddleware:",
         BASE_HTTP_COMPLETE + "\n\nclass _Pure:"),
    )),
    Mutant("alembic ignores the app settings", 8, (
        ("alembic/env.py", "or get_settings().DATABASE_URL",
         'or "sqlite+aiosqlite:///./elsewhere.db"'),)),
    Mutant("container runs as root", 8, (
        ("docker/Dockerfile", "USER app\n", ""),)),
    Mutant("HEALTHCHECK can never fail", 8, (
        ("docker/Dockerfile", HEALTHCHECK_COMMAND,
         "    CMD curl -f http://127.0.0.1:8000/api/v1/health || exit 0"),)),
    Mutant("compose app without the compose database's URL", 8, (
        ("docker/docker-compose.yml",
         "    environment:\n      DATABASE_URL: postgresql+asyncpg://app:app@db:5432/app\n", ""),)),
    Mutant("seed main() does nothing", 8, (
        ("scripts/seed.py", "    args = parser.parse_args(argv)\n",
         "    args = parser.parse_args(argv)\n    return 0\n"),),
        fails=("test_seed_script_runs", "test_seed_run_twice_changes_nothing")),
    Mutant("seed is not idempotent", 8, (
        ("scripts/seed.py", "if await users.email_exists(email):\n        return False",
         "if False:\n        return False"),)),
]  # fmt: skip
