"""The contract between the fleet runner and the reports: a cell's identity, its statuses and the
columns of `latency.csv`. Both `bibench_deploy.fleet` and `bibench_deploy.reports` build on this
module; it imports neither.

A cell is (device, model, variant binary/fp32, engine, threads, affinity, indirect BGEMM,
XNNPACK). Units are part of every column name that has one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

@dataclass(frozen=True)
class Column:
    name: str
    dtype: type
    doc: str


# A cell's status. Only measured rows carry latency numbers; `counted` rows carry an instruction
# count instead, never a latency.
STATUSES = (
    "ok",               # measured on quiet cores, runs agree, device state stable
    "counted",          # an emulated device: guest instructions per inference, repeats agree
    "contended",        # measured, but a launch started on busy cores (the wait for quiet ran out)
    "unstable",         # measured, but the runs' medians disagree by more than 5 %
    "throttled",        # measured, but the device throttled during the cell
    "unsupported",      # the device lacks the engine or the engine cannot run the model
    "transfer_failed",  # pushing the binary or model failed or its hash did not verify
    "run_failed",       # the benchmark exited non-zero or its output could not be parsed
    "timeout",          # the benchmark exceeded its deadline and was killed on the device
    "unreachable",      # connection or authentication failed after retries
    "busy",             # the device's labgrid place was held by someone else the whole wait
)

LATENCY_COLUMNS: tuple[Column, ...] = (
    Column("run_id", str, "identifier of the fleet run"),
    Column("time_utc", str, "ISO 8601 UTC time the cell finished"),
    Column("tool_version", str, "bibench-deploy version"),
    Column("device", str, "device name from the fleet file"),
    Column("device_arch", str, "CPU architecture reported by the device (uname -m)"),
    Column("device_cpu", str, "CPU model / SoC as reported by the device"),
    Column("device_os", str, "OS and kernel release"),
    Column("device_cores", int, "online CPU cores reported by the device"),
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
    Column("repeats", int, "independent process launches (n); one per round of the cell's group"),
    Column("stop_reason", str, "why the launches stopped: target (paired interval within "
                               "--target-ci-pct), launch_budget, time_budget, fixed "
                               "(--max-repeats not above --repeats), unpaired (no FP32 twin), "
                               "counted (an emulated device's fixed launches), failed"),
    Column("paired_halfwidth_pct", float, "half-width of the 95 % interval of the group's "
                                          "best-vs-best paired speedup when the launches stopped, %"),
    Column("iterations", int, "timed inferences over all repeats"),
    Column("guest_insns_per_inference", float, "emulated devices only (status counted): guest "
           "instructions per inference under qemu-user, by the difference of two launches with "
           "different inference counts (docs/emulation.md); a count of work, never a time"),
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
    Column("load_busy_max_pct", float, "busiest reading of the launch cores' busy time "
                                       "(user, nice, system, irq, steal) just before a launch, %; "
                                       "empty if the device cannot report it"),
    Column("load_steal_max_pct", float, "highest steal share of the launch cores before a launch, %"),
    Column("load_runnable_max", int, "most runnable tasks of other processes seen on the launch "
                                     "cores before a launch"),
    Column("load_tasks", str, "names of the other runnable tasks seen on the launch cores, "
                              "';'-separated"),
    Column("load_wait_s", float, "seconds spent waiting for quiet cores over the cell's launches"),
    Column("contended_launches", int, "launches that started on busy cores after the wait ran "
           "out, or whose cores other work used while they ran"),
    Column("attempt", int, "1 for the first try of the cell; higher when connection retries happened"),
    Column("status", str, "one of " + ", ".join(STATUSES)),
    Column("error", str, "one-line reason for any status but ok"),
)

LATENCY_FIELDS = tuple(c.name for c in LATENCY_COLUMNS)

# Status groups: measured cells carry latency numbers; counted ones an instruction count and no
# latency (never in a latency aggregate, yet a success like `ok`); flagged ones are measured but
# not clean; failed ones have no numbers.
MEASURED = ("ok", "contended", "unstable", "throttled")
COUNTED = ("counted",)
FLAGGED = ("contended", "unstable", "throttled")
FAILED = ("unsupported", "transfer_failed", "run_failed", "timeout", "unreachable", "busy")


def cell_key(device: str, model: str, variant: str, engine: str, threads, affinity: str,
             use_indirect_bgemm: bool, use_xnnpack: bool) -> str:
    """Stable identity of a cell in the journal, the raw logs and the op profiles."""
    return "|".join([device, model, variant, engine, f"t{threads}", f"a{affinity or ''}",
                     f"bgemm{int(bool(use_indirect_bgemm))}", f"xnn{int(bool(use_xnnpack))}"])


def row_cell_key(row: dict) -> str:
    """cell_key of a latency.csv row."""
    return cell_key(row["device"], row["model"], row["variant"], row["engine"], row["threads"],
                    row.get("affinity") or "", row.get("use_indirect_bgemm"), row.get("use_xnnpack"))


def cell_slug(key: str) -> str:
    """A file-system-safe, collision-free name for a cell (model names may hold any character)."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", key)[:80]
    return f"{readable}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


# How every CSV the tool writes spells a value: empty for missing, `true` / `false` for booleans,
# floats with 6 significant digits (repr of the rounded value: 0.917809, 1331840.0, 1.5e-07).
CSV_FLOAT_DIGITS = 6


# A text cell starting with one of these is a formula to a spreadsheet (OWASP's CSV injection
# rule): model, arch and algo names come from manifests, errors and op names from devices. Such
# text is written with a leading `'`, and so is text that starts with `'` itself, so that
# `csv_value` restores every text exactly; the JSON files keep the raw text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(float(f"{value:.{CSV_FLOAT_DIGITS}g}"))
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return str(value)


def csv_value(text: str) -> str:
    """The text `csv_text` wrote a text cell for."""
    return text[1:] if text.startswith("'") else text
