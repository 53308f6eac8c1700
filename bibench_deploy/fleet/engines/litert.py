"""TFLite's own kernels through the `ai_edge_litert` package (float and int8 `.tflite` models; it
cannot run LCE's binary operators), on any device whose Python has ai-edge-litert: a board after
`pip install ai-edge-litert`, or the emulated device's userland Python.

The pushed runner is the emulation's `litert_runner.py`, one script for both: timed launches on
a board, exact inference counts under qemu.
"""

from __future__ import annotations

import statistics
from typing import Optional

from bibench_deploy.emulation.litert import GUEST_PYTHON, RUNNER, last_json_object
from bibench_deploy.fleet.engines.base import (Engine, Launch, Measure, ParseError, positive,
                                               positive_timings)
from bibench_deploy.fleet.engines.lce_interpreter import python_for as host_python
from bibench_deploy.fleet.transports.base import Blob
from bibench_deploy.manifest import sha256_file


def _result(stdout: str) -> dict:
    """The runner's last JSON line."""
    result = last_json_object(stdout)
    if result is None:
        raise ParseError("the litert runner printed no JSON result")
    return result


def _count(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ParseError(f"the litert runner's {what} is not a count: {value!r}")
    return value


def parse(stdout: str) -> Launch:
    """A timed launch: `iterations` equal to the number of timings; every number checked as
    `Launch` checks every engine's."""
    result = _result(stdout)
    timings = positive_timings(result.get("timings_ms"))
    if not timings:
        raise ParseError("the litert runner reported no timed inferences")
    if _count(result.get("iterations"), "iterations") != len(timings):
        raise ParseError(f"the litert runner reports {result.get('iterations')} iterations but "
                         f"{len(timings)} timings")
    return Launch(median_ms=statistics.median(timings), timings_ms=timings,
                  mean_ms=statistics.fmean(timings), min_ms=min(timings), max_ms=max(timings),
                  std_ms=statistics.pstdev(timings), count=len(timings),
                  warmup_runs=_count(result.get("warmup_runs", 0), "warmup_runs"),
                  init_ms=positive("init_ms", result.get("init_ms")),  # the runner prints both
                  first_ms=positive("first_ms", result.get("first_ms")),
                  engine_version=str(result.get("engine_version", "")))


def python_for(device, config) -> str:
    """The fleet file's `python`; on an emulated device the userland's venv."""
    if not config.python and device.transport == "emulated":
        return GUEST_PYTHON
    return host_python(device, config)


class Litert(Engine):
    NAME = "litert"
    KERNEL_OPTIONS = False   # LiteRT applies XNNPACK by default; it has no binary kernels

    def files(self, config) -> list[Blob]:
        return [Blob(RUNNER, sha256_file(RUNNER), ".py")]

    def binary_problem(self, config, device_arch: str) -> Optional[str]:
        return None  # whether ai-edge-litert is installed is checked by running the runner

    def engine_sha256(self, config) -> str:
        return sha256_file(RUNNER)

    def check_argv(self, device, config, paths: dict[str, str]) -> list[str]:
        return [python_for(device, config), paths[self.files(config)[0].sha256], "--version"]

    def quick_check_argv(self, device, config) -> Optional[list[str]]:
        return None  # the runner must be pushed to be run

    def check_version(self, stdout: str) -> str:
        version = _result(stdout).get("engine_version")
        if not isinstance(version, str) or not version:
            raise ParseError("the litert runner's --version printed no version")
        return version

    def argv(self, device, config, paths: dict[str, str], model_path: str, threads: int,
             options: dict[str, bool], measure: Measure, op_profiling: bool = False) -> list[str]:
        return [python_for(device, config), paths[self.files(config)[0].sha256], model_path,
                "--threads", str(threads), "--warmup", str(measure.warmup_runs),
                "--min-iters", str(measure.min_iters), "--min-secs", str(measure.min_secs),
                "--max-secs", str(measure.max_secs)]

    def exact_argv(self, device, config, paths: dict[str, str], model_path: str, threads: int,
                   options: dict[str, bool], iterations: int) -> list[str]:
        return [python_for(device, config), paths[self.files(config)[0].sha256], model_path,
                "--threads", str(threads), "--iterations", str(iterations)]

    parse = staticmethod(parse)


ENGINE = Litert()
