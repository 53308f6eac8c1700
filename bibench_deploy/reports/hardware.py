"""BiBench's hardware-track table: per device, engine and threads (and network architecture),
the FP32 baseline and each algorithm's latency and speedup, undeployable combinations marked
with their reason, and an OM_infer row per architecture over the devices.

Numbers come from the headline rows (best binary vs best FP32 of each group); `fp32_ms` is the
median of the row's algorithms' FP32 latencies (each algorithm's FP32 twin is the same network).
An engine that runs no FP32 model (daBNN runs binary networks only) gets the baseline BiBench's
table gives every library of a device: the fastest FP32 row of another engine on the same
device, threads and architecture (`fp32_engine` names it), and speedups against it.

An emulated device's rows hold no latency: its cells carry millions of guest instructions per
inference under qemu-user (`fp32_minsns`, `<algo>_minsns`) and the speedup by that count
(`<algo>_speedup_insns_x`), a deterministic proxy in columns of its own; the OM_infer rows are
over the latency devices alone.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from bibench_deploy.cells import COUNTED
from bibench_deploy.reports.schema import HARDWARE_FIELDS, HARDWARE_PER_ALGO

OM_ROW = "OM_infer"
NOT_MEASURED = "not measured"
MILLION = 1e6
# (the FP32 baseline's column, an algorithm's value suffix, its speedup suffix) per measure
MEASURES = (("fp32_ms", "ms", "speedup_x"), ("fp32_minsns", "minsns", "speedup_insns_x"))


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
        if row["fp32_engine"] is None:
            _borrow_fp32(row, table, algos)
    counting = {r["device"] for r in headline if r["status"] in COUNTED}
    om_groups = sorted({(r["engine"], r["threads"], r["arch"]) for r in headline
                        if r["device"] not in counting}, key=str)
    table += [_om_row(key, aggregates, algos, manifests) for key in om_groups]
    return table


def _device_row(key, by_algo, algos, info, manifests) -> dict[str, Any]:
    device, engine, threads, arch = key
    row = {**dict.fromkeys(hardware_fields(algos)), **info, "device": device, "engine": engine,
           "threads": threads, "arch": arch, "input_size": _input_size(manifests, arch),
           **_fp32_baseline(list(by_algo.values()), engine)}
    for algo in algos:
        cell = by_algo.get(algo)
        if cell is None:
            row[f"{algo}_status"] = NOT_MEASURED
            continue
        row.update({f"{algo}_ms": cell["latency_median_ms"], f"{algo}_speedup_x": cell["speedup_x"],
                    f"{algo}_minsns": _millions(cell.get("guest_insns_per_inference")),
                    f"{algo}_speedup_insns_x": cell.get("speedup_insns_x"),
                    f"{algo}_status": cell["status"],
                    f"{algo}_note": cell["note"] if cell["status"] != "ok" else None})
    return row


def _fp32_baseline(rows: list[dict[str, Any]], engine: str) -> dict[str, Any]:
    """The median over the row's algorithms of their FP32 latencies or counts."""
    ms = [r["fp32_latency_median_ms"] for r in rows if r["fp32_latency_median_ms"] is not None]
    insns = [r["fp32_guest_insns_per_inference"] for r in rows
             if r.get("fp32_guest_insns_per_inference") is not None]
    fp32 = [r for r in rows if r["fp32_latency_median_ms"] is not None
            or r.get("fp32_guest_insns_per_inference") is not None]
    return {"fp32_ms": statistics.median(ms) if ms else None,
            "fp32_minsns": _millions(statistics.median(insns)) if insns else None,
            "fp32_status": next((r["status"] for r in fp32 if r["status"] != "ok"),
                                "ok" if fp32 else None),
            "fp32_engine": engine if fp32 else None}


def _millions(count: float | None) -> float | None:
    return None if count is None else count / MILLION


def _borrow_fp32(row: dict[str, Any], table: list[dict[str, Any]], algos: list[str]) -> None:
    """The fastest (fewest-instruction, on an emulated device) FP32 baseline of another engine
    on `row`'s device, threads and arch, and each algorithm's speedup against it."""
    for base_key, value, speedup in MEASURES:
        same = [r for r in table if r[base_key] is not None and r["fp32_engine"] == r["engine"]
                and (r["device"], r["threads"], r["arch"]) == (row["device"], row["threads"],
                                                               row["arch"])]
        if not same:
            continue
        base = min(same, key=lambda r: r[base_key])
        row.update({base_key: base[base_key], "fp32_status": base["fp32_status"],
                    "fp32_engine": base["engine"]})
        for algo in algos:
            if row[f"{algo}_{value}"]:
                row[f"{algo}_{speedup}"] = base[base_key] / row[f"{algo}_{value}"]
        return


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
