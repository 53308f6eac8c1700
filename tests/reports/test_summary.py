"""Every derived number of a report built from a real run, against a hand computation over the
same latency.csv rows and manifests (read here with the csv and json modules only)."""

from __future__ import annotations

import csv
import json
import math
import statistics

import pytest

from bibench_deploy.reports.report import build_report
from tests.reports.measure import MODELS


def _rows(run_dir):
    with open(run_dir / "latency.csv", newline="") as f:
        return list(csv.DictReader(f))


def _manifest(name):
    return json.loads((MODELS / name / "manifest.json").read_text())


def _cell(rows, device, model, variant, indirect, engine="lce_interpreter"):
    [row] = [r for r in rows if (r["device"], r["model"], r["variant"], r["use_indirect_bgemm"], r["engine"])
             == (device, model, variant, str(indirect), engine)]
    return row


def _medians(row):
    return [float(v) for v in row["repeat_medians_ms"].split(";")]


@pytest.fixture(scope="module")
def report(measured_run):
    return build_report(measured_run, MODELS)


def test_one_summary_row_per_binary_cell(report, measured_run):
    binary = [r for r in _rows(measured_run) if r["variant"] == "binary"]
    assert len(report.summary) == len(binary) == 8
    assert report.warnings == []


@pytest.mark.parametrize("device,model,indirect", [
    ("local-1", "tiny-bnn", False), ("local-2", "tiny-dorefa", False), ("local-1", "tiny-dorefa", True)])
def test_cell_numbers_by_hand(report, measured_run, device, model, indirect):
    rows = _rows(measured_run)
    binary, fp32 = _cell(rows, device, model, "binary", indirect), _cell(rows, device, model, "fp32", indirect)
    [out] = [s for s in report.summary if (s["device"], s["model"], s["use_indirect_bgemm"], s["engine"])
             == (device, model, indirect, "lce_interpreter")]
    totals = _manifest(model)["complexity"]["totals"]
    artefacts = _manifest(model)["artefacts"]

    assert out["latency_median_ms"] == float(binary["latency_median_ms"])
    assert out["latency_median_ms"] == pytest.approx(statistics.median(_medians(binary)), abs=1e-6)
    assert (out["latency_ci95_low_ms"], out["latency_ci95_high_ms"]) == (
        float(binary["latency_ci95_low_ms"]), float(binary["latency_ci95_high_ms"]))
    assert out["fp32_latency_median_ms"] == float(fp32["latency_median_ms"])

    speedup = float(fp32["latency_median_ms"]) / float(binary["latency_median_ms"])
    assert out["speedup_measured_x"] == pytest.approx(speedup)
    assert out["speedup_ci95_low_x"] == pytest.approx(min(_medians(fp32)) / max(_medians(binary)))
    assert out["speedup_ci95_high_x"] == pytest.approx(max(_medians(fp32)) / min(_medians(binary)))

    r_s = totals["fp32_flops"] / (totals["bops"] / 64 + totals["flops"])
    assert out["speedup_theoretical_x"] == pytest.approx(r_s)
    assert out["speedup_deviation"] == pytest.approx(speedup / r_s)

    size_ratio = artefacts["fp32"]["bytes"] / artefacts["lce"]["bytes"]
    r_c = totals["fp32_params"] / (totals["binary_params"] / 32 + totals["fp_params"])
    assert out["size_ratio_measured_x"] == pytest.approx(size_ratio)
    assert out["compression_theoretical_x"] == pytest.approx(r_c)
    assert out["size_deviation"] == pytest.approx(size_ratio / r_c)
    assert out["binary_mac_coverage_pct"] == 100 * _manifest(model)["audit"]["lce"]["binary_mac_share"]
    assert out["test_accuracy_pct"] is None  # the fixture models are untrained
    assert out["sha256_matches_manifest"] is True
    assert out["status"] == binary["status"] and out["fp32_status"] == fp32["status"]


def test_aggregates_by_hand(report, measured_run):
    rows = _rows(measured_run)
    for model in ("tiny-bnn", "tiny-dorefa"):
        speedups = [float(_cell(rows, d, model, "fp32", False)["latency_median_ms"])
                    / float(_cell(rows, d, model, "binary", False)["latency_median_ms"]) for d in ("local-1", "local-2")]
        a = _manifest(model)["artefacts"]
        size = a["fp32"]["bytes"] / a["lce"]["bytes"]
        [agg] = [g for g in report.aggregates if g["algo"] == model.split("-")[1] and not g["use_indirect_bgemm"]]
        assert agg["devices"] == 2
        assert agg["speedup_geomean_x"] == pytest.approx(math.sqrt(speedups[0] * speedups[1]))
        assert agg["speedup_mean_x"] == pytest.approx(sum(speedups) / 2)
        assert agg["om_infer"] == pytest.approx(math.sqrt(((sum(speedups) / 2) ** 2 + size ** 2) / 2))
        assert agg["speedup_deviation_geomean"] == pytest.approx(
            agg["speedup_geomean_x"] / _manifest(model)["complexity"]["totals"]["r_s"])
    single = [g for g in report.aggregates if g["use_indirect_bgemm"]]
    assert {g["devices"] for g in single} == {1}


def test_undeployable_names_engine_and_reason(report):
    assert [(u["algo"], u["engine"], u["status"], u["devices"]) for u in report.undeployable] == [
        ("bnn", "dabnn", "unsupported", "local-1"), ("dorefa", "dabnn", "unsupported", "local-1")]
    assert all("no daBNN benchmark binary" in u["reason"] for u in report.undeployable)
    assert all(s["speedup_measured_x"] is None for s in report.summary if s["engine"] == "dabnn")


def test_manifest_only_unsupported_engine_is_listed(measured_run, tmp_path):
    rows = [r for r in _rows(measured_run) if r["engine"] != "dabnn"]
    run = tmp_path / "run"
    run.mkdir()
    with open(run / "latency.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (run / "run.json").write_text("{}")
    listed = build_report(run, MODELS).undeployable
    assert [(u["algo"], u["engine"], u["devices"], u["reason"]) for u in listed] == [
        (a, "dabnn", "", _manifest(f"tiny-{a}")["deploy"]["dabnn"]["reason"]) for a in ("bnn", "dorefa")]
