"""The CSV schemas, defined once. Units are part of every column name that has one.

`LATENCY_COLUMNS` is the per-cell table a fleet run writes (`reports/<run-id>/latency.csv`):
one row per (device, model, variant, threads, engine options) cell, whatever its status. It is
the contract between the fleet runner and the reports and lives below both, in
`bibench_deploy.cells`; the report tables are defined here.
"""

from __future__ import annotations

from bibench_deploy.cells import (LATENCY_COLUMNS, LATENCY_FIELDS, STATUSES, Column,  # noqa: F401
                                  csv_text)


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
    Column("stop_reason", str, "why the binary cell's launches stopped (latency.csv)"),
    Column("load_busy_max_pct", float, "busiest reading of the launch cores before a launch of "
                                       "the binary cell, %"),
    Column("latency_median_ms", float, "binary model: median of the repeats' medians, ms"),
    Column("latency_ci95_low_ms", float, "binary model: 95 % interval of the median, low, ms"),
    Column("latency_ci95_high_ms", float, "binary model: 95 % interval of the median, high, ms"),
    Column("fp32_latency_median_ms", float, "FP32 baseline: median of the repeats' medians, ms"),
    Column("fp32_latency_ci95_low_ms", float, "FP32 baseline: 95 % interval of the median, low, ms"),
    Column("fp32_latency_ci95_high_ms", float, "FP32 baseline: 95 % interval of the median, high, ms"),
    Column("speedup_measured_x", float, "fp32_latency_median_ms / latency_median_ms"),
    Column("speedup_ci95_low_x", float, "95 % interval of the measured speedup, low: t-interval "
                                        "of the paired launch ratios (bibench_deploy.paired)"),
    Column("speedup_ci95_high_x", float, "95 % interval of the measured speedup, high (paired launch ratios)"),
    Column("guest_insns_per_inference", float, "emulated devices: binary model's guest "
           "instructions per inference under qemu-user (latency.csv; a count, never a time)"),
    Column("fp32_guest_insns_per_inference", float, "emulated devices: FP32 baseline's guest "
           "instructions per inference"),
    Column("speedup_insns_x", float, "speedup by instruction count: "
           "fp32_guest_insns_per_inference / guest_insns_per_inference, beside r_s"),
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

HEADLINE_COLUMNS: tuple[Column, ...] = (
    _CELL[0],
    Column("device_arch", str, "CPU architecture of the device"),
    *_CELL[1:3],
    Column("model", str, "model name <arch>-<algo>"),
    Column("arch", str, "architecture"),
    Column("algo", str, "binarization algorithm"),
    Column("status", str, "ok (counted on an emulated device), or the first status of the two "
                          "chosen cells that is neither"),
    Column("binary_options", str, "engine options of the fastest binary cell"),
    Column("fp32_options", str, "engine options of the fastest FP32 cell"),
    Column("latency_median_ms", float, "fastest binary cell: median latency, ms"),
    Column("fp32_latency_median_ms", float, "fastest FP32 cell: median latency, ms"),
    Column("speedup_x", float, "headline speedup: fp32_latency_median_ms / latency_median_ms, "
                               "best vs best on the same device and threads"),
    Column("speedup_ci95_low_x", float, "95 % interval of the paired launch ratios of the two "
                                        "cells, low"),
    Column("speedup_ci95_high_x", float, "95 % interval of the paired launch ratios, high"),
    Column("pairs", int, "paired launches behind the interval"),
    Column("speedup_same_options_x", float, "the fastest binary cell against the FP32 cell with "
                                            "its XNNPACK setting"),
    Column("binary_option_gain_pct", float, "how much faster the best binary option is than the "
                                            "runner-up, %"),
    Column("fp32_option_gain_pct", float, "how much faster the best FP32 option is than the "
                                          "runner-up, %"),
    Column("guest_insns_per_inference", float, "emulated devices: fewest-instruction binary cell's guest "
           "instructions per inference under qemu-user (latency.csv; a count, never a time)"),
    Column("fp32_guest_insns_per_inference", float, "emulated devices: fewest-instruction FP32 cell's guest "
           "instructions per inference"),
    Column("speedup_insns_x", float, "speedup by instruction count: "
           "fp32_guest_insns_per_inference / guest_insns_per_inference, beside r_s"),
    Column("speedup_theoretical_x", float, "r_s of the model"),
    Column("speedup_deviation", float, "speedup_x / speedup_theoretical_x"),
    Column("size_ratio_measured_x", float, "fp32_bytes / lce_bytes"),
    Column("compression_theoretical_x", float, "r_c of the model"),
    Column("test_accuracy_pct", float, "test accuracy from the manifest, %"),
    Column("stop_reason", str, "why the group's launches stopped"),
    Column("load_busy_max_pct", float, "busiest pre-launch reading of the two cells' cores, %"),
    Column("note", str, "why a number is missing, or what flagged the row"),
)

AGGREGATE_COLUMNS: tuple[Column, ...] = (
    Column("arch", str, "architecture"),
    Column("algo", str, "binarization algorithm"),
    *_CELL[1:3],
    Column("devices", int, "devices with a headline speedup that is not contended"),
    Column("contended_excluded", int, "devices whose headline cells were contended: left out"),
    Column("speedup_geomean_x", float, "geometric mean over devices of the headline speedup_x"),
    Column("speedup_mean_x", float, "arithmetic mean over devices of the headline speedup_x"),
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

HARDWARE_COLUMNS: tuple[Column, ...] = (
    Column("device", str, "device name, or OM_infer for the row of BiBench's OM_infer over devices"),
    Column("device_cpu", str, "chip / CPU model as reported by the device"),
    Column("device_cores", int, "online CPU cores"),
    Column("device_os", str, "OS and kernel release"),
    Column("device_arch", str, "CPU architecture of the device"),
    *_CELL[1:3],
    Column("arch", str, "network architecture"),
    Column("input_size", str, "input height x width x channels, from the manifest"),
    Column("fp32_ms", float, "FP32 baseline: median latency of its fastest option, ms"),
    Column("fp32_minsns", float, "emulated devices: FP32 baseline's guest instructions per "
           "inference under qemu-user, millions (its fewest-instruction cell; a count, never a "
           "time: fp32_ms stays empty)"),
    Column("fp32_status", str, "status of that FP32 cell"),
    Column("fp32_engine", str, "engine that measured the FP32 baseline: the row's own, or, for "
           "an engine that runs no FP32 model (daBNN), the fastest FP32 of another engine on the "
           "same device, threads and architecture (its speedups are then ratios of medians from "
           "separate launches, not paired)"),
)
# followed, per algorithm A (sorted), by A_ms, A_speedup_x, A_minsns, A_speedup_insns_x,
# A_status, A_note: the headline binary latency and its speedup (measured devices), the binary
# model's millions of guest instructions per inference and the speedup by that count (emulated
# devices: a row holds one pair or the other, never both), the headline status, and why A has no
# number (e.g. unsupported); on OM_infer rows A_speedup_x holds OM_infer, over latencies only.
HARDWARE_PER_ALGO = ("ms", "speedup_x", "minsns", "speedup_insns_x", "status", "note")

SUMMARY_FIELDS = tuple(c.name for c in SUMMARY_COLUMNS)
HEADLINE_FIELDS = tuple(c.name for c in HEADLINE_COLUMNS)
HARDWARE_FIELDS = tuple(c.name for c in HARDWARE_COLUMNS)
AGGREGATE_FIELDS = tuple(c.name for c in AGGREGATE_COLUMNS)
UNDEPLOYABLE_FIELDS = tuple(c.name for c in UNDEPLOYABLE_COLUMNS)
COMPARE_FIELDS = tuple(c.name for c in COMPARE_COLUMNS)
OP_PROFILE_FIELDS = tuple(c.name for c in OP_PROFILE_COLUMNS)


def columns_markdown(columns: tuple[Column, ...]) -> str:
    """The Markdown table documenting `columns`: the README's column tables are generated by this."""
    lines = ["| column | type | meaning |", "|---|---|---|"]
    lines += [f"| `{c.name}` | {c.dtype.__name__} | {c.doc.replace('|', '/')} |" for c in columns]
    return "\n".join(lines) + "\n"
