"""`bibench-deploy devices check`: what each device of a fleet is, without measuring."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from bibench_deploy.cli import app

devices_app = typer.Typer(help="Inspect the devices of a fleet file.", no_args_is_help=True)
app.add_typer(devices_app, name="devices")


def _names(devices: Optional[str]) -> Optional[list[str]]:
    return [n.strip() for n in devices.split(",") if n.strip()] if devices else None


@devices_app.command("check")
def check(fleet: Path = typer.Option(Path("devices/local.yaml"), "--fleet", "-f",
                                     help="Fleet file (YAML)."),
          devices: Optional[str] = typer.Option(None, help="Comma-separated device names."),
          trust_new_hosts: bool = typer.Option(False, "--trust-new-hosts",
                                               help="Accept unknown SSH host keys and record "
                                                    "them in known_hosts.")) -> None:
    """Connect to each device and print arch, cores, governor, temperature and engines."""
    from rich.console import Console
    from rich.table import Table

    from bibench_deploy.fleet.check import check_devices
    from bibench_deploy.fleet.inventory import load_fleet
    selected = load_fleet(fleet).select(_names(devices))
    reports = check_devices(selected, trust_new_hosts)
    table = Table(box=None, pad_edge=False)
    for column in ("device", "arch", "cores", "cpu", "governor", "temp °C", "engines / error"):
        table.add_column(column)
    for r in reports:
        temp = f"{r.state.temp_c:.1f}" if r.state.temp_c is not None else ""
        detail = "; ".join(f"{k}: {v}" for k, v in r.engines.items()) if r.ok else f"[red]{r.error}[/red]"
        table.add_row(r.name, r.info.arch, str(r.info.cores or ""), r.info.cpu, r.state.governor,
                      temp, detail)
    Console().print(table)
    unreachable = [r.name for r in reports if not r.ok]
    if unreachable:
        raise typer.Exit(1)
