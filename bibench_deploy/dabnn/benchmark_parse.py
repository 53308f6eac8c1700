"""Parse the output of daBNN's `benchmark_single_model` (Google Benchmark), JSON or console table.

`benchmark_single_model model.dab [--benchmark_format=json] [--benchmark_repetitions=N]`
registers one benchmark, `single_model`, that times `net->run(input)` in a loop. Each run row
(one per repetition) reports the mean wall time (`real_time`) and CPU time per iteration over its
`iterations`; with repetitions, Google Benchmark appends aggregates (`_mean`, `_median`,
`_stddev`, and in newer versions `_cv` in percent). All times are returned in milliseconds.

JSON (`--benchmark_format=json`) is preferred: it carries the context (CPU count and MHz,
whether CPU scaling was on) in fields rather than in prose.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass, field

from bibench_deploy.errors import BibenchError

_MS_PER_UNIT = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
_AGGREGATES = ("mean", "median", "stddev", "cv")


class BenchmarkOutputError(BibenchError):
    """The benchmark's output holds no result, or reports an error."""


@dataclass(frozen=True)
class TimedRun:
    """One repetition: mean time per iteration over `iterations` iterations."""
    iterations: int
    real_ms: float
    cpu_ms: float


@dataclass
class BenchmarkResult:
    name: str
    runs: list[TimedRun]
    aggregates_ms: dict[str, tuple[float, float]] = field(default_factory=dict)  # real, cpu
    cv_fraction: tuple[float, float] | None = None  # real, cpu (`_cv` rows), as fractions
    context: dict = field(default_factory=dict)

    @property
    def iterations(self) -> int:
        return sum(run.iterations for run in self.runs)

    @property
    def mean_ms(self) -> float:
        """Wall time per inference over every timed iteration of every repetition."""
        return sum(run.real_ms * run.iterations for run in self.runs) / self.iterations

    @property
    def median_of_repetitions_ms(self) -> float:
        """Median over repetitions of each repetition's mean wall time per iteration."""
        return statistics.median(run.real_ms for run in self.runs)


def parse(stdout: str) -> BenchmarkResult:
    """Parse JSON output if there is any, otherwise the console table."""
    start = stdout.find("{")
    if start >= 0 and '"benchmarks"' in stdout:
        return parse_json(stdout[start:])
    return parse_table(stdout)


def parse_json(text: str) -> BenchmarkResult:
    try:
        document, _ = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as exc:
        raise BenchmarkOutputError(f"benchmark JSON is malformed: {exc}") from None
    result = None
    for entry in document.get("benchmarks", []):
        if entry.get("error_occurred"):
            raise BenchmarkOutputError(f"benchmark {entry.get('name')} failed: "
                                       f"{entry.get('error_message', 'no message')}")
        base, aggregate = _split_aggregate(entry)
        result = result or BenchmarkResult(base, [], context=dict(document.get("context", {})))
        _add_row(result, aggregate, entry["real_time"], entry["cpu_time"],
                 entry.get("time_unit", "ns"), int(entry.get("iterations", 0)))
    return _checked(result)


def _split_aggregate(entry: dict) -> tuple[str, str | None]:
    name = entry["name"]
    aggregate = entry.get("aggregate_name")
    if aggregate is None and entry.get("run_type", "aggregate") == "aggregate":
        aggregate = next((a for a in _AGGREGATES if name.endswith("_" + a)), None)
    if aggregate is None:
        return name, None
    return entry.get("run_name") or name[: -len(aggregate) - 1], aggregate


_ROW = re.compile(r"^(?P<name>\S+)\s+(?P<real>[-+\d.eE]+)\s*(?P<unit>ns|us|ms|s|%)\s+"
                  r"(?P<cpu>[-+\d.eE]+)\s*(?P=unit)\s+(?P<iterations>\d+)\b")
_ERROR_ROW = re.compile(r"^(?P<name>\S+)\s+ERROR OCCURRED:\s*'?(?P<message>[^']*)")
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # --benchmark_color=true
_RUN_ON = re.compile(r"^Run on \((?P<cpus>\d+) X (?P<mhz>[\d.]+) MHz CPU")


def parse_table(text: str) -> BenchmarkResult:
    result, context = None, {}
    for line in _ANSI_ESCAPE.sub("", text).splitlines():
        line = line.strip()
        if error := _ERROR_ROW.match(line):
            raise BenchmarkOutputError(f"benchmark {error['name']} failed: {error['message']}")
        if run_on := _RUN_ON.match(line):
            context.update(num_cpus=int(run_on["cpus"]), mhz_per_cpu=float(run_on["mhz"]))
        if "CPU scaling is enabled" in line:
            context["cpu_scaling_enabled"] = True
        row = _ROW.match(line)
        if row is None:
            continue
        aggregate = next((a for a in _AGGREGATES if row["name"].endswith("_" + a)), None)
        base = row["name"][: -len(aggregate) - 1] if aggregate else row["name"]
        result = result or BenchmarkResult(base, [], context=context)
        unit = "percentage" if row["unit"] == "%" else row["unit"]
        _add_row(result, aggregate, float(row["real"]), float(row["cpu"]), unit,
                 int(row["iterations"]))
    return _checked(result)


def _add_row(result: BenchmarkResult, aggregate: str | None, real: float, cpu: float,
             unit: str, iterations: int) -> None:
    if aggregate == "cv":
        scale = 0.01 if unit == "percentage" else 1.0  # JSON cv is a fraction, the table's a %
        result.cv_fraction = (real * scale, cpu * scale)
    elif aggregate:
        result.aggregates_ms[aggregate] = (real * _MS_PER_UNIT[unit], cpu * _MS_PER_UNIT[unit])
    else:
        result.runs.append(TimedRun(iterations, real * _MS_PER_UNIT[unit],
                                    cpu * _MS_PER_UNIT[unit]))


def _checked(result: BenchmarkResult | None) -> BenchmarkResult:
    if result is None or not result.runs:
        raise BenchmarkOutputError("no benchmark result found in the output")
    return result
