"""A small real fleet run for the report tests: the fixture models measured in-process with the
LCE interpreter, written as a fleet run directory (latency.csv in the fleet schema + run.json).

The two devices `local-1` and `local-2` are two fleet entries for this same host, measured one
after the other; the dabnn rows are the `unsupported` rows a fleet writes for a device that has no
daBNN binary. The interpreter's extension module is loaded directly so TensorFlow is not imported.
"""

from __future__ import annotations

import csv
import importlib.machinery
import importlib.util
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from bibench_deploy.reports.schema import LATENCY_FIELDS, csv_text

MODELS = Path(__file__).parent / "fixtures" / "models"
WARMUP, ITERATIONS, REPEATS = 3, 30, 3


def _lite_interpreter():
    loaded = sys.modules.get("larq_compute_engine.tflite.python.interpreter_wrapper_lite")
    if loaded is not None:  # a second copy of the extension cannot register its types again
        return loaded.LiteInterpreter
    package = importlib.util.find_spec("larq_compute_engine")  # locates without importing it
    so = Path(package.submodule_search_locations[0]) / "tflite/python/interpreter_wrapper_lite.so"
    loader = importlib.machinery.ExtensionFileLoader("interpreter_wrapper_lite", str(so))
    module = importlib.util.module_from_spec(importlib.util.spec_from_file_location(so.stem, so, loader=loader))
    loader.exec_module(module)
    sys.modules["larq_compute_engine.tflite.python.interpreter_wrapper_lite"] = module
    return module.LiteInterpreter


def _time_one_launch(flatbuffer: bytes, indirect: bool) -> list[float]:
    interpreter = _lite_interpreter()(flatbuffer, 1, False, indirect, False)
    x = np.random.default_rng(0).normal(size=interpreter.input_shapes[0]).astype(np.float32)
    for _ in range(WARMUP):
        interpreter.predict([x])
    times = []
    for _ in range(ITERATIONS):
        start = time.perf_counter_ns()
        interpreter.predict([x])
        times.append((time.perf_counter_ns() - start) / 1e6)
    return times


def _stats(launches: list[list[float]]) -> dict:
    every = np.concatenate(launches)
    medians = [float(np.median(t)) for t in launches]
    boot = np.median(np.random.default_rng(0).choice(every, size=(2000, every.size)), axis=1)
    spread = 100 * (max(medians) - min(medians)) / min(medians)
    return {
        "warmup_runs": WARMUP, "repeats": len(launches), "iterations": int(every.size),
        "latency_median_ms": statistics.median(medians), "latency_p90_ms": float(np.percentile(every, 90)),
        "latency_mean_ms": float(every.mean()), "latency_std_ms": float(every.std()),
        "latency_cv": float(every.std() / every.mean()), "latency_min_ms": float(every.min()),
        "latency_max_ms": float(every.max()), "latency_ci95_low_ms": float(np.percentile(boot, 2.5)),
        "latency_ci95_high_ms": float(np.percentile(boot, 97.5)),
        "repeat_medians_ms": ";".join(f"{m:.6f}" for m in medians), "repeat_spread_pct": spread,
        "status": "ok" if spread <= 5 else "unstable", "error": "" if spread <= 5 else "repeats disagree by > 5 %",
    }


def _base_row(run_id: str, device: str, manifest: dict, variant: str, indirect: bool) -> dict:
    artefact = manifest["artefacts"]["lce" if variant == "binary" else "fp32"]
    return {
        "run_id": run_id, "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "tool_version": "0.1.0", "device": device, "device_arch": platform.machine(),
        "device_cpu": platform.processor() or platform.machine(), "device_os": platform.platform(),
        "engine": "lce_interpreter", "engine_version": "0.16.0", "model": manifest["name"],
        "arch": manifest["arch"], "algo": manifest["algo"], "variant": variant,
        "model_sha256": artefact["sha256"], "model_bytes": artefact["bytes"], "threads": 1,
        "use_indirect_bgemm": indirect, "use_xnnpack": False, "attempt": 1,
    }


def _measure_group(run_id: str, device: str, manifest: dict, binary_indirect: list[bool]) -> list[dict]:
    """A fleet group: the binary cells (one per indirect-BGEMM setting) and the FP32 cell,
    launched in rounds (binary, fp32, binary, ...) so the k-th launches of any two are a pair."""
    files = {v: (MODELS / manifest["name"] / manifest["artefacts"][k]["path"]).read_bytes()
             for v, k in (("binary", "lce"), ("fp32", "fp32"))}
    cells = [("binary", binary_indirect[0]), ("fp32", False), *(("binary", i) for i in binary_indirect[1:])]
    launches: dict[tuple, list[list[float]]] = {cell: [] for cell in cells}
    for _ in range(REPEATS):
        for variant, indirect in cells:
            launches[(variant, indirect)].append(_time_one_launch(files[variant], indirect))
    return [{**_base_row(run_id, device, manifest, v, i), **_stats(launches[(v, i)]),
             "stop_reason": "fixed", "load_busy_max_pct": 0.0, "contended_launches": 0} for v, i in cells]


def _unsupported(run_id: str, device: str, manifest: dict) -> dict:
    return {**_base_row(run_id, device, manifest, "binary", False), "engine": "dabnn", "engine_version": "",
            "status": "unsupported", "error": f"device {device} has no daBNN benchmark binary"}


def write_run(run_dir: Path, run_id: str = "test-run") -> Path:
    manifests = [json.loads((d / "manifest.json").read_text()) for d in sorted(MODELS.iterdir())]
    rows = []
    for manifest in manifests:
        rows += _measure_group(run_id, "local-1", manifest, [False, True])
        rows += _measure_group(run_id, "local-2", manifest, [False])
        rows.append(_unsupported(run_id, "local-1", manifest))
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / "latency.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=LATENCY_FIELDS)
        writer.writeheader()
        writer.writerows([{k: csv_text(v) for k, v in row.items()} for row in rows])
    (run_dir / "run.json").write_text(json.dumps({
        "run_id": run_id, "tool_version": "0.1.0",
        "models": {m["name"]: m["artefacts"]["lce"]["sha256"] for m in manifests}}, indent=2))
    return run_dir
