"""The CSV schemas, defined once. Units are part of every column name that has one.

`LATENCY_COLUMNS` is the per-cell table a fleet run writes (`reports/<run-id>/latency.csv`):
one row per (device, model, variant, threads, engine options) cell, whatever its status.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    dtype: type
    doc: str


# A cell's status. Only `ok` rows carry latency numbers.
STATUSES = (
    "ok",               # measured, runs agree, device state stable
    "unstable",         # measured, but the runs' medians disagree by more than 5 %
    "throttled",        # measured, but the device throttled during the cell
    "unsupported",      # the device lacks the engine or the engine cannot run the model
    "transfer_failed",  # pushing the binary or model failed or its hash did not verify
    "run_failed",       # the benchmark exited non-zero or its output could not be parsed
    "timeout",          # the benchmark exceeded its deadline and was killed on the device
    "unreachable",      # connection or authentication failed after retries
)

LATENCY_COLUMNS: tuple[Column, ...] = (
    Column("run_id", str, "identifier of the fleet run"),
    Column("time_utc", str, "ISO 8601 UTC time the cell finished"),
    Column("tool_version", str, "bibench-deploy version"),
    Column("device", str, "device name from the fleet file"),
    Column("device_arch", str, "CPU architecture reported by the device (uname -m)"),
    Column("device_cpu", str, "CPU model / SoC as reported by the device"),
    Column("device_os", str, "OS and kernel release"),
    Column("engine", str, "engine name (lce_benchmark_model, lce_interpreter, dabnn)"),
    Column("engine_version", str, "engine version as reported"),
    Column("engine_sha256", str, "sha256 of the engine binary or runner script"),
    Column("model", str, "model name <arch>-<algo>"),
    Column("arch", str, "architecture"),
    Column("algo", str, "binarization algorithm"),
    Column("variant", str, "binary or fp32"),
    Column("model_sha256", str, "sha256 of the measured model file"),
    Column("model_bytes", int, "size of the measured model file in bytes"),
    Column("threads", int, "inference threads"),
    Column("affinity", str, "CPU affinity mask (taskset), empty if none"),
    Column("use_indirect_bgemm", bool, "LCE indirect BGEMM kernels"),
    Column("use_xnnpack", bool, "XNNPACK delegate for float ops"),
    Column("governor", str, "CPU frequency governor at the start of the cell"),
    Column("freq_start_mhz", float, "current frequency of cpu0 at start, MHz"),
    Column("temp_start_c", float, "highest thermal zone temperature at start, deg C"),
    Column("temp_end_c", float, "highest thermal zone temperature at end, deg C"),
    Column("throttled_start", str, "throttle flags at start (Raspberry Pi get_throttled), empty if n/a"),
    Column("throttled_end", str, "throttle flags at end"),
    Column("warmup_runs", int, "warm-up inferences discarded per repeat"),
    Column("repeats", int, "independent process launches"),
    Column("iterations", int, "timed inferences over all repeats"),
    Column("latency_median_ms", float, "median of the repeats' medians, ms"),
    Column("latency_p90_ms", float, "90th percentile of all timed inferences, ms"),
    Column("latency_mean_ms", float, "mean of all timed inferences, ms"),
    Column("latency_std_ms", float, "standard deviation of all timed inferences, ms"),
    Column("latency_cv", float, "coefficient of variation (std / mean)"),
    Column("latency_min_ms", float, "fastest timed inference, ms"),
    Column("latency_max_ms", float, "slowest timed inference, ms"),
    Column("latency_ci95_low_ms", float, "bootstrap 95 % interval of the median, low, ms"),
    Column("latency_ci95_high_ms", float, "bootstrap 95 % interval of the median, high, ms"),
    Column("repeat_medians_ms", str, "each repeat's median, ';'-separated, ms"),
    Column("repeat_spread_pct", float, "(max - min) / min of the repeats' medians, %"),
    Column("init_ms", float, "interpreter initialisation time, ms"),
    Column("first_inference_ms", float, "first inference time, ms"),
    Column("peak_memory_mb", float, "peak memory footprint reported by the engine, MB"),
    Column("attempt", int, "1 for the first try of the cell; higher when connection retries happened"),
    Column("status", str, "one of " + ", ".join(STATUSES)),
    Column("error", str, "one-line reason for any status but ok"),
)

LATENCY_FIELDS = tuple(c.name for c in LATENCY_COLUMNS)
