"""daBNN's `benchmark_single_model` (Google Benchmark) measuring a `.dab` model.

daBNN runs on one thread and has no FP32 baseline, so its cells are binary-variant, threads=1.
Google Benchmark reports, per repetition, the mean time per iteration over that repetition's
iterations, never single inferences: a launch's median/min/max are over its repetitions' means,
its mean is over every iteration, and it gives no per-inference timings (so no p90 and no std).
The 2019 Google Benchmark daBNN builds against takes `--benchmark_min_time` as plain seconds
(a float) and has no warm-up flag.
"""

from __future__ import annotations

import statistics

from bibench_deploy.dabnn.benchmark_parse import BenchmarkOutputError
from bibench_deploy.dabnn.benchmark_parse import parse as parse_benchmark
from bibench_deploy.fleet.engines.base import Launch, Measure, ParseError
from bibench_deploy.fleet.engines.native import NativeBinary

REPETITIONS = 5  # Google Benchmark repetitions per launch, each at least `min_secs` long


def parse(stdout: str) -> Launch:
    try:
        result = parse_benchmark(stdout)
    except (BenchmarkOutputError, KeyError, TypeError, ValueError) as exc:
        raise ParseError(f"benchmark_single_model: {exc}") from None
    repetition_means = [run.real_ms for run in result.runs]
    return Launch(median_ms=statistics.median(repetition_means), mean_ms=result.mean_ms,
                  min_ms=min(repetition_means), max_ms=max(repetition_means),
                  count=result.iterations)


class Dabnn(NativeBinary):
    NAME = "dabnn"
    SINGLE_THREADED = True
    KERNEL_OPTIONS = False

    def argv(self, device, config, paths: dict[str, str], model_path: str, threads: int,
             options: dict[str, bool], measure: Measure, op_profiling: bool = False) -> list[str]:
        return [self.executable(config, paths), model_path, "--benchmark_format=json",
                f"--benchmark_repetitions={REPETITIONS}",
                f"--benchmark_min_time={measure.min_secs:g}"]

    parse = staticmethod(parse)


ENGINE = Dabnn()
