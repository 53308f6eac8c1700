"""One aarch64 program run under qemu-user with the counting plugin: its exit status, bounded
output, and the number of guest instructions it executed."""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence

from bibench_deploy.emulation.errors import EmulationError, GuestTimeoutError
from bibench_deploy.emulation.plugin import find_qemu, plugin_path

MAX_OUTPUT_BYTES = 1 << 20
COUNT_LINE = re.compile(r"(\d+)\n?")


@dataclass(frozen=True)
class GuestRun:
    returncode: int
    stdout: str           # at most the last MAX_OUTPUT_BYTES of each stream
    stderr: str
    guest_instructions: int


def run_aarch64(argv: Sequence[str], *, sysroot: Optional[Path] = None, timeout_s: float = 600,
                env: Optional[Mapping[str, str]] = None, argv0: Optional[str] = None,
                cpu: Optional[str] = None, max_output_bytes: int = MAX_OUTPUT_BYTES) -> GuestRun:
    """Runs `argv` (an aarch64 executable and its arguments; no shell) under qemu-aarch64.
    `sysroot` is where the guest's dynamic loader and libraries live (qemu's -L); `argv0` is
    what the guest sees as its own name, where that must differ from the host path; `cpu` the
    CPU model qemu emulates (-cpu; qemu's default, `max`, has every extension it knows)."""
    qemu, plugin = find_qemu(), plugin_path()
    with tempfile.TemporaryDirectory(prefix="bibench-qemu-") as scratch:
        count_file = Path(scratch) / "guest_instructions"
        command = [qemu, "-plugin", f"{_opt(plugin)},out={_opt(count_file)}"]
        command += ["-L", str(sysroot)] if sysroot else []
        command += ["-0", argv0] if argv0 else []
        command += ["-cpu", cpu] if cpu else []
        try:
            returncode, stdout, stderr = _run(command + list(argv), Path(scratch), timeout_s,
                                              env, max_output_bytes)
        except subprocess.TimeoutExpired:
            raise GuestTimeoutError(f"{Path(argv[0]).name} under qemu-aarch64 ran past "
                                    f"{timeout_s:g} s") from None
        count = parse_count(_read(count_file), returncode, stderr)
    return GuestRun(returncode, stdout, stderr, count)


def succeeded(guest: GuestRun) -> GuestRun:
    """`guest` itself if it exited with status 0."""
    if guest.returncode != 0:
        last = (guest.stderr.strip().splitlines() or ["no output"])[-1]
        raise EmulationError(f"{last} (exit status {guest.returncode} under qemu-aarch64)")
    return guest


def parse_count(text: Optional[str], returncode: int = 0, stderr: str = "") -> int:
    """The plugin's count: one positive decimal integer, else an error that says why."""
    if text is None:
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        raise EmulationError(f"qemu-aarch64 wrote no instruction count (exit {returncode}): "
                             f"{last}")
    match = COUNT_LINE.fullmatch(text)
    if not match or int(match.group(1)) <= 0:
        raise EmulationError(f"garbled instruction count from the qemu plugin: {text[:80]!r}")
    return int(match.group(1))


def _opt(path: Path) -> str:
    """A path as a value in qemu's comma-separated option syntax (a comma doubles)."""
    return str(path).replace(",", ",,")


def _run(command: list[str], scratch: Path, timeout_s: float,
         env: Optional[Mapping[str, str]], limit: int) -> tuple[int, str, str]:
    """Output goes to files, not pipes, so a chatty guest cannot fill memory; only the tail of
    each stream is read back."""
    out_path, err_path = scratch / "stdout", scratch / "stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        process = subprocess.run(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                 env=None if env is None else dict(env), timeout=timeout_s,
                                 check=False)
    return process.returncode, _tail(out_path, limit), _tail(err_path, limit)


def _tail(path: Path, limit: int) -> str:
    with open(path, "rb") as stream:
        stream.seek(max(0, path.stat().st_size - limit))
        return stream.read().decode(errors="replace")


def _read(path: Path) -> Optional[str]:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None
