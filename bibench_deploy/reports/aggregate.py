"""Per-algorithm aggregates over devices, and what could not be deployed."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from bibench_deploy.reports.schema import AGGREGATE_FIELDS, UNDEPLOYABLE_FIELDS
from bibench_deploy.reports.stats import geomean, om_infer, ratio
from bibench_deploy.reports.summary import COUNTED, MEASURED, manifest_value, split_model_name

CONFIG = ("engine", "threads")
EXCLUDED = ("contended",)  # measured on busy cores: left out of every aggregate, and counted


def aggregate(headline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (arch, algo, engine, threads) over the devices' headline speedups (best vs
    best); contended rows are left out and counted."""
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for row in headline:
        if row["speedup_x"] is not None:
            groups[(row["arch"], row["algo"], *(row[k] for k in CONFIG))].append(row)
    out = []
    for key, rows in sorted(groups.items(), key=lambda kv: str(kv[0])):
        kept = [r for r in rows if r["status"] not in EXCLUDED]
        out.append(_aggregate_row(key, kept, len(rows) - len(kept)) if kept else
                   {**dict.fromkeys(AGGREGATE_FIELDS), **dict(zip(("arch", "algo", *CONFIG), key)),
                    "devices": 0, "contended_excluded": len(rows)})
    return out


def _aggregate_row(key: tuple, rows: list[dict[str, Any]], excluded: int) -> dict[str, Any]:
    speedups = [r["speedup_x"] for r in rows]
    sizes = [r["size_ratio_measured_x"] for r in rows if r["size_ratio_measured_x"] is not None]
    first = rows[0]
    geo = geomean(speedups)
    values = dict(zip(("arch", "algo", *CONFIG), key))
    values.update({
        "devices": len({r["device"] for r in rows}), "contended_excluded": excluded,
        "speedup_geomean_x": geo, "speedup_mean_x": sum(speedups) / len(speedups),
        "speedup_theoretical_x": first["speedup_theoretical_x"],
        "speedup_deviation_geomean": ratio(geo, first["speedup_theoretical_x"]),
        "size_ratio_measured_x": first["size_ratio_measured_x"],
        "compression_theoretical_x": first["compression_theoretical_x"],
        "om_infer": om_infer(speedups, sizes) if len(sizes) == len(speedups) else None,
        "test_accuracy_pct": first["test_accuracy_pct"],
    })
    return {name: values[name] for name in AGGREGATE_FIELDS}


def undeployable(summary: list[dict[str, Any]], manifests: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """(arch, algo, engine) triples that failed on some device, with the reason; and engines the
    manifest declares unsupported (`deploy.<engine>.supported: false`) that the run never tried."""
    failed: dict[tuple, dict[str, Any]] = {}
    for row in summary:
        if row["status"] in MEASURED or row["status"] in COUNTED:  # counted: ran, emulated
            continue
        key = (row["arch"], row["algo"], row["engine"], row["status"])
        entry = failed.setdefault(key, {"devices": set(), "reasons": []})
        entry["devices"].add(row["device"])
        if row["note"] and row["note"] not in entry["reasons"]:
            entry["reasons"].append(row["note"])
    rows = [dict(zip(UNDEPLOYABLE_FIELDS, (*key, ";".join(sorted(v["devices"])), " | ".join(v["reasons"]))))
            for key, v in failed.items()]
    tried = {(r["arch"], r["algo"], r["engine"]) for r in summary}
    for name, manifest in manifests.items():
        for engine, deploy in (manifest_value(manifest, "deploy") or {}).items():
            arch = manifest.get("arch") or split_model_name(name)[0]
            algo = manifest.get("algo") or split_model_name(name)[1]
            if isinstance(deploy, dict) and deploy.get("supported") is False and (arch, algo, engine) not in tried:
                rows.append(dict(zip(UNDEPLOYABLE_FIELDS, (arch, algo, engine, "unsupported", "",
                                                           deploy.get("reason") or ""))))
    return sorted(rows, key=lambda r: (r["arch"], r["algo"], r["engine"]))
