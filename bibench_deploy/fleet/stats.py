"""Statistics of one cell from its launches (independent process runs).

- latency_median_ms: median of the launches' medians (each launch is one independent sample).
- p90 / mean / std / min / max: over every timed inference of all launches, when the engine gives
  per-inference timings; p90 only from >= 64 inferences.
- CI95 of the median: percentile bootstrap (1000 resamples, fixed seed) of the median of the
  pooled inferences, or of the launches' medians when per-inference timings are not available.
- spread: (max - min) / min of the launches' medians; above `max_spread_pct` the cell is unstable.
"""

from __future__ import annotations

import statistics
from typing import Optional

from bibench_deploy.fleet.engines.base import Launch

MIN_FOR_P90 = 64
BOOTSTRAP_RESAMPLES = 1000


def bootstrap_median_ci(samples: list[float], seed: int = 0) -> tuple[float, float]:
    import numpy as np
    data = np.asarray(samples, dtype=float)
    rng = np.random.default_rng(seed)
    medians = np.median(rng.choice(data, size=(BOOTSTRAP_RESAMPLES, data.size)), axis=1)
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
    summary.update(_pooled(pooled) if pooled else _from_launches(launches))
    return summary


def _present(values) -> list[float]:
    return [v for v in values if v is not None]


def _pooled(pooled: list[float]) -> dict[str, Optional[float]]:
    import numpy as np
    data = np.asarray(pooled, dtype=float)
    mean, std = float(data.mean()), float(data.std())
    low, high = bootstrap_median_ci(pooled)
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
    low, high = bootstrap_median_ci([launch.median_ms for launch in launches])
    return {"latency_p90_ms": None, "latency_mean_ms": mean, "latency_std_ms": std,
            "latency_cv": std / mean if std is not None and mean else None,
            "latency_min_ms": min(_present(launch.min_ms for launch in launches), default=None),
            "latency_max_ms": max(_present(launch.max_ms for launch in launches), default=None),
            "latency_ci95_low_ms": low, "latency_ci95_high_ms": high}
