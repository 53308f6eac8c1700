"""Read a fleet run directory and the manifests of the models it measured."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bibench_deploy.cells import csv_value
from bibench_deploy.errors import BibenchError, ReportError
from bibench_deploy.manifest import load_manifest
from bibench_deploy.reports.ops import load_op_profiles
from bibench_deploy.reports.schema import LATENCY_COLUMNS, Column

LATENCY_CSV = "latency.csv"
RUN_JSON = "run.json"
# Without these a row cannot be placed in a report; every other column may be absent.
REQUIRED_LATENCY = ("device", "engine", "model", "variant", "threads", "status")


@dataclass
class Run:
    path: Path
    run_id: str
    info: dict[str, Any]
    rows: list[dict[str, Any]]
    op_profile: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _convert(text: str, column: Column, where: str) -> Any:
    if text == "":
        return None
    if column.dtype is str:
        return csv_value(text)
    if column.dtype is bool:
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise ReportError(f"{where}: column {column.name} is not a boolean: {text!r}")
    try:
        return column.dtype(float(text)) if column.dtype is int else column.dtype(text)
    except ValueError:
        raise ReportError(f"{where}: column {column.name} is not a number: {text!r}") from None


def read_typed_csv(path: Path, columns: tuple[Column, ...], required: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows of a CSV as dicts typed by `columns`; unknown columns are kept as text."""
    by_name = {c.name: c for c in columns}
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames:
            raise ReportError(f"{path}: empty file, no header and no rows")
        missing = [name for name in required if name not in reader.fieldnames]
        if missing:
            raise ReportError(f"{path}: missing columns {', '.join(missing)}")
        rows = []
        for line, raw in enumerate(reader, start=2):
            rows.append({k: _convert(v or "", by_name[k], f"{path}:{line}")
                         if k in by_name else (csv_value(v) if v else v)
                         for k, v in raw.items() if k is not None})
    return rows


def load_run(run_dir: Path) -> Run:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir}: no such run directory")
    latency = run_dir / LATENCY_CSV
    if not latency.is_file():
        raise ReportError(f"{run_dir}: no {LATENCY_CSV}; the run has no results (was it started?)")
    rows = read_typed_csv(latency, LATENCY_COLUMNS, REQUIRED_LATENCY)
    if not rows:
        raise ReportError(f"{latency}: header only, no measured cells")
    info, warnings = _run_info(run_dir)
    run_id = info.get("run_id") or rows[0].get("run_id") or run_dir.name
    rows = _latest_attempts(rows)
    return Run(run_dir, str(run_id), info, rows, load_op_profiles(run_dir, rows), warnings)


def _run_info(run_dir: Path) -> tuple[dict[str, Any], list[str]]:
    path = run_dir / RUN_JSON
    if not path.is_file():
        return {}, [f"{path} is missing: run provenance (fleet file, model hashes) is not in the report"]
    try:
        return json.loads(path.read_text()), []
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None


def cell_key(row: dict[str, Any]) -> tuple:
    return (row["device"], row["engine"], row["threads"], bool(row.get("use_indirect_bgemm")),
            bool(row.get("use_xnnpack")))


def _latest_attempts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per cell and variant: a retried cell keeps its last attempt."""
    latest: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        key = (*cell_key(row), row["model"], row["variant"])
        if key not in latest or (row.get("attempt") or 1) >= (latest[key].get("attempt") or 1):
            latest[key] = row
    return list(latest.values())


def load_manifests(models_dir: Path, names: list[str]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Manifests by model name, and for each model without a usable manifest, why."""
    found: dict[str, dict[str, Any]] = {}
    problems: dict[str, str] = {}
    for name in sorted(set(names)):
        try:
            found[name] = load_manifest(Path(models_dir) / name)
        except BibenchError as exc:
            problems[name] = str(exc)
    if names and not found:
        raise ReportError(f"{models_dir}: no manifest for any of the {len(set(names))} measured models "
                          f"({', '.join(sorted(set(names)))}); pass --models-dir where they were built")
    return found, problems
