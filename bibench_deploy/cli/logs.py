"""Library log records go to the tool's log file, never to the terminal.

paramiko logs a full traceback for every failed SSH banner or handshake; the transports already
turn those failures into one-line errors, so its records are kept in LOG_FILE for debugging.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

LOG_FILE = Path(os.path.expanduser("~/.cache/bibench-deploy/logs/libraries.log"))
LIBRARY_LOGGERS = ("paramiko",)


def route_library_logs(path: Path = LOG_FILE) -> None:
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if any(getattr(h, "_bibench", False) for h in logger.handlers):
            continue
        handler = _LazyFileHandler(path)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False


class _LazyFileHandler(logging.FileHandler):
    """Creates its directory and file only when a record arrives."""

    _bibench = True

    def __init__(self, path: Path):
        self._path = path
        super().__init__(path, delay=True)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            return
        super().emit(record)
