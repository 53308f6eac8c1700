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

# Columns shared by every table that names one measured configuration.
_CELL = (
    Column("device", str, "device name from the fleet file"),
    Column("engine", str, "engine name"),
    Column("threads", int, "inference threads"),
    Column("use_indirect_bgemm", bool, "LCE indirect BGEMM kernels"),
    Column("use_xnnpack", bool, "XNNPACK delegate for float ops"),
)

SUMMARY_COLUMNS: tuple[Column, ...] = (
    _CELL[0],
    Column("device_arch", str, "CPU architecture of the device"),
    *_CELL[1:],
    Column("model", str, "model name <arch>-<algo>"),
    Column("arch", str, "architecture"),
    Column("algo", str, "binarization algorithm"),
    Column("status", str, "status of the binary model's cell"),
    Column("fp32_status", str, "status of the FP32 baseline's cell; empty if none was measured"),
    Column("repeats", int, "independent launches behind the binary model's median"),
    Column("latency_median_ms", float, "binary model: median of the repeats' medians, ms"),
    Column("latency_ci95_low_ms", float, "binary model: 95 % interval of the median, low, ms"),
    Column("latency_ci95_high_ms", float, "binary model: 95 % interval of the median, high, ms"),
    Column("fp32_latency_median_ms", float, "FP32 baseline: median of the repeats' medians, ms"),
    Column("fp32_latency_ci95_low_ms", float, "FP32 baseline: 95 % interval of the median, low, ms"),
    Column("fp32_latency_ci95_high_ms", float, "FP32 baseline: 95 % interval of the median, high, ms"),
    Column("speedup_measured_x", float, "fp32_latency_median_ms / latency_median_ms"),
    Column("speedup_ci95_low_x", float, "bootstrap 95 % interval of the measured speedup, low "
                                        "(resampling each side's repeat medians)"),
    Column("speedup_ci95_high_x", float, "bootstrap 95 % interval of the measured speedup, high"),
    Column("speedup_theoretical_x", float, "r_s = FP32 FLOPs / OPs of the binarized model"),
    Column("speedup_deviation", float, "speedup_measured_x / speedup_theoretical_x"),
    Column("lce_bytes", int, "size of the binary model file (LCE flatbuffer), bytes"),
    Column("fp32_bytes", int, "size of the FP32 baseline file, bytes"),
    Column("size_ratio_measured_x", float, "fp32_bytes / lce_bytes"),
    Column("compression_theoretical_x", float, "r_c = FP32 params / (binary params / 32 + FP params)"),
    Column("size_deviation", float, "size_ratio_measured_x / compression_theoretical_x"),
    Column("binary_mac_coverage_pct", float, "share of the binarized MACs that run in binary kernels, %"),
    Column("extra_float_flops", int, "float ops the deployed graph adds around binary kernels"),
    Column("ops", float, "OPs of the binarized model = BOPs / 64 + FLOPs"),
    Column("fp32_flops", int, "FLOPs (MACs) of the FP32 model"),
    Column("test_accuracy_pct", float, "test accuracy from the manifest, %; empty if untrained"),
    Column("model_sha256", str, "sha256 of the measured binary model file"),
    Column("sha256_matches_manifest", bool, "measured files are the manifest's artefacts"),
    Column("theory", str, "counted (r_s, r_c, OPs from the model's Keras graph), unknown (a model "
           "added as a .tflite or .dab alone: theory columns empty, never guessed), or empty "
           "without a manifest"),
    Column("note", str, "why a number is missing, or where the baseline came from"),
)

AGGREGATE_COLUMNS: tuple[Column, ...] = (
    Column("arch", str, "architecture"),
    Column("algo", str, "binarization algorithm"),
    *_CELL[1:],
    Column("devices", int, "devices with a measured speedup"),
    Column("speedup_geomean_x", float, "geometric mean over devices of speedup_measured_x"),
    Column("speedup_mean_x", float, "arithmetic mean over devices of speedup_measured_x"),
    Column("speedup_theoretical_x", float, "r_s of the model"),
    Column("speedup_deviation_geomean", float, "speedup_geomean_x / speedup_theoretical_x"),
    Column("size_ratio_measured_x", float, "fp32_bytes / lce_bytes"),
    Column("compression_theoretical_x", float, "r_c of the model"),
    Column("om_infer", float, "BiBench OM_infer = sqrt((speedup_mean_x^2 + size_ratio_measured_x^2) / 2)"),
    Column("test_accuracy_pct", float, "test accuracy from the manifest, %"),
)

UNDEPLOYABLE_COLUMNS: tuple[Column, ...] = (
    Column("arch", str, "architecture"),
    Column("algo", str, "binarization algorithm"),
    Column("engine", str, "engine that could not run it"),
    Column("status", str, "status of the failed cells, or `unsupported` from the manifest"),
    Column("devices", str, "devices where it failed, ';'-separated; empty if never attempted"),
    Column("reason", str, "error text of the cells, or the manifest's reason"),
)

COMPARE_COLUMNS: tuple[Column, ...] = (
    *_CELL,
    Column("model", str, "model name <arch>-<algo>"),
    Column("status_a", str, "status in run A; empty if run A lacks the cell"),
    Column("status_b", str, "status in run B; empty if run B lacks the cell"),
    Column("latency_median_ms_a", float, "binary model median latency in run A, ms"),
    Column("latency_median_ms_b", float, "binary model median latency in run B, ms"),
    Column("latency_ratio_b_a", float, "latency_median_ms_b / latency_median_ms_a"),
    Column("fp32_latency_median_ms_a", float, "FP32 baseline median latency in run A, ms"),
    Column("fp32_latency_median_ms_b", float, "FP32 baseline median latency in run B, ms"),
    Column("fp32_latency_ratio_b_a", float, "fp32_latency_median_ms_b / fp32_latency_median_ms_a"),
    Column("speedup_measured_x_a", float, "measured speedup in run A"),
    Column("speedup_measured_x_b", float, "measured speedup in run B"),
    Column("speedup_ratio_b_a", float, "speedup_measured_x_b / speedup_measured_x_a"),
)

# Per-op profiles as the report reads them (bibench_deploy.reports.ops): one row per (cell, node type),
# from the "Summary by node type" table of lce_benchmark_model --enable_op_profiling.
OP_PROFILE_COLUMNS: tuple[Column, ...] = (
    Column("device", str, "device name from the fleet file"),
    Column("model", str, "model name <arch>-<algo>"),
    Column("variant", str, "binary or fp32"),
    *_CELL[1:],
    Column("node_type", str, "TFLite node type (CONV_2D, LceBconv2d, ...)"),
    Column("count", int, "nodes of that type in the graph"),
    Column("avg_ms", float, "average time per inference spent in nodes of that type, ms"),
    Column("avg_pct", float, "share of the inference time, %"),
)

SUMMARY_FIELDS = tuple(c.name for c in SUMMARY_COLUMNS)
AGGREGATE_FIELDS = tuple(c.name for c in AGGREGATE_COLUMNS)
UNDEPLOYABLE_FIELDS = tuple(c.name for c in UNDEPLOYABLE_COLUMNS)
COMPARE_FIELDS = tuple(c.name for c in COMPARE_COLUMNS)
OP_PROFILE_FIELDS = tuple(c.name for c in OP_PROFILE_COLUMNS)


def columns_markdown(columns: tuple[Column, ...]) -> str:
    """The Markdown table documenting `columns`: the README's column tables are generated by this."""
    lines = ["| column | type | meaning |", "|---|---|---|"]
    lines += [f"| `{c.name}` | {c.dtype.__name__} | {c.doc.replace('|', '/')} |" for c in columns]
    return "\n".join(lines) + "\n"
