"""What a device is (arch, CPU, OS, cores) and what state it is in (governor, frequency,
temperature, throttle flags). The probe is the tool's own fixed script; the fleet file's state
commands run as argument lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

_INFO_SCRIPT = r"""
echo "arch=$(uname -m)"
echo "os=$(uname -sr)"
echo "cores=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
echo "cpu=$(grep -m1 -E '^(model name|Hardware|Model)' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
echo "disk_free_kb=$(mkdir -p -- "$1" && df -Pk -- "$1" | tail -1 | awk '{print $4}')"
"""

_STATE_SCRIPT = r"""
cpu=/sys/devices/system/cpu/cpu0/cpufreq
echo "governor=$(cat $cpu/scaling_governor 2>/dev/null)"
echo "freq_khz=$(cat $cpu/scaling_cur_freq 2>/dev/null)"
echo "temp_mc=$(cat /sys/class/thermal/thermal_zone*/temp 2>/dev/null | sort -n | tail -1)"
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
    values = _key_values(transport.sh(_INFO_SCRIPT, [transport.work_dir]).stdout)
    disk = _number(values.get("disk_free_kb", ""), 1)
    return DeviceInfo(arch=values.get("arch", ""), os=values.get("os", ""),
                      cores=int(_number(values.get("cores", ""), 1) or 0),
                      cpu=values.get("cpu", ""), disk_free_kb=int(disk) if disk is not None else None)


def probe_state(transport, state_commands: dict[str, list[str]]) -> DeviceState:
    values = _key_values(transport.sh(_STATE_SCRIPT, []).stdout)
    state = DeviceState(governor=values.get("governor", ""),
                        freq_mhz=_number(values.get("freq_khz", ""), 1e3),
                        temp_c=_number(values.get("temp_mc", ""), 1e3))
    for name, argv in state_commands.items():
        result = transport.run(list(argv), 15.0)
        state.commands[name] = result.stdout.strip() if result.rc == 0 else f"error rc={result.rc}"
    return state


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
