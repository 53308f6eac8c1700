"""LCE's C++ `lce_benchmark_model` (TFLite benchmark_model plus LCE flags).

Times in its output are microseconds. It prints no per-inference timings, so a launch's median is
its `median=` field where the binary prints one, else its `avg=` (recorded in the raw log).
"""

from __future__ import annotations

import re
from typing import Optional

from bibench_deploy.fleet.engines.base import Launch, Measure, ParseError
from bibench_deploy.fleet.engines.native import NativeBinary

_COUNT = re.compile(r"count=(\d+).*")
_KEY_VALUE = re.compile(r"(\w+)=([-\d.eE+]+)")
_TABLE_TITLE = re.compile(r"^=+ (.+?) =+$")


def _lines(stdout: str) -> list[str]:
    return [line.removeprefix("INFO: ").rstrip() for line in stdout.splitlines()]


def parse(stdout: str) -> Launch:
    lines = _lines(stdout)
    counts = [dict(_KEY_VALUE.findall(line)) for line in lines if line.startswith("count=")]
    if not counts:
        raise ParseError("no 'count=' timing line in lce_benchmark_model output")
    main = {k: float(v) for k, v in counts[-1].items()}
    warmup = {k: float(v) for k, v in counts[0].items()} if len(counts) > 1 else {}
    us = lambda key: main[key] / 1e3 if key in main else None  # noqa: E731
    launch = Launch(median_ms=us("median") or us("avg"), mean_ms=us("avg"), std_ms=us("std"),
                    min_ms=us("min"), max_ms=us("max"), count=int(main["count"]),
                    warmup_runs=int(warmup.get("count", 0)))
    _inference_timings(lines, launch)
    launch.peak_memory_mb = _peak_memory(lines)
    return launch


def _inference_timings(lines: list[str], launch: Launch) -> None:
    for line in lines:
        if line.startswith("Inference timings in us:"):
            fields = dict(re.findall(r"([A-Za-z ()]+): ([\d.]+)", line.split(":", 1)[1]))
            fields = {k.strip(): float(v) / 1e3 for k, v in fields.items()}
            launch.init_ms = fields.get("Init")
            launch.first_ms = fields.get("First inference")
        elif line.startswith("Initialized session in") and launch.init_ms is None:
            launch.init_ms = float(re.findall(r"([\d.]+)ms", line)[0])


def _peak_memory(lines: list[str]) -> Optional[float]:
    """`Peak memory footprint (MB): init=.. overall=..` (older) or
    `Memory footprint delta from the start of the tool (MB): init=.. overall=..` (newer)."""
    for line in lines:
        if line.startswith(("Peak memory footprint (MB)", "Memory footprint delta")):
            values = dict(_KEY_VALUE.findall(line))
            if "overall" in values:
                return float(values["overall"])
    return None


def parse_op_profile(stdout: str) -> list[dict[str, str]]:
    """Rows of every profiling table, each tagged with its table title.

    Column names come from the bracketed header (`[node type]`, `[avg ms]`, ...); the last column
    (a node name) may contain spaces, so a row is split into at most as many fields as the header.
    """
    rows, title, header = [], None, None
    for line in _lines(stdout):
        match = _TABLE_TITLE.match(line.strip())
        if match:
            title, header = match.group(1), None
            continue
        if title is None or not line.strip():
            if not line.strip():
                title = title if header is None else None
            continue
        if header is None:
            header = re.findall(r"\[([^\]]+)\]", line)
            continue
        fields = line.split(None, len(header) - 1)
        if len(fields) == len(header):
            fields[-1] = fields[-1].strip("[]") if header[-1] == "Name" else fields[-1]
            rows.append({"table": title, **dict(zip(header, fields))})
    return rows


class LceBenchmarkModel(NativeBinary):
    NAME = "lce_benchmark_model"
    OP_PROFILING = True          # --enable_op_profiling prints per-op tables

    def argv(self, device, config, paths: dict[str, str], model_path: str, threads: int,
             options: dict[str, bool], measure: Measure, op_profiling: bool = False) -> list[str]:
        flag = lambda value: "true" if value else "false"  # noqa: E731
        return [self.executable(config, paths), f"--graph={model_path}", f"--num_threads={threads}",
                f"--num_runs={measure.min_iters}", f"--min_secs={measure.min_secs}",
                f"--max_secs={measure.max_secs}", f"--warmup_runs={measure.warmup_runs}",
                f"--use_xnnpack={flag(options['use_xnnpack'])}",
                f"--use_indirect_bgemm={flag(options['use_indirect_bgemm'])}",
                "--report_peak_memory_footprint=true",
                f"--enable_op_profiling={flag(op_profiling)}"]

    def exact_argv(self, device, config, paths: dict[str, str], model_path: str, threads: int,
                   options: dict[str, bool], iterations: int) -> list[str]:
        """TFLite's benchmark runs while `run < num_runs or elapsed < min_secs`, and stops at
        `max_secs` unless that is 0; the warm-up loop likewise, so zeros leave exactly N."""
        flag = lambda value: "true" if value else "false"  # noqa: E731
        return [self.executable(config, paths), f"--graph={model_path}", f"--num_threads={threads}",
                f"--num_runs={iterations}", "--min_secs=0", "--max_secs=0", "--warmup_runs=0",
                "--warmup_min_secs=0", f"--use_xnnpack={flag(options['use_xnnpack'])}",
                f"--use_indirect_bgemm={flag(options['use_indirect_bgemm'])}"]

    parse = staticmethod(parse)
    parse_op_profile = staticmethod(parse_op_profile)


ENGINE = LceBenchmarkModel()
