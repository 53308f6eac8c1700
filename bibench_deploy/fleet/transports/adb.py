"""Android phones through `adb`: `adb shell` for commands, `adb push` for files.

`adb shell` hands its arguments to the phone's shell as one string, so the argument list is
quoted with shlex.join before it leaves the host.
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from bibench_deploy.fleet.transports.base import ConnectError, TransferError, Transport
from bibench_deploy.fleet.transports.local import LocalTransport


class AdbTransport(Transport):
    def __init__(self, device):
        super().__init__(device)
        self._local = LocalTransport.__new__(LocalTransport)

    @staticmethod
    def _device_path(path: str) -> str:
        return "/data/local/tmp/bibench" if path.startswith("~") else path

    def _adb(self) -> list[str]:
        serial = ["-s", self.device.serial] if self.device.serial else []
        return ["adb", *serial]

    def connect(self) -> None:
        if shutil.which("adb") is None:
            raise ConnectError("the adb command is not installed on this host")
        state = self._local._exec([*self._adb(), "get-state"], 15.0)
        if state.rc != 0 or state.stdout.strip() != "device":
            raise ConnectError(f"adb device {self.device.serial or '(default)'} is not ready: "
                               f"{(state.stderr or state.stdout).strip() or 'no answer'}")

    def _exec(self, argv, host_deadline_s):
        return self._local._exec([*self._adb(), "shell", shlex.join(argv)], host_deadline_s)

    def _upload(self, local: Path, remote: str) -> None:
        self._exec(["mkdir", "-p", str(Path(remote).parent)], 30.0)
        pushed = self._local._exec([*self._adb(), "push", str(local), remote], 600.0)
        if pushed.rc != 0:
            raise TransferError(f"adb push of {local.name} failed: {pushed.stderr.strip()[-200:]}")


TRANSPORT = AdbTransport
