"""Hand computations of a report's numbers from latency.csv rows (csv module) and manifests (json)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from tests.reports.measure import MODELS


def csv_rows(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "latency.csv", newline="") as f:
        return list(csv.DictReader(f))


def rewrite(run_dir: Path, change) -> None:
    """Rewrite latency.csv row by row (`change` returns the new row, or None to drop it)."""
    path = run_dir / "latency.csv"
    rows = csv_rows(run_dir)
    fields = list(rows[0])
    rows = [r for r in map(change, rows) if r is not None]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def manifest(name: str) -> dict:
    return json.loads((MODELS / name / "manifest.json").read_text())


def repeat_medians(row: dict[str, str]) -> list[float]:
    return [float(v) for v in row["repeat_medians_ms"].split(";")]


def paired_t_interval(fp32: list[float], binary: list[float]) -> tuple[float, float]:
    """95 % t-interval of the k-th FP32 launch over the k-th binary launch, in log space."""
    from scipy.stats import t
    logs = [math.log(f / b) for f, b in zip(fp32, binary)]
    mean = sum(logs) / len(logs)
    sd = math.sqrt(sum((v - mean) ** 2 for v in logs) / (len(logs) - 1))
    half = t.ppf(0.975, len(logs) - 1) * sd / math.sqrt(len(logs))
    return math.exp(mean - half), math.exp(mean + half)


def baseline_of(rows, binary: dict[str, str]) -> dict[str, str]:
    """The FP32 cell with the binary cell's XNNPACK setting (FP32 has no BGEMM switch)."""
    [fp32] = [r for r in rows if r["variant"] == "fp32" and all(
        r[k] == binary[k] for k in ("device", "model", "engine", "threads", "use_xnnpack"))]
    return fp32


def check_cell(out: dict, binary: dict[str, str], fp32: dict[str, str]) -> float:
    """Assert every derived number of one summary row; returns the hand-computed speedup."""
    totals = manifest(binary["model"])["complexity"]["totals"]
    artefacts = manifest(binary["model"])["artefacts"]
    assert out["latency_median_ms"] == float(binary["latency_median_ms"])
    assert (out["latency_ci95_low_ms"], out["latency_ci95_high_ms"]) == (
        float(binary["latency_ci95_low_ms"]), float(binary["latency_ci95_high_ms"]))
    assert out["fp32_latency_median_ms"] == float(fp32["latency_median_ms"])

    speedup = float(fp32["latency_median_ms"]) / float(binary["latency_median_ms"])
    assert out["speedup_measured_x"] == pytest.approx(speedup)
    low, high = paired_t_interval(repeat_medians(fp32), repeat_medians(binary))
    assert out["speedup_ci95_low_x"] == pytest.approx(low)
    assert out["speedup_ci95_high_x"] == pytest.approx(high)

    r_s = totals["fp32_flops"] / (totals["bops"] / 64 + totals["flops"])
    assert out["speedup_theoretical_x"] == pytest.approx(r_s)
    assert out["speedup_deviation"] == pytest.approx(speedup / r_s)
    size_ratio = artefacts["fp32"]["bytes"] / artefacts["lce"]["bytes"]
    r_c = totals["fp32_params"] / (totals["binary_params"] / 32 + totals["fp_params"])
    assert out["size_ratio_measured_x"] == pytest.approx(size_ratio)
    assert out["compression_theoretical_x"] == pytest.approx(r_c)
    assert out["size_deviation"] == pytest.approx(size_ratio / r_c)
    assert out["binary_mac_coverage_pct"] == 100 * manifest(binary["model"])["audit"]["lce"]["binary_mac_share"]
    assert out["test_accuracy_pct"] is None  # the fixture models are untrained
    assert out["sha256_matches_manifest"] is True
    assert out["status"] == binary["status"] and out["fp32_status"] == fp32["status"]
    return speedup


def check_aggregate(agg: dict, speedups: list[float], model: str) -> None:
    artefacts = manifest(model)["artefacts"]
    size = artefacts["fp32"]["bytes"] / artefacts["lce"]["bytes"]
    mean = sum(speedups) / len(speedups)
    assert agg["devices"] == len(speedups)
    assert agg["speedup_geomean_x"] == pytest.approx(math.prod(speedups) ** (1 / len(speedups)))
    assert agg["speedup_mean_x"] == pytest.approx(mean)
    assert agg["om_infer"] == pytest.approx(math.sqrt((mean ** 2 + size ** 2) / 2))
    assert agg["speedup_deviation_geomean"] == pytest.approx(
        agg["speedup_geomean_x"] / manifest(model)["complexity"]["totals"]["r_s"])
