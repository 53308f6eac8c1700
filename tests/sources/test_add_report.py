"""Added models through `run` on a local fleet (the host, LCE's interpreter) and `report`."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bibench_deploy.fleet.run import RunSettings, run_fleet
from bibench_deploy.sources.add import AddRequest, add
from bibench_deploy.reports.report import build_report, write_report
from tests.fleet.helpers import MEASURED, QUICK

pytestmark = pytest.mark.measures


SAMPLES = Path(__file__).parents[1] / "dabnn" / "benchmark_output"


def _stand_in_dabnn(root: Path) -> Path:
    """daBNN's benchmark_single_model is ARM-only: a stand-in that checks its model argument
    and prints captured Google Benchmark output."""
    script = root / "benchmark_single_model"
    script.write_text(f'#!/bin/sh\ntest -f "$1" || exit 3\n'
                      f'exec cat "{SAMPLES / "json_repetitions.json"}"\n')
    script.chmod(0o755)
    return script


def _local_fleet(root: Path) -> Path:
    fleet = root / "local.yaml"
    fleet.write_text(f"""devices:
  - name: host
    transport: local
    work_dir: {root / 'device'}
    threads: [1]
    max_start_load: 1.0   # these tests check add and report; the guard has its own tests
    engines:
      lce_interpreter:
        use_indirect_bgemm: true
      dabnn:
        binary: {_stand_in_dabnn(root)}
""")
    return fleet


def _measure_and_report(root: Path, models: Path) -> tuple[dict, str]:
    result = run_fleet(RunSettings(fleet=str(_local_fleet(root)), models_dir=str(models),
                                   measure=QUICK), root / "reports")
    report = build_report(result.run_dir, models)
    write_report(report, result.run_dir, ("csv", "md"))
    with open(result.run_dir / "summary.csv", newline="") as f:
        rows = {row["model"]: row for row in csv.DictReader(f) if row["engine"] != "dabnn"
                or row["status"] != "unsupported"}
    return rows, (result.run_dir / "summary.md").read_text()


def test_flatbuffers_added_alone_are_measured_with_theory_unknown(tmp_path):
    import larq_compute_engine as lce
    from bibench_deploy.dabnn.convert import convert_onnx
    from tests.dabnn.onnx_graphs import binary_conv_graph
    from tests.fleet.tiny_models import _keras_model
    binary, fp32 = tmp_path / "tiny.tflite", tmp_path / "tiny-fp32.tflite"
    binary.write_bytes(lce.convert_keras_model(_keras_model(True, 16, 32)))
    fp32.write_bytes(lce.convert_keras_model(_keras_model(False, 16, 32)))
    models = tmp_path / "models"
    add(AddRequest(binary, name="tiny_given", fp32=str(fp32), out=models))
    add(AddRequest(binary, name="tiny_alone", out=models))
    dab = tmp_path / "one_conv.dab"
    dab.write_bytes(convert_onnx(binary_conv_graph(64, 64, size=6)).model.to_bytes())
    add(AddRequest(dab, out=models))
    rows, markdown = _measure_and_report(tmp_path, models)
    assert rows["one_conv"]["engine"] == "dabnn"
    for name in ("tiny_given", "tiny_alone", "one_conv"):
        row = rows[name]
        assert row["status"] in MEASURED and float(row["latency_median_ms"]) > 0
        assert row["theory"] == "unknown" and row["speedup_theoretical_x"] == ""
        assert row["compression_theoretical_x"] == "" and "theory unknown" in row["note"]
    assert float(rows["tiny_given"]["speedup_measured_x"]) > 0  # the given FP32 file measured
    assert rows["tiny_alone"]["speedup_measured_x"] == ""
    per_option = markdown.split("## Per device, model and engine option\n", 1)[1].split("\n## ", 1)[0]
    cells = [line for line in per_option.splitlines()
             if line.startswith(("| host | tiny_", "| host | one_conv"))]
    measured = [line for line in cells
                if any(f"| {status} |" in line or f"| {status} (" in line for status in MEASURED)]
    # every model measured (the LCE ones once per XNNPACK setting), theory unknown on every line
    assert {line.split("|")[2].strip() for line in measured} == {"tiny_given", "tiny_alone", "one_conv"}
    assert all("| unknown | unknown |" in line for line in cells)


@pytest.mark.slow
def test_keras_models_added_get_speedup_r_s_and_the_fallback_line(tmp_path):
    import tensorflow as tf
    from tests.sources.larq_models import binary_dense_net, quicknet_like, randomise_batchnorm
    tf.keras.utils.set_random_seed(0)
    models = tmp_path / "models"
    for name, build in (("quicknet_like", quicknet_like), ("dense_net", binary_dense_net)):
        tf.keras.backend.clear_session()  # layer names start afresh: quant_dense, not _1
        path = tmp_path / f"{name}.keras"
        randomise_batchnorm(build()).save(path)
        add(AddRequest(path, out=models))
    rows, markdown = _measure_and_report(tmp_path, models)
    for name in ("quicknet_like", "dense_net"):
        row = rows[name]
        assert row["theory"] == "counted" and float(row["speedup_theoretical_x"]) > 1
        assert float(row["speedup_measured_x"]) > 0 and row["fp32_status"] in MEASURED
    assert float(rows["quicknet_like"]["binary_mac_coverage_pct"]) == 100.0
    assert float(rows["dense_net"]["binary_mac_coverage_pct"]) < 100.0
    assert "- dense_net: float fallback: 1 binarized layer(s) run as float FULLY_CONNECTED " \
           "(quant_dense)" in markdown
    assert "quicknet_like: float fallback" not in markdown
