"""Every derived number of a report built from a run measured in-process, against a hand
computation over the same latency.csv rows and manifests."""

from __future__ import annotations

import csv

import pytest

from bibench_deploy.reports.report import build_report
from tests.reports.hand import (baseline_of, check_aggregate, check_cell, csv_rows, manifest,
                                paired_t_interval, repeat_medians, rewrite)
from tests.reports.measure import MODELS


@pytest.fixture(scope="module")
def report(measured_run):
    return build_report(measured_run, MODELS)


def _summary_row(report, binary):
    [out] = [s for s in report.summary if (s["device"], s["model"], s["engine"], str(s["use_indirect_bgemm"]).lower())
             == (binary["device"], binary["model"], binary["engine"], binary["use_indirect_bgemm"])]
    return out


def test_one_summary_row_per_binary_cell(report, measured_run):
    assert len(report.summary) == len([r for r in csv_rows(measured_run) if r["variant"] == "binary"]) == 8
    assert report.warnings == []


def test_every_measured_cell_by_hand(report, measured_run):
    rows = csv_rows(measured_run)
    measured = [r for r in rows if r["variant"] == "binary" and r["engine"] == "lce_interpreter"]
    assert len(measured) == 6
    for binary in measured:
        check_cell(_summary_row(report, binary), binary, baseline_of(rows, binary))


def _best(rows, device, model, variant):
    cells = [r for r in rows if (r["device"], r["model"], r["variant"], r["engine"])
             == (device, model, variant, "lce_interpreter")]
    return min(cells, key=lambda r: float(r["latency_median_ms"]))


def test_headline_is_best_binary_vs_best_fp32_by_hand(report, measured_run):
    rows = csv_rows(measured_run)
    heads = [h for h in report.headline if h["engine"] == "lce_interpreter"]
    assert len(heads) == 4  # 2 devices x 2 models
    for head in heads:
        binary, fp32 = (_best(rows, head["device"], head["model"], v) for v in ("binary", "fp32"))
        assert head["latency_median_ms"] == float(binary["latency_median_ms"])
        assert head["fp32_latency_median_ms"] == float(fp32["latency_median_ms"])
        assert head["speedup_x"] == pytest.approx(float(fp32["latency_median_ms"]) / float(binary["latency_median_ms"]))
        low, high = paired_t_interval(repeat_medians(fp32), repeat_medians(binary))
        assert (head["speedup_ci95_low_x"], head["speedup_ci95_high_x"]) == (pytest.approx(low), pytest.approx(high))
        assert head["binary_options"] == ("indirect BGEMM" if binary["use_indirect_bgemm"] == "true" else "defaults")
        others = sorted(float(r["latency_median_ms"]) for r in rows if r["variant"] == "binary"
                        and (r["device"], r["model"], r["engine"]) == (head["device"], head["model"], "lce_interpreter"))
        if len(others) == 2:  # local-1 measured indirect BGEMM off and on
            assert head["binary_option_gain_pct"] == pytest.approx((others[1] / others[0] - 1) * 100)
        else:
            assert head["binary_option_gain_pct"] is None


def test_aggregates_by_hand(report, measured_run):
    rows = csv_rows(measured_run)
    for model in ("tiny-bnn", "tiny-dorefa"):
        speedups = [float(_best(rows, d, model, "fp32")["latency_median_ms"]) /
                    float(_best(rows, d, model, "binary")["latency_median_ms"]) for d in ("local-1", "local-2")]
        [agg] = [g for g in report.aggregates if g["algo"] == model.split("-")[1]]
        assert agg["contended_excluded"] == 0
        check_aggregate(agg, speedups, model)


def test_contended_rows_are_left_out_of_aggregates_and_marked(run_copy):
    rewrite(run_copy, lambda row: {**row, "status": "contended", "error": "3 launch(es) started on busy cores"}
            if row["device"] == "local-2" and row["model"] == "tiny-bnn" else row)
    built = build_report(run_copy, MODELS)
    rows = csv_rows(run_copy)
    [agg] = [g for g in built.aggregates if g["algo"] == "bnn"]
    only = float(_best(rows, "local-1", "tiny-bnn", "fp32")["latency_median_ms"]) / \
        float(_best(rows, "local-1", "tiny-bnn", "binary")["latency_median_ms"])
    assert (agg["devices"], agg["contended_excluded"]) == (1, 1)
    assert agg["speedup_geomean_x"] == pytest.approx(only)
    [head] = [h for h in built.headline if (h["device"], h["model"]) == ("local-2", "tiny-bnn")]
    assert head["status"] == "contended" and "busy cores" in head["note"]
    [pivot] = [h for h in built.hardware if h["device"] == "local-2" and h["engine"] == "lce_interpreter"]
    [dorefa] = [h for h in built.headline if (h["device"], h["model"]) == ("local-2", "tiny-dorefa")]
    assert pivot["bnn_status"] == "contended" and pivot["dorefa_status"] == dorefa["status"] != "contended"


def test_undeployable_names_engine_and_reason(report):
    assert [(u["algo"], u["engine"], u["status"], u["devices"]) for u in report.undeployable] == [
        ("bnn", "dabnn", "unsupported", "local-1"), ("dorefa", "dabnn", "unsupported", "local-1")]
    assert all("no daBNN benchmark binary" in u["reason"] for u in report.undeployable)
    assert all(s["speedup_measured_x"] is None for s in report.summary if s["engine"] == "dabnn")


def test_manifest_only_unsupported_engine_is_listed(measured_run, tmp_path):
    rows = [r for r in csv_rows(measured_run) if r["engine"] != "dabnn"]
    run = tmp_path / "run"
    run.mkdir()
    with open(run / "latency.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (run / "run.json").write_text("{}")
    listed = build_report(run, MODELS).undeployable
    assert [(u["algo"], u["engine"], u["devices"], u["reason"]) for u in listed] == [
        (a, "dabnn", "", manifest(f"tiny-{a}")["deploy"]["dabnn"]["reason"]) for a in ("bnn", "dorefa")]
