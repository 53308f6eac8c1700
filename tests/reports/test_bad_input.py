"""Bad input gives one clear ReportError (or a warning when a report can still be made)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from bibench_deploy.errors import ReportError, UsageError
from bibench_deploy.reports.report import build_report, parse_formats
from tests.reports.hand import rewrite
from tests.reports.measure import MODELS


def test_missing_run_directory(tmp_path):
    with pytest.raises(ReportError, match="no such run directory"):
        build_report(tmp_path / "nope", MODELS)


def test_run_without_results(tmp_path):
    with pytest.raises(ReportError, match="no latency.csv; the run has no results"):
        build_report(tmp_path, MODELS)


def test_empty_csv(run_copy):
    (run_copy / "latency.csv").write_text("")
    with pytest.raises(ReportError, match="empty file"):
        build_report(run_copy, MODELS)


def test_header_only_csv(run_copy):
    rewrite(run_copy, lambda row: None)
    with pytest.raises(ReportError, match="header only, no measured cells"):
        build_report(run_copy, MODELS)


def test_missing_columns(run_copy):
    (run_copy / "latency.csv").write_text("device,model\nlocal,tiny-bnn\n")
    with pytest.raises(ReportError, match="missing columns engine, variant, threads, status"):
        build_report(run_copy, MODELS)


def test_value_of_wrong_type_names_line_and_column(run_copy):
    rewrite(run_copy, lambda row: {**row, "threads": "four"} if row["model"] == "tiny-dorefa" else row)
    with pytest.raises(ReportError, match=r"latency.csv:8: column threads is not a number: 'four'"):
        build_report(run_copy, MODELS)


def test_some_manifests_missing_reports_the_rest(run_copy, models_copy):
    shutil.rmtree(models_copy / "tiny-dorefa")
    report = build_report(run_copy, models_copy)
    assert any("tiny-dorefa" in w and "no usable manifest" in w for w in report.warnings)
    dorefa = [s for s in report.summary if s["model"] == "tiny-dorefa"]
    assert dorefa and all(s["speedup_theoretical_x"] is None for s in dorefa)
    assert all(s["speedup_measured_x"] is not None for s in dorefa if s["status"] == "ok")
    assert all(s["speedup_theoretical_x"] is not None for s in report.summary if s["model"] == "tiny-bnn")


def test_no_manifest_at_all(run_copy, tmp_path):
    with pytest.raises(ReportError, match="no manifest for any of the 2 measured models"):
        build_report(run_copy, tmp_path)


def test_mixed_tool_versions_warn(run_copy, models_copy):
    rewrite(run_copy, lambda row: {**row, "tool_version": "0.0.9"} if row["device"] == "local-2" else row)
    manifest = json.loads((models_copy / "tiny-bnn" / "manifest.json").read_text())
    (models_copy / "tiny-bnn" / "manifest.json").write_text(json.dumps({**manifest, "tool_version": "0.0.9"}))
    warnings = build_report(run_copy, models_copy).warnings
    assert "rows were measured by different tool versions: 0.0.9, 0.1.0" in warnings
    assert "models were built by different tool versions: 0.0.9, 0.1.0" in warnings


def test_sha256_mismatch_warns_and_flags_rows(run_copy):
    rewrite(run_copy, lambda row: {**row, "model_sha256": "0" * 64} if row["model"] == "tiny-bnn" else row)
    report = build_report(run_copy, MODELS)
    assert any("tiny-bnn" in w and "sha256" in w for w in report.warnings)
    assert {s["sha256_matches_manifest"] for s in report.summary if s["model"] == "tiny-bnn"} == {False}


def test_missing_baseline_is_a_note(run_copy):
    rewrite(run_copy, lambda row: None if row["variant"] == "fp32" and row["device"] == "local-2" else row)
    [row, *_] = [s for s in build_report(run_copy, MODELS).summary if s["device"] == "local-2"]
    assert row["speedup_measured_x"] is None and "no FP32 baseline" in row["note"]


def test_unknown_format():
    with pytest.raises(UsageError, match="unknown format jpeg"):
        parse_formats("csv,jpeg")
    assert parse_formats("svg,pdf") == ("svg", "pdf")


def test_cli_prints_one_line_and_exits_1(tmp_path):
    result = subprocess.run([sys.executable, "-m", "bibench_deploy", "report", str(tmp_path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"error: {tmp_path}: no latency.csv; the run has no results "
                                                   "(was it started?)"]


def test_untrained_accuracy_is_empty(run_copy, models_copy):
    """Chance-level accuracy of an untrained build is not reported as a result."""
    path = models_copy / "tiny-bnn" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["training"] = {"trained": False, "test_accuracy": 0.1}
    path.write_text(json.dumps(manifest))
    rows = [s for s in build_report(run_copy, models_copy).summary if s["model"] == "tiny-bnn"]
    assert rows and all(s["test_accuracy_pct"] is None for s in rows)
    manifest["training"] = {"trained": True, "test_accuracy": 0.5}
    path.write_text(json.dumps(manifest))
    rows = [s for s in build_report(run_copy, models_copy).summary if s["model"] == "tiny-bnn"]
    assert all(s["test_accuracy_pct"] == 50.0 for s in rows)
