"""LCE's Python interpreter on the device, through the pushed runner script `lce_runner.py`."""

from __future__ import annotations

import json
import statistics
import sys
from typing import Optional

from bibench_deploy.fleet.engines.base import (Engine, Launch, Measure, ParseError,
                                               positive_timings)
from bibench_deploy.fleet.remote import LCE_RUNNER
from bibench_deploy.fleet.transports.base import Blob
from bibench_deploy.manifest import sha256_file


def parse(stdout: str) -> Launch:
    """The runner prints one JSON object on its last line."""
    lines = [line for line in stdout.strip().splitlines() if line.startswith("{")]
    if not lines:
        raise ParseError("the runner printed no JSON result")
    try:
        result = json.loads(lines[-1])
        timings = positive_timings(result["timings_ms"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ParseError(f"the runner's JSON result is malformed: {exc}") from None
    if not timings:
        raise ParseError("the runner reported no timed inferences")
    return Launch(median_ms=statistics.median(timings), timings_ms=timings,
                  mean_ms=statistics.fmean(timings), min_ms=min(timings), max_ms=max(timings),
                  std_ms=statistics.pstdev(timings), count=len(timings),
                  warmup_runs=len(result.get("warmup_ms", [])), init_ms=result.get("init_ms"),
                  first_ms=result.get("first_ms"), peak_memory_mb=result.get("peak_rss_mb"),
                  engine_version=str(result.get("engine_version", "")))


def python_for(device, config) -> str:
    if config.python:
        return config.python
    return sys.executable if device.transport == "local" else "python3"


class LceInterpreter(Engine):
    NAME = "lce_interpreter"

    def files(self, config) -> list[Blob]:
        return [Blob(LCE_RUNNER, sha256_file(LCE_RUNNER), ".py")]

    def binary_problem(self, config, device_arch: str) -> Optional[str]:
        return None  # whether LCE is installed on the device is checked by running the runner

    def engine_sha256(self, config) -> str:
        return sha256_file(LCE_RUNNER)

    def check_argv(self, device, config, paths: dict[str, str]) -> list[str]:
        return [python_for(device, config), paths[self.files(config)[0].sha256], "--version"]

    def quick_check_argv(self, device, config) -> list[str]:
        """Without pushing anything: the runner's own source run with `python -c ... --version`."""
        return [python_for(device, config), "-c", LCE_RUNNER.read_text(), "--version"]

    def check_version(self, stdout: str) -> str:
        """The runner's `--version` prints one JSON object; other lines (a site hook, a warning)
        are skipped."""
        for line in reversed(stdout.strip().splitlines()):
            try:
                return str(json.loads(line)["engine_version"])
            except (ValueError, KeyError, TypeError):
                continue
        last = stdout.strip().splitlines()[-1][:120] if stdout.strip() else "nothing"
        raise ParseError(f"the runner's --version printed no JSON version line (last line: "
                         f"{last!r})")

    def argv(self, device, config, paths: dict[str, str], model_path: str, threads: int,
             options: dict[str, bool], measure: Measure, op_profiling: bool = False) -> list[str]:
        flags = [flag for flag, key in (("--indirect-bgemm", "use_indirect_bgemm"),
                                        ("--xnnpack", "use_xnnpack")) if options[key]]
        return [python_for(device, config), paths[self.files(config)[0].sha256], model_path,
                "--threads", str(threads), "--warmup", str(measure.warmup_runs),
                "--min-iters", str(measure.min_iters), "--min-secs", str(measure.min_secs),
                "--max-secs", str(measure.max_secs), *flags]

    parse = staticmethod(parse)


ENGINE = LceInterpreter()
