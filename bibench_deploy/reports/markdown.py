"""summary.md: the tables a paper shows, as GitHub-flavoured Markdown."""

from __future__ import annotations

from typing import Any

from bibench_deploy.reports.hardware import NOT_MEASURED, OM_ROW, algorithms

MISSING = "–"
# What an emulated device's count is, said wherever a count is shown.
COUNT_MEANING = ("guest instructions per inference under qemu-user on the real aarch64 kernels: "
                 "a deterministic proxy, not a latency")
INSNS = " M insns"  # millions of guest instructions per inference


def number(value: float | None, unit: str = "") -> str:
    """Three significant digits without scientific notation for the magnitudes a report holds."""
    if value is None:
        return MISSING
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2 if abs(value) >= 1 else 3
    text = f"{value:.{digits}f}" if abs(value) >= 0.01 or value == 0 else f"{value:.2g}"
    return text + unit


def interval(value: float | None, low: float | None, high: float | None, unit: str = "") -> str:
    if value is None:
        return MISSING
    if low is None or high is None:
        return number(value, unit)
    return f"{number(value, unit)} [{number(low)}, {number(high)}]"


def table(headers: list[str], rows: list[list[str]]) -> str:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"
    return "\n".join([line(headers), "|" + "---|" * len(headers), *map(line, rows)]) + "\n"


def options(row: dict[str, Any]) -> str:
    """Threads and engine switches, e.g. `4 thr, indirect_bgemm`."""
    switches = [name.removeprefix("use_") for name in ("use_indirect_bgemm", "use_xnnpack") if row.get(name)]
    return f"{row['threads']} thr" + "".join(f", {s}" for s in switches)


def config(row: dict[str, Any]) -> str:
    return f"{row['engine']}, {options(row)}"


def _aggregate_table(rows: list[dict[str, Any]]) -> str:
    headers = ["model", "engine", "devices", "contended, left out", "speedup (geomean)", "r_s",
               "measured / r_s", "size ratio", "r_c", "OM_infer", "accuracy"]
    return table(headers, [[f"{r['arch']}-{r['algo']}", config(r), str(r["devices"]),
                            str(r["contended_excluded"]),
                            number(r["speedup_geomean_x"], "x"), number(r["speedup_theoretical_x"], "x"),
                            number(r["speedup_deviation_geomean"]), number(r["size_ratio_measured_x"], "x"),
                            number(r["compression_theoretical_x"], "x"), number(r["om_infer"]),
                            number(r["test_accuracy_pct"], " %")] for r in rows])


UNKNOWN = "unknown"


def theory(row: dict[str, Any], key: str, unit: str = "") -> str:
    """A theory column: 'unknown' where the model's theory is unknown, never a guess."""
    return UNKNOWN if row.get("theory") == UNKNOWN else number(row[key], unit)


def _cell_table(rows: list[dict[str, Any]]) -> str:
    headers = ["device", "model", "engine", "latency ms [95 % CI]", "FP32 ms", "speedup [95 % CI]",
               "r_s", "measured / r_s", "size ratio / r_c", "binary MACs", "extra float ops",
               "launches (stop)", "load before launch", "status"]
    return table(headers, [[
        r["device"], r["model"], config(r),
        interval(r["latency_median_ms"], r["latency_ci95_low_ms"], r["latency_ci95_high_ms"]),
        number(r["fp32_latency_median_ms"]),
        interval(r["speedup_measured_x"], r["speedup_ci95_low_x"], r["speedup_ci95_high_x"], "x"),
        theory(r, "speedup_theoretical_x", "x"), theory(r, "speedup_deviation"),
        f"{number(r['size_ratio_measured_x'], 'x')} / {theory(r, 'compression_theoretical_x', 'x')}",
        number(r["binary_mac_coverage_pct"], " %"),
        MISSING if r["extra_float_flops"] is None else f"{r['extra_float_flops']:,}",
        f"{r['repeats'] or MISSING} ({r['stop_reason'] or MISSING})", number(r["load_busy_max_pct"], " %"),
        r["status"] + ("" if r["fp32_status"] in (None, "ok") else f" (FP32: {r['fp32_status']})"),
    ] for r in rows])


def counts_shown(rows: list[dict[str, Any]]) -> bool:
    return any(r.get("speedup_insns_x") is not None or r.get("guest_insns_per_inference")
               for r in rows)


def _headline_table(rows: list[dict[str, Any]]) -> str:
    headers = ["device", "model", "engine", "best binary (ms)", "best FP32 (ms)", "speedup [95 % CI]",
               "same options", "binary option won by", "FP32 option won by", "r_s", "status"]
    body = [[
        r["device"], r["model"], f"{r['engine']}, {r['threads']} thr",
        f"{r['binary_options']}: {number(r['latency_median_ms'])}",
        f"{r['fp32_options'] or MISSING}: {number(r['fp32_latency_median_ms'])}",
        interval(r["speedup_x"], r["speedup_ci95_low_x"], r["speedup_ci95_high_x"], "x")
        + (f" ({r['pairs']} pairs)" if r["pairs"] else ""),
        number(r["speedup_same_options_x"], "x"), number(r["binary_option_gain_pct"], " %"),
        number(r["fp32_option_gain_pct"], " %"), number(r["speedup_theoretical_x"], "x"),
        r["status"] + (f": {r['note']}" if r["status"] != "ok" and r["note"] else ""),
    ] for r in rows]
    if counts_shown(rows):  # emulated devices: the speedup by guest instructions, beside r_s
        headers.insert(-2, "speedup by guest insns")
        for line, r in zip(body, rows):
            line.insert(-2, number(r["speedup_insns_x"], "x"))
    return table(headers, body)


def _hardware_table(rows: list[dict[str, Any]], algos: list[str]) -> str:
    """The pivot; a cell that is not `ok` carries its status, a reason goes to a footnote."""
    notes: list[str] = []

    def footnote(text: str) -> str:
        if text not in notes:
            notes.append(text)
        return f"[^{notes.index(text) + 1}]"

    def algo_cell(row: dict[str, Any], algo: str) -> str:
        status, note = row[f"{algo}_status"], row[f"{algo}_note"]
        if row["device"] == OM_ROW:
            return number(row[f"{algo}_speedup_x"])
        if status == NOT_MEASURED:
            return MISSING
        if row[f"{algo}_minsns"] is not None:  # an emulated device: a count, never a latency
            return (f"{number(row[f'{algo}_minsns'], INSNS)} "
                    f"({number(row[f'{algo}_speedup_insns_x'], 'x')} by insns)")
        text = (f"{number(row[f'{algo}_ms'])} ({number(row[f'{algo}_speedup_x'], 'x')})"
                if row[f"{algo}_ms"] is not None else "n/a")
        if status != "ok":
            text += f" *{status}*" + (footnote(note) if note else "")
        return text

    counted = any(r["fp32_minsns"] is not None for r in rows)
    headers = ["device", "chip", "cores", "OS", "arch (input)", "engine",
               "FP32 ms" + (" (emulated: M insns)" if counted else ""), *algos]
    body = [[r["device"], r["device_cpu"] or MISSING, str(r["device_cores"] or MISSING),
             r["device_os"] or MISSING, f"{r['arch']} ({r['input_size'] or '?'})",
             f"{r['engine']}, {r['threads']} thr", _fp32_cell(r),
             *[algo_cell(r, a) for a in algos]] for r in rows]
    return table(headers, body) + "".join(f"\n[^{i + 1}]: {n}" for i, n in enumerate(notes)) + \
        ("\n" if notes else "")


def _fp32_cell(row: dict[str, Any]) -> str:
    if row["device"] == OM_ROW:
        return MISSING
    if row["fp32_minsns"] is not None:
        text = number(row["fp32_minsns"], INSNS)
    else:
        text = number(row["fp32_ms"]) + ("" if row["fp32_status"] in (None, "ok")
                                         else f" *{row['fp32_status']}*")
    return text + ("" if row["fp32_engine"] in (None, row["engine"]) else f" ({row['fp32_engine']})")


def _devices_table(rows: list[dict[str, Any]]) -> str:
    seen: dict[str, dict[str, Any]] = {}
    for row in rows:
        seen.setdefault(row["device"], row)
    return table(["device", "arch", "CPU", "OS"],
                 [[d, r.get("device_arch") or MISSING, r.get("device_cpu") or MISSING, r.get("device_os") or MISSING]
                  for d, r in sorted(seen.items())])


METHOD = """\
Speedup is T_FP32 / T_binary, each the median of its cell's launch medians (one per independent
launch). The headline takes each side at its best: the fastest binary cell over its engine options
against the fastest FP32 cell over its own, on the same device, engine and threads; the per-option
table pairs each binary cell with the FP32 cell of its XNNPACK setting. A model's cells are launched
in rounds (binary, FP32, binary, ...), so the k-th launches of two cells are a pair; the interval is
the 95 % t-interval of the paired ratios' logarithms, and the launches continued until it was within
the run's target or a budget ran out (`stop`). r_s = FP32 FLOPs / (BOPs / 64 + FLOPs) and r_c = FP32 params / (binary params / 32
+ FP params) come from the model manifests; `measured / r_s` is the deviation. Size ratio is the FP32
file's bytes over the LCE file's. OM_infer = sqrt((mean speedup^2 + mean size ratio^2) / 2) over the
devices. Latency intervals are the run's own (latency.csv). Cells whose status is not `ok` are
measured but flagged (`contended`: a launch started on cores busier than the device's
`max_start_load` after waiting `max_wait_s`; `unstable`: launches disagree by > 5 %; `throttled`),
or failed (no numbers). Contended rows are left out of every aggregate (counted in `contended, left
out`) and marked wherever they are shown; `load before launch` is the busiest reading of the launch
cores' busy share before any of the cell's launches.
"""


def render_markdown(report: Any, figures: list[str]) -> str:
    run, summary, aggregates = report.run, report.summary, report.aggregates
    undeployable, warnings = report.undeployable, report.warnings
    versions = sorted({str(r.get("tool_version")) for r in run.rows if r.get("tool_version")})
    parts = [f"# Report of run `{run.run_id}`\n",
             f"bibench-deploy {', '.join(versions) or 'version unknown'}; {len(summary)} binary-model cells "
             f"on {len({r['device'] for r in summary})} devices. Every number below comes from "
             "`latency.csv` in the run directory and the models' `manifest.json`.\n",
             "## Devices\n", _devices_table(run.rows)]
    if warnings:
        parts += ["## Warnings\n", "".join(f"- {w}\n" for w in warnings)]
    counting = counts_shown(report.headline)
    parts += ["## Headline: best binary vs best FP32\n",
              *([f"`speedup by guest insns` is FP32 / binary by {COUNT_MEANING}.\n"]
                if counting else []),
              _headline_table(report.headline) if report.headline else "No binary-model cells.\n",
              "## Hardware track\n",
              "Median latency in ms (speedup over the FP32 baseline) per device, engine and threads; "
              "the OM_infer row is BiBench's OM_infer over the devices that are not contended.\n",
              *([f"Emulated devices' cells hold M insns, millions of {COUNT_MEANING}; beside it "
                 "the speedup by that count (FP32 / binary). They never enter OM_infer.\n"]
                if counting else []),
              _hardware_table(report.hardware, algorithms(report.headline)),
              "## Per algorithm, over devices\n",
              _aggregate_table(aggregates) if aggregates else "No cell has a measured speedup.\n",
              "## Per device, model and engine option\n", _cell_table(summary)]
    if undeployable:
        parts += ["## Not deployable\n", table(["model", "engine", "status", "devices", "reason"],
                  [[f"{r['arch']}-{r['algo']}", r["engine"], r["status"], r["devices"] or MISSING, r["reason"] or MISSING]
                   for r in undeployable])]
    if figures:
        parts += ["## Figures\n", "".join(f"![{f}]({f})\n\n" for f in figures)]
    parts += ["## How the numbers are computed\n", METHOD]
    return "\n".join(parts)
