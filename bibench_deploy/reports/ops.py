"""Per-op profiles a fleet run keeps as `ops/<cell>.csv` (lce_benchmark_model with
--enable_op_profiling): the benchmark's tables, one row per node, tagged with the table title.
The report reads the last "Summary by node type" table of each (the earlier one, if any, profiles
initialisation) into rows of OP_PROFILE_COLUMNS.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from bibench_deploy.cells import cell_slug, csv_value, row_cell_key
from bibench_deploy.reports.schema import OP_PROFILE_FIELDS

OPS_DIR = "ops"
NODE_TYPE_TABLE = "Summary by node type"


def load_op_profiles(run_dir: Path, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    profile = []
    for row in rows:
        path = Path(run_dir) / OPS_DIR / f"{cell_slug(row_cell_key(row))}.csv"
        if path.is_file():
            profile += [{**{k: row.get(k) for k in OP_PROFILE_FIELDS}, **node}
                        for node in _node_types(path)]
    return profile


def _number(text: str | None) -> float | None:
    try:
        return float((text or "").strip().rstrip("%"))
    except ValueError:
        return None


def _node_types(path: Path) -> list[dict[str, Any]]:
    """The last node-type table. Two such tables can sit in consecutive rows under one title; a
    new one starts where the cumulative share (`cdf %`, rising within a table) falls back."""
    with open(path, newline="") as f:
        tables = list(csv.DictReader(f))
    block: list[dict[str, str]] = []
    previous: dict[str, str] | None = None
    for row in tables:
        if row.get("table") == NODE_TYPE_TABLE:
            restarted = previous is None or (_number(row.get("cdf %")) or 0) < (_number(previous.get("cdf %")) or 0)
            block = [row] if restarted else [*block, row]
            previous = row
        else:
            previous = None
    return [{"node_type": csv_value(r.get("Node type") or r.get("node type") or ""), "count": int(_number(r.get("count")) or 0),
             "avg_ms": _number(r.get("avg ms")), "avg_pct": _number(r.get("avg %"))} for r in block]
