"""Written files: CSV tables in the schema, summary.md, figures that render, --compare."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bibench_deploy.reports.docs import fill_column_tables
from bibench_deploy.reports.report import build_report, write_report
from bibench_deploy.reports.schema import COMPARE_FIELDS, SUMMARY_FIELDS
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
    figures = [f"{name}.{fmt}" for name in ("latency", "speedup") for fmt in ("pdf", "png", "svg")]
    assert sorted(p.name for p in paths) == sorted(["aggregate.csv", "hardware_track.csv", "headline.csv",
                                                    "summary.csv", "summary.md", "undeployable.csv", *figures])
    for name in ("latency.png", "speedup.png"):
        _assert_png(out / name)
    for name in ("latency", "speedup"):
        assert (out / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"
        assert "<svg" in (out / f"{name}.svg").read_text()[:2000]


def test_summary_csv_round_trips(written):
    report, out, _ = written
    rows = _read(out / "summary.csv")
    assert tuple(rows[0]) == SUMMARY_FIELDS
    for row, built in zip(rows, report.summary):
        for name in ("speedup_measured_x", "speedup_ci95_low_x", "speedup_deviation", "latency_median_ms"):
            expected = None if built[name] is None else pytest.approx(built[name], rel=5e-6)
            assert (float(row[name]) if row[name] else None) == expected  # 6 significant digits
        assert row["use_indirect_bgemm"] == str(built["use_indirect_bgemm"]).lower()


def test_markdown_has_the_tables(written):
    report, out, _ = written
    text = (out / "summary.md").read_text()
    for heading in ("## Devices", "## Headline: best binary vs best FP32", "## Hardware track",
                    "## Per algorithm, over devices", "## Per device, model and engine option",
                    "## Not deployable", "![speedup.png](speedup.png)", "## How the numbers are computed"):
        assert heading in text
    first = next(s for s in report.summary if s["speedup_measured_x"] is not None)
    assert f"| {first['device']} | {first['model']} |" in text
    assert "| tiny-bnn | dabnn | unsupported | local-1 | device local-1 has no daBNN benchmark binary |" in text


def test_only_csv(measured_run, tmp_path):
    paths = write_report(build_report(measured_run, MODELS), tmp_path, ("csv",))
    assert {p.suffix for p in paths} == {".csv"}


# Text in lce_benchmark_model's op-profiling layout, to test parsing and rendering; the values are
# not measurements. The first node-type table profiles initialisation and must be skipped.
PROFILE_STDOUT = """\
Profiling Info for Benchmark Initialization:
============================== Summary by node type ==============================
\t             [Node type]\t  [count]\t  [avg ms]\t    [avg %]\t    [cdf %]\t  [mem KB]\t[times called]
\t ModifyGraphWithDelegate\t        1\t     5.000\t   100.000%\t   100.000%\t     0.000\t        1

Operator-wise Profiling Info for Regular Benchmark Runs:
============================== Summary by node type ==============================
\t             [Node type]\t  [count]\t  [avg ms]\t    [avg %]\t    [cdf %]\t  [mem KB]\t[times called]
\t              LceBconv2d\t        2\t     0.600\t    60.000%\t    60.000%\t     0.000\t        2
\t                 CONV_2D\t        1\t     0.300\t    30.000%\t    90.000%\t     0.000\t        1
\t             LceQuantize\t        1\t     0.100\t    10.000%\t   100.000%\t     0.000\t        1

"""


def test_op_breakdown_from_fleet_ops_files(run_copy, tmp_path):
    from bibench_deploy.fleet.engines.lce_benchmark_model import parse_op_profile
    from bibench_deploy.fleet.rows import cell_slug, write_ops_csv
    from bibench_deploy.reports.load import load_run
    from bibench_deploy.cells import row_cell_key as fleet_cell_key

    row = next(r for r in load_run(run_copy).rows if r["variant"] == "binary" and r["status"] != "unsupported")
    write_ops_csv(run_copy / "ops" / f"{cell_slug(fleet_cell_key(row))}.csv", parse_op_profile(PROFILE_STDOUT))
    report = build_report(run_copy, MODELS)
    assert [(p["node_type"], p["count"], p["avg_ms"], p["avg_pct"]) for p in report.run.op_profile] == [
        ("LceBconv2d", 2, 0.6, 60.0), ("CONV_2D", 1, 0.3, 30.0), ("LceQuantize", 1, 0.1, 10.0)]
    assert {(p["device"], p["model"]) for p in report.run.op_profile} == {(row["device"], row["model"])}
    paths = write_report(report, tmp_path, ("png", "md"))
    assert tmp_path / "op_breakdown.png" in paths
    _assert_png(tmp_path / "op_breakdown.png")
    assert "![op_breakdown.png](op_breakdown.png)" in (tmp_path / "summary.md").read_text()


def test_no_op_breakdown_without_profiles(written):
    _, out, paths = written
    assert not (out / "op_breakdown.png").exists()


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
