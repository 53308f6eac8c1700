"""`labgrid-client` as a subprocess: check the coordinator, reserve, acquire, read resources.

Reservations follow labgrid's scheduler: `reserve --wait` queues a reservation (by priority,
then age) that is allocated a free place matching its filters; the place is then acquired with
the reservation's token (`-p +TOKEN`) and read with `env` (YAML). Nothing here imports labgrid.
"""

from __future__ import annotations

import os
import subprocess
import time
from typing import Callable, Optional

import yaml

from bibench_deploy.fleet.lab.config import LabClaim

CALL_TIMEOUT_S = 30.0
HOLDER_POLL_S = 2.0


class LabError(Exception):
    """The coordinator or its client cannot be used: one line, naming what to fix."""


class PlaceBusy(Exception):
    """The wait for a place ran out: someone else held it the whole time."""


def client_env() -> dict:
    # labgrid-client prints the token before waiting; unbuffered, it reaches us at once
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


class LabClient:
    def __init__(self, claim: LabClaim):
        self.claim = claim
        self.base = [claim.client, "-x", claim.coordinator]

    def call(self, *args: str, timeout_s: float = CALL_TIMEOUT_S) -> subprocess.CompletedProcess:
        try:
            return subprocess.run([*self.base, *args], capture_output=True, text=True,
                                  timeout=timeout_s, env=client_env(), stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise LabError(f"labgrid client {self.claim.client!r} not found; install labgrid "
                           "(make labgrid-venv) or set labgrid.client in the fleet file") from None
        except subprocess.TimeoutExpired:
            raise LabError(f"labgrid coordinator {self.claim.coordinator} did not answer "
                           f"`{' '.join(args)}` within {timeout_s:g} s") from None

    def places(self) -> list[str]:
        """Names of the coordinator's places; a coordinator that is down is one LabError line."""
        done = self.call("places")
        if done.returncode:
            raise LabError(f"labgrid coordinator {self.claim.coordinator} is not reachable "
                           f"({_last_line(done)}); start it or fix labgrid.coordinator")
        return [line.split()[0] for line in done.stdout.splitlines() if line.strip()]

    def holder(self, place: str) -> Optional[str]:
        """Who holds the place (`host/user`), from `show`; None when free or unknown."""
        done = self.call("-p", place, "show")
        for line in done.stdout.splitlines():
            key, _, value = line.strip().partition(": ")
            if key == "acquired" and value and value != "None":
                return value
        return None

    def reserve(self, on_token: Callable[[str], None], stop: Callable[[], bool],
                on_wait: Callable[[Optional[str]], None]) -> None:
        """Reserve and wait (at most place_wait_s) for the allocation. `on_token` receives the
        token as soon as the coordinator gives it (before any wait), so it can be cancelled
        whatever happens next. Raises PlaceBusy when the wait runs out."""
        argv = [*self.base, "reserve", "--wait", "--shell", "--prio", str(self.claim.priority),
                *self.claim.filters()]
        try:
            process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       stdin=subprocess.DEVNULL, text=True, env=client_env(),
                                       start_new_session=True)  # Ctrl-C is ours to handle
        except FileNotFoundError:
            raise LabError(f"labgrid client {self.claim.client!r} not found") from None
        try:
            first = process.stdout.readline().strip()
            if not first.startswith("export LG_TOKEN="):
                try:
                    process.wait(CALL_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                raise LabError(f"labgrid reserve {' '.join(self.claim.filters())} failed: "
                               f"{_last_line(process)}")
            on_token(first.removeprefix("export LG_TOKEN="))
            self._wait(process, stop, on_wait)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stdout.close()
            process.stderr.close()

    def _wait(self, process: subprocess.Popen, stop, on_wait) -> None:
        deadline = time.monotonic() + self.claim.place_wait_s
        holder, polled = None, 0.0
        while process.poll() is None:
            if stop():
                return
            now = time.monotonic()
            if now >= deadline:
                raise PlaceBusy(f"{self.claim.wanted()} was not free within "
                                f"{self.claim.place_wait_s:g} s"
                                + (f" (held by {holder})" if holder else ""))
            if self.claim.place and now - polled >= HOLDER_POLL_S:
                holder, polled = self.holder(self.claim.place), now
                on_wait(holder)
            elif not self.claim.place and not polled:
                polled = now
                on_wait(None)
            time.sleep(0.2)
        if process.returncode != 0:
            raise LabError(f"labgrid reserve {' '.join(self.claim.filters())} failed: "
                           f"{_last_line(process)}")

    def acquire(self, token: str) -> tuple[str, list[dict]]:
        """Acquire the reservation's place; returns its name and its resources (from `env`)."""
        done = self.call("-p", f"+{token}", "acquire")
        if done.returncode:
            raise LabError(f"labgrid acquire failed: {_last_line(done)}")
        done = self.call("-p", f"+{token}", "env")
        if done.returncode:
            raise LabError(f"labgrid env failed: {_last_line(done)}")
        targets = (yaml.safe_load(done.stdout) or {}).get("targets") or {}
        if len(targets) != 1:
            raise LabError(f"labgrid env of reservation {token} names {len(targets)} places")
        place, target = next(iter(targets.items()))
        return place, [r for r in (target or {}).get("resources") or [] if isinstance(r, dict)]


def network_service(place: str, resources: list[dict]) -> dict:
    """The place's NetworkService parameters (address, username, port)."""
    for resource in resources:
        params = resource.get("NetworkService")
        if isinstance(params, dict) and params.get("address"):
            return {"address": str(params["address"]), "username": str(params.get("username") or ""),
                    "port": int(params.get("port") or 22)}
    found = ", ".join(sorted(k for r in resources for k in r)) or "none"
    raise LabError(f"place {place} has no NetworkService resource (it has: {found}); export one "
                   "with the board's address, username and port")


def _last_line(done) -> str:
    stderr = done.stderr if isinstance(done.stderr, str) else done.stderr.read()
    lines = [line.strip() for line in (stderr or "").splitlines() if line.strip()]
    return (lines[-1] if lines else f"exit code {done.returncode}").removeprefix("labgrid-client: ")
