"""Correct code written another way, as edits to a copy of the solution.

The counterpart of `mutants.py`: each variant stays right, so the grading tests of its
step must keep giving it full marks. A check sharpened to catch a mistake must not
start to demand the reference's exact text; these are the other ways of being right.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.grader.mutants import (
    COMPOSE_ENVIRONMENT,
    FAILURE_MODEL,
    FAILURE_REPOSITORY,
    HEALTHCHECK_COMMAND,
    ROTATE_IN_ONE_UPDATE,
    SESSION_MODEL,
    SESSION_REPOSITORY,
)


@dataclass(frozen=True)
class Variant:
    """Correct code: text replacements in solution files, and the step that grades them."""

    name: str
    step: int
    edits: tuple[tuple[str, str, str], ...]  # (file, old text, new text)


# --- login sessions (steps 4 and 5): the text the session variants below write -----------

# A conditional UPDATE without RETURNING, then the session read back: one winner too.
ROTATE_THEN_READ_BACK = """        statement = (
            update(UserSession)
            .where(
                UserSession.id == session_id,
                UserSession.user_id == user_id,
                UserSession.refresh_token_id == used_token_id,
                UserSession.deleted_at.is_(None),
                UserSession.expires_at > datetime.now(UTC),
            )
            .values(refresh_token_id=new_token_id, updated_at=datetime.now(UTC))
            .execution_options(synchronize_session=False)
        )
        result = cast(CursorResult[None], await self.session.execute(statement))
        if result.rowcount != 1:
            return None
        return await self.session.get(UserSession, session_id, populate_existing=True)
"""

# Every open session of the user loaded, ended one by one, flushed.
END_ALL_THROUGH_THE_ORM = """        open_sessions = (
            await self.session.scalars(self._live().where(UserSession.user_id == user_id))
        ).all()
        now = datetime.now(UTC)
        for open_session in open_sessions:
            open_session.deleted_at = now
        await self.session.flush()
        return len(open_sessions)
"""
# --- end of the session variants' text ----------------------------------------------------

VARIANTS = [
    Variant("requires-python with an upper bound", 1, (
        ("pyproject.toml", 'requires-python = ">=3.11"', 'requires-python = ">=3.11, <4"'),)),
    # hide_parameters given to create_async_engine itself, not through the options.
    Variant("hide_parameters passed to the engine directly", 3, (
        ("app/core/database.py",
         'options: dict[str, Any] = {"echo": settings.DB_ECHO, "hide_parameters": True}',
         'options: dict[str, Any] = {"echo": settings.DB_ECHO}'),
        ("app/core/database.py", "self.url, **_engine_options(self.url, config)",
         "self.url, hide_parameters=True, **_engine_options(self.url, config)"),
    )),
    # No StaticPool of its own: SQLAlchemy already picks it for an in-memory aiosqlite URL.
    Variant("SQLite pools left to SQLAlchemy's defaults", 3, (
        ("app/core/database.py",
         '        if url.database in (None, "", ":memory:"):\n'
         "            options.update(poolclass=StaticPool, "
         'connect_args={"check_same_thread": False})\n'
         "        else:\n",
         '        if url.database not in (None, "", ":memory:"):\n'),
        ("app/core/database.py", "from sqlalchemy.pool import ConnectionPoolEntry, StaticPool",
         "from sqlalchemy.pool import ConnectionPoolEntry"),
    )),
    # The caller found as Loguru's documentation does it: a loop that breaks out.
    Variant("caller found by a loop that breaks at the first frame outside logging", 3, (
        ("app/core/logging.py",
         "        while frame is not None and (depth == 0 or frame.f_code.co_filename == "
         "logging.__file__):\n",
         "        while frame:\n"
         "            if depth > 0 and frame.f_code.co_filename != logging.__file__:\n"
         "                break\n"),
    )),
    # The users' email (unique among live users) breaks ties instead of the id.
    Variant("ties broken by the email in the user repository", 5, (
        ("app/repository/base.py", "query.order_by(*order_by, self.model.id)",
         "query.order_by(*order_by)"),
        ("app/repository/user_repository.py", "order_by=[order]",
         "order_by=[order, User.email.asc()]"),
    )),
    Variant("ties broken by the id, newest id first", 5, (
        ("app/repository/base.py", "query.order_by(*order_by, self.model.id)",
         "query.order_by(*order_by, self.model.id.desc())"),)),
    # --- login sessions, steps 4 and 5 --------------------------------------------------------
    # The foreign key and the index of user_id declared on the table, not on the column.
    Variant("session foreign key and index in __table_args__", 4, (
        (SESSION_MODEL,
         "mapped_column(\n"
         '        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True\n'
         "    )\n",
         "mapped_column(Uuid, nullable=False)\n"),
        (SESSION_MODEL, '    __tablename__ = "user_sessions"\n',
         '    __tablename__ = "user_sessions"\n'
         "    __table_args__ = (\n"
         '        ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),\n'
         '        Index("ix_user_sessions_user_id", "user_id"),\n'
         "    )\n"),
        (SESSION_MODEL, "from sqlalchemy import ForeignKey, String, Uuid",
         "from sqlalchemy import ForeignKeyConstraint, Index, String, Uuid"),
    )),
    Variant("rotate as a conditional UPDATE, then a read back", 5, (
        (SESSION_REPOSITORY, ROTATE_IN_ONE_UPDATE, ROTATE_THEN_READ_BACK),)),
    Variant("end_all through the ORM", 5, (
        (SESSION_REPOSITORY,
         "        return await self.end_where(UserSession.user_id == user_id)\n",
         END_ALL_THROUGH_THE_ORM),)),
    # --- end of the login session variants ---------------------------------------------------
    # Step 8 grading runs subprocesses: one variant carries several files' rewrites.
    Variant("seed, HEALTHCHECK and compose written another way", 8, (
        ("scripts/seed.py", 'if __name__ == "__main__":\n    sys.exit(asyncio.run(main()))',
         'if __name__ == "__main__":\n    raise SystemExit(asyncio.run(main()))'),
        ("docker/Dockerfile", HEALTHCHECK_COMMAND,
         "    CMD python -c \"import urllib.request; urllib.request.urlopen("
         "'http://localhost:8000/api/v1/health', timeout=4)\" || exit 1"),
        # The environment as a list; `${VAR?message}` refuses an unset variable too.
        ("docker/docker-compose.yml", COMPOSE_ENVIRONMENT,
         "    environment:\n"
         "      - DATABASE_URL=postgresql+asyncpg://app:app@db:5432/app\n"
         "      - JWT_SECRET_KEY=${JWT_SECRET_KEY?set JWT_SECRET_KEY}\n"
         "      - JWT_REFRESH_SECRET_KEY=${JWT_REFRESH_SECRET_KEY?set JWT_REFRESH_SECRET_KEY}\n"
         "      - FIRST_ADMIN_PASSWORD=${FIRST_ADMIN_PASSWORD:?}\n"),
        # The legacy `ENV KEY value` form, and uvicorn's options before the app.
        ("docker/Dockerfile", "    LOG_FORMAT=json \\\n    ENVIRONMENT=production\n",
         "    LOG_FORMAT=json\nENV ENVIRONMENT production\n"),
        ("docker/entrypoint.sh", "exec uvicorn app.main:app --host",
         "exec uvicorn --no-server-header app.main:app --host"),
        ("docker/entrypoint.sh", "--no-access-log --no-server-header", "--no-access-log"),
    )),
    Variant("seed and alembic/env.py written another way", 8, (
        # DEMO_ROLES from its first entry; argparse itself refusing a negative count.
        ("scripts/seed.py", "role = DEMO_ROLES[n % len(DEMO_ROLES)]",
         "role = DEMO_ROLES[(n - 1) % len(DEMO_ROLES)]"),
        ("scripts/seed.py", "def demo_email(number: int) -> str:",
         "def count(text: str) -> int:\n"
         "    number = int(text)\n"
         "    if number < 0:\n"
         '        raise argparse.ArgumentTypeError("must be 0 or more")\n'
         "    return number\n\n\n"
         "def demo_email(number: int) -> str:"),
        ("scripts/seed.py", '"--demo", type=int,', '"--demo", type=count,'),
        ("scripts/seed.py",
         '    if args.demo < 0:\n        parser.error("--demo must be 0 or more")\n',
         ""),
        ("scripts/seed.py",
         "            created += await _ensure_user(\n"
         '                users, demo_email(n), f"Demo User {n}", role, hash_demo_password\n'
         "            )\n",
         "            if await _ensure_user(\n"
         '                users, demo_email(n), f"Demo User {n}", role, hash_demo_password\n'
         "            ):\n"
         "                created += 1\n"),
        # -x read from the parsed command line; Alembic's logging through the app's Loguru.
        ("alembic/env.py", '        context.get_x_argument(as_dictionary=True).get("url")\n',
         '        dict(arg.partition("=")[::2] for arg in getattr(config.cmd_opts, "x", None) or '
         '[]).get("url")\n'),
        ("alembic/env.py",
         "    fileConfig(config.config_file_name, disable_existing_loggers=False)",
         "    from app.core.logging import setup_logging\n\n    setup_logging(get_settings())"),
    )),
    # Cache-Control set by each auth endpoint itself, the security headers appended to the
    # raw header list, the body limit counting in a class of its own.
    # Keyword fields straight into `extra`: the UUIDs and the enum as they are, the level
    # looked up, the message worded another way ("None" for a missing id).
    Variant("security events as keyword fields of one log call", 6, (
        ("app/core/security_events.py",
         """    failed = event in WARNING_EVENTS or outcome == "refused"
    fields = {""", """    refusal = outcome == "refused"
    logger.opt(depth=1).log(
        {True: "WARNING", False: "INFO"}[event in WARNING_EVENTS or refusal],
        "{event}: {outcome} (user {user_id}, by {actor_id})",
        event=event,
        outcome=outcome,
        user_id=user_id,
        actor_id=actor_id,
        client=get_client(),
    )
    del changes
    return
    failed = event in WARNING_EVENTS or outcome == "refused"
    fields = {"""),
    )),
    # The services' details written another way: nulls dropped by hand, ids compared as
    # text, a claim read with .get, expires_in from a timedelta, Retry-After rounded up
    # by floor division, the client kept as None and shown as "-" when logged.
    Variant("services and events written another way", 6, (
        ("app/service/user_service.py",
         "values = data.model_dump(exclude_unset=True, exclude_none=True)",
         "values = {\n"
         "            name: value\n"
         "            for name, value in data.model_dump(exclude_unset=True).items()\n"
         "            if value is not None\n"
         "        }"),
        ("app/service/user_service.py",
         "if user_id == acting_user_id:\n            raise BadRequestException(OWN_STANDING)",
         "if str(user_id) == str(acting_user_id):\n"
         "            raise BadRequestException(OWN_STANDING)"),
        ("app/service/auth_service.py", """    try:
        return uuid.UUID(str(claims[name]))
    except (KeyError, ValueError) as exc:
        raise UnauthorizedException() from exc
""", """    value = claims.get(name)
    if not isinstance(value, str):
        raise UnauthorizedException()
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise UnauthorizedException() from exc
"""),
        ("app/service/auth_service.py",
         "expires_in=settings.JWT_ACCESS_TOKEN_EXPIRE_MINUTES * 60,",
         "expires_in=int(\n"
         "                timedelta(minutes=settings.JWT_ACCESS_TOKEN_EXPIRE_MINUTES)"
         ".total_seconds()\n"
         "            ),"),
        ("app/service/auth_service.py",
         "seconds = math.ceil((blocking + window - now).total_seconds())",
         "seconds = -int(-(blocking + window - now).total_seconds() // 1)"),
        ("app/core/security_events.py", "    token = _client.set(host or NO_CLIENT)\n",
         "    token = _client.set(host)\n"),
        ("app/core/security_events.py", '        "client": get_client(),\n',
         '        "client": get_client() or NO_CLIENT,\n'),
    )),
    # The work of a real login spent on a hash of the password given, not a verification.
    Variant("an unknown email spends a hash of its password", 6, (
        ("app/core/security.py",
         "    dummy = await _run_hashing(_dummy_hash)\n"
         "    await verify_password(password, dummy)\n",
         "    await hash_password(password)\n"),
    )),
    # The client address in Loguru's context, beside the request id, not a variable of its own.
    Variant("the client address in the log context", 7, (
        ("app/middleware/request_id.py",
         "            with logger.contextualize(request_id=request_id), "
         "client_address(client_host(scope)):\n",
         "            with logger.contextualize(\n"
         "                request_id=request_id, client=client_host(scope) or \"-\"\n"
         "            ):\n"),
        ("app/core/security_events.py", '        "client": get_client(),\n', ""),
        ("app/core/security_events.py", '        fields["client"],\n', '        "-",\n'),
    )),
    Variant("no-store per endpoint and headers written another way", 7, (
        ("app/api/v1/auth_router.py",
         "router = APIRouter(prefix=\"/auth\", tags=[\"auth\"], dependencies=[Depends(no_store)])",
         "router = APIRouter(prefix=\"/auth\", tags=[\"auth\"])"),
        ("app/api/v1/auth_router.py",
         "    form: Annotated[OAuth2PasswordRequestForm, Depends()], "
         "auth_service: AuthServiceDep\n",
         "    form: Annotated[OAuth2PasswordRequestForm, Depends()],\n"
         "    auth_service: AuthServiceDep,\n"
         "    response: Response,\n"),
        ("app/api/v1/auth_router.py",
         "    return await auth_service.login(form.username, form.password)\n",
         '    response.headers["Cache-Control"] = "no-store"\n'
         "    return await auth_service.login(form.username, form.password)\n"),
        ("app/api/v1/auth_router.py",
         "async def refresh(data: RefreshRequest, auth_service: AuthServiceDep) -> TokenResponse:\n"
         '    """Exchange a valid refresh token for a new token pair."""\n',
         "async def refresh(\n"
         "    data: RefreshRequest, auth_service: AuthServiceDep, response: Response\n"
         ") -> TokenResponse:\n"
         '    """Exchange a valid refresh token for a new token pair."""\n'
         '    response.headers["Cache-Control"] = "no-store"\n'),
        ("app/middleware/security_headers.py",
         "                headers = MutableHeaders(scope=message)\n"
         "                for name, value in self.headers.items():\n"
         "                    headers.setdefault(name, value)  # a route may choose its own\n",
         "                message[\"headers\"] = [\n"
         "                    *message.get(\"headers\", []),\n"
         "                    *((k.lower().encode(), v.encode())\n"
         "                      for k, v in self.headers.items()),\n"
         "                ]\n"),
    )),
    # Login throttling (step 6): the count and the oldest counted failure in one
    # aggregate query instead of the limit-th newest row; right whenever no burst
    # has pushed the count past the limit, which is all the checks can ask.
    Variant("throttle read with COUNT and MIN", 6, (
        ("app/repository/login_failure_repository.py", """        query = (
            select(LoginFailure.created_at)
            .where(LoginFailure.email == failure_key(email), LoginFailure.created_at > since)
            .order_by(LoginFailure.created_at.desc())
            .limit(limit)
        )
        times = (await self.session.execute(query)).scalars().all()
        return times[-1] if len(times) >= limit else None
""", """        count, oldest = (
            await self.session.execute(
                select(func.count(), func.min(LoginFailure.created_at)).where(
                    LoginFailure.email == failure_key(email), LoginFailure.created_at > since
                )
            )
        ).one()
        return oldest if count >= limit else None
"""),
        ("app/repository/login_failure_repository.py", "from sqlalchemy import delete, select",
         "from sqlalchemy import delete, func, select"),
    )),
    # The throttle inside authenticate, and the failure recorded there too.
    Variant("throttle checked and recorded in authenticate", 6, (
        ("app/service/auth_service.py", """        await self.check_throttle(email)
        try:
            user = await self.authenticate(email, password)
        except UnauthorizedException:
            window = timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)
            await self.failures.record(email, purge_before=datetime.now(UTC) - window)
            await self.failures.commit()
            raise
""", """        user = await self.authenticate(email, password)
"""),
        ("app/service/auth_service.py", """        user = await self.repository.get_by_email(email)
        if user is None:
            await spend_verify_time(password)
            security_event(SecurityEvent.LOGIN_FAILED, outcome="unknown_email")
            raise UnauthorizedException(BAD_CREDENTIALS)
        if not await verify_password(password, user.password_hash):
            security_event(SecurityEvent.LOGIN_FAILED, outcome="wrong_password", user_id=user.id)
            raise UnauthorizedException(BAD_CREDENTIALS)
""", """        await self.check_throttle(email)
        user = await self.repository.get_by_email(email)
        if user is None:
            await spend_verify_time(password)
        if user is None or not await verify_password(password, user.password_hash):
            outcome = "unknown_email" if user is None else "wrong_password"
            security_event(
                SecurityEvent.LOGIN_FAILED, outcome=outcome, user_id=user and user.id
            )
            window = timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)
            await self.failures.record(email, purge_before=datetime.now(UTC) - window)
            await self.failures.commit()
            raise UnauthorizedException(BAD_CREDENTIALS)
"""),
    )),
    Variant("login failure indexes named another way", 4, (
        (FAILURE_MODEL, '"ix_login_failures_email_created_at", "email", "created_at"',
         '"login_failures_by_email", "email", "created_at"'),
        (FAILURE_MODEL, 'Index("ix_login_failures_created_at", "created_at")',
         'Index("login_failures_by_time", "created_at")'),
    )),
    Variant("the blocking failure picked by OFFSET", 5, (
        (FAILURE_REPOSITORY, """            .limit(limit)
        )
        times = (await self.session.execute(query)).scalars().all()
        return times[-1] if len(times) >= limit else None
""", """            .offset(limit - 1)
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()
"""),
    )),
    Variant("a route's refusals keyed by strings", 7, (
        ("app/api/v1/user_router.py",
         '    404: {"model": ErrorResponse, "description": "No such user"}',
         '    "404": {"model": ErrorResponse, "description": "No such user"}'),
    )),
    Variant("the request's duration logged in seconds", 7, (
        ("app/middleware/logging.py",
         "duration_ms = round((time.perf_counter() - start) * 1000, 2)",
         "duration_s = round(time.perf_counter() - start, 4)"),
        ("app/middleware/logging.py", '"{method} {path} {status_code} {duration_ms}ms",',
         '"{method} {path} {status_code} {duration_s}s",'),
        ("app/middleware/logging.py", "duration_ms=duration_ms,", "duration_s=duration_s,"),
    )),
]  # fmt: skip
