"""Engine parsers on benchmark output in the formats the binaries print.

The `lce_benchmark_model` samples under data/ follow the output documented for LCE 0.16 /
TFLite benchmark_model: the older format (`Peak memory footprint`) and the newer one (`INFO: `
prefixes, `median=` fields, `Memory footprint delta`), and the `--enable_op_profiling` tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bibench_deploy.fleet.engines import ENGINES, lce_benchmark_model, lce_interpreter, litert
from bibench_deploy.fleet.engines.base import Launch, ParseError
from bibench_deploy.fleet.stats import summarize

DATA = Path(__file__).with_name("data")


def _sample(name: str) -> str:
    return (DATA / name).read_text()


def test_older_format_with_peak_memory():
    launch = lce_benchmark_model.parse(_sample("benchmark_model_peak.txt"))
    assert launch.count == 50 and launch.warmup_runs == 16
    assert launch.median_ms == pytest.approx(31.4206)  # no median= field: the average
    assert (launch.min_ms, launch.max_ms, launch.std_ms) == pytest.approx((31.138, 31.929, 0.260))
    assert launch.init_ms == pytest.approx(1.471) and launch.first_ms == pytest.approx(41.707)
    assert launch.peak_memory_mb == pytest.approx(30.4531)
    assert launch.timings_ms == []


def test_newer_format_with_median_and_memory_delta():
    launch = lce_benchmark_model.parse(_sample("benchmark_model_delta.txt"))
    assert launch.median_ms == pytest.approx(20.741) and launch.mean_ms == pytest.approx(20.7673)
    assert launch.count == 50 and launch.warmup_runs == 24
    assert launch.init_ms == pytest.approx(12.66) and launch.first_ms == pytest.approx(23.911)
    assert launch.peak_memory_mb == pytest.approx(14.8633)


def test_profiled_output_still_parses_its_summary():
    launch = lce_benchmark_model.parse(_sample("benchmark_model_profile.txt"))
    assert launch.median_ms == pytest.approx(20.741) and launch.count == 50


def test_op_profile_tables():
    rows = lce_benchmark_model.parse_op_profile(_sample("benchmark_model_profile.txt"))
    tables = {r["table"] for r in rows}
    assert tables == {"Run Order", "Top by Computation Time", "Summary by node type"}
    run_order = [r for r in rows if r["table"] == "Run Order"]
    assert len(run_order) == 6
    assert run_order[3]["Name"] == "model/quant conv2d 1/LceBconv2d"  # spaces survive
    assert run_order[2]["node type"] == "LceBconv2d" and run_order[2]["avg ms"] == "4.877"
    by_type = {r["Node type"]: r for r in rows if r["table"] == "Summary by node type"}
    assert by_type["LceBconv2d"]["count"] == "2" and by_type["LceBconv2d"]["avg %"] == "91.623%"


@pytest.mark.parametrize("text", ["", "Segmentation fault\n", "Loaded model x\nInitialized session in 1ms.\n"])
def test_incomplete_benchmark_output_is_a_parse_error(text):
    with pytest.raises(ParseError):
        lce_benchmark_model.parse(text)


def test_interpreter_runner_output():
    stdout = "some warning\n" + json.dumps({"engine_version": "0.16.0", "init_ms": 0.8,
                                            "first_ms": 0.3, "warmup_ms": [0.2, 0.2],
                                            "timings_ms": [0.1, 0.3, 0.2], "peak_rss_mb": 40.5})
    launch = lce_interpreter.parse(stdout)
    assert launch.median_ms == 0.2 and launch.count == 3 and launch.warmup_runs == 2
    assert launch.engine_version == "0.16.0" and launch.peak_memory_mb == 40.5


@pytest.mark.parametrize("stdout", ["", "Traceback ...", '{"timings_ms": []}', '{"nope": 1}'])
def test_interpreter_bad_output_is_a_parse_error(stdout):
    with pytest.raises(ParseError):
        lce_interpreter.parse(stdout)


_GOOD = {"engine_version": "0.16.0", "init_ms": 0.8, "first_ms": 0.3, "warmup_ms": [0.2],
         "timings_ms": [0.1, 0.3, 0.2], "peak_rss_mb": 40.5}


@pytest.mark.parametrize("change, reason", [
    ({"timings_ms": [-1.5, 0.2, 0.3]}, "a per-inference timing is not positive"),
    ({"timings_ms": [0.0, 0.0, 0.0]}, "a per-inference timing is not positive (0.0)"),
    ({"timings_ms": [float("nan"), 0.2, 0.3]}, "is not a finite number (nan)"),
    ({"timings_ms": [float("inf"), 0.2, 0.3]}, "is not a finite number (inf)"),
    ({"init_ms": "fast"}, "init_ms is not a finite number ('fast')"),
    ({"init_ms": -3.0}, "init_ms is negative"),
    ({"peak_rss_mb": float("nan")}, "peak_memory_mb is not a finite number"),
    ({"first_ms": True}, "first_ms is not a finite number (True)"),
    ({"engine_version": "v" * 201}, "engine_version is not a short text"),
    ({"timings_ms": "0.1"}, "timings are not a list"),
])
def test_impossible_numbers_from_a_device_are_a_parse_error(change, reason):
    with pytest.raises(ParseError) as raised:
        lce_interpreter.parse(json.dumps({**_GOOD, **change}))
    assert reason in str(raised.value)


@pytest.mark.parametrize("line, reason", [
    ("count=50 min=-2000 max=-1000 avg=-1500 median=-1500", "median_ms is not positive"),
    ("count=50 min=0 max=0 avg=0 median=0", "median_ms is not positive (0.0)"),
    ("count=50 min=nan max=nan avg=nan median=nan", "median_ms is not a finite number (None)"),
    ("count=0 avg=1500", "the launch timed no inference"),
    ("count=50 min=3000 max=4000 avg=1500 median=1500", "lies outside min"),
])
def test_impossible_benchmark_model_numbers_are_a_parse_error(line, reason):
    with pytest.raises(ParseError) as raised:
        lce_benchmark_model.parse(f"INFO: {line}\n")
    assert reason in str(raised.value)


def test_every_engine_has_a_pure_parse():
    for name in ENGINES:
        assert callable(ENGINES.get(name).parse)


def test_summary_of_launches():
    launches = [Launch(median_ms=m, timings_ms=[m] * 40 + [m * 2] * 10, count=50) for m in (1.0, 1.02, 1.1)]
    summary = summarize(launches)
    assert summary["latency_median_ms"] == 1.02
    assert summary["repeat_spread_pct"] == pytest.approx(10.0)
    assert summary["latency_ci95_low_ms"] <= 1.02 <= summary["latency_ci95_high_ms"]
    assert summary["latency_p90_ms"] is not None and summary["iterations"] == 150
    few = summarize([Launch(median_ms=1.0, timings_ms=[1.0] * 10, count=10)])
    assert few["latency_p90_ms"] is None  # fewer than 64 inferences: no p90


def test_summary_without_per_inference_timings():
    launches = [lce_benchmark_model.parse(_sample(n)) for n in
                ("benchmark_model_peak.txt", "benchmark_model_delta.txt", "benchmark_model_peak.txt")]
    summary = summarize(launches)
    assert summary["latency_median_ms"] == pytest.approx(31.4206)
    assert summary["latency_p90_ms"] is None and summary["latency_min_ms"] == pytest.approx(20.394)


def test_litert_runner_output():
    """A timed launch of the litert runner (`--warmup 2 --min-iters 5`), as it prints it."""
    launch = litert.parse(_sample("litert_runner.txt"))
    assert launch.count == len(launch.timings_ms) == 5 and launch.warmup_runs == 2
    assert launch.median_ms == sorted(launch.timings_ms)[2] and launch.engine_version == "2.3.0"
    assert launch.init_ms > 0 and launch.first_ms > 0


@pytest.mark.parametrize("change", [
    {"timings_ms": []}, {"timings_ms": [0.3, float("nan")]}, {"timings_ms": [0.3, -1.0]},
    {"timings_ms": [0.3, float("inf")]}, {"timings_ms": ["0.3"]}, {"iterations": 4},
    {"init_ms": 0}, {"first_ms": None}, {"warmup_runs": -1}, {"timings_ms": None}])
def test_litert_bad_output_is_a_parse_error(change):
    result = {**json.loads(_sample("litert_runner.txt")), **change}
    with pytest.raises(ParseError):
        litert.parse(json.dumps(result, allow_nan=True))


def test_litert_output_without_json_is_a_parse_error():
    with pytest.raises(ParseError):
        litert.parse("Traceback (most recent call last):\nImportError: ai_edge_litert\n")
