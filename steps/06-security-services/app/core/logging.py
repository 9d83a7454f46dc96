"""Logging with Loguru: human-readable or JSON lines, one pipeline for every library.

uvicorn and SQLAlchemy log through the standard `logging` module; an
`InterceptHandler` forwards those records to Loguru so that every line has the
same format and carries the request id.
"""

import inspect
import logging
import sys

from loguru import logger

from app.core.config import Settings, settings

TEXT_FORMAT = (
    "<green>{time:YYYY-MM-DD HH:mm:ss.SSS}</green> | "
    "<level>{level: <8}</level> | "
    "<magenta>{extra[request_id]}</magenta> | "
    "<cyan>{name}</cyan>:<cyan>{function}</cyan>:<cyan>{line}</cyan> | "
    "<level>{message}</level>"
)

# uvicorn configures `uvicorn` and `uvicorn.access` with handlers of their own that do
# not propagate (`uvicorn.error` propagates only as far as `uvicorn`), so routing the
# root logger alone would miss them.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
DRIVER_LOGGERS = ("sqlalchemy.pool", "aiosqlite", "asyncpg")


class InterceptHandler(logging.Handler):
    """Send standard-library log records to Loguru, keeping level and caller."""

    def emit(self, record: logging.LogRecord) -> None:
        """Forward one record."""
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        # Walk out of the logging module so Loguru reports the real caller.
        frame, depth = inspect.currentframe(), 0
        while frame is not None and (depth == 0 or frame.f_code.co_filename == logging.__file__):
            frame = frame.f_back
            depth += 1
        logger.opt(depth=depth, exception=record.exc_info).log(level, record.getMessage())


def setup_logging(config: Settings = settings) -> None:
    """Configure Loguru from LOG_LEVEL and LOG_FORMAT and route stdlib logging into it."""
    logger.remove()
    logger.configure(extra={"request_id": "-"})
    if config.LOG_FORMAT == "json":
        logger.add(
            sys.stdout,
            level=config.LOG_LEVEL,
            serialize=True,
            backtrace=False,
            diagnose=config.DEBUG,  # diagnose prints variable values: never in production
        )
    else:
        logger.add(
            sys.stdout,
            level=config.LOG_LEVEL,
            format=TEXT_FORMAT,
            colorize=None,
            backtrace=config.DEBUG,
            diagnose=config.DEBUG,
        )

    # The root logger gets the configured level, not 0: at level 0 every library
    # logger without a level of its own is enabled, debug lines included, and the
    # database drivers log each statement with its bound parameters (password hashes).
    level_number = logger.level(config.LOG_LEVEL).no
    logging.basicConfig(handlers=[InterceptHandler()], level=level_number, force=True)
    for name in UVICORN_LOGGERS:
        std_logger = logging.getLogger(name)
        std_logger.handlers = []
        std_logger.propagate = True
    # Request lines come from our own middleware; uvicorn's access log would repeat them.
    logging.getLogger("uvicorn.access").disabled = True
    sql_level = logging.INFO if config.DB_ECHO else logging.WARNING
    logging.getLogger("sqlalchemy.engine").setLevel(sql_level)
    # `echo=True` gives the engine a stdout handler of its own; Loguru prints instead.
    logging.getLogger("sqlalchemy.engine.Engine").handlers = []
    # The drivers log every statement with its parameters at DEBUG.
    for name in DRIVER_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)

    logger.debug("Logging configured (level={}, format={})", config.LOG_LEVEL, config.LOG_FORMAT)
