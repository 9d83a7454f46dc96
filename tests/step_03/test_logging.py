"""Step 3, D6: `setup_logging()` (app/core/logging.py) with Loguru.

The learner's settings object gets the values a check needs (LOG_FORMAT, LOG_LEVEL,
DEBUG) while `setup_logging()` runs; the output is what the learner's own sinks
write to stdout or stderr. Afterwards logging is set up again from the real settings.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import logging.config

import pytest
from sqlalchemy import text

from course.grading.fixtures import learner_session, maybe_await
from tests.step_03.conftest import loguru_records, patched_settings

SECRET_VALUE = "grading-bound-secret-51c9"
SECRET_LOCAL = "grading-local-value-e4d2"

pytestmark = pytest.mark.usefixtures("restore_logging")


def setup_logging_with(**values: object) -> None:
    from app.core.logging import setup_logging

    with patched_settings(**values):
        setup_logging()


def output(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    return captured.out + captured.err


def is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


@pytest.mark.grade("D6", 2)
def test_json_format_writes_one_json_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    from loguru import logger

    setup_logging_with(LOG_FORMAT="json", LOG_LEVEL="INFO")
    output(capsys)
    logger.info("grading json line")
    lines = [line for line in output(capsys).splitlines() if "grading json line" in line]
    assert lines, (
        "expected logger.info(...) to be written to stdout with LOG_FORMAT=json, found nothing"
    )
    assert all(is_json_object(line) for line in lines), (
        f"expected LOG_FORMAT=json to write each line as a JSON object (serialize=True), "
        f"found {lines[0][:200]!r}"
    )


@pytest.mark.grade("D6", 1)
def test_text_format_is_for_people_not_json(capsys: pytest.CaptureFixture[str]) -> None:
    from loguru import logger

    setup_logging_with(LOG_FORMAT="text", LOG_LEVEL="INFO")
    output(capsys)
    logger.info("grading text line")
    lines = [line for line in output(capsys).splitlines() if "grading text line" in line]
    assert lines, (
        "expected logger.info(...) to be written to stdout with LOG_FORMAT=text, found nothing"
    )
    assert not any(is_json_object(line) for line in lines), (
        f"expected LOG_FORMAT=text to write readable lines, not JSON, found {lines[0][:200]!r}"
    )


@pytest.mark.grade("D6", 1)
def test_log_level_filters_lower_levels(capsys: pytest.CaptureFixture[str]) -> None:
    from loguru import logger

    setup_logging_with(LOG_LEVEL="WARNING", LOG_FORMAT="text")
    output(capsys)
    logger.info("grading below the level")
    logger.warning("grading at the level")
    out = output(capsys)
    assert "grading at the level" in out, (
        "expected a WARNING to be logged with LOG_LEVEL=WARNING, found nothing"
    )
    assert "grading below the level" not in out, (
        "expected an INFO line to be dropped with LOG_LEVEL=WARNING, found it logged"
    )


@pytest.mark.grade("D6", 2)
def test_standard_library_logging_reaches_loguru() -> None:
    setup_logging_with(LOG_LEVEL="INFO")
    with loguru_records() as records:
        logging.getLogger("grading.somelib").warning("hello from %s", "the stdlib")
    assert "hello from the stdlib" in records.messages(), (
        "expected logging.getLogger(...).warning(...) to reach Loguru after setup_logging() "
        "(an InterceptHandler on the root logger), found it missing"
    )


def log_through_the_standard_library() -> int:
    """Log one warning with the standard library; return the line that logged it."""
    frame = inspect.currentframe()
    assert frame is not None, "the grader runs on CPython, which has frames"
    line = frame.f_lineno + 1
    logging.getLogger("grading.somelib").warning("grading: who logged this?")
    return line


@pytest.mark.grade("D6", 1)
def test_forwarded_records_name_the_code_that_logged() -> None:
    """`{name}:{function}:{line}` in the text format must point at the caller, not at
    the logging module or the handler: emit() walks the stack out of `logging`."""
    setup_logging_with(LOG_LEVEL="INFO")
    with loguru_records() as records:
        line = log_through_the_standard_library()
    record = records.find("grading: who logged this?")
    assert record is not None, (
        "expected logging.getLogger(...).warning(...) to reach Loguru after setup_logging(), "
        "found it missing"
    )
    found = (record["name"], record["function"], record["line"])
    expected = (__name__, "log_through_the_standard_library", line)
    assert found == expected, (
        "expected a record forwarded from the standard library to name the code that "
        f"logged it (module, function, line) {expected}, found {found}: in emit(), walk "
        "the frames out of the logging module and pass their number to "
        "logger.opt(depth=...)"
    )
    # Callers whose file sorts before the logging module's and after it: the walk must
    # stop at the first frame outside logging, whatever its file is called.
    for filename in ("/0-grading-probe.py", "/~-grading-probe.py"):
        message = f"grading: logged from {filename}"
        code = compile(
            f"logging.getLogger('grading.somelib').warning({message!r})", filename, "exec"
        )
        with loguru_records() as records:
            exec(code, {"logging": logging, "__name__": "grading_probe"})
        record = records.find(message)
        path = record["file"]["path"] if record is not None else None
        assert path == filename, (
            f"expected a record logged from the file {filename} to name that file, found "
            f"{path}: stop the walk at the first frame whose file is not logging's "
            "(co_filename != logging.__file__)"
        )


@pytest.mark.grade("D6", 1)
def test_a_level_loguru_does_not_know_is_forwarded_by_its_number(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`logging.log(25, ...)` has the level name "Level 25", which Loguru does not know:
    `logger.level("Level 25")` raises ValueError, and the record must still arrive."""
    setup_logging_with(LOG_LEVEL="INFO")
    output(capsys)
    with loguru_records() as records:
        logging.getLogger("grading.somelib").log(25, "grading: a level of its own")
    record = records.find("grading: a level of its own")
    problem = output(capsys).strip().splitlines()[-1:] or ["no error printed"]
    assert record is not None, (
        "expected a record at a level Loguru does not know (logging.log(25, ...), level "
        f"name 'Level 25') to reach Loguru, found it missing ({problem[0][:160]}): when "
        "logger.level(record.levelname) raises ValueError, log with record.levelno"
    )
    assert record["level"]["no"] == 25, (
        f"expected that record to keep its level number 25, found {record['level']['no']}"
    )


@pytest.mark.grade("D6", 1)
def test_uvicorn_access_log_is_switched_off() -> None:
    """The request-logging middleware (step 7) writes the request lines; uvicorn's own
    access line would repeat each one."""
    setup_logging_with(LOG_LEVEL="INFO")
    with loguru_records() as records:
        logging.getLogger("uvicorn.access").info("grading: GET / HTTP/1.1 200")
    assert "grading: GET / HTTP/1.1 200" not in records.messages(), (
        "expected uvicorn's access log (logger 'uvicorn.access') to be switched off "
        "(logging.getLogger('uvicorn.access').disabled = True), found its line logged"
    )


@pytest.mark.grade("D6", 1)
def test_uvicorn_logs_reach_loguru() -> None:
    """uvicorn configures its loggers (own handlers, no propagation) before it imports
    the app; setup_logging() must still bring their records into Loguru."""
    from uvicorn.config import LOGGING_CONFIG

    logging.config.dictConfig(LOGGING_CONFIG)
    setup_logging_with(LOG_LEVEL="INFO")
    with loguru_records() as records:
        logging.getLogger("uvicorn.error").info("grading: Application startup complete.")
    assert "grading: Application startup complete." in records.messages(), (
        "expected uvicorn's log lines (logger 'uvicorn.error') to reach Loguru, found them "
        "missing: uvicorn's loggers keep their own handlers and do not propagate"
    )


@pytest.mark.grade("D6", 2)
async def test_sql_and_bound_values_stay_out_of_the_logs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With DB_ECHO off, no SQL statement (and never a bound value, such as a password
    hash) is logged, even at LOG_LEVEL=DEBUG: stdlib logging routed into Loguru at level
    0 (or DEBUG) switches on the database libraries' own statement logging."""
    from app.core.database import database_manager

    with contextlib.suppress(Exception):  # connect() has its own check
        await maybe_await(database_manager.connect())
    setup_logging_with(LOG_LEVEL="DEBUG", LOG_FORMAT="text", DB_ECHO=False)
    output(capsys)
    async with learner_session(database_manager) as session:
        await session.execute(
            text("SELECT :value AS grading_probe_column"), {"value": SECRET_VALUE}
        )
    out = output(capsys)
    assert SECRET_VALUE not in out, (
        "expected no bound value of an SQL statement in the logs at LOG_LEVEL=DEBUG, found one: "
        "quiet the sqlalchemy.engine and driver (aiosqlite, asyncpg) loggers"
    )
    assert "grading_probe_column" not in out, (
        "expected no SQL statement in the logs with DB_ECHO=false (at LOG_LEVEL=DEBUG), "
        "found one: quiet the sqlalchemy.engine and driver (aiosqlite, asyncpg) loggers"
    )


def log_a_failure() -> None:
    from loguru import logger

    local_secret = SECRET_LOCAL
    try:
        raise RuntimeError("grading failure" + local_secret[:0])
    except RuntimeError:
        logger.exception("grading: operation failed")


@pytest.mark.grade("D6", 1)
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_exception_logs_show_no_variable_values_without_debug(
    capsys: pytest.CaptureFixture[str], log_format: str
) -> None:
    setup_logging_with(DEBUG=False, LOG_FORMAT=log_format, LOG_LEVEL="INFO")
    output(capsys)
    log_a_failure()
    out = output(capsys)
    assert "RuntimeError" in out, (
        f"expected logger.exception(...) to log the traceback (LOG_FORMAT={log_format}), "
        "found no RuntimeError in the output"
    )
    assert SECRET_LOCAL not in out, (
        f"expected tracebacks without variable values when DEBUG=false "
        f"(diagnose=settings.DEBUG, LOG_FORMAT={log_format}), found a local variable's value"
    )
