"""Adaptive repeats on a synthetic engine with known noise: the rounds stop once the paired
speedup's 95 % interval is within the target, or when the launch or time budget is spent."""

from __future__ import annotations

import json

import pytest
import yaml

from bibench_deploy.fleet.engines.base import Measure
from bibench_deploy.fleet.run import RunSettings, run_fleet
from bibench_deploy.paired import paired_interval, paired_ratios
from tests.fleet.helpers import read_rows
from tests.fleet.synthetic import synthetic_device, synthetic_models

pytestmark = pytest.mark.measures


def _run(tmp_path, measure: Measure, **model) -> list[dict]:
    synthetic_models(tmp_path / "models", **model)
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(yaml.safe_dump({"devices": [synthetic_device(tmp_path)]}))
    result = run_fleet(RunSettings(fleet=str(fleet), models_dir=str(tmp_path / "models"),
                                   measure=measure), tmp_path / "reports")
    return read_rows(result.run_dir)


def _halfwidth(binary: dict, fp32: dict, n: int) -> float:
    medians = lambda row: [float(v) for v in row["repeat_medians_ms"].split(";")][:n]  # noqa: E731
    return paired_interval(paired_ratios(medians(fp32), medians(binary))).halfwidth_pct


def _fast(**budget) -> Measure:
    return Measure(warmup_runs=0, min_iters=1, min_secs=0, max_secs=1, **budget)


def test_stops_at_the_target_width(tmp_path):
    # sigma 1 % per launch: the log-ratio's sd is 1.4 %, a +-2 % interval needs ~5 pairs
    binary, fp32 = _run(tmp_path, _fast(repeats=3, max_repeats=40, target_ci_pct=2.0), sigma=0.01)
    n = int(binary["repeats"])
    assert binary["stop_reason"] == fp32["stop_reason"] == "target" and fp32["repeats"] == str(n)
    assert 3 <= n < 40
    assert _halfwidth(binary, fp32, n) <= 2.0
    # recomputed from latency.csv's launch medians, written with 6 significant digits: their
    # rounding (5e-6 relative, so <= 1e-5 in each log-ratio) moves the sd of n log-ratios by at
    # most 1e-5 * sqrt(n / (n - 1)), so the half-width (100 t sd / sqrt(n), t <= 4.31 from
    # n = 3) by at most 100 * 4.31e-5 / sqrt(n - 1) percentage points: 3.0e-3 at n = 3, which
    # exceeds 2e-3 relative when the drawn spread is small (0.1645 vs 0.1636 was seen)
    rounding = 100 * 4.31e-5 / (n - 1) ** 0.5
    assert float(binary["paired_halfwidth_pct"]) == pytest.approx(_halfwidth(binary, fp32, n),
                                                                  rel=2e-3, abs=rounding)
    if n > 3:  # one round fewer was not enough: the rule stopped at the first round that was
        assert _halfwidth(binary, fp32, n - 1) > 2.0


def test_stops_at_the_launch_budget(tmp_path):
    # sigma 20 %: +-1 % is out of reach in 6 pairs
    binary, fp32 = _run(tmp_path, _fast(repeats=3, max_repeats=6, target_ci_pct=1.0), sigma=0.2)
    assert (binary["stop_reason"], binary["repeats"]) == ("launch_budget", "6")
    assert (fp32["stop_reason"], fp32["repeats"]) == ("launch_budget", "6")
    assert float(binary["paired_halfwidth_pct"]) > 1.0


def test_stops_at_the_time_budget(tmp_path):
    binary, _ = _run(tmp_path, _fast(repeats=3, max_repeats=40, target_ci_pct=0.01,
                                     max_group_secs=0.01), sigma=0.2)
    assert (binary["stop_reason"], binary["repeats"]) == ("time_budget", "3")


def test_fixed_count_when_the_budget_is_the_minimum(tmp_path):
    binary, fp32 = _run(tmp_path, _fast(repeats=4, max_repeats=4), sigma=0.01)
    assert {binary["stop_reason"], fp32["stop_reason"]} == {"fixed"}
    assert binary["repeats"] == fp32["repeats"] == "4"


def test_a_binary_cell_without_fp32_twin_stops_at_the_minimum(tmp_path):
    models = synthetic_models(tmp_path / "models")
    manifest_path = models / "synth-bnn" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["artefacts"]["fp32"]
    manifest_path.write_text(json.dumps(manifest))
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(yaml.safe_dump({"devices": [synthetic_device(tmp_path)]}))
    result = run_fleet(RunSettings(fleet=str(fleet), models_dir=str(models),
                                   measure=_fast(repeats=3, max_repeats=40)), tmp_path / "reports")
    [binary] = read_rows(result.run_dir)
    assert (binary["variant"], binary["stop_reason"], binary["repeats"]) == ("binary", "unpaired", "3")
    assert binary["paired_halfwidth_pct"] == ""
