"""Rich rendering shared by commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bibench_deploy import formats


def _fmt(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_build_summary(manifest: dict[str, Any], path: Path) -> None:
    audit, totals = manifest["audit"][formats.LCE], manifest["complexity"]["totals"]
    training, file_bytes = manifest["training"], manifest["complexity"]["file_bytes"]
    table = Table(title=f"{manifest['name']}  ->  {path}", show_header=False)
    rows = [
        ("dataset", f"{manifest['dataset']['name']} ({manifest['dataset']['train_samples']} train"
                    f" / {manifest['dataset']['test_samples']} test)"),
        ("epochs", f"{training['epochs']}" + ("" if training["trained"] else " (untrained)")),
        ("test accuracy", _fmt(training["test_accuracy"], ".2%")
         + ("" if training["trained"] else " (untrained: chance level, not a result)")),
        ("binary MACs in LceBconv2d", _fmt(audit["binary_mac_share"], ".1%")),
        ("float fallback MACs", f"{audit['float_fallback_macs']:,}"),
        ("extra float ops", ", ".join(f"{k} x{v['count']}" for k, v in
                                      audit["extra_float_ops"].items()) or "none"),
        ("LCE vs float64", f"top-1 agreement {audit['top1_agreement']:.1%}, "
                           f"max |diff| {audit['max_abs_diff']:.3g}; disagreements "
                           f"{audit['disagreements']}: {audit['explained_flips']} rounding "
                           f"flips, {audit['unexplained']} unexplained"),
        ("BOPs / FLOPs / OPs", f"{totals['bops'] / 1e6:.2f} M / {totals['flops'] / 1e6:.2f} M / "
                               f"{totals['ops'] / 1e6:.2f} M"),
        ("r_s / r_c (theoretical)", f"{_fmt(totals['r_s'], '.1f')}x / {_fmt(totals['r_c'], '.1f')}x"),
        ("file sizes LCE / FP32", " / ".join(f"{file_bytes[key] / 1e6:.2f} MB"
                                             for key in (formats.LCE, formats.FP32))),
        ("op histogram", ", ".join(f"{k} {v}" for k, v in audit["op_histogram"].items())),
        _written(manifest, formats.DABNN, manifest["audit"][formats.DABNN]),
        _written(manifest, formats.ONNX_FP32, manifest["audit"].get(formats.ONNX_FP32, {})),
    ]
    for key, value in rows:
        table.add_row(key, escape(value))
    Console().print(table)


def _written(manifest: dict[str, Any], kind: str, audit: dict[str, Any]) -> tuple[str, str]:
    """The format's label, and which file of it the build wrote or why it wrote none."""
    entry = manifest["artefacts"].get(kind)
    reason = audit.get("reason") or "no reason recorded"
    return formats.get(kind).label, entry["path"] if entry else f"not written: {reason}"


def _ms(value: Any) -> str:
    return "" if value in (None, "") else f"{float(value):.3f}"


def run_results(rows: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """One line per measured pair: device, model, engine, threads, the fastest binary and FP32
    cell over their engine options (the report's headline groups and ranking), speedup (FP32 /
    binary median), and the status of those two cells (both when they differ)."""
    from bibench_deploy.reports.headline import group_key, ranked
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(group_key(row), []).append(row)
    lines = []
    for (device, engine, threads, _, model), cells in groups.items():
        binary, fp32 = (_fastest([c for c in cells if (c["variant"] == formats.VARIANT_FP32)
                                  == is_fp32]) for is_fp32 in (False, True))
        b_ms, f_ms = binary.get("latency_median_ms"), fp32.get("latency_median_ms")
        speedup = f"{float(f_ms) / float(b_ms):.2f}x" if b_ms and f_ms else ""
        cells_ = [(name, c) for name, c in (("binary", binary), ("FP32", fp32)) if c]
        errors = [c["error"] for _, c in cells_ if c.get("error")]
        if len({c["status"] for _, c in cells_}) == 1:
            status = cells_[0][1]["status"]
        else:
            status = ", ".join(f"{name} {c['status']}" for name, c in cells_)
        status += f": {errors[0]}" if errors else ""
        lines.append((device, model, engine, str(threads), _ms(b_ms), _ms(f_ms), speedup, status))
    return lines


def _fastest(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest measured cell; the first cell when none was measured (its status shows)."""
    from bibench_deploy.reports.headline import ranked
    return (ranked(cells) or cells or [{}])[0]


RUN_HEADERS = ("device", "model", "engine", "threads", "binary ms", "FP32 ms", "speedup",
               "status")


def _print_table(title: str, headers: tuple[str, ...], lines: list[tuple[str, ...]],
                 left: tuple[str, ...]) -> None:
    """A results table that fits the terminal: engine, config or threads move into the title
    when they are the same on every line; only the status column wraps."""
    same = [i for i, h in enumerate(headers) if h in ("engine", "config", "threads")
            and len({line[i] for line in lines}) == 1]
    if same:
        title += " (" + ", ".join(f"{headers[i]} {lines[0][i]}" if headers[i] == "threads"
                                  else lines[0][i] for i in same) + ")"
    shown = [i for i in range(len(headers)) if i not in same]
    table = Table(title=escape(title), title_justify="left", box=box.SIMPLE_HEAD)
    for i in shown:
        table.add_column(headers[i], justify="left" if headers[i] in left else "right",
                         no_wrap=headers[i] != "status", overflow="fold")
    for line in lines:
        table.add_row(*(escape(line[i]) for i in shown))
    Console().print(table)


def print_run_results(rows: list[dict[str, Any]]) -> None:
    if rows:
        _print_table("latency, median of the launches' medians, fastest engine options per side",
                     RUN_HEADERS, run_results(rows),
                     ("device", "model", "engine", "status"))


REPORT_HEADERS = ("model", "config", "devices", "speedup", "r_s", "speedup/r_s",
                  "size ratio", "r_c")


def print_report_headline(aggregates: list[dict[str, Any]]) -> None:
    """Per algorithm over devices: measured speedup, r_s, their ratio, size ratio vs r_c."""
    from bibench_deploy.reports.markdown import config, number
    if not aggregates:
        Console(highlight=False).print("no cell has a measured speedup", markup=False)
        return
    lines = [(f"{r['arch']}-{r['algo']}", config(r), str(r["devices"]),
              number(r["speedup_geomean_x"], "x"), number(r["speedup_theoretical_x"], "x"),
              number(r["speedup_deviation_geomean"]), number(r["size_ratio_measured_x"], "x"),
              number(r["compression_theoretical_x"], "x")) for r in aggregates]
    _print_table("per algorithm, geometric mean over devices", REPORT_HEADERS, lines,
                 ("model", "config"))


COUNT_HEADERS = ("device", "model", "engine", "binary insns", "FP32 insns", "speedup by insns",
                 "status")


def count_results(rows: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """One line per group of an emulated device: the fewest guest instructions per inference of
    each side and their ratio (FP32 / binary). Counts, never latencies."""
    from bibench_deploy.reports.headline import fewest_insns, group_key
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        if row.get("guest_insns_per_inference") or row.get("stop_reason") == "counted":
            groups.setdefault(group_key(row), []).append(row)
    lines = []
    for (device, engine, _, _, model), cells in groups.items():
        sides = [fewest_insns([c for c in cells if (c["variant"] == formats.VARIANT_FP32)
                               == is_fp32]) for is_fp32 in (False, True)]
        counts = [float(c["guest_insns_per_inference"]) if c else None for c in sides]
        ratio = f"{counts[1] / counts[0]:.2f}x" if all(counts) else ""
        status = ", ".join(sorted({c["status"] for c in cells}))
        lines.append((device, model, engine, *(f"{n:,.0f}" if n else "" for n in counts), ratio,
                      status))
    return lines


def print_report_counts(rows: list[dict[str, Any]]) -> None:
    """Emulated devices: guest instructions per inference, and the speedup by that count."""
    from bibench_deploy.reports.markdown import COUNT_MEANING
    lines = count_results(rows)
    if lines:
        _print_table(f"emulated devices, {COUNT_MEANING}",
                     COUNT_HEADERS, lines, ("device", "model", "engine", "status"))
