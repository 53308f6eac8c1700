from pathlib import Path

import pytest

from bibench_deploy.dabnn.benchmark_parse import BenchmarkOutputError, parse

SAMPLES = Path(__file__).parent / "benchmark_output"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def test_single_table_row():
    result = parse(sample("table_single.txt"))
    assert result.name == "single_model"
    assert result.runs[0].iterations == 26
    assert result.runs[0].real_ms == pytest.approx(10.940115)
    assert result.runs[0].cpu_ms == pytest.approx(10.938616)
    assert result.context == {"num_cpus": 4, "mhz_per_cpu": 1593.6, "cpu_scaling_enabled": True}


@pytest.mark.parametrize("name", ["table_repetitions.txt", "json_repetitions.json"])
def test_repetitions_and_aggregates(name):
    result = parse(sample(name))
    assert [run.real_ms for run in result.runs] == pytest.approx([61.312457, 61.855020, 60.998401])
    assert result.iterations == 33
    assert result.median_of_repetitions_ms == pytest.approx(61.312457)
    assert result.mean_ms == pytest.approx((61.312457 + 61.855020 + 60.998401) / 3)
    assert result.aggregates_ms["median"][0] == pytest.approx(61.312457)
    assert result.aggregates_ms["stddev"][0] == pytest.approx(0.433964)
    assert result.cv_fraction[0] == pytest.approx(0.0071, abs=1e-4)


def test_json_context_and_old_format():
    result = parse(sample("json_single_2019.json"))
    assert result.runs == [result.runs[0]] and result.runs[0].real_ms == pytest.approx(10.940115)
    assert result.context["num_cpus"] == 4 and result.context["cpu_scaling_enabled"] is True


def test_json_after_log_lines_and_other_units():
    text = ("I1120 09:15:01.123 net.cpp:55] reading model\n"
            '{"context": {}, "benchmarks": [{"name": "single_model", "iterations": 5,'
            ' "real_time": 43.2, "cpu_time": 43.1, "time_unit": "ms"}]}\n')
    assert parse(text).runs[0].real_ms == pytest.approx(43.2)
    assert parse("single_model  61312 us  61290 us  11\n").runs[0].real_ms == pytest.approx(61.312)


def test_colored_table():
    text = "\x1b[32msingle_model   \x1b[m\x1b[33m  10940115 ns   10938616 ns \x1b[m\x1b[36m        26\x1b[m\n"
    assert parse(text).runs[0].iterations == 26


@pytest.mark.parametrize("text, message", [
    (sample("table_error.txt"), "model file not found"),
    ("terminate called after throwing an instance of 'std::invalid_argument'\n"
     "  what():  Open file error 2\nAborted\n", "no benchmark result"),
    ("", "no benchmark result"),
    ('{"benchmarks": [', "malformed"),
])
def test_failures_raise(text, message):
    with pytest.raises(BenchmarkOutputError, match=message):
        parse(text)
