"""What an engine runner provides (`Engine`), and what one launch of it yields (`Launch`)."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from bibench_deploy import formats
from bibench_deploy.errors import BibenchError

if TYPE_CHECKING:
    from bibench_deploy.fleet.transports.base import Blob


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

    def __post_init__(self) -> None:
        """A device's output is untrusted: every number is checked here, whichever engine parsed
        it, and a launch with an impossible one fails alone (ParseError) with the reason."""
        positive("median_ms", self.median_ms)
        for timing in self.timings_ms:
            positive("a per-inference timing", timing)
        for name in ("mean_ms", "min_ms", "max_ms"):
            if getattr(self, name) is not None:
                positive(name, getattr(self, name))
        for name in ("std_ms", "init_ms", "first_ms", "peak_memory_mb"):
            if getattr(self, name) is not None:
                _finite(name, getattr(self, name))
                if getattr(self, name) < 0:
                    raise ParseError(f"{name} is negative ({getattr(self, name)!r})")
        _counts(self)
        if self.min_ms is not None and self.max_ms is not None and \
                not self.min_ms <= self.median_ms <= self.max_ms:
            raise ParseError(f"median {self.median_ms!r} ms lies outside min {self.min_ms!r} .. "
                             f"max {self.max_ms!r}")
        if not isinstance(self.engine_version, str) or len(self.engine_version) > MAX_VERSION_CHARS:
            raise ParseError(f"engine_version is not a short text ({self.engine_version[:40]!r})")


MAX_VERSION_CHARS = 200


def positive_timings(values) -> list[float]:
    """Per-inference timings from a device, checked before any statistic is taken of them."""
    if not isinstance(values, list):
        raise ParseError(f"timings are not a list ({type(values).__name__})")
    return [positive("a per-inference timing", value) for value in values]


def _finite(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParseError(f"{name} is not a finite number ({value!r})")


def positive(name: str, value) -> float:
    """`value` from a device's output, as a float, if it is a finite positive number."""
    _finite(name, value)
    if value <= 0:
        raise ParseError(f"{name} is not positive ({value!r})")
    return float(value)


def _counts(launch: Launch) -> None:
    for name in ("count", "warmup_runs"):
        value = getattr(launch, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ParseError(f"{name} is not a count ({value!r})")
    if launch.count < 1:
        raise ParseError("the launch timed no inference (count 0)")
    if launch.timings_ms and len(launch.timings_ms) != launch.count:
        raise ParseError(f"count {launch.count} but {len(launch.timings_ms)} timings")


class Engine(ABC):
    """One engine: how it gets onto a device, how it is checked, launched and parsed.

    Each engine module defines one subclass and an instance `ENGINE`, registered in
    `bibench_deploy.fleet.engines.ENGINES` under its NAME. Arguments: `device` is the device's
    `DeviceConfig`, `config` its `EngineConfig` for this engine, `paths` maps the sha256 of each
    pushed file (`files`) to its path on the device. Commands are argument lists.
    """

    NAME: str                       # the key under a device's `engines:` in the fleet file
    SINGLE_THREADED: bool = False   # only threads=1 is planned for it
    KERNEL_OPTIONS: bool = True     # use_indirect_bgemm / use_xnnpack apply to it
    OP_PROFILING: bool = False      # argv(op_profiling=True) prints what parse_op_profile reads

    @property
    def ARTEFACTS(self) -> tuple[str, ...]:  # noqa: N802 (read like the class constants)
        """The manifest artefact kinds it measures: the formats table names its engines."""
        return formats.run_by(self.NAME)

    @abstractmethod
    def files(self, config) -> list[Blob]:
        """Host files to push before it runs (content-addressed, so pushed once)."""

    @abstractmethod
    def binary_problem(self, config, device_arch: str) -> Optional[str]:
        """Why it cannot run on a device of `device_arch`, decided on the host; None if it may."""

    @abstractmethod
    def engine_sha256(self, config) -> str:
        """sha256 of what runs (binary or runner script), recorded in every row; "" if unknown."""

    @abstractmethod
    def check_argv(self, device, config, paths: dict[str, str]) -> list[str]:
        """A command that succeeds on the device when it can run (after `files` are pushed)."""

    @abstractmethod
    def quick_check_argv(self, device, config) -> Optional[list[str]]:
        """`check_argv` without pushing anything (`devices check`); None when it cannot be checked
        before the push."""

    @abstractmethod
    def check_version(self, stdout: str) -> str:
        """Its version from the output of `check_argv`; raises ParseError when it is not there."""

    @abstractmethod
    def argv(self, device, config, paths: dict[str, str], model_path: str, threads: int,
             options: dict[str, bool], measure: Measure, op_profiling: bool = False) -> list[str]:
        """One launch measuring `model_path`; `options` holds use_indirect_bgemm and
        use_xnnpack."""

    def exact_argv(self, device, config, paths: dict[str, str], model_path: str, threads: int,
                   options: dict[str, bool], iterations: int) -> Optional[list[str]]:
        """One launch running exactly `iterations` inferences: no warm-up, no time limit, no
        minimum time, so that two launches differ only by their inference counts (an emulated
        device counts instructions per inference by that difference). None where the engine
        cannot run an exact count; its cells on an emulated device are then unsupported."""
        return None

    @abstractmethod
    def parse(self, stdout: str) -> Launch:
        """What one launch printed, every number validated; raises ParseError. Pure."""

    def parse_op_profile(self, stdout: str) -> list[dict[str, str]]:
        """Per-op rows of an `op_profiling` launch's output; only where OP_PROFILING is True."""
        raise NotImplementedError(f"{self.NAME} has no op profiling")
