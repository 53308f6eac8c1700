"""Devices in parallel, one worker thread each; one benchmark at a time per device.

The live display shows one line per device: what it is doing, its progress, its last latency.
"""

from __future__ import annotations

import threading
import time

from rich.console import Console
from rich.live import Live
from rich.table import Table

from bibench_deploy.fleet.plan import Cell
from bibench_deploy.fleet.worker import DeviceWorker, RunContext


class Progress:
    def __init__(self, totals: dict[str, int]):
        self.lock = threading.Lock()
        self.devices = {name: {"state": "waiting", "cell": "", "done": 0, "total": total,
                               "last_ms": None, "last_status": ""} for name, total in totals.items()}

    def update(self, device: str, changes: dict) -> None:
        with self.lock:
            self.devices[device].update(changes)

    def table(self) -> Table:
        table = Table(box=None, pad_edge=False)
        for column in ("device", "state", "cell", "done", "last ms", "last status"):
            table.add_column(column)
        with self.lock:
            for name, d in self.devices.items():
                last = f"{d['last_ms']:.3f}" if d["last_ms"] is not None else ""
                table.add_row(name, d["state"], d["cell"], f"{d['done']}/{d['total']}", last,
                              d["last_status"])
        return table


def run_workers(devices, cells: list[Cell], ctx: RunContext, console: Console | None = None) -> None:
    """Measure `cells`; returns when every device is done. Ctrl-C stops at the next launch."""
    by_device = {d.name: [c for c in cells if c.device == d.name] for d in devices}
    active = [d for d in devices if by_device[d.name]]
    progress = Progress({d.name: len(by_device[d.name]) for d in active})
    ctx.on_progress = progress.update
    threads = [threading.Thread(target=DeviceWorker(d, by_device[d.name], ctx).run,
                                name=f"device-{d.name}", daemon=True) for d in active]
    for thread in threads:
        thread.start()
    console = console or Console(stderr=True)
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
