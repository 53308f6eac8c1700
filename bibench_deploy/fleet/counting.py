"""The cells of an emulated device: guest instructions per inference by the difference method
(bibench_deploy.emulation.per_inference), never a time.

Per cell: a pilot pair (N1, N1 + PILOT_STEP) estimates the count per inference; N2 is then
chosen so that I(N2) - I(N1) is about GROWTH_INSNS instructions, enough that the start-up's
jitter (a few thousand instructions: Python and numpy read clocks) stays far below the 1e-5
agreement asked of the repeats; then the pair (N1, N2) runs twice (the pilot's N1 launch is the
first repeat's). Every launch's output and count go to the raw log, the pair's details to
raw/<device>/<cell>/count.json.
"""

from __future__ import annotations

import math

from bibench_deploy.emulation.errors import EmulationError, GuestTimeoutError
from bibench_deploy.emulation.per_inference import (DEFAULT_REL_TOL, PerInference, combine,
                                                    instructions_per_inference)
from bibench_deploy.emulation.qemu import GuestRun
from bibench_deploy.fleet import rows as rowlib
from bibench_deploy.fleet.rows import CellFailed

N1 = 10                  # past the first inferences, which set up kernels and buffers
PILOT_STEP = 10
GROWTH_INSNS = 1e9       # I(N2) - I(N1) aimed at: start-up jitter / this << DEFAULT_REL_TOL
MAX_STEP = 1_000_000
REPEATS = 2


def second_count(per_inference_estimate: float) -> int:
    """N2 for a model of about `per_inference_estimate` instructions per inference."""
    step = math.ceil(GROWTH_INSNS / per_inference_estimate)
    return N1 + min(max(step, PILOT_STEP), MAX_STEP)


def count_cell(argv_for, launch, log) -> PerInference:
    """`argv_for(n)`: the engine's command for exactly n inferences; `launch(argv)`: a GuestRun
    under qemu; `log(name, argv, guest)`: the raw log. Raises CellFailed."""
    def run(name: str, n: int) -> GuestRun:
        argv = argv_for(n)
        try:
            guest = launch(argv)
        except GuestTimeoutError as exc:
            raise CellFailed("timeout", str(exc)) from None
        except EmulationError as exc:
            raise CellFailed("run_failed", str(exc)) from None
        log(name, argv, guest)
        if guest.returncode != 0:
            raise CellFailed("run_failed", f"exit code {guest.returncode} under qemu-aarch64: "
                             f"{rowlib.first_line(guest.stderr) or 'no error output'}")
        return guest

    try:
        first, pilot = run(f"count-n{N1}-1", N1), run(f"count-pilot-n{N1 + PILOT_STEP}",
                                                         N1 + PILOT_STEP)
        n2 = second_count(instructions_per_inference(N1, first.guest_instructions,
                                                     N1 + PILOT_STEP, pilot.guest_instructions))
        runs = [first, run(f"count-n{n2}-1", n2)]
        for repeat in range(2, REPEATS + 1):
            runs += [run(f"count-n{N1}-{repeat}", N1), run(f"count-n{n2}-{repeat}", n2)]
        counts = [(runs[i].guest_instructions, runs[i + 1].guest_instructions)
                  for i in range(0, len(runs), 2)]
        return combine(N1, n2, counts, DEFAULT_REL_TOL, runs)
    except EmulationError as exc:
        raise CellFailed("run_failed", str(exc)) from None


def details(result: PerInference) -> dict:
    """What count.json records of a counted cell."""
    n1, n2 = result.iterations
    return {"guest_insns_per_inference": result.instructions, "n1": n1, "n2": n2,
            "pairs": [{"insns_n1": c1, "insns_n2": c2, "per_inference": (c2 - c1) / (n2 - n1)}
                      for c1, c2 in result.counts],
            "spread": result.spread, "rel_tol": DEFAULT_REL_TOL}
