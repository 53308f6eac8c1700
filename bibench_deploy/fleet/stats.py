"""Statistics of one cell from its launches (independent process runs).

- latency_median_ms: median of the launches' medians (each launch is one independent sample).
- p90 / mean / std / min / max: over every timed inference of all launches, when the engine gives
  per-inference timings; p90 only from >= 64 inferences.
- CI95 of latency_median_ms: two-level percentile bootstrap (1000 resamples, fixed seed): draw
  launches with replacement, resample each drawn launch's inferences, take the median of the
  launches' medians. Without per-inference timings only the launches are resampled.
- spread: (max - min) / min of the launches' medians; above `max_spread_pct` the cell is unstable.
- guard columns: the quiet-device guard's readings over the cell's launches (bibench_deploy.fleet.guard).
- stop rule of a group's rounds (adaptive repeats): see `stop_reason`.
"""

from __future__ import annotations

import statistics
from typing import Optional

from bibench_deploy import formats
from bibench_deploy.fleet.engines.base import Launch

MIN_FOR_P90 = 64
BOOTSTRAP_RESAMPLES = 1000


def bootstrap_median_ci(launch_samples: list[list[float]], seed: int = 0) -> tuple[float, float]:
    """CI95 of the median of launch medians; each inner list is one launch's samples (a launch
    with a single value, e.g. an engine's own median, is not resampled inside)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    per_launch = np.stack([
        np.median(rng.choice(np.asarray(s, dtype=float), size=(BOOTSTRAP_RESAMPLES, len(s))), axis=1)
        for s in launch_samples])                                   # launches x resamples
    drawn = rng.integers(0, len(launch_samples), size=(BOOTSTRAP_RESAMPLES, len(launch_samples)))
    medians = np.median(per_launch[drawn, np.arange(BOOTSTRAP_RESAMPLES)[:, None]], axis=1)
    low, high = np.percentile(medians, [2.5, 97.5])
    return float(low), float(high)


def spread_pct(values: list[float]) -> float:
    return (max(values) - min(values)) / min(values) * 100.0 if min(values) > 0 else 0.0


def summarize(launches: list[Launch]) -> dict[str, Optional[float]]:
    medians = [launch.median_ms for launch in launches]
    pooled = [t for launch in launches for t in launch.timings_ms]
    summary = {
        "latency_median_ms": statistics.median(medians),
        "repeat_medians_ms": ";".join(f"{m:.6g}" for m in medians),
        "repeat_spread_pct": spread_pct(medians),
        "iterations": sum(launch.count for launch in launches),
        "warmup_runs": launches[0].warmup_runs,
        "init_ms": statistics.median(_present(launch.init_ms for launch in launches) or [None]),
        "first_inference_ms": launches[0].first_ms,
        "peak_memory_mb": max(_present(launch.peak_memory_mb for launch in launches), default=None),
    }
    summary.update(_pooled(pooled, launches) if pooled else _from_launches(launches))
    return summary


def _present(values) -> list[float]:
    return [v for v in values if v is not None]


def _pooled(pooled: list[float], launches: list[Launch]) -> dict[str, Optional[float]]:
    import numpy as np
    data = np.asarray(pooled, dtype=float)
    mean, std = float(data.mean()), float(data.std())
    low, high = bootstrap_median_ci([launch.timings_ms for launch in launches])
    return {"latency_p90_ms": float(np.percentile(data, 90)) if data.size >= MIN_FOR_P90 else None,
            "latency_mean_ms": mean, "latency_std_ms": std,
            "latency_cv": std / mean if mean else None,
            "latency_min_ms": float(data.min()), "latency_max_ms": float(data.max()),
            "latency_ci95_low_ms": low, "latency_ci95_high_ms": high}


def _from_launches(launches: list[Launch]) -> dict[str, Optional[float]]:
    """Engines without per-inference timings: combine their per-launch summaries."""
    counts = [launch.count for launch in launches]
    means = [launch.mean_ms for launch in launches]
    mean = sum(c * m for c, m in zip(counts, means)) / sum(counts) if None not in means else None
    stds = _present(launch.std_ms for launch in launches)
    std = statistics.fmean(stds) if len(stds) == len(launches) else None
    low, high = bootstrap_median_ci([[launch.median_ms] for launch in launches])
    return {"latency_p90_ms": None, "latency_mean_ms": mean, "latency_std_ms": std,
            "latency_cv": std / mean if std is not None and mean else None,
            "latency_min_ms": min(_present(launch.min_ms for launch in launches), default=None),
            "latency_max_ms": max(_present(launch.max_ms for launch in launches), default=None),
            "latency_ci95_low_ms": low, "latency_ci95_high_ms": high}


def guard_fields(guards) -> dict:
    """Per-cell columns of the quiet-device guard's records (one per launch)."""
    readings = [g.reading for g in guards]
    known = lambda name: [getattr(r, name) for r in readings if getattr(r, name) is not None]  # noqa: E731
    return {"load_busy_max_pct": max(known("busy_pct"), default=None),
            "load_steal_max_pct": max(known("steal_pct"), default=None),
            "load_runnable_max": max(known("runnable"), default=None),
            "load_tasks": ";".join(sorted({t for r in readings for t in r.tasks})),
            "load_wait_s": sum(g.waited_s for g in guards) if guards else None,
            "contended_launches": sum(g.contended or g.busy_during for g in guards)}


def stop_reason(group, launches: dict, failures: dict, rounds: int, elapsed_s: float,
                measure) -> Optional[tuple[str, Optional[float]]]:
    """Whether a group's rounds stop, and why: (reason, paired half-width %), or None to go on.

    The pair that decides is the group's headline: the binary cell with the lowest median so far
    against the FP32 cell with the lowest median so far (their k-th launches are paired)."""
    from bibench_deploy.paired import paired_interval, paired_ratios
    alive = [c for c in group if c.key not in failures and launches[c.key]]
    if not alive:
        return "failed", None
    if rounds < measure.repeats:
        return None
    sides = [[c for c in alive if c.model.variant == v] for v in formats.VARIANTS]
    interval = None
    if all(sides):
        best = [min(side, key=lambda c: statistics.median(x.median_ms for x in launches[c.key]))
                for side in sides]
        interval = paired_interval(paired_ratios([x.median_ms for x in launches[best[1].key]],
                                                 [x.median_ms for x in launches[best[0].key]]))
    halfwidth = interval.halfwidth_pct if interval else None
    if measure.max_repeats <= measure.repeats:
        return "fixed", halfwidth
    if not all(sides):
        return "unpaired", None
    if halfwidth is not None and halfwidth <= measure.target_ci_pct:
        return "target", halfwidth
    if rounds >= measure.max_repeats:
        return "launch_budget", halfwidth
    if elapsed_s >= measure.max_group_secs:
        return "time_budget", halfwidth
    return None
