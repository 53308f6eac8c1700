"""The statistics behind every derived number of a report.

Measured speedup is a ratio of medians: T_fp32 / T_binary, each the median of its cell's launch
medians (one per independent launch). Its 95 % interval comes from the paired launches
(`bibench_deploy.paired`): the k-th launches of two cells of one group ran in the same round.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def parse_repeat_medians(text: str | None) -> list[float]:
    """The ';'-separated repeat medians of a latency row."""
    return [float(v) for v in (text or "").split(";") if v.strip()]


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
