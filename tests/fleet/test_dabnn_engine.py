"""The `dabnn` engine through the whole `run` path over real sshd, with a stand-in
`benchmark_single_model` that prints captured Google Benchmark output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bibench_deploy.fleet.engines import dabnn
from bibench_deploy.fleet.engines.base import ParseError
from bibench_deploy.fleet.run import RunSettings, run_fleet
from tests.fleet.helpers import NO_DAB_REASON, QUICK, by_device, placeholder_model_dir, read_rows

SAMPLES = Path(__file__).parents[1] / "dabnn" / "benchmark_output"


def _stand_in(root: Path) -> Path:
    script = root / "benchmark_single_model"
    script.write_text(f'#!/bin/sh\ntest -f "$1" || exit 3\n'
                      f'exec cat "{SAMPLES / "json_repetitions.json"}"\n')
    script.chmod(0o755)
    return script


@pytest.fixture(scope="module")
def dabnn_run(client_key, tmp_path_factory, sshd):
    from tests.fleet.conftest import FleetLab
    root = tmp_path_factory.mktemp("dabnn")
    placeholder_model_dir(root / "models", "tiny-dab", with_dab=True)
    placeholder_model_dir(root / "models", "tiny-nodab", with_dab=False)
    lab = FleetLab(root, client_key)
    try:
        server = lab.server("sshd")
        fleet = lab.fleet([
            # the stand-in prints captured output and loads nothing: any load is accepted
            lab.device(server, "has-dabnn", work_dir=root / "w1", threads=[1, 2], max_start_load=1.0,
                       engines={"dabnn": {"binary": str(_stand_in(root))}}),
            lab.device(server, "no-dabnn", work_dir=root / "w2",
                       engines={"dabnn": {"remote_path": str(root / "absent" / "benchmark_single_model")}}),
        ])
        result = run_fleet(RunSettings(fleet=str(fleet), models_dir=str(root / "models"),
                                       measure=QUICK), root / "reports")
        yield result, by_device(read_rows(result.run_dir))
    finally:
        lab.close()


def test_dabnn_cells_are_binary_single_threaded_only(dabnn_run):
    result, rows = dabnn_run
    for device in ("has-dabnn", "no-dabnn"):
        assert [(r["model"], r["variant"], r["threads"]) for r in rows[device]] == \
            [("tiny-dab", "binary", "1"), ("tiny-nodab", "binary", "1")]
    manifest = json.loads((result.run_dir / "run.json").read_text())
    assert manifest["cells"] == 4 and [m["artefact"] for m in manifest["models"]] == ["dabnn"]


def test_dabnn_measures_the_dab_artefact(dabnn_run):
    result, rows = dabnn_run
    row = next(r for r in rows["has-dabnn"] if r["model"] == "tiny-dab")
    assert row["status"] == "ok", row["error"]
    assert row["engine"] == "dabnn" and row["repeat_medians_ms"] == "61.3125;61.3125;61.3125"
    assert float(row["latency_median_ms"]) == pytest.approx(61.312457)
    assert float(row["latency_min_ms"]) == pytest.approx(60.998401)
    assert float(row["latency_max_ms"]) == pytest.approx(61.855020)
    assert float(row["latency_mean_ms"]) == pytest.approx((61.312457 + 61.855020 + 60.998401) / 3)
    assert row["latency_p90_ms"] == "" and row["iterations"] == "99"
    launch = json.loads(next((result.run_dir / "raw" / "has-dabnn").rglob("launch-1.json")).read_text())
    assert launch["argv"][1].endswith(".dab") and launch["argv"][2:] == [
        "--benchmark_format=json", "--benchmark_repetitions=5", "--benchmark_min_time=0.02"]


def test_model_without_dab_is_unsupported_with_the_manifest_reason(dabnn_run):
    _, rows = dabnn_run
    row = next(r for r in rows["has-dabnn"] if r["model"] == "tiny-nodab")
    assert row["status"] == "unsupported" and NO_DAB_REASON in row["error"]


def test_device_without_the_binary_is_unsupported(dabnn_run):
    _, rows = dabnn_run
    row = next(r for r in rows["no-dabnn"] if r["model"] == "tiny-dab")
    assert row["status"] == "unsupported" and "dabnn cannot run on the device" in row["error"]


@pytest.mark.parametrize("sample", ["table_repetitions.txt", "json_single_2019.json"])
def test_dabnn_parse_gives_repetition_statistics(sample):
    launch = dabnn.parse((SAMPLES / sample).read_text())
    assert launch.min_ms <= launch.median_ms <= launch.max_ms and launch.count > 0
    assert launch.timings_ms == []


@pytest.mark.parametrize("stdout", [(SAMPLES / "table_error.txt").read_text(), "", '{"benchmarks": [{}]}'])
def test_dabnn_failed_or_garbled_output_is_a_parse_error(stdout):
    with pytest.raises(ParseError):
        dabnn.parse(stdout)
