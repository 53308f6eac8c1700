"""The statistics behind every derived number of a report.

Measured speedup is a ratio of medians: T_fp32 / T_binary, each the median of its cell's repeat
medians (one per independent launch). Its 95 % interval is a percentile bootstrap: each side's
repeat medians are resampled with replacement, independently, `BOOTSTRAP_RESAMPLES` times with a
fixed seed, the ratio of the resampled medians is taken each time, and the 2.5th and 97.5th
percentiles of those ratios are the bounds. With n repeats a side can take only the values its
repeats have, so with 3 repeats the bounds are min(fp32) / max(binary) and max(fp32) / min(binary):
the interval says how far the launches disagree, not more. The seed makes reports reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0
CI_LEVEL = 0.95


def parse_repeat_medians(text: str | None) -> list[float]:
    """The ';'-separated repeat medians of a latency row."""
    return [float(v) for v in (text or "").split(";") if v.strip()]


def bootstrap_ratio_ci(numerator: Sequence[float], denominator: Sequence[float],
                       resamples: int = BOOTSTRAP_RESAMPLES,
                       seed: int = BOOTSTRAP_SEED) -> tuple[float, float] | None:
    """Percentile bootstrap interval of median(numerator) / median(denominator); None if a side
    has fewer than two values (no spread to resample)."""
    if len(numerator) < 2 or len(denominator) < 2:
        return None
    rng = np.random.default_rng(seed)
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    num_medians = np.median(rng.choice(num, size=(resamples, num.size)), axis=1)
    den_medians = np.median(rng.choice(den, size=(resamples, den.size)), axis=1)
    tail = (1 - CI_LEVEL) / 2 * 100
    low, high = np.percentile(num_medians / den_medians, [tail, 100 - tail])
    return float(low), float(high)


def geomean(values: Sequence[float]) -> float:
    if not values or min(values) <= 0:
        raise ValueError("geometric mean needs positive values")
    return math.exp(sum(math.log(v) for v in values) / len(values))


def om_infer(speedups: Sequence[float], size_ratios: Sequence[float]) -> float:
    """BiBench's inference-efficiency metric: sqrt((mean(T_fp/T_bi)^2 + mean(S_fp/S_bi)^2) / 2)."""
    mean_speedup = sum(speedups) / len(speedups)
    mean_size = sum(size_ratios) / len(size_ratios)
    return math.sqrt((mean_speedup ** 2 + mean_size ** 2) / 2)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either is missing or the denominator is not positive."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator
