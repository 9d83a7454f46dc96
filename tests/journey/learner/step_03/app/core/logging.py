"""Logging with Loguru: human-readable or JSON lines, one pipeline for every library.

uvicorn and SQLAlchemy log through the standard `logging` module; an
`InterceptHandler` forwards those records to Loguru so that every line has the
same format and carries the request id.
"""

import inspect
import logging
import sys
from typing import Any

from loguru import logger

from app.core.config import Settings, settings

TEXT_FORMAT = (
    "<green>{time:YYYY-MM-DD HH:mm:ss.SSS}</green> | "
    "<level>{level: <8}</level> | "
    "<magenta>{extra[request_id]}</magenta> | "
    "<cyan>{name}</cyan>:<cyan>{function}</cyan>:<cyan>{line}</cyan> | "
    "<level>{message}</level>"
)

# uvicorn's loggers carry handlers of their own and do not propagate, so routing
# the root logger alone would miss them.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
DRIVER_LOGGERS = ("sqlalchemy.pool", "aiosqlite", "asyncpg")


class InterceptHandler(logging.Handler):
    """Send standard-library log records to Loguru, keeping level and caller."""

    def emit(self, record: logging.LogRecord) -> None:
        """Forward one record."""
        level: str | int
        try:
            level = logger.level(record.levelname).name
        except ValueError:  # a custom stdlib level Loguru does not know by name
            level = record.levelno

        # Start at the caller of emit() and skip every frame of the logging package,
        # so that Loguru reports the module that actually logged.
        depth = 1
        current = inspect.currentframe()
        frame = current.f_back if current is not None else None
        while frame is not None and frame.f_code.co_filename == logging.__file__:
            frame = frame.f_back
            depth += 1

        logger.opt(depth=depth, exception=record.exc_info).log(level, record.getMessage())


def _route_standard_logging(level: int, sql_echo: bool) -> None:
    """Make every standard-library logger write through Loguru."""
    root = logging.getLogger()
    root.handlers = [InterceptHandler()]
    # Not level 0: that would enable DEBUG on every library logger without a level,
    # and the database drivers log each statement with its parameters at DEBUG.
    root.setLevel(level)

    for name in UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # The request-logging middleware writes one line per request; uvicorn's access
    # log would only repeat it.
    logging.getLogger("uvicorn.access").disabled = True

    engine_logger = logging.getLogger("sqlalchemy.engine")
    engine_logger.setLevel(logging.INFO if sql_echo else logging.WARNING)
    # echo=True gives the engine's logger a stream handler of its own; drop it so
    # statements are printed once, by Loguru.
    logging.getLogger("sqlalchemy.engine.Engine").handlers.clear()

    for name in DRIVER_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def setup_logging(config: Settings = settings) -> None:
    """Configure Loguru from LOG_LEVEL and LOG_FORMAT and route stdlib logging into it."""
    logger.remove()
    # Lines logged outside a request have no request id: show a dash instead.
    logger.configure(extra={"request_id": "-"})

    sink_options: dict[str, Any] = {
        "level": config.LOG_LEVEL,
        # diagnose prints the values of local variables in tracebacks: secrets
        # included, so only while debugging.
        "diagnose": config.DEBUG,
        "backtrace": config.DEBUG,
    }
    if config.LOG_FORMAT == "json":
        sink_options["serialize"] = True
    else:
        sink_options["format"] = TEXT_FORMAT
        sink_options["colorize"] = None  # colours only when stdout is a terminal
    logger.add(sys.stdout, **sink_options)

    _route_standard_logging(logger.level(config.LOG_LEVEL).no, config.DB_ECHO)
    logger.debug("Logging ready: level {}, {} format", config.LOG_LEVEL, config.LOG_FORMAT)
