"""BiBench's hardware-track table: per device, engine and threads (and network architecture),
the FP32 baseline and each algorithm's latency and speedup, undeployable combinations marked
with their reason, and an OM_infer row per architecture over the devices.

Numbers come from the headline rows (best binary vs best FP32 of each group); `fp32_ms` is the
median of the row's algorithms' FP32 latencies (each algorithm's FP32 twin is the same network).
An engine that runs no FP32 model (daBNN runs binary networks only) gets the baseline BiBench's
table gives every library of a device: the fastest FP32 row of another engine on the same
device, threads and architecture (`fp32_engine` names it), and speedups against it.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from bibench_deploy.reports.schema import HARDWARE_FIELDS, HARDWARE_PER_ALGO

OM_ROW = "OM_infer"
NOT_MEASURED = "not measured"


def algorithms(headline: list[dict[str, Any]]) -> list[str]:
    return sorted({r["algo"] for r in headline if r.get("algo")})


def hardware_fields(algos: list[str]) -> tuple[str, ...]:
    return HARDWARE_FIELDS + tuple(f"{a}_{suffix}" for a in algos for suffix in HARDWARE_PER_ALGO)


def _input_size(manifests: dict[str, dict[str, Any]], arch: str) -> str | None:
    for manifest in manifests.values():
        shape = manifest.get("input_shape")
        if manifest.get("arch") == arch and isinstance(shape, list) and len(shape) == 4:
            return "x".join(str(v) for v in shape[1:])
    return None


def hardware_table(headline: list[dict[str, Any]], aggregates: list[dict[str, Any]],
                   latency_rows: list[dict[str, Any]],
                   manifests: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    algos = algorithms(headline)
    devices: dict[str, dict[str, Any]] = {}
    for row in latency_rows:
        info = devices.setdefault(row["device"], {})
        for key in ("device_cpu", "device_cores", "device_os", "device_arch"):
            info[key] = info.get(key) or row.get(key)
    groups: dict[tuple, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in headline:
        groups[(row["device"], row["engine"], row["threads"], row["arch"])][row["algo"]] = row
    table = [_device_row(key, by_algo, algos, devices.get(key[0], {}), manifests)
             for key, by_algo in sorted(groups.items(), key=lambda kv: str(kv[0]))]
    for row in table:
        if row["fp32_ms"] is None:
            _borrow_fp32(row, table, algos)
    om_groups = sorted({(r["engine"], r["threads"], r["arch"]) for r in headline}, key=str)
    table += [_om_row(key, aggregates, algos, manifests) for key in om_groups]
    return table


def _device_row(key, by_algo, algos, info, manifests) -> dict[str, Any]:
    device, engine, threads, arch = key
    fp32 = [r for r in by_algo.values() if r["fp32_latency_median_ms"] is not None]
    fp32_status = next((r["status"] for r in fp32 if r["status"] != "ok"), "ok" if fp32 else None)
    row = {**dict.fromkeys(hardware_fields(algos)), **info, "device": device, "engine": engine,
           "threads": threads, "arch": arch, "input_size": _input_size(manifests, arch),
           "fp32_ms": statistics.median(r["fp32_latency_median_ms"] for r in fp32) if fp32 else None,
           "fp32_status": fp32_status, "fp32_engine": engine if fp32 else None}
    for algo in algos:
        cell = by_algo.get(algo)
        if cell is None:
            row[f"{algo}_status"] = NOT_MEASURED
            continue
        row.update({f"{algo}_ms": cell["latency_median_ms"], f"{algo}_speedup_x": cell["speedup_x"],
                    f"{algo}_status": cell["status"],
                    f"{algo}_note": cell["note"] if cell["status"] != "ok" else None})
    return row


def _borrow_fp32(row: dict[str, Any], table: list[dict[str, Any]], algos: list[str]) -> None:
    """The fastest FP32 baseline of another engine on `row`'s device, threads and arch, and
    each algorithm's speedup against it."""
    same = [r for r in table if r["fp32_ms"] is not None and r["fp32_engine"] == r["engine"]
            and (r["device"], r["threads"], r["arch"]) == (row["device"], row["threads"],
                                                           row["arch"])]
    if not same:
        return
    base = min(same, key=lambda r: r["fp32_ms"])
    row.update(fp32_ms=base["fp32_ms"], fp32_status=base["fp32_status"],
               fp32_engine=base["engine"])
    for algo in algos:
        if row[f"{algo}_ms"]:
            row[f"{algo}_speedup_x"] = base["fp32_ms"] / row[f"{algo}_ms"]


def _om_row(key, aggregates, algos, manifests) -> dict[str, Any]:
    engine, threads, arch = key
    row = {**dict.fromkeys(hardware_fields(algos)), "device": OM_ROW, "engine": engine,
           "threads": threads, "arch": arch, "input_size": _input_size(manifests, arch)}
    for agg in aggregates:
        if (agg["engine"], agg["threads"], agg["arch"]) == key and agg["algo"] in algos:
            row[f"{agg['algo']}_speedup_x"] = agg["om_infer"]
            row[f"{agg['algo']}_note"] = (f"over {agg['devices']} device(s)" +
                                          (f", {agg['contended_excluded']} contended left out"
                                           if agg["contended_excluded"] else ""))
    return row
