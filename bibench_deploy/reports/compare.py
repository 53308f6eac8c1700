"""Two runs side by side: per cell, run B over run A."""

from __future__ import annotations

from typing import Any

from bibench_deploy.reports.markdown import MISSING, number, options, table
from bibench_deploy.reports.schema import COMPARE_FIELDS
from bibench_deploy.reports.stats import ratio

_KEY = ("device", "engine", "threads", "use_indirect_bgemm", "use_xnnpack", "model")
_SIDES = ("status", "latency_median_ms", "fp32_latency_median_ms", "speedup_measured_x")


def compare(summary_a: list[dict[str, Any]], summary_b: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per cell present in either run; the ratios are B / A where both were measured."""
    a = {tuple(r[k] for k in _KEY): r for r in summary_a}
    b = {tuple(r[k] for k in _KEY): r for r in summary_b}
    rows = []
    for key in sorted(a.keys() | b.keys(), key=str):
        ra, rb = a.get(key, {}), b.get(key, {})
        values: dict[str, Any] = dict(zip(_KEY, key))
        for side, row in (("a", ra), ("b", rb)):
            values.update({f"{name}_{side}": row.get(name) for name in _SIDES})
        values["latency_ratio_b_a"] = ratio(values["latency_median_ms_b"], values["latency_median_ms_a"])
        values["fp32_latency_ratio_b_a"] = ratio(values["fp32_latency_median_ms_b"], values["fp32_latency_median_ms_a"])
        values["speedup_ratio_b_a"] = ratio(values["speedup_measured_x_b"], values["speedup_measured_x_a"])
        rows.append({name: values[name] for name in COMPARE_FIELDS})
    return rows


def render_compare(run_a: str, run_b: str, rows: list[dict[str, Any]]) -> str:
    headers = ["device", "model", "engine", f"latency ms ({run_a})", f"latency ms ({run_b})", "B / A",
               "FP32 B / A", f"speedup ({run_a})", f"speedup ({run_b})", "B / A"]
    body = [[r["device"], r["model"], f"{r['engine']}, {options(r)}",
             number(r["latency_median_ms_a"]) if r["status_a"] else "not in run",
             number(r["latency_median_ms_b"]) if r["status_b"] else "not in run",
             number(r["latency_ratio_b_a"]), number(r["fp32_latency_ratio_b_a"]),
             number(r["speedup_measured_x_a"], "x"), number(r["speedup_measured_x_b"], "x"),
             number(r["speedup_ratio_b_a"])] for r in rows]
    return (f"# Run `{run_b}` (B) against run `{run_a}` (A)\n\nRatios are B / A per cell; below 1 means B "
            f"is faster (latency) or gains less (speedup). {MISSING}: not measured in one of the runs.\n\n"
            + table(headers, body))
