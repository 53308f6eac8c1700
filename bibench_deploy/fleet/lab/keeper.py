"""Releases a reservation when the run that made it is done, however it ends.

Started with the reservation's token as soon as the coordinator gives it; it waits for its
stdin to close, which happens when the run releases the place, and also when the run's process
dies (Ctrl-C, SIGTERM, SIGKILL, a crash). It then releases the place (if acquired), cancels the
reservation and appends the `released` record to the run's locks.jsonl. Standard library only:
it runs in its own session, outside the measuring process.

    python -m bibench_deploy.fleet.lab.keeper CLIENT COORDINATOR TOKEN LOCKS_FILE DEVICE
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime, timezone


def append_record(path: str, record: dict) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def release(client: str, coordinator: str, token: str) -> tuple[bool, str]:
    """Release the reservation's place, then cancel the reservation; (released, error)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    base = [client, "-x", coordinator]
    released = subprocess.run([*base, "-p", f"+{token}", "release"], capture_output=True,
                              text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
    subprocess.run([*base, "cancel-reservation", token], capture_output=True, text=True,
                   timeout=60, env=env, stdin=subprocess.DEVNULL)
    lines = [line for line in released.stderr.splitlines() if line.strip()]
    return released.returncode == 0, lines[-1] if released.returncode and lines else ""


def main(argv: list[str]) -> int:
    client, coordinator, token, locks_file, device = argv
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the run's Ctrl-C is not for us
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.stdin.read()  # until the run closes the pipe or dies
    released, error = release(client, coordinator, token)
    append_record(locks_file, {"event": "released", "device": device, "token": token,
                               "coordinator": coordinator, "released_utc": utc_now(),
                               "place_was_acquired": released, "release_error": error})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
