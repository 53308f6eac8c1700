"""Join measured cells with their manifests: one summary row per binary model cell."""

from __future__ import annotations

from typing import Any

from bibench_deploy import formats
from bibench_deploy.cells import COUNTED, MEASURED  # statuses whose numbers are measurements
from bibench_deploy.paired import paired_interval, paired_ratios
from bibench_deploy.reports.load import cell_key
from bibench_deploy.reports.schema import SUMMARY_FIELDS
from bibench_deploy.reports.stats import parse_repeat_medians, ratio


def manifest_value(manifest: dict[str, Any] | None, dotted: str) -> Any:
    value: Any = manifest
    for key in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def split_model_name(model: str) -> tuple[str, str]:
    arch, _, algo = model.rpartition("-")
    return arch, algo


def summarize(rows: list[dict[str, Any]], manifests: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Summary rows sorted by cell and model, and warnings about what could not be joined."""
    baselines = _index_baselines(rows, manifests)
    summary, warnings = [], []
    for row in sorted((r for r in rows if r["variant"] != formats.VARIANT_FP32), key=_order):
        base, base_note = _find_baseline(row, baselines, manifests)
        notes = [base_note] if base_note and row["status"] in MEASURED else []
        out = _summary_row(row, base, manifests, notes)
        if out["sha256_matches_manifest"] is False:
            warnings.append(f"{row['device']} {row['model']}: measured file differs from the manifest's "
                            "artefact (sha256); its theory columns may describe another build")
        summary.append(out)
    return summary, warnings


def _order(row: dict[str, Any]) -> tuple:
    return (*cell_key(row), row["model"])


def _arch(row: dict[str, Any], manifests: dict[str, dict[str, Any]]) -> str:
    return row.get("arch") or manifest_value(manifests.get(row["model"]), "arch") or split_model_name(row["model"])[0]


def baseline_key(row: dict[str, Any]) -> tuple:
    """The options an FP32 baseline shares with a binary cell: device, engine, threads, affinity,
    XNNPACK (indirect BGEMM is a binary-kernel switch; FP32 cells record it false)."""
    device, engine, threads, _, xnnpack = cell_key(row)
    return device, engine, threads, row.get("affinity") or "", xnnpack


def _index_baselines(rows, manifests) -> dict[tuple, dict[str, Any]]:
    """FP32 rows by (options, model) and by (options, arch): a model's own baseline comes first."""
    index: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        if row["variant"] == formats.VARIANT_FP32:
            index[(*baseline_key(row), "model", row["model"])] = row
            index.setdefault((*baseline_key(row), "arch", _arch(row, manifests)), row)
    return index


def _find_baseline(row, baselines, manifests) -> tuple[dict[str, Any] | None, str]:
    own = baselines.get((*baseline_key(row), "model", row["model"]))
    if own is not None:
        return own, ""
    shared = baselines.get((*baseline_key(row), "arch", _arch(row, manifests)))
    if shared is not None:
        return shared, f"FP32 baseline measured as {shared['model']}"
    return None, "no FP32 baseline measured in this cell"


def _latency(row: dict[str, Any] | None) -> tuple[float | None, float | None, float | None]:
    if row is None or row["status"] not in MEASURED:
        return None, None, None
    return row.get("latency_median_ms"), row.get("latency_ci95_low_ms"), row.get("latency_ci95_high_ms")


def guest_insns(row: dict[str, Any] | None) -> float | None:
    """An emulated cell's instructions per inference (a count, never a latency)."""
    if row is None or row["status"] not in COUNTED:
        return None
    return row.get("guest_insns_per_inference")


def speedup(row, base) -> tuple[float | None, tuple[float, float] | None]:
    """T_fp32 / T_binary (ratio of medians) and the 95 % interval of the paired launch ratios
    (the k-th launches of two cells of one group ran in the same round)."""
    binary, fp32 = _latency(row)[0], _latency(base)[0]
    value = ratio(fp32, binary)
    if value is None:
        return None, None
    interval = paired_interval(paired_ratios(parse_repeat_medians(base.get("repeat_medians_ms")),
                                             parse_repeat_medians(row.get("repeat_medians_ms"))))
    return value, (interval.low, interval.high) if interval else None


def _sha_matches(row, base, manifests) -> bool | None:
    checks = [(row.get("model_sha256"), _built_sha256(manifests, row, formats.LCE))]
    if base is not None:
        checks.append((base.get("model_sha256"), _built_sha256(manifests, base, formats.FP32)))
    known = [(measured, built) for measured, built in checks if measured and built]
    return all(m == b for m, b in known) if known else None


def _built_sha256(manifests, row, key: str) -> str | None:
    return manifest_value(manifests.get(row["model"]), f"artefacts.{key}.sha256")


def theory_status(manifest: dict[str, Any] | None) -> str | None:
    """counted | unknown (the manifest says why) | None without a manifest."""
    if manifest is None:
        return None
    return "unknown" if manifest_value(manifest, "complexity.unknown") else "counted"


def _summary_row(row, base, manifests, notes: list[str]) -> dict[str, Any]:
    manifest = manifests.get(row["model"])
    if manifest is None:
        notes.append("no manifest: theory, size and audit columns empty")
    elif theory_status(manifest) == "unknown":
        notes.append(f"theory unknown: {manifest_value(manifest, 'complexity.unknown')}")
    if row["status"] not in MEASURED and row.get("error"):
        notes.insert(0, row["error"])
    if base is not None and base["status"] not in MEASURED and row["status"] in MEASURED:
        notes.append(f"FP32 baseline {base['status']}" + (f": {base['error']}" if base.get("error") else ""))
    totals = lambda key: manifest_value(manifest, f"complexity.totals.{key}")  # noqa: E731
    median, low, high = _latency(row)
    fp_median, fp_low, fp_high = _latency(base)
    measured, ci = speedup(row, base)
    lce_bytes = manifest_value(manifest, f"artefacts.{formats.LCE}.bytes")
    fp32_bytes = manifest_value(manifest, f"artefacts.{formats.FP32}.bytes")
    size_ratio = ratio(fp32_bytes, lce_bytes)
    share = manifest_value(manifest, f"audit.{formats.LCE}.binary_mac_share")
    accuracy = manifest_value(manifest, "training.test_accuracy")
    if manifest_value(manifest, "training.trained") is False:
        accuracy = None  # an untrained model's accuracy is chance level, not a result
    arch = _arch(row, manifests)
    values = {
        **{k: row.get(k) for k in ("device", "device_arch", "engine", "threads", "model", "status",
                                   "stop_reason", "load_busy_max_pct")},
        "use_indirect_bgemm": bool(row.get("use_indirect_bgemm")), "use_xnnpack": bool(row.get("use_xnnpack")),
        "arch": arch, "algo": row.get("algo") or manifest_value(manifest, "algo") or split_model_name(row["model"])[1],
        "fp32_status": base["status"] if base else None, "repeats": row.get("repeats"),
        "latency_median_ms": median, "latency_ci95_low_ms": low, "latency_ci95_high_ms": high,
        "fp32_latency_median_ms": fp_median, "fp32_latency_ci95_low_ms": fp_low, "fp32_latency_ci95_high_ms": fp_high,
        "speedup_measured_x": measured, "speedup_ci95_low_x": ci[0] if ci else None,
        "speedup_ci95_high_x": ci[1] if ci else None,
        "guest_insns_per_inference": guest_insns(row), "fp32_guest_insns_per_inference": guest_insns(base),
        "speedup_insns_x": ratio(guest_insns(base), guest_insns(row)),
        "speedup_theoretical_x": totals("r_s"), "speedup_deviation": ratio(measured, totals("r_s")),
        "lce_bytes": lce_bytes, "fp32_bytes": fp32_bytes, "size_ratio_measured_x": size_ratio,
        "compression_theoretical_x": totals("r_c"), "size_deviation": ratio(size_ratio, totals("r_c")),
        "binary_mac_coverage_pct": None if share is None else 100 * share,
        "extra_float_flops": manifest_value(manifest, f"audit.{formats.LCE}.extra_float_flops"),
        "ops": totals("ops"), "fp32_flops": totals("fp32_flops"),
        "test_accuracy_pct": None if accuracy is None else 100 * accuracy,
        "theory": theory_status(manifest),
        "model_sha256": row.get("model_sha256"), "sha256_matches_manifest": _sha_matches(row, base, manifests),
        "note": "; ".join(notes) or None,
    }
    return {name: values[name] for name in SUMMARY_FIELDS}
