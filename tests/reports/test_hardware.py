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


def test_dabnn_rows_of_an_imagenet_model_sit_next_to_lce_s_with_the_device_s_fp32():
    """daBNN runs binary networks only: its row takes the same device's fastest FP32 (another
    engine's, named in fp32_engine) and its speedups against it, next to LCE's row."""
    from bibench_deploy.reports.hardware import hardware_table
    from bibench_deploy.reports.markdown import _hardware_table

    def head(engine, algo, ms, fp32_ms, speedup):
        return {"device": "pi4", "engine": engine, "threads": "1", "arch": "resnet18_imagenet",
                "algo": algo, "latency_median_ms": ms, "fp32_latency_median_ms": fp32_ms,
                "speedup_x": speedup, "status": "ok", "note": None}

    headline = [head("lce_interpreter", "bnn", 40.0, 120.0, 3.0),
                head("lce_interpreter", "bireal", 42.0, 124.0, 124.0 / 42.0),
                head("dabnn", "bnn", 61.3, None, None), head("dabnn", "bireal", 64.0, None, None),
                {**head("lce_interpreter", "bnn", 20.0, 70.0, 3.5), "threads": "4"}]
    manifests = {"resnet18_imagenet-bnn": {"arch": "resnet18_imagenet",
                                           "input_shape": [1, 224, 224, 3]}}
    table = hardware_table(headline, [], [], manifests)
    rows = {(r["engine"], r["threads"]): r for r in table if r["device"] == "pi4"}
    lce, dabnn = rows[("lce_interpreter", "1")], rows[("dabnn", "1")]
    assert lce["fp32_ms"] == statistics.median([120.0, 124.0]) == 122.0
    assert lce["fp32_engine"] == "lce_interpreter" and lce["bnn_speedup_x"] == 3.0
    assert dabnn["fp32_ms"] == 122.0 and dabnn["fp32_engine"] == "lce_interpreter"
    assert dabnn["bnn_ms"] == 61.3 and dabnn["bnn_speedup_x"] == pytest.approx(122.0 / 61.3)
    assert dabnn["bireal_speedup_x"] == pytest.approx(122.0 / 64.0)
    assert dabnn["input_size"] == "224x224x3"
    assert rows[("lce_interpreter", "4")]["fp32_ms"] == 70.0  # threads are not mixed
    text = _hardware_table(table, ["bireal", "bnn"])
    [line] = [line for line in text.splitlines()
              if line.startswith("| pi4 |") and "| dabnn, 1 thr |" in line]
    assert "| 122 (lce_interpreter) |" in line and "61.3 (1.99x)" in line
