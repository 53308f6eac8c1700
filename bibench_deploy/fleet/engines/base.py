"""What an engine runner provides, and what one launch of it yields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from bibench_deploy.errors import BibenchError


class ParseError(BibenchError):
    """An engine's output did not contain what a finished benchmark prints."""


@dataclass(frozen=True)
class Measure:
    """How long each launch measures, and how many launches a cell gets: at least `repeats`
    rounds, then more until the paired speedup's 95 % interval is within +-`target_ci_pct` or a
    budget is spent (`max_repeats` launches per cell, `max_group_secs` per group)."""
    warmup_runs: int = 5
    min_iters: int = 50
    min_secs: float = 1.0
    max_secs: float = 150.0
    repeats: int = 3
    max_repeats: int = 20
    target_ci_pct: float = 2.0
    max_group_secs: float = 600.0

    def deadline_s(self, init_allowance_s: float = 30.0) -> float:
        """Device-side deadline of one launch: the longest it may legitimately take."""
        return init_allowance_s + 2 * self.max_secs


@dataclass
class Launch:
    """What one process launch of an engine measured. Times in ms."""
    median_ms: float
    timings_ms: list[float] = field(default_factory=list)   # per inference, when the engine gives them
    mean_ms: Optional[float] = None
    std_ms: Optional[float] = None
    min_ms: Optional[float] = None
    max_ms: Optional[float] = None
    count: int = 0
    warmup_runs: int = 0
    init_ms: Optional[float] = None
    first_ms: Optional[float] = None
    peak_memory_mb: Optional[float] = None
    engine_version: str = ""
