"""Written files: CSV tables in the schema, summary.md, figures that render, --compare."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bibench_deploy.reports.docs import fill_column_tables
from bibench_deploy.reports.report import build_report, write_report
from bibench_deploy.reports.schema import COMPARE_FIELDS, OP_PROFILE_FIELDS, SUMMARY_FIELDS
from tests.reports.measure import MODELS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DOC = Path(__file__).parents[2] / "docs" / "report.md"


def _read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _assert_png(path: Path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 15_000, f"{path.name} is suspiciously small ({len(data)} bytes)"


@pytest.fixture(scope="module")
def written(measured_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    report = build_report(measured_run, MODELS)
    return report, out, write_report(report, out)


def test_files_written(written):
    _, out, paths = written
    assert sorted(p.name for p in paths) == ["aggregate.csv", "latency.png", "speedup.png", "summary.csv",
                                             "summary.md", "undeployable.csv"]
    for name in ("latency.png", "speedup.png"):
        _assert_png(out / name)


def test_summary_csv_round_trips(written):
    report, out, _ = written
    rows = _read(out / "summary.csv")
    assert tuple(rows[0]) == SUMMARY_FIELDS
    for row, built in zip(rows, report.summary):
        for name in ("speedup_measured_x", "speedup_ci95_low_x", "speedup_deviation", "latency_median_ms"):
            assert (float(row[name]) if row[name] else None) == built[name]
        assert row["use_indirect_bgemm"] == str(built["use_indirect_bgemm"]).lower()


def test_markdown_has_the_tables(written):
    report, out, _ = written
    text = (out / "summary.md").read_text()
    for heading in ("## Devices", "## Per algorithm, over devices", "## Per device and model",
                    "## Not deployable", "![speedup.png](speedup.png)", "## How the numbers are computed"):
        assert heading in text
    first = next(s for s in report.summary if s["speedup_measured_x"] is not None)
    assert f"| {first['device']} | {first['model']} |" in text
    assert "| tiny-bnn | dabnn | unsupported | local-1 | device local-1 has no daBNN benchmark binary |" in text


def test_only_csv(measured_run, tmp_path):
    paths = write_report(build_report(measured_run, MODELS), tmp_path, ("csv",))
    assert {p.suffix for p in paths} == {".csv"}


def test_op_breakdown_when_profiles_exist(run_copy, tmp_path):
    # A rendering input shaped like the fleet's op profiles; the values are not measurements.
    rows = [("local-1", "tiny-bnn", "binary", "LceBconv2d", 2, 0.6), ("local-1", "tiny-bnn", "binary", "CONV_2D", 1, 0.3),
            ("local-1", "tiny-bnn", "binary", "LceQuantize", 1, 0.1), ("local-1", "tiny-bnn", "fp32", "CONV_2D", 3, 0.9)]
    with open(run_copy / "cells.op_profile.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=OP_PROFILE_FIELDS)
        writer.writeheader()
        for device, model, variant, node, count, ms in rows:
            writer.writerow({"device": device, "model": model, "variant": variant, "threads": 1,
                             "use_indirect_bgemm": "false", "use_xnnpack": "false", "node_type": node,
                             "count": count, "avg_ms": ms, "avg_pct": ""})
    paths = write_report(build_report(run_copy, MODELS), tmp_path, ("png", "md"))
    assert tmp_path / "op_breakdown.png" in paths
    _assert_png(tmp_path / "op_breakdown.png")
    assert "![op_breakdown.png](op_breakdown.png)" in (tmp_path / "summary.md").read_text()


def test_compare_ratios_by_hand(measured_run, run_copy, tmp_path):
    with open(run_copy / "latency.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:  # run B: the binary models twice as slow, the baselines unchanged
        if row["variant"] == "binary" and row["latency_median_ms"]:
            for name in ("latency_median_ms", "latency_ci95_low_ms", "latency_ci95_high_ms"):
                row[name] = str(2 * float(row[name]))
            row["repeat_medians_ms"] = ";".join(str(2 * float(v)) for v in row["repeat_medians_ms"].split(";"))
    rows = [r for r in rows if r["device"] != "local-2"]  # and run B lacks a device
    with open(run_copy / "latency.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    a, b = build_report(measured_run, MODELS), build_report(run_copy, MODELS)
    write_report(b, tmp_path, ("csv", "md"), baseline=a)
    compared = _read(tmp_path / "compare.csv")
    assert tuple(compared[0]) == COMPARE_FIELDS
    assert len(compared) == len(a.summary)
    for row in compared:
        if row["device"] == "local-2":
            assert row["status_b"] == "" and row["latency_ratio_b_a"] == ""
        elif row["latency_median_ms_a"]:
            assert float(row["latency_ratio_b_a"]) == pytest.approx(2.0)
            assert float(row["fp32_latency_ratio_b_a"]) == pytest.approx(1.0)
            assert float(row["speedup_ratio_b_a"]) == pytest.approx(0.5)
    assert "not in run" in (tmp_path / "compare.md").read_text()


def test_docs_column_tables_are_generated_from_the_schema():
    text = DOC.read_text()
    assert fill_column_tables(text) == text, "run: python -m bibench_deploy.reports.docs docs/report.md"
    assert "| `speedup_measured_x` | float |" in text
