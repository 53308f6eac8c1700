"""latency.csv rows: one per cell, built from what the worker learned, written in plan order."""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from bibench_deploy.cells import LATENCY_FIELDS, cell_slug, csv_text  # noqa: F401  (cell_slug: raw log names)


ERROR_CHARS = 1000  # one line, long enough for whole paths (known_hosts, model files)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def base_row(cell, run_id: str, tool_version: str, info, engine_version: str,
             engine_sha256: str) -> dict:
    model = cell.model
    return {
        "run_id": run_id, "tool_version": tool_version, "device": cell.device,
        "device_arch": getattr(info, "arch", ""), "device_cpu": getattr(info, "cpu", ""),
        "device_os": getattr(info, "os", ""), "device_cores": getattr(info, "cores", None) or None,
        "engine": cell.engine,
        "engine_version": engine_version, "engine_sha256": engine_sha256, "model": model.name,
        "arch": model.arch, "algo": model.algo, "variant": model.variant,
        "model_sha256": model.sha256, "model_bytes": model.bytes, "threads": cell.threads,
        "affinity": cell.affinity, "use_indirect_bgemm": cell.use_indirect_bgemm,
        "use_xnnpack": cell.use_xnnpack,
    }


def state_fields(start, end) -> dict:
    if start is None:
        return {}
    return {"governor": start.governor, "freq_start_mhz": start.freq_mhz,
            "temp_start_c": start.temp_c, "temp_end_c": end.temp_c if end else None,
            "throttled_start": start.throttled, "throttled_end": end.throttled if end else ""}


class CellFailed(Exception):
    """A cell that ends without a measurement: its row's status and error."""

    def __init__(self, status: str, error: str, elapsed_s: float = 0.0):
        super().__init__(error)
        self.status, self.error, self.elapsed_s = status, error, elapsed_s


def finish(row: dict, status: str, error: str = "", attempt: int = 1) -> dict:
    row.update(status=status, error=" ".join(error.split())[:ERROR_CHARS], attempt=attempt,
               time_utc=utc_now())
    return row


def write_csv(path: Path, rows: list[dict]) -> None:
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=LATENCY_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: csv_text(row.get(k)) for k in LATENCY_FIELDS})
    tmp.replace(path)


def first_line(text: Optional[str]) -> str:
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def write_ops_csv(path: Path, op_rows: list[dict]) -> None:
    """Per-op profile of one cell: the engine's tables, one row per node (or node type)."""
    if not op_rows:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = list(dict.fromkeys(k for row in op_rows for k in row))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows({k: csv_text(v) for k, v in row.items()} for row in op_rows)
