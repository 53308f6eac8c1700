"""The headline speedup: each side at its best configuration.

Per (device, engine, threads, affinity, model) the binary cell with the lowest median latency
over its engine options and the FP32 cell with the lowest median over its own, against each
other; beside it the same-options speedup and how much each side's best option won by over its
runner-up. Cells without numbers (failed) cannot be best; a contended or otherwise flagged cell
can, and then marks the headline row with its status.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from bibench_deploy import formats
from bibench_deploy.cells import COUNTED, MEASURED
from bibench_deploy.paired import paired_interval, paired_ratios
from bibench_deploy.reports.schema import HEADLINE_FIELDS
from bibench_deploy.reports.stats import parse_repeat_medians, ratio


def option_label(row: dict[str, Any]) -> str:
    """The engine switches of a cell, e.g. `indirect BGEMM + XNNPACK`, or `defaults`."""
    names = [label for key, label in (("use_indirect_bgemm", "indirect BGEMM"), ("use_xnnpack", "XNNPACK"))
             if row.get(key)]
    return " + ".join(names) or "defaults"


def group_key(row: dict[str, Any]) -> tuple:
    return (row["device"], row["engine"], row["threads"], row.get("affinity") or "", row["model"])


def _option_key(row: dict[str, Any]) -> tuple:
    """A binary cell in summary rows (which carry no affinity: a device's affinity per thread
    count is fixed by its fleet file)."""
    return (row["device"], row["engine"], row["threads"], row["model"],
            bool(row.get("use_indirect_bgemm")), bool(row.get("use_xnnpack")))


def headline(rows: list[dict[str, Any]], summary: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per group that has a binary cell; `summary` gives the theory columns."""
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[group_key(row)].append(row)
    by_cell = {_option_key(s): s for s in summary}
    out = []
    for key, cells in sorted(groups.items(), key=lambda kv: str(kv[0])):
        binaries = [c for c in cells if c["variant"] != formats.VARIANT_FP32]
        if binaries:
            fp32 = [c for c in cells if c["variant"] == formats.VARIANT_FP32]
            out.append(_headline_row(binaries, fp32, by_cell))
    return out


def ranked(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The measured cells, fastest first (failed cells have no number and are left out)."""
    measured = [c for c in cells if c["status"] in MEASURED and c.get("latency_median_ms")]
    return sorted(measured, key=lambda c: c["latency_median_ms"])


def fewest_insns(cells: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The counted cell with the fewest guest instructions per inference (emulated devices)."""
    counted = [c for c in cells if c["status"] in COUNTED and c.get("guest_insns_per_inference")]
    return min(counted, key=lambda c: c["guest_insns_per_inference"], default=None)


def _gain_pct(ranked: list[dict[str, Any]]) -> float | None:
    """How much faster the best option is than the runner-up, %."""
    if len(ranked) < 2:
        return None
    return (ranked[1]["latency_median_ms"] / ranked[0]["latency_median_ms"] - 1) * 100


def _success(cell: dict[str, Any]) -> bool:
    return cell["status"] == "ok" or cell["status"] in COUNTED


def _headline_row(binaries, fp32, by_cell) -> dict[str, Any]:
    ranked_binary, ranked_fp32 = ranked(binaries), ranked(fp32)
    fewest_binary, fewest_fp32 = fewest_insns(binaries), fewest_insns(fp32)
    best = ranked_binary[0] if ranked_binary else fewest_binary or binaries[0]
    base = ranked_fp32[0] if ranked_fp32 else fewest_fp32 or (fp32[0] if fp32 else None)
    insns = [c.get("guest_insns_per_inference") if c else None for c in (fewest_binary, fewest_fp32)]
    theory = by_cell.get(_option_key(best)) or {}
    measured = bool(ranked_binary and ranked_fp32)
    speedup = ratio(base["latency_median_ms"], best["latency_median_ms"]) if measured else None
    interval = paired_interval(paired_ratios(parse_repeat_medians(base.get("repeat_medians_ms")),
                                             parse_repeat_medians(best.get("repeat_medians_ms")))) \
        if measured else None
    same = next((f for f in ranked_fp32 if bool(f.get("use_xnnpack")) == bool(best.get("use_xnnpack"))), None)
    status = next((c["status"] for c in (best, base) if c is not None and not _success(c)),
                  best["status"] if best["status"] in COUNTED else "ok")
    notes = list(dict.fromkeys(c["error"] for c in (best, base)
                               if c is not None and not _success(c) and c.get("error")))
    if base is None:
        notes.append("no FP32 baseline measured")
    values = {
        **{k: best.get(k) for k in ("device", "device_arch", "engine", "threads", "model", "arch", "algo")},
        "status": status, "binary_options": option_label(best),
        "fp32_options": option_label(base) if base else None,
        "latency_median_ms": best.get("latency_median_ms") if ranked_binary else None,
        "fp32_latency_median_ms": base.get("latency_median_ms") if ranked_fp32 else None,
        "speedup_x": speedup, "speedup_ci95_low_x": interval.low if interval else None,
        "speedup_ci95_high_x": interval.high if interval else None,
        "pairs": interval.pairs if interval else None,
        "speedup_same_options_x": ratio(same["latency_median_ms"], best["latency_median_ms"])
        if same and measured else None,
        "binary_option_gain_pct": _gain_pct(ranked_binary), "fp32_option_gain_pct": _gain_pct(ranked_fp32),
        "guest_insns_per_inference": insns[0], "fp32_guest_insns_per_inference": insns[1],
        "speedup_insns_x": ratio(insns[1], insns[0]),
        "speedup_theoretical_x": theory.get("speedup_theoretical_x"),
        "speedup_deviation": ratio(speedup, theory.get("speedup_theoretical_x")),
        "size_ratio_measured_x": theory.get("size_ratio_measured_x"),
        "compression_theoretical_x": theory.get("compression_theoretical_x"),
        "test_accuracy_pct": theory.get("test_accuracy_pct"),
        "stop_reason": best.get("stop_reason"),
        "load_busy_max_pct": max((c["load_busy_max_pct"] for c in (best, base)
                                  if c is not None and c.get("load_busy_max_pct") is not None), default=None),
        "note": "; ".join(notes) or None,
    }
    values["arch"] = values["arch"] or theory.get("arch")
    values["algo"] = values["algo"] or theory.get("algo")
    return {name: values[name] for name in HEADLINE_FIELDS}
