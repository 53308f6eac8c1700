"""What a finished run tells the shell: its exit code, and why when cells failed.

    0  every cell measured (`ok`; with `--strict`, only `ok`)
    1  some cells failed (unsupported, transfer_failed, run_failed, timeout, unreachable, busy)
    3  with `--strict`: every cell measured, but some are flagged (contended, unstable, throttled)
    130  interrupted (Ctrl-C): continue with --resume
The CLI's one scheme (bibench_deploy/errors.py): a bad fleet file or model also exits 1, a
usage error 2.
"""

from __future__ import annotations

from bibench_deploy.cells import FAILED, FLAGGED
from bibench_deploy.errors import EXIT_FAILURE, EXIT_FLAGGED, EXIT_INTERRUPTED, EXIT_OK


def exit_code(rows: list[dict], strict: bool = False, interrupted: bool = False) -> int:
    if interrupted:
        return EXIT_INTERRUPTED
    statuses = {row["status"] for row in rows}
    if statuses & set(FAILED):
        return EXIT_FAILURE
    if strict and statuses & set(FLAGGED):
        return EXIT_FLAGGED
    return EXIT_OK


def problems(rows: list[dict]) -> list[str]:
    """One line per failed or flagged status: how many cells, on which devices, the first reason."""
    lines = []
    for status in (*FAILED, *FLAGGED):
        hit = [row for row in rows if row["status"] == status]
        if hit:
            devices = sorted({row["device"] for row in hit})
            reason = next((row["error"] for row in hit if row.get("error")), "")
            lines.append(f"{len(hit)} {status} on {', '.join(devices)}" + (f": {reason}" if reason else ""))
    return lines
