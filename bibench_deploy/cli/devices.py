"""`bibench-deploy devices check`: what each device of a fleet is, without measuring."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from bibench_deploy.cli import app
from bibench_deploy.cli.options import names, note

devices_app = typer.Typer(help="Inspect the devices of a fleet file.", no_args_is_help=True)
app.add_typer(devices_app, name="devices")

COLUMNS = ("device", "arch", "cores", "cpu", "governor", "temp °C", "engines / error")


@devices_app.command("check")
def check(fleet: Optional[Path] = typer.Option(None, "--fleet", "-f", help="Fleet file (YAML); "
                                             "default devices/local.yaml (the host itself)."),
          devices: Optional[str] = typer.Option(None, help="Comma-separated device names "
                                                           "or tag:<tag>."),
          trust_new_hosts: bool = typer.Option(False, "--trust-new-hosts",
                                               help="Accept unknown SSH host keys and record "
                                                    "them in known_hosts.")) -> None:
    """Connect to each device and print arch, cores, governor, temperature and engines; each
    device is shown as soon as it answers."""
    from rich.console import Console
    from rich.live import Live

    from bibench_deploy.cli.progress import stderr_console
    from bibench_deploy.elapsed import clock
    from bibench_deploy.errors import EXIT_FAILURE
    from bibench_deploy.fleet.check import check_devices
    from bibench_deploy.fleet.inventory import fleet_path, load_fleet
    loaded = load_fleet(fleet_path(fleet))
    for text in loaded.notes:
        note(text)
    selected = loaded.select(names(devices))
    started = time.monotonic()
    answered: dict[str, object] = {}
    err = stderr_console()

    def table():
        pending = clock(time.monotonic() - started)
        return _table([answered.get(d.name) or d.name for d in selected], pending)

    if err.is_terminal:
        with Live(table(), console=err, refresh_per_second=4, transient=True) as live:
            reports = check_devices(selected, trust_new_hosts,
                                    lambda r: (answered.__setitem__(r.name, r), live.update(table())))
    else:
        err.print(f"checking {len(selected)} device(s) ...")
        reports = check_devices(selected, trust_new_hosts, lambda r: err.print(
            f"[{clock(time.monotonic() - started)}] {_line(r)}", markup=False))
    Console().print(_table(reports))
    unreachable = [r.name for r in reports if not r.ok]
    if unreachable:
        raise typer.Exit(EXIT_FAILURE)


def _cells(r) -> tuple[str, ...]:
    temp = f"{r.state.temp_c:.1f}" if r.state.temp_c is not None else ""
    detail = "; ".join(f"{k}: {v}" for k, v in r.engines.items()) if r.ok else r.error
    return (r.name, r.info.arch, str(r.info.cores or ""), r.info.cpu, r.state.governor, temp, detail)


def _line(r) -> str:
    name, arch, cores, cpu, governor, temp, detail = _cells(r)
    if not r.ok:
        return f"{name}: error: {detail}"
    return f"{name}: {arch}, {cores} cores, {cpu}, governor {governor or '?'}, {detail}"


def _table(items, pending: str = ""):
    """Reports as rows; a device name (no report yet) is a `checking ...` row."""
    from rich.markup import escape
    from rich.table import Table
    table = Table(box=None, pad_edge=False)
    for column in COLUMNS:  # errors hold whole paths (known_hosts): folded, never cut
        table.add_column(column, overflow="fold")
    for item in items:
        if isinstance(item, str):
            table.add_row(escape(item), "", "", "", "", "", f"[dim]checking ... {pending}[/dim]")
            continue
        cells = [escape(c) for c in _cells(item)]
        if not item.ok:
            cells[-1] = f"[red]{cells[-1]}[/red]"
        table.add_row(*cells)
    return table
