"""The quiet-device guard: before a launch, how busy are the cores it will run on?

One fixed script reads /proc (Linux and Android) on the device: the per-core counters of
/proc/stat twice, `SAMPLE_S` apart, then the runnable tasks (state R) with the core each last ran
on. The host computes, for the launch's cores (its affinity mask, else every core):

- busy share: (user + nice + system + irq + softirq + steal) / all time over the window, the mean
  over those cores;
- steal share: time the hypervisor gave to others;
- runnable tasks of other processes on those cores (the probe's own shell and its children
  excluded; on a `local` device the tool itself and its other devices' benchmarks count).

A device whose /proc cannot be read gives an unknown reading (None), recorded as such and never
waited on. `wait_for_quiet` polls until the busy share is at most the device's `max_start_load`
or `max_wait_s` has passed; a launch that starts on busy cores makes its cell `contended`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional

SAMPLE_S = 0.3
POLL_S = 1.0
MAX_TASK_NAMES = 5
_MARK = "@@bibench-load"
# $1: sample seconds. Prints: cpu lines, marker, cpu lines, marker with the probe's pid and its
# parent's (the `timeout` wrapper), runnable tasks' /proc/<pid>/stat lines.
_LOAD_SCRIPT = f"""
grep '^cpu[0-9]' /proc/stat 2>/dev/null
echo "{_MARK}"
sleep "$1"
grep '^cpu[0-9]' /proc/stat 2>/dev/null
echo "{_MARK} $$ $PPID"
grep -h ') R ' /proc/[0-9]*/stat 2>/dev/null
exit 0
"""


@dataclass
class LoadReading:
    cores: list[int] = field(default_factory=list)
    busy_pct: Optional[float] = None      # None: the device cannot report it
    steal_pct: Optional[float] = None
    runnable: Optional[int] = None        # runnable tasks of other processes on the cores
    tasks: list[str] = field(default_factory=list)
    window_s: float = SAMPLE_S

    def quiet(self, max_start_load: float) -> bool:
        """Unknown load is not evidence of contention: it counts as quiet (and is recorded)."""
        return self.busy_pct is None or self.busy_pct <= max_start_load * 100.0


@dataclass
class GuardRecord:
    """What the guard saw before one launch: the last reading, how long it waited, and whether
    the launch started on busy cores."""
    reading: LoadReading
    waited_s: float = 0.0
    polls: int = 1
    contended: bool = False

    def as_dict(self) -> dict:
        return {**asdict(self.reading), "waited_s": self.waited_s, "polls": self.polls,
                "contended": self.contended}


def mask_cores(mask: str) -> list[int]:
    """Core numbers of a taskset hex mask; [] for no mask (every core)."""
    if not mask:
        return []
    value = int(mask, 16)
    return [i for i in range(value.bit_length()) if value >> i & 1]


def _counters(lines: list[str]) -> dict[int, list[int]]:
    counters = {}
    for line in lines:
        name, *values = line.split()
        if name.startswith("cpu") and name[3:].isdigit():
            counters[int(name[3:])] = [int(v) for v in values[:8]] + [0] * (8 - len(values[:8]))
    return counters


def parse_load(stdout: str, cores: list[int], window_s: float = SAMPLE_S) -> LoadReading:
    """A reading from the probe's output; `cores` empty means every core the device has."""
    first, _, rest = stdout.partition(_MARK + "\n")
    second, marker, tail = rest.partition(_MARK + " ")
    before, after = _counters(first.splitlines()), _counters(second.splitlines())
    used = [c for c in (cores or sorted(after)) if c in before and c in after]
    if not marker or not used:
        return LoadReading(cores=list(cores), window_s=window_s)
    busy = steal = 0.0
    for core in used:
        delta = [b - a for a, b in zip(before[core], after[core])]
        total = sum(delta)
        idle = delta[3] + delta[4]            # idle + iowait
        busy += (total - idle) / total if total > 0 else 0.0
        steal += delta[7] / total if total > 0 else 0.0
    pids, *task_lines = tail.splitlines()
    own = {int(p) for p in pids.split() if p.isdigit()}
    tasks = _runnable(task_lines, set(used), own)
    return LoadReading(cores=used, busy_pct=100.0 * busy / len(used),
                       steal_pct=100.0 * steal / len(used), runnable=len(tasks),
                       tasks=sorted(set(tasks))[:MAX_TASK_NAMES], window_s=window_s)


def _runnable(lines: list[str], cores: set[int], own: set[int]) -> list[str]:
    """Names of runnable tasks last on `cores`, without the probe's shell, its parent and its
    children (grep)."""
    names = []
    for line in lines:
        head, _, fields = line.rpartition(")")
        pid, _, comm = head.partition(" (")
        values = fields.split()
        if len(values) < 37 or values[0] != "R" or not pid.strip().isdigit():
            continue
        if int(pid) in own or int(values[1]) in own:
            continue
        if int(values[36]) in cores:                 # field 39: the CPU it last ran on
            names.append(comm)
    return names


def read_load(transport, cores: list[int], window_s: float = SAMPLE_S) -> LoadReading:
    result = transport.sh(_LOAD_SCRIPT, [f"{window_s:g}"], 30.0 + window_s)
    if result.rc != 0:
        return LoadReading(cores=list(cores), window_s=window_s)
    return parse_load(result.stdout, cores, window_s)


def wait_for_quiet(read: Callable[[], LoadReading], max_start_load: float, max_wait_s: float,
                   stop: Callable[[], bool] = lambda: False,
                   sleep: Callable[[float], None] = time.sleep) -> GuardRecord:
    """Read the load until it is quiet or `max_wait_s` has passed (then the launch is
    contended); the wait ends at most one reading after `max_wait_s`."""
    started = time.monotonic()
    reading, polls = read(), 1
    while not reading.quiet(max_start_load) and not stop():
        left = max_wait_s - (time.monotonic() - started)
        if left <= 0:
            break
        sleep(min(POLL_S, left))
        reading, polls = read(), polls + 1
    return GuardRecord(reading, time.monotonic() - started, polls,
                       contended=not reading.quiet(max_start_load))
