"""What an engine runner provides (`Engine`), and what one launch of it yields (`Launch`)."""

from __future__ import annotations

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
