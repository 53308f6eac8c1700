"""What a device is (arch, CPU, OS, cores) and what state it is in (governor, frequency,
temperature, throttle flags). The probe is the tool's own fixed script; the fleet file's state
commands run as argument lists."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

from bibench_deploy.fleet.guard import parse_during
from bibench_deploy.fleet.transports.base import HOST_GRACE_S, SIGKILL_RCS, CommandResult

_INFO_SCRIPT = r"""
echo "arch=$(uname -m)"
echo "os=$(uname -sr)"
echo "cores=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
echo "cpu=$(grep -m1 -E '^(model name|Hardware|Model)' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
echo "disk_free_kb=$(mkdir -p -- "$1" && df -Pk -- "$1" | tail -1 | awk '{print $4}')"
"""

_STATE_FUNCTION = r"""
state() {
  cpu=/sys/devices/system/cpu/cpu0/cpufreq
  echo "governor=$(cat $cpu/scaling_governor 2>/dev/null)"
  echo "freq_khz=$(cat $cpu/scaling_cur_freq 2>/dev/null)"
  echo "temp_mc=$(cat /sys/class/thermal/thermal_zone*/temp 2>/dev/null | sort -n | tail -1)"
}
"""
_STATE_SCRIPT = _STATE_FUNCTION + "state\n"

# One launch in one remote command: state before, the benchmark under `timeout -s KILL`, state
# after; around the benchmark, the per-core counters and the shell's `times` (its children's CPU
# time: the benchmark's), for others' share of its cores while it ran (guard.parse_during).
# $1 is the deadline in seconds, the rest the benchmark's argument list, run as "$@".
_MARK = "@@bibench"
_LAUNCH_SCRIPT = _STATE_FUNCTION + f"""
d=$1; shift
echo "{_MARK} before"; state; grep '^cpu[0-9]' /proc/stat 2>/dev/null; times
echo "{_MARK} begin"
timeout -s KILL "$d" "$@"
rc=$?
echo; echo "{_MARK} end rc=$rc"; times; grep '^cpu[0-9]' /proc/stat 2>/dev/null; state
exit $rc
"""


@dataclass
class DeviceInfo:
    arch: str = ""
    os: str = ""
    cores: int = 0
    cpu: str = ""
    disk_free_kb: Optional[int] = None


@dataclass
class DeviceState:
    governor: str = ""
    freq_mhz: Optional[float] = None
    temp_c: Optional[float] = None
    commands: dict[str, str] = field(default_factory=dict)

    @property
    def throttled(self) -> str:
        return self.commands.get("throttled", "")


def _key_values(stdout: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)


def _number(text: str, scale: float) -> Optional[float]:
    try:
        return float(text) / scale
    except ValueError:
        return None


def probe_info(transport) -> DeviceInfo:
    return transport.describe(_info(transport.sh(_INFO_SCRIPT, [transport.work_dir]).stdout))


def probe_info_and_state(transport, argv: Optional[list[str]] = None):
    """Info, state and (optionally) one more command's result, all in one remote command: each
    command costs the device a session and a login shell. Returns (info, state, result or None)."""
    script = _INFO_SCRIPT + _STATE_SCRIPT + (
        f'shift; echo "{_MARK} begin"; "$@"; rc=$?; echo; echo "{_MARK} end rc=$rc"\n' if argv else "")
    result = transport.sh(script, [transport.work_dir, *(argv or [])], 60.0)
    head, _, rest = result.stdout.partition(f"{_MARK} begin\n")
    if argv is None:
        return transport.describe(_info(head)), _state(head), None
    body, marker, tail = rest.rpartition(f"\n{_MARK} end rc=")
    rc = int(tail.strip()) if marker and tail.strip().lstrip("-").isdigit() else result.rc
    return transport.describe(_info(head)), _state(head), CommandResult(rc, body, result.stderr, result.elapsed_s,
                                                    result.timed_out)


def _info(stdout: str) -> DeviceInfo:
    values = _key_values(stdout)
    disk = _number(values.get("disk_free_kb", ""), 1)
    return DeviceInfo(arch=values.get("arch", ""), os=values.get("os", ""),
                      cores=int(_number(values.get("cores", ""), 1) or 0),
                      cpu=values.get("cpu", ""), disk_free_kb=int(disk) if disk is not None else None)


def _state(text: str) -> DeviceState:
    values = _key_values(text)
    return DeviceState(governor=values.get("governor", ""),
                       freq_mhz=_number(values.get("freq_khz", ""), 1e3),
                       temp_c=_number(values.get("temp_mc", ""), 1e3))


def probe_state(transport, state_commands: dict[str, list[str]]) -> DeviceState:
    state = _state(transport.sh(_STATE_SCRIPT, []).stdout)
    state.commands = run_state_commands(transport, state_commands)
    return state


def run_state_commands(transport, state_commands: dict[str, list[str]]) -> dict[str, str]:
    """The fleet file's state commands (e.g. vcgencmd get_throttled), each an argument list."""
    outputs = {}
    for name, argv in state_commands.items():
        result = transport.run(list(argv), 15.0)
        outputs[name] = result.stdout.strip() if result.rc == 0 else f"error rc={result.rc}"
    return outputs


def launch_with_state(transport, argv: list[str], deadline_s: float, cores: list[int] = ()):
    """Run a benchmark with the device state read just before and just after it, in one remote
    command. Returns (result with the benchmark's own stdout, state before, state after, others'
    share of `cores` while it ran: a LaunchLoad, unknown where the device cannot report it)."""
    seconds = max(1, math.ceil(deadline_s))
    result = transport._exec(["sh", "-c", _LAUNCH_SCRIPT, "sh", str(seconds), *argv],
                             seconds + HOST_GRACE_S)
    before, _, rest = result.stdout.partition(f"{_MARK} begin\n")
    body, marker, after = rest.rpartition(f"\n{_MARK} end rc=")
    if not marker:  # killed by the host deadline before the script could finish
        body, after = rest, ""
    result.stdout = body
    if result.rc in SIGKILL_RCS and result.elapsed_s >= seconds - 0.5:
        result.timed_out = True
    after = after.partition("\n")[2]
    return result, _state(before), _state(after), parse_during(before, after, list(cores))


# Raspberry Pi `vcgencmd get_throttled`: bits 0-3 are "now" (under-voltage, frequency capped,
# throttled, soft temperature limit); bits 16-19 the same "since boot".
_THROTTLE_NOW_MASK = 0xF


def throttle_bits(text: str) -> Optional[int]:
    value = text.rpartition("=")[2].strip()
    try:
        return int(value, 0)
    except ValueError:
        return None


def throttling_began(before: DeviceState, after: DeviceState) -> bool:
    """True if the device reports throttling now, or its 'since boot' flags grew during the run."""
    start, end = throttle_bits(before.throttled), throttle_bits(after.throttled)
    if end is None:
        return False
    return bool(end & _THROTTLE_NOW_MASK) or (start is not None and end & ~start != 0)
