"""Shared pieces of the fleet tests."""

from __future__ import annotations

import csv
from pathlib import Path

from bibench_deploy.fleet.engines.base import Measure

# Short launches: tiny models take ~0.1 ms per inference, so 0.02 s is still > 100 inferences.
QUICK = Measure(warmup_runs=2, min_iters=10, min_secs=0.02, max_secs=5.0, repeats=3, max_repeats=3)
# A 2-core test machine shared with other jobs may be noisy, and busy: the guard says so.
MEASURED = ("ok", "unstable", "contended")


def read_rows(run_dir: Path) -> list[dict[str, str]]:
    with open(Path(run_dir) / "latency.csv", newline="") as f:
        return list(csv.DictReader(f))


def by_device(rows: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row["device"], []).append(row)
    return grouped


def cell_key(row: dict) -> tuple:
    return (row["device"], row["model"], row["variant"], row["engine"], row["threads"],
            row["affinity"], row["use_indirect_bgemm"], row["use_xnnpack"])
