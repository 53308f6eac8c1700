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

Work that starts during a launch is caught after it: the launch's own remote command
(`probe.launch_with_state`) also prints the per-core counters and the shell's `times` before and
after the benchmark. Others' share of the launch's cores while it ran = (their busy ticks less the
benchmark's own CPU time, from `times`: every process the launch started and reaped) / all their
ticks (`parse_during`); above `max_start_load`, the launch counts as contended too.
"""

from __future__ import annotations

import re
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


USER_HZ = 100  # the unit of /proc/stat's counters on Linux and Android
# Counters tick 100 times a second: over a shorter launch a few ticks' rounding is a large share,
# so others' share is recorded but decides nothing below half a second per core.
MIN_DURING_S = 0.5


@dataclass
class LaunchLoad:
    """Others' use of a launch's cores while it ran (None: the device cannot report it)."""
    cores: list[int] = field(default_factory=list)
    others_pct: Optional[float] = None       # mean over the launch's cores
    launch_cpu_s: Optional[float] = None     # the benchmark's own CPU time (`times`)
    window_s: Optional[float] = None         # between the two readings, from the counters
    other_cores_busy_pct: Optional[float] = None  # the device's remaining cores, for the record

    def busy(self, max_start_load: float) -> bool:
        return (self.others_pct is not None and self.window_s >= MIN_DURING_S
                and self.others_pct > max_start_load * 100.0)


@dataclass
class GuardRecord:
    """What the guard saw around one launch: the last reading before it, how long it waited,
    whether the launch started on busy cores, and others' share of its cores while it ran."""
    reading: LoadReading
    waited_s: float = 0.0
    polls: int = 1
    contended: bool = False                 # started on busy cores
    during: Optional[LaunchLoad] = None
    busy_during: bool = False               # others used its cores while it ran

    def as_dict(self) -> dict:
        return {**asdict(self.reading), "waited_s": self.waited_s, "polls": self.polls,
                "contended": self.contended,
                "during": asdict(self.during) if self.during else None,
                "busy_during": self.busy_during}


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


def _ticks(before: dict[int, list[int]], after: dict[int, list[int]],
           core: int) -> tuple[int, int, int]:
    """(busy, steal, all) ticks of one core between two readings; idle and iowait are not busy."""
    delta = [b - a for a, b in zip(before[core], after[core])]
    return sum(delta) - delta[3] - delta[4], delta[7], sum(delta)


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
        core_busy, core_steal, total = _ticks(before, after, core)
        busy += core_busy / total if total > 0 else 0.0
        steal += core_steal / total if total > 0 else 0.0
    pids, *task_lines = tail.splitlines()
    own = {int(p) for p in pids.split() if p.isdigit()}
    tasks = _runnable(task_lines, set(used), own)
    return LoadReading(cores=used, busy_pct=100.0 * busy / len(used),
                       steal_pct=100.0 * steal / len(used), runnable=len(tasks),
                       tasks=sorted(set(tasks))[:MAX_TASK_NAMES], window_s=window_s)


def _cpu_seconds(text: str) -> Optional[float]:
    """Children's user + system seconds from the shell's `times` (its second line)."""
    pair = r"\s*\d+m[\d.]+s\s+\d+m[\d.]+s\s*"  # `0m1.50s 0m0.20s`: dash, bash, busybox sh, mksh
    lines = [line for line in text.splitlines() if re.fullmatch(pair, line)]
    if len(lines) < 2:
        return None
    return sum(int(m) * 60 + float(sec) for m, sec in re.findall(r"(\d+)m([\d.]+)s", lines[1]))


def parse_during(before: str, after: str, cores: list[int]) -> LaunchLoad:
    """Others' share of `cores` (empty: every core) between two outputs of per-core counters
    and `times`, the launch's own CPU time taken out."""
    first, second = _counters(before.splitlines()), _counters(after.splitlines())
    own = [_cpu_seconds(before), _cpu_seconds(after)]
    used = [c for c in (cores or sorted(second)) if c in first and c in second]
    if not used or None in own:
        return LaunchLoad(cores=list(cores))

    def busy_total(which: list[int]) -> tuple[int, int]:
        ticks = [_ticks(first, second, core) for core in which]
        return sum(t[0] for t in ticks), sum(t[2] for t in ticks)

    busy, total = busy_total(used)
    launch_s = own[1] - own[0]
    others = max(0.0, busy - launch_s * USER_HZ) / total * 100.0 if total > 0 else 0.0
    rest = [c for c in second if c in first and c not in used]
    rest_busy, rest_total = busy_total(rest)
    return LaunchLoad(cores=used, others_pct=others, launch_cpu_s=launch_s,
                      window_s=total / len(used) / USER_HZ,
                      other_cores_busy_pct=100.0 * rest_busy / rest_total if rest_total else None)


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


def contention(guards: list[GuardRecord], device) -> str:
    """Why a cell is contended: launches that started on busy cores, and launches whose cores
    others used while they ran."""
    limit = f"limit {100 * device.max_start_load:g} %"
    started = [g for g in guards if g.contended]
    during = [g for g in guards if g.busy_during]
    reasons = []
    if started:
        busy = max(g.reading.busy_pct for g in started)
        reasons.append(f"{len(started)} launch(es) started on busy cores ({busy:.0f} % busy, "
                       f"{limit}) after waiting {device.max_wait_s:g} s")
    if during:
        others = max(g.during.others_pct for g in during)
        reasons.append(f"{len(during)} launch(es) shared their cores with other work while "
                       f"they ran (up to {others:.0f} % of the cores, {limit})")
    return "; ".join(reasons)
