"""Every derived number of a report built from a run measured in-process, against a hand
computation over the same latency.csv rows and manifests."""

from __future__ import annotations

import csv

import pytest

from bibench_deploy.reports.report import build_report
from tests.reports.hand import baseline_of, check_aggregate, check_cell, csv_rows, manifest
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


def test_aggregates_by_hand(report, measured_run):
    rows = csv_rows(measured_run)
    for model in ("tiny-bnn", "tiny-dorefa"):
        for indirect, devices in (("false", ("local-1", "local-2")), ("true", ("local-1",))):
            binaries = [r for r in rows if r["model"] == model and r["variant"] == "binary"
                        and r["engine"] == "lce_interpreter" and r["use_indirect_bgemm"] == indirect]
            assert sorted(r["device"] for r in binaries) == list(devices)
            speedups = [float(baseline_of(rows, b)["latency_median_ms"]) / float(b["latency_median_ms"])
                        for b in binaries]
            [agg] = [g for g in report.aggregates
                     if g["algo"] == model.split("-")[1] and str(g["use_indirect_bgemm"]).lower() == indirect]
            check_aggregate(agg, speedups, model)


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
