"""XLPlan's log: one rotating file under the user's local app-data folder.

Errors inside Excel (a ribbon action, a UDF, the add-in installer) show the user a short text;
the traceback goes here, and every error message names this file, so a report can carry it.

- Windows: ``%LOCALAPPDATA%\\XLPlan\\logs\\xlplan.log``
- macOS: ``~/Library/Logs/XLPlan/xlplan.log``
- elsewhere: ``$XDG_STATE_HOME/xlplan/logs/xlplan.log`` (default ``~/.local/state``)

``XLPLAN_LOG_DIR`` overrides the folder (:mod:`xlplan.app.places`). The file rotates at
:data:`MAX_BYTES` and keeps :data:`BACKUPS` old files. Standard library only: UDFs import this
on their first error.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from logging.handlers import RotatingFileHandler
from pathlib import Path

from xlplan.app.places import ENV_APP_DIR, ENV_LOG_DIR, log_dir
from xlplan.core.errors import Message

LOGGER = "xlplan"
FILE_NAME = "xlplan.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s pid=%(process)d %(name)s: %(message)s"


def log_file(platform: str | None = None) -> Path:
    """The log file every error message names (the folder is created on first use)."""
    return log_dir(platform) / FILE_NAME


def excel_setting(platform: str | None = None) -> str:
    """The log file as the add-in's config sheet names it (``XLPLAN_LOG``): on Windows with
    ``%LOCALAPPDATA%``, which the add-in's VBA expands, unless the folder is overridden."""
    platform = platform or sys.platform
    overridden = any(os.environ.get(k) for k in (ENV_LOG_DIR, ENV_APP_DIR))
    if platform.startswith("win") and not overridden:
        return "%LOCALAPPDATA%\\XLPlan\\logs\\" + FILE_NAME
    return str(log_file(platform))


def logger() -> logging.Logger:
    """The ``xlplan`` logger, writing to :func:`log_file` (set up once per process).

    When the folder cannot be created (a locked-down profile), the log goes to the system's
    temp folder instead, and :func:`current_log_file` says where.
    """
    log = logging.getLogger(LOGGER)
    wanted = log_file()
    for handler in log.handlers:
        if isinstance(handler, RotatingFileHandler) and Path(handler.baseFilename) == wanted:
            return log
    for handler in list(log.handlers):  # the folder changed (tests, XLPLAN_LOG_DIR)
        if isinstance(handler, RotatingFileHandler):
            log.removeHandler(handler)
            handler.close()
    try:
        wanted.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(
            wanted, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError:
        handler = RotatingFileHandler(
            _fallback(), maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    handler.setFormatter(logging.Formatter(FORMAT))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return log


def _fallback() -> Path:
    return Path(tempfile.gettempdir()) / FILE_NAME


def current_log_file() -> Path:
    """The file the ``xlplan`` logger writes to now (:func:`log_file` or its fallback)."""
    for handler in logger().handlers:
        if isinstance(handler, RotatingFileHandler):
            return Path(handler.baseFilename)
    return log_file()


def log_exception(where: str, exc: BaseException) -> Path:
    """Write ``exc`` with its traceback under ``where``; the file it went to."""
    logger().error("%s: %s: %s", where, type(exc).__name__, exc, exc_info=exc)
    return current_log_file()


def log_info(text: str) -> Path:
    """Write one line; the file it went to."""
    logger().info("%s", text)
    return current_log_file()


def see_log(path: Path | None = None) -> Message:
    """The sentence every error message ends with: where the details are."""
    where = path or current_log_file()
    return Message(f"详情见日志: {where}", f"details in the log: {where}")
