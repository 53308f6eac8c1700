"""One device's hold on a labgrid place: reserve, acquire, read its address, release.

The lock record of every place is appended to the run's locks.jsonl: `acquired` (place,
resources, coordinator, token, waited seconds, UTC time), `released` (written by the keeper
process, so a run killed with SIGKILL still releases and records it) and `busy` (the wait ran
out).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Optional

from bibench_deploy.fleet.lab.client import LabClient, network_service
from bibench_deploy.fleet.lab.config import LabClaim
from bibench_deploy.fleet.lab.keeper import append_record, utc_now

LOCKS_NAME = "locks.jsonl"
KEEPER_EXIT_S = 90.0


class Lease:
    def __init__(self, device_name: str, claim: LabClaim, run_dir: Path,
                 stop: Callable[[], bool], on_wait: Callable[[str], None]):
        self.device_name, self.claim, self.stop = device_name, claim, stop
        self.locks = Path(run_dir) / LOCKS_NAME
        self.client = LabClient(claim)
        self.on_wait = on_wait
        self.keeper: Optional[subprocess.Popen] = None
        self.place: Optional[str] = None

    def hold(self) -> Optional[dict]:
        """Wait for the place and acquire it: its NetworkService (address, username, port),
        or None when the run was stopped while waiting. Raises PlaceBusy or LabError."""
        started = time.monotonic()
        self.client.reserve(self._keep, self.stop, self._waiting)
        if self.stop():
            return None
        self.place, resources = self.client.acquire(self.token)
        append_record(str(self.locks), {
            "event": "acquired", "device": self.device_name, "place": self.place,
            "coordinator": self.claim.coordinator, "token": self.token,
            "resources": resources, "waited_s": round(time.monotonic() - started, 3),
            "acquired_utc": utc_now()})
        return network_service(self.place, resources)

    def busy(self, reason: str) -> None:
        append_record(str(self.locks), {"event": "busy", "device": self.device_name,
                                        "coordinator": self.claim.coordinator,
                                        "wanted": self.claim.wanted(), "error": reason,
                                        "utc": utc_now()})

    def release(self) -> None:
        """Let the keeper release the place and cancel the reservation; wait until it has."""
        if self.keeper is None:
            return
        self.keeper.stdin.close()
        try:
            self.keeper.wait(KEEPER_EXIT_S)
        except subprocess.TimeoutExpired:
            pass  # it carries on in its own session; the record says when it finished
        self.keeper = None

    def _keep(self, token: str) -> None:
        self.token = token
        self.locks.parent.mkdir(parents=True, exist_ok=True)
        self.keeper = subprocess.Popen(
            [sys.executable, "-m", "bibench_deploy.fleet.lab.keeper", self.claim.client,
             self.claim.coordinator, token, str(self.locks), self.device_name],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, cwd=str(Path(__file__).resolve().parents[3]))

    def _waiting(self, holder: Optional[str]) -> None:
        self.on_wait(f"waiting for {self.claim.wanted()}" + (f" (held by {holder})" if holder else ""))


def at_service(device, service: dict):
    """The device, addressed at its place's NetworkService (the fleet file's user if it has none)."""
    return device.model_copy(update={"host": service["address"], "port": service["port"],
                                     "user": service["username"] or device.user})
