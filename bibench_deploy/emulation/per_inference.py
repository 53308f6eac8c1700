"""Guest instructions per inference by the difference method: the same engine command run with
N1 and then N2 > N1 inferences; (I(N2) - I(N1)) / (N2 - N1) leaves out everything that does not
grow with N (loading, warm-up, interpreter start-up), and each pair of runs is repeated to check
that the number repeats."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from bibench_deploy.emulation.errors import EmulationError, UnstableCountError
from bibench_deploy.emulation.qemu import GuestRun, run_aarch64, succeeded

DEFAULT_REL_TOL = 1e-5


@dataclass(frozen=True)
class PerInference:
    instructions: float                 # guest instructions per inference (mean over repeats)
    iterations: tuple[int, int]         # N1, N2
    counts: tuple[tuple[int, int], ...] # (I(N1), I(N2)) of each repeat
    runs: tuple[GuestRun, ...]          # every run, in order: N1, N2 of repeat 1, then repeat 2...

    @property
    def spread(self) -> float:
        """Largest relative distance of one repeat's value from the mean."""
        return max(abs(value - self.instructions) for value in _each(self)) / self.instructions


def instructions_per_inference(n1: int, count1: int, n2: int, count2: int) -> float:
    """(I(N2) - I(N1)) / (N2 - N1), after checking the inputs can mean anything."""
    check_iterations(n1, n2)
    if count1 <= 0 or count2 <= 0:
        raise EmulationError(f"instruction counts must be positive, got {count1}, {count2}")
    if count2 <= count1:
        raise EmulationError(f"{n2} inferences executed no more instructions than {n1} "
                             f"({count2} <= {count1}): the iteration count does not reach the "
                             f"engine")
    return (count2 - count1) / (n2 - n1)


def check_iterations(n1: int, n2: int) -> None:
    if not (isinstance(n1, int) and isinstance(n2, int) and 0 < n1 < n2):
        raise EmulationError(f"iteration counts must be integers with 0 < N1 < N2, got {n1}, {n2}")


def combine(n1: int, n2: int, counts: Sequence[tuple[int, int]],
            rel_tol: float = DEFAULT_REL_TOL, runs: Sequence[GuestRun] = ()) -> PerInference:
    """One value from repeated (I(N1), I(N2)) pairs; repeats further apart than `rel_tol`
    (relative to their mean) are an error, not an average."""
    values = [instructions_per_inference(n1, c1, n2, c2) for c1, c2 in counts]
    if not values:
        raise EmulationError("no runs to compute instructions per inference from")
    result = PerInference(sum(values) / len(values), (n1, n2), tuple(counts), tuple(runs))
    if result.spread > rel_tol:
        raise UnstableCountError(f"instructions per inference differ between repeats by "
                                 f"{result.spread:.2g} (relative; allowed {rel_tol:g}): "
                                 f"{', '.join(f'{v:.1f}' for v in values)}")
    return result


def measure(argv_for: Callable[[int], Sequence[str]], n1: int, n2: int, *, repeats: int = 2,
            rel_tol: float = DEFAULT_REL_TOL, run: Callable[..., GuestRun] = run_aarch64,
            **run_options) -> PerInference:
    """Runs `argv_for(N)` for N1 and N2, `repeats` times each, under qemu with the counting
    plugin (`run_options` go to `run_aarch64`: sysroot, env, timeout_s, argv0)."""
    check_iterations(n1, n2)
    runs = [succeeded(run(argv_for(n), **run_options)) for _ in range(repeats) for n in (n1, n2)]
    counts = [(runs[i].guest_instructions, runs[i + 1].guest_instructions)
              for i in range(0, len(runs), 2)]
    return combine(n1, n2, counts, rel_tol, runs)


def _each(result: PerInference) -> list[float]:
    n1, n2 = result.iterations
    return [(c2 - c1) / (n2 - n1) for c1, c2 in result.counts]
