"""The host itself as a device: subprocesses, file copies."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from bibench_deploy.fleet.transports.base import CommandResult, Transport, exclusive_copy


class LocalTransport(Transport):
    @staticmethod
    def _device_path(path: str) -> str:
        return os.path.expanduser(path)

    def connect(self) -> None:
        Path(self.work_dir).mkdir(parents=True, exist_ok=True)

    def _exec(self, argv: list[str], host_deadline_s: float) -> CommandResult:
        start = time.monotonic()
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            out, err = process.communicate(timeout=host_deadline_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, err = process.communicate()
            return CommandResult(-9, _text(out), _text(err), time.monotonic() - start, True)
        return CommandResult(process.returncode, _text(out), _text(err), time.monotonic() - start)

    def _upload(self, local: Path, remote: str) -> None:
        exclusive_copy(local, remote)


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


TRANSPORT = LocalTransport
