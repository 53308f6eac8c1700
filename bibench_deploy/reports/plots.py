"""Figures of a report (matplotlib, Agg backend: no display needed); the file suffix picks the
format (PNG, SVG, PDF)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from bibench_deploy import formats
from bibench_deploy.cells import COUNTED
from bibench_deploy.reports.markdown import config, options

TOP_NODE_TYPES = 7


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _grouped(rows: list[dict[str, Any]], key) -> dict[Any, list[dict[str, Any]]]:
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return dict(sorted(groups.items(), key=lambda kv: str(kv[0])))


def _yerr(rows, value, low, high) -> list[list[float]]:
    """Error bar lengths; an interval that does not contain the value (another estimator's
    interval) is drawn only on the side where it extends past it."""
    return [[max(0.0, r[value] - r[low]) if r[low] is not None else 0 for r in rows],
            [max(0.0, r[high] - r[value]) if r[high] is not None else 0 for r in rows]]


def _plain_log_ticks(ax) -> None:
    from matplotlib.ticker import FuncFormatter
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "25" else ""))


def _fitted_log_ticks(ax, which: str = "xy") -> None:
    """Plain-number ticks on log axes, dense enough that a range narrower than a decade still
    carries several labels."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator
    for axis, (low, high) in ((getattr(ax, f"{name}axis"), getattr(ax, f"get_{name}lim")())
                              for name in which):
        subs = (1, 2, 5) if high / low > 10 else (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8)
        axis.set_major_locator(LogLocator(base=10, subs=subs))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))
        axis.set_minor_locator(NullLocator())


def _fitted(values: list[float], pad: float = 1.25) -> tuple[float, float]:
    """A log-axis range around the data, at least a factor 2 wide."""
    low, high = min(values) / pad, max(values) * pad
    if high / low < 2:
        middle = (high * low) ** 0.5
        low, high = middle / 2 ** 0.5, middle * 2 ** 0.5
    return low, high


def _label(text: str) -> str:
    return str(text).replace("_", " ")


def speedup_plot(headline: list[dict[str, Any]], path: Path) -> Path | None:
    """Headline speedup (best binary vs best FP32) against r_s: one panel per architecture and
    engine configuration; algorithms by colour, devices by marker; bars are the paired 95 %
    intervals; open markers are rows that are not `ok` (contended, unstable, throttled)."""
    rows = [r for r in headline if r["speedup_x"] is not None and r["speedup_theoretical_x"]]
    if not rows:
        return None
    plt = _pyplot()
    from matplotlib.transforms import offset_copy
    panels = _grouped(rows, lambda r: (r["arch"], f"{r['engine']}, {r['threads']} thr"))
    algos = sorted({r["algo"] for r in rows})
    devices = sorted({r["device"] for r in rows})
    markers = "osD^v<>PX*"
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels) + 1.5, 4.2), squeeze=False)
    for ax, ((arch, engine), panel) in zip(axes[0], panels.items()):
        xlim = _fitted([r["speedup_theoretical_x"] for r in panel])
        ylim = _fitted([v for r in panel for v in (r["speedup_x"], r["speedup_ci95_low_x"],
                                                   r["speedup_ci95_high_x"]) if v])
        low, high = max(xlim[0], ylim[0]), min(xlim[1], ylim[1])
        if low < high:
            ax.plot([low, high], [low, high], color="0.5", ls="--", lw=1)
        else:
            ax.text(0.03, 0.97, "theory (y = x) lies " + ("above" if ylim[1] < xlim[0] else "below"),
                    transform=ax.transAxes, va="top", fontsize=8, color="0.35")
        for i, algo in enumerate(algos):
            # algorithms sharing one r_s are drawn a few points apart (the same offset everywhere)
            shifted = offset_copy(ax.transData, fig=fig, x=4 * (i - (len(algos) - 1) / 2), units="points")
            for j, device in enumerate(devices):
                for flagged in (False, True):
                    pts = [r for r in panel if r["algo"] == algo and r["device"] == device
                           and (r["status"] != "ok") == flagged]
                    if not pts:
                        continue
                    ax.errorbar([r["speedup_theoretical_x"] for r in pts], [r["speedup_x"] for r in pts],
                                yerr=_yerr(pts, "speedup_x", "speedup_ci95_low_x", "speedup_ci95_high_x"),
                                fmt=markers[j % len(markers)], color=f"C{i % 10}", ms=6, capsize=2,
                                ls="none", transform=shifted, mfc="none" if flagged else f"C{i % 10}")
        ax.set(xscale="log", yscale="log", xlim=xlim, ylim=ylim, title=f"{_label(arch)} · {_label(engine)}",
               xlabel="theoretical speedup $r_s$ (x)", ylabel="measured speedup $T_{fp32} / T_{binary}$ (x)")
        _fitted_log_ticks(ax)
        ax.grid(True, which="both", alpha=0.3)
    handles = [plt.Line2D([], [], color=f"C{i % 10}", marker="o", ls="none", label=_label(a))
               for i, a in enumerate(algos)]
    handles += [plt.Line2D([], [], color="0.3", marker=markers[j % len(markers)], ls="none", label=_label(d))
                for j, d in enumerate(devices)]
    handles += [plt.Line2D([], [], color="0.3", marker="o", mfc="none", ls="none", label="not ok (flagged)"),
                plt.Line2D([], [], color="0.5", ls="--", label="y = x: theory met")]
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 0.92), frameon=False, fontsize=8)
    fig.suptitle("Best binary vs best FP32 against theory (bars: paired 95 % interval)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path, plt)


def _counting(row: dict[str, Any]) -> bool:
    """A headline row of an emulated device: its speedup is by instruction count."""
    return row["status"] in COUNTED or row.get("speedup_insns_x") is not None


def _side_by_side(row: dict[str, Any]) -> float | None:
    return row["speedup_insns_x"] if _counting(row) else row["speedup_x"]


def speedup_insns_plot(headline: list[dict[str, Any]], path: Path) -> Path | None:
    """Per model, side by side: each measured device's speedup T_fp32 / T_binary (solid), each
    emulated device's speedup by guest instructions per inference (hatched: a count, not a
    latency), and r_s (grey); one panel per engine configuration, bars from 1 (no gain) on a log
    axis. Written when some row has a count (speedup.png covers latencies alone)."""
    rows = [r for r in headline if _side_by_side(r) is not None]
    if not any(_counting(r) for r in rows):
        return None
    plt = _pyplot()
    panels = _grouped(rows, lambda r: f"{r['engine']}, {r['threads']} thr")
    devices = sorted({r["device"] for r in rows}, key=lambda d: (any(
        _counting(r) for r in rows if r["device"] == d), d))
    width = max(len(_grouped(p, lambda r: r["model"])) for p in panels.values())
    fig, axes = plt.subplots(len(panels), 1, squeeze=False, figsize=(
        max(6.0, 0.32 * width * (len(devices) + 1) + 2.5), 4.0 * len(panels)))
    for ax, (engine, panel) in zip(axes[:, 0], panels.items()):
        _speedup_bars(ax, panel, devices)
        ax.set(title=_label(engine), ylabel="speedup FP32 / binary (x)")
    counting = {r["device"] for r in rows if _counting(r)}
    handles = [plt.Rectangle((0, 0), 1, 1, color=f"C{j % 10}", hatch="///" if d in counting else None,
                             fill=d not in counting, label=f"{_label(d)}: " + (
                                 "guest instructions FP32 / binary\n(qemu-user count, not a latency)"
                                 if d in counting else "latency T_fp32 / T_binary (measured)"))
               for j, d in enumerate(devices)]
    handles += [plt.Rectangle((0, 0), 1, 1, color="0.6", label="$r_s$ (theory: FLOPs / OPs)"),
                plt.Line2D([], [], color="0.3", lw=1, label="1x: no gain")]
    if any(r["status"] != "ok" and not _counting(r) for r in rows):
        handles.append(plt.Line2D([], [], ls="none", label="* status not ok (flagged)"))
    fig.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 0.95), frameon=False)
    fig.suptitle("Speedup per model: measured latency, guest-instruction count (emulated) and "
                 "theory", fontsize=10)
    fig.tight_layout()
    return _save(fig, path, plt)


def _speedup_bars(ax, panel: list[dict[str, Any]], devices: list[str]) -> None:
    """One group of bars per model: the devices' speedups (hatched where counted), then r_s;
    each bar labelled with its value."""
    models = _grouped(panel, lambda r: r["model"])
    slots = [d for d in devices if any(r["device"] == d for r in panel)] + ["r_s"]
    step = 0.8 / len(slots)
    for i, cells in enumerate(models.values()):
        by_device = {r["device"]: r for r in cells}
        r_s = next((r["speedup_theoretical_x"] for r in cells if r["speedup_theoretical_x"]), None)
        for k, slot in enumerate(slots):
            row = by_device.get(slot)
            value = r_s if slot == "r_s" else _side_by_side(row) if row else None
            if value is None:
                continue
            x = i - 0.4 + step * (k + 0.5)
            counted = row is not None and _counting(row)
            colour = "0.6" if slot == "r_s" else f"C{devices.index(slot) % 10}"
            ax.bar(x, value - 1, step * 0.9, bottom=1, color=colour, fill=not counted,
                   hatch="///" if counted else None, edgecolor=colour)
            flag = "*" if row is not None and not counted and row["status"] != "ok" else ""
            ax.annotate(f"{value:.3g}x{flag}", (x, value), ha="center", fontsize=6,
                        va="bottom" if value >= 1 else "top", xytext=(0, 1 if value >= 1 else -1),
                        textcoords="offset points")
    values = [v for r in panel for v in (_side_by_side(r), r["speedup_theoretical_x"]) if v]
    ax.set_yscale("log")
    ax.set_ylim(*_fitted([*values, 1.0], pad=1.4))
    _fitted_log_ticks(ax, "y")
    ax.axhline(1, color="0.3", lw=1)
    ax.set_xticks(range(len(models)), [_label(m) for m in models], rotation=20 if len(models) > 4 else 0,
                  ha="right" if len(models) > 4 else "center", fontsize=8)
    ax.set_xlim(-0.6, len(models) - 0.4)
    ax.grid(True, axis="y", which="both", alpha=0.3)


def latency_plot(summary: list[dict[str, Any]], path: Path) -> Path | None:
    """Binary-model latency per device and architecture, grouped by algorithm, one bar per engine
    configuration; the black tick over each bar is the FP32 baseline of the same cell."""
    rows = [r for r in summary if r["latency_median_ms"] is not None]
    if not rows:
        return None
    plt = _pyplot()
    panels = _grouped(rows, lambda r: (r["device"], r["arch"]))
    configs = sorted({config(r) for r in rows})
    fig, axes = plt.subplots(len(panels), 1, figsize=(max(6.0, 1.1 * len({r['algo'] for r in rows}) * len(configs) + 2),
                                                     3.2 * len(panels)), squeeze=False)
    for ax, ((device, arch), panel) in zip(axes[:, 0], panels.items()):
        algos = sorted({r["algo"] for r in panel})
        present = [c for c in configs if any(config(r) == c for r in panel)]
        width = 0.8 / len(present)
        for cfg in present:
            k = configs.index(cfg)  # colour by configuration, the same in every panel
            bars = sorted((r for r in panel if config(r) == cfg), key=lambda r: algos.index(r["algo"]))
            xs = [algos.index(r["algo"]) - 0.4 + width * (present.index(cfg) + 0.5) for r in bars]
            ax.bar(xs, [r["latency_median_ms"] for r in bars], width * 0.9, color=f"C{k % 10}", label=cfg,
                   yerr=_yerr(bars, "latency_median_ms", "latency_ci95_low_ms", "latency_ci95_high_ms"), capsize=2)
            base = [(x, r["fp32_latency_median_ms"]) for x, r in zip(xs, bars) if r["fp32_latency_median_ms"]]
            ax.hlines([b for _, b in base], [x - width * 0.45 for x, _ in base], [x + width * 0.45 for x, _ in base],
                      colors="black", lw=2, label="FP32 baseline" if cfg == present[0] else None)
        ax.set_xticks(range(len(algos)), algos)
        ax.set(title=f"{_label(device)} · {_label(arch)}", ylabel="latency (ms, median)")
        ax.grid(True, axis="y", alpha=0.3)
    handles = [plt.Rectangle((0, 0), 1, 1, color=f"C{k % 10}", label=_label(c)) for k, c in enumerate(configs)]
    handles.append(plt.Line2D([], [], color="black", lw=2, label="FP32 baseline, same XNNPACK setting"))
    fig.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 0.95), frameon=False)
    fig.suptitle("Binary-model latency per device (error bars: 95 % interval of the median)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path, plt)


def op_breakdown_plot(profile: list[dict[str, Any]], path: Path) -> Path | None:
    """Per-cell time by node type, stacked; the most expensive node types named, the rest `other`."""
    if not profile:
        return None
    plt = _pyplot()
    cells = _grouped(profile, lambda r: (r["device"], r["model"],
                                         r.get("variant") or formats.VARIANT_BINARY, options(r)))
    totals: dict[str, float] = defaultdict(float)
    for row in profile:
        totals[row["node_type"]] += row["avg_ms"] or 0
    named = sorted(totals, key=totals.get, reverse=True)[:TOP_NODE_TYPES]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(cells) + 1.8))
    labels = [" · ".join(str(part) for part in key) for key in cells]
    left = [0.0] * len(cells)
    for i, node in enumerate([*named, "other"]):
        widths = [sum(r["avg_ms"] or 0 for r in rows if (r["node_type"] == node) or
                      (node == "other" and r["node_type"] not in named)) for rows in cells.values()]
        if not any(widths):
            continue
        ax.barh(labels, widths, left=left, color=f"C{i % 10}" if node != "other" else "0.7", label=node)
        left = [a + b for a, b in zip(left, widths)]
    ax.invert_yaxis()
    ax.set(xlabel="time per inference (ms, op profiling)", title="Time by operator type")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return _save(fig, path, plt)


def _save(fig, path: Path, plt) -> Path:
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return Path(path)
