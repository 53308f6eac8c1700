"""The 95 % interval of a speedup from paired launches, shared by the fleet runner (adaptive
stopping) and the reports.

A group's launches run in rounds (A B A B ...): round k launches every cell of the group once,
so the k-th launch of a binary cell and the k-th launch of an FP32 cell are a pair, measured
seconds apart under the same device state. Each pair gives a ratio r_k = T_fp32,k / T_binary,k.
The interval is a t-interval on log r_k: exp(mean +- t(0.975, n-1) * sd / sqrt(n)); its estimate
is the geometric mean of the ratios. Drift that slows both sides alike cancels in r_k, so the
interval narrows with n where a bootstrap over independent medians could not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

LEVEL = 0.95


@dataclass(frozen=True)
class PairedInterval:
    estimate: float       # geometric mean of the paired ratios
    low: float
    high: float
    pairs: int

    @property
    def halfwidth_pct(self) -> float:
        """Relative half-width, %: high / estimate - 1 (= 1 - low / estimate in log space)."""
        return (self.high / self.estimate - 1.0) * 100.0


def paired_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """numerator_k / denominator_k over the launches both sides have (round k pairs with k)."""
    return [n / d for n, d in zip(numerators, denominators) if n > 0 and d > 0]


def _t_quantile(pairs: int) -> float:
    from scipy.stats import t
    return float(t.ppf(1 - (1 - LEVEL) / 2, pairs - 1))


def paired_interval(ratios: Sequence[float]) -> Optional[PairedInterval]:
    """The 95 % interval of the paired ratios; None below two pairs."""
    if len(ratios) < 2:
        return None
    logs = [math.log(r) for r in ratios]
    mean = sum(logs) / len(logs)
    sd = math.sqrt(sum((v - mean) ** 2 for v in logs) / (len(logs) - 1))
    half = _t_quantile(len(logs)) * sd / math.sqrt(len(logs))
    return PairedInterval(math.exp(mean), math.exp(mean - half), math.exp(mean + half), len(logs))
