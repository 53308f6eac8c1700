"""Devices in parallel, one worker thread each; one benchmark at a time per device.

The live display shows one line per device: what it is doing, its progress, its last latency.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

from rich.console import Console
from rich.live import Live
from rich.table import Table

from bibench_deploy.elapsed import clock, eta
from bibench_deploy.fleet.context import RunContext
from bibench_deploy.fleet.plan import Cell
from bibench_deploy.fleet.worker import DeviceWorker


class Progress:
    """What every device is doing. `table()` renders the live display (a terminal); `emit`, when
    given, receives one line per finished cell (logs without a terminal)."""

    def __init__(self, totals: dict[str, int], emit: Optional[Callable[[str], None]] = None):
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.emit = emit
        self.devices = {name: {"state": "waiting", "cell": "", "done": 0, "total": total,
                               "last_ms": None, "last_status": "", "last_cell": "",
                               "finished_s": None} for name, total in totals.items()}

    def update(self, device: str, changes: dict) -> None:
        with self.lock:
            d = self.devices[device]
            finished_cell = "done" in changes and changes["done"] != d["done"]
            d.update(changes)
            if changes.get("state") in ("done", "stopped") and d["finished_s"] is None:
                d["finished_s"] = time.monotonic() - self.started
            line = self._cell_line(device, d) if finished_cell and self.emit else None
        if line:
            self.emit(line)

    def totals(self) -> tuple[int, int]:
        return (sum(d["done"] for d in self.devices.values()),
                sum(d["total"] for d in self.devices.values()))

    def overall(self) -> str:
        """`12/32 cells, elapsed 01:02, eta 03:10`: the ETA assumes the rate so far."""
        done, total = self.totals()
        elapsed = time.monotonic() - self.started
        left = eta(elapsed, done, total)
        return (f"{done}/{total} cells, elapsed {clock(elapsed)}"
                + (f", eta {clock(left)}" if left is not None and done < total else ""))

    def _cell_line(self, device: str, d: dict) -> str:
        last = f" {d['last_ms']:.3f} ms" if d["last_ms"] is not None else ""
        return f"{device}: {d['last_cell']}: {d['last_status']}{last} ({self.overall()})"

    def table(self) -> Table:
        table = Table(box=None, pad_edge=False, caption=self.overall(), caption_justify="left")
        for column in ("device", "state", "cell", "done", "elapsed", "last ms", "last status"):
            table.add_column(column)
        now = time.monotonic() - self.started
        with self.lock:
            for name, d in self.devices.items():
                last = f"{d['last_ms']:.3f}" if d["last_ms"] is not None else ""
                elapsed = clock(d["finished_s"] if d["finished_s"] is not None else now)
                table.add_row(name, d["state"], d["cell"], f"{d['done']}/{d['total']}", elapsed,
                              last, d["last_status"])
        return table


def run_workers(devices, cells: list[Cell], ctx: RunContext, console: Console | None = None) -> None:
    """Measure `cells`; returns when every device is done. Ctrl-C stops at the next launch."""
    by_device = {d.name: [c for c in cells if c.device == d.name] for d in devices}
    active = [d for d in devices if by_device[d.name]]
    console = console or Console(stderr=True)
    progress = Progress({d.name: len(by_device[d.name]) for d in active},
                        None if console.is_terminal else
                        lambda line: console.print(line, highlight=False, markup=False))
    ctx.on_progress = progress.update
    threads = [threading.Thread(target=DeviceWorker(d, by_device[d.name], ctx).run,
                                name=f"device-{d.name}", daemon=True) for d in active]
    if not console.is_terminal:
        console.print(f"measuring {len(cells)} cells on {len(active)} device(s)", highlight=False)
    for thread in threads:
        thread.start()
    try:
        if console.is_terminal:
            with Live(progress.table(), console=console, refresh_per_second=4) as live:
                _wait(threads, lambda: live.update(progress.table()))
        else:
            _wait(threads, lambda: None)
    except KeyboardInterrupt:
        ctx.stop.set()
        console.print("stopping after the current launch on each device ...")
        for thread in threads:
            thread.join()
        raise


def _wait(threads: list[threading.Thread], refresh) -> None:
    while any(t.is_alive() for t in threads):
        time.sleep(0.1)
        refresh()
