"""Append-only JSONL journal of finished cells: one line per cell, fsynced at once, so an
interrupted run loses no measured result. The last line of a cell wins."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

JOURNAL_NAME = "journal.jsonl"


class Journal:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._end_torn_line()

    def _end_torn_line(self) -> None:
        """A crash mid-write can leave a line without its newline; end it so appends stay whole."""
        if self.path.is_file() and self.path.stat().st_size:
            with open(self.path, "rb+") as f:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    f.write(b"\n")

    def append(self, cell_key: str, row: dict) -> None:
        line = json.dumps({"cell": cell_key, "row": row}, sort_keys=True) + "\n"
        with self._lock, open(self.path, "a") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def rows(self) -> dict[str, dict]:
        """cell key -> its latest row. A torn last line (crash mid-write) is ignored."""
        latest: dict[str, dict] = {}
        if not self.path.is_file():
            return latest
        for line in self.path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            latest[entry["cell"]] = entry["row"]
        return latest
