"""Shared pieces of the fleet tests."""

from __future__ import annotations

import csv
from pathlib import Path

from bibench_deploy.fleet.engines.base import Measure
from bibench_deploy.manifest import SCHEMA_VERSION, artefact_entry, write_manifest

# Short launches: tiny models take ~0.1 ms per inference, so 0.02 s is still > 100 inferences.
QUICK = Measure(warmup_runs=2, min_iters=10, min_secs=0.02, max_secs=5.0, repeats=3, max_repeats=3)
# A 2-core test machine shared with other jobs may be noisy, and busy: the guard says so.
MEASURED = ("ok", "unstable", "contended")
# The reason a placeholder model without a .dab gives (placeholder_model_dir).
NO_DAB_REASON = "binary conv with 48 input channels hits daBNN's weight-packing bug"


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


def placeholder_model_dir(root: Path, name: str, with_dab: bool,
                          manifest_name: str = "") -> Path:
    """A model directory with placeholder files: only the stand-in engine reads them."""
    model_dir = root / name
    model_dir.mkdir(parents=True)
    files = {"lce": f"{name}.tflite", "fp32": f"{name}-fp32.tflite"}
    if with_dab:
        files["dabnn"] = f"{name}.dab"
    for kind, filename in files.items():
        (model_dir / filename).write_bytes(f"{kind} {name}".encode())
    write_manifest(model_dir, {
        "schema_version": SCHEMA_VERSION, "name": manifest_name or name, "arch": "tiny", "algo": name,
        "input_shape": [1, 16, 16, 3],
        "artefacts": {kind: artefact_entry(model_dir, model_dir / f) for kind, f in files.items()},
        "deploy": {"dabnn": {"supported": with_dab, "reason": "" if with_dab else NO_DAB_REASON}}})
    return model_dir
