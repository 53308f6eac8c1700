"""An emulated aarch64 device: its programs run on the host under qemu-aarch64 with the counting
plugin (bibench_deploy.emulation), in a private work directory on the host.

The tool's own fixed scripts (listing and sealing blobs, the probe) run on the host itself, since
the work directory is the host's; the engine's programs run under qemu: a path that exists in the
userland (`/opt/litert/bin/python3`) is the guest's, any other (a pushed blob, a host binary the
fleet file names with `remote_path`) a host file that qemu loads. Such a device is never timed:
its cells are counted (`count`), see fleet/measurement.py.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Optional

from bibench_deploy.emulation.errors import EmulationError, GuestTimeoutError
from bibench_deploy.emulation.litert import (GUEST_CPU, GUEST_ENV, check_userland,
                                             default_userland, guest_executable)
from bibench_deploy.emulation.plugin import find_qemu
from bibench_deploy.emulation.qemu import GuestRun, run_aarch64
from bibench_deploy.fleet.transports.base import CommandResult, TransportError
from bibench_deploy.fleet.transports.local import LocalTransport


class EmulatedTransport(LocalTransport):
    COUNTS_INSTRUCTIONS = True

    def __init__(self, device):
        super().__init__(device)
        self.sysroot = Path(device.sysroot).expanduser() if device.sysroot else default_userland()
        self.cpu = device.cpu or GUEST_CPU

    @staticmethod
    def _device_path(path: str) -> str:
        return os.path.expanduser(path)

    def connect(self) -> None:
        try:
            find_qemu()
            check_userland(self.sysroot)
        except EmulationError as exc:
            raise TransportError(str(exc)) from None
        _private_dir(Path(self.work_dir))

    def describe(self, info):
        """The guest, not the host the probe script ran on."""
        info.arch, info.cores = "aarch64", 1
        info.cpu = f"{self.cpu} (emulated by qemu-aarch64)"
        info.os = f"Linux aarch64 userland {self.sysroot} (qemu-user)"
        return info

    def sh(self, script: str, args: list[str], deadline_s: float = 30.0) -> CommandResult:
        """The tool's own scripts run on the host, where the work directory is."""
        return super().run(["sh", "-c", script, "sh", *args], deadline_s)

    def run(self, argv: list[str], deadline_s: float) -> CommandResult:
        """An engine's command, under qemu-aarch64 (its count is dropped: see `guest`)."""
        start = time.monotonic()
        try:
            guest = self.guest(argv, deadline_s)
        except GuestTimeoutError as exc:
            return CommandResult(-9, "", str(exc), time.monotonic() - start, True)
        except EmulationError as exc:
            return CommandResult(1, "", str(exc), time.monotonic() - start)
        return CommandResult(guest.returncode, guest.stdout, guest.stderr,
                             time.monotonic() - start)

    def guest(self, argv: list[str], deadline_s: float) -> GuestRun:
        """`argv` under qemu-aarch64 with the counting plugin, one guest CPU of `cpu`, the
        userland's libraries and a fixed environment."""
        program, argv0 = self._program(argv[0])
        return run_aarch64([str(program), *argv[1:]], sysroot=self.sysroot, timeout_s=deadline_s,
                           env=GUEST_ENV, argv0=argv0, cpu=self.cpu)

    def _program(self, path: str) -> tuple[Path, Optional[str]]:
        """The host file qemu loads, and the name the guest sees where they differ."""
        inside = self.sysroot / path.lstrip("/")
        if path.startswith("/") and os.path.lexists(inside):
            return guest_executable(self.sysroot, path), path
        return Path(path), None


def _private_dir(directory: Path) -> None:
    """The work directory, made if missing; refused if it is a link or someone else's."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(directory)
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid():
        raise TransportError(f"work directory {directory} is a link or not ours; remove it")


TRANSPORT = EmulatedTransport
