"""BiBench's hardware-track pivot against a hand computation from latency.csv and manifests."""

from __future__ import annotations

import csv
import math
import statistics

import pytest

from bibench_deploy.reports.report import build_report, write_report
from tests.reports.hand import csv_rows, manifest
from tests.reports.measure import MODELS

ALGOS = ("bnn", "dorefa")


def _best_ms(rows, device, algo, variant) -> float:
    return min(float(r["latency_median_ms"]) for r in rows
               if (r["device"], r["algo"], r["variant"], r["engine"]) == (device, algo, variant, "lce_interpreter"))


@pytest.fixture(scope="module")
def written(measured_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("pivot")
    report = build_report(measured_run, MODELS)
    write_report(report, out, ("csv", "md"))
    with open(out / "hardware_track.csv", newline="") as f:
        return report, list(csv.DictReader(f)), (out / "summary.md").read_text()


def test_device_rows_by_hand(written, measured_run):
    _, table, _ = written
    rows = csv_rows(measured_run)
    devices = [r for r in table if r["engine"] == "lce_interpreter" and r["device"] != "OM_infer"]
    assert sorted(r["device"] for r in devices) == ["local-1", "local-2"]
    for row in devices:
        device = row["device"]
        assert row["arch"] == "tiny" and row["input_size"] == "x".join(map(str, manifest("tiny-bnn")["input_shape"][1:]))
        assert row["threads"] == "1" and row["device_os"] and row["device_arch"]
        fp32 = [_best_ms(rows, device, a, "fp32") for a in ALGOS]
        assert float(row["fp32_ms"]) == pytest.approx(statistics.median(fp32), rel=5e-6)  # CSV: 6 digits
        for algo, fp32_ms in zip(ALGOS, fp32):
            binary = _best_ms(rows, device, algo, "binary")
            assert float(row[f"{algo}_ms"]) == pytest.approx(binary, rel=5e-6)
            assert float(row[f"{algo}_speedup_x"]) == pytest.approx(fp32_ms / binary, rel=5e-6)
            assert row[f"{algo}_status"] in ("ok", "unstable")


def test_om_infer_row_by_hand(written, measured_run):
    _, table, _ = written
    rows = csv_rows(measured_run)
    [om] = [r for r in table if r["device"] == "OM_infer" and r["engine"] == "lce_interpreter"]
    for algo in ALGOS:
        speedups = [_best_ms(rows, d, algo, "fp32") / _best_ms(rows, d, algo, "binary") for d in ("local-1", "local-2")]
        artefacts = manifest(f"tiny-{algo}")["artefacts"]
        size = artefacts["fp32"]["bytes"] / artefacts["lce"]["bytes"]
        mean = sum(speedups) / 2
        assert float(om[f"{algo}_speedup_x"]) == pytest.approx(math.sqrt((mean ** 2 + size ** 2) / 2), rel=5e-6)
        assert om[f"{algo}_note"] == "over 2 device(s)"


def test_undeployable_engine_is_marked_with_its_reason(written):
    _, table, text = written
    [dabnn] = [r for r in table if r["engine"] == "dabnn" and r["device"] == "local-1"]
    for algo in ALGOS:
        assert dabnn[f"{algo}_status"] == "unsupported" and dabnn[f"{algo}_ms"] == ""
        assert "no daBNN benchmark binary" in dabnn[f"{algo}_note"]
    assert "## Hardware track" in text
    [line] = [line for line in text.splitlines() if "*unsupported*" in line]
    assert line.count("n/a *unsupported*[^1]") == 2
    assert "[^1]: device local-1 has no daBNN benchmark binary" in text
    assert any(line.startswith("| OM_infer |") for line in text.splitlines())
