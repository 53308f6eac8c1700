"""Elapsed time and ETA as progress displays show them (`01:02`, `1:02:03`)."""

from __future__ import annotations

from typing import Optional


def clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def eta(elapsed_s: float, done: float, total: float) -> Optional[float]:
    """Seconds left at the rate so far; None before the first unit is done."""
    if done <= 0 or total <= 0:
        return None
    return elapsed_s / done * max(total - done, 0)
