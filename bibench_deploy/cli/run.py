"""`bibench-deploy run --fleet F`: measure every model on every device of a fleet."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from bibench_deploy.cli import app
from bibench_deploy.errors import FleetError


def _ints(text: Optional[str], option: str) -> Optional[list[int]]:
    if not text:
        return None
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise FleetError(f"{option} expects comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise FleetError(f"{option} expects positive integers, got {text!r}")
    return values


@app.command("run")
def run(fleet: Optional[Path] = typer.Option(None, "--fleet", "-f", help="Fleet file (YAML); "
                                             "default devices/local.yaml (the host itself)."),
        models_dir: Path = typer.Option(Path("models"), help="Directory of built models."),
        models: str = typer.Option("*", help="Glob over model names, e.g. 'resnet18-*'."),
        devices: Optional[str] = typer.Option(None, help="Comma-separated device names or "
                                                         "tag:<tag> (default: all)."),
        threads: Optional[str] = typer.Option(None, help="Comma-separated thread counts "
                                                         "(default: each device's list)."),
        repeats: int = typer.Option(3, min=1, help="Independent launches per cell, at least."),
        max_repeats: int = typer.Option(20, min=1, help="Launch budget per cell: more launches "
                                        "until the paired speedup interval meets the target."),
        target_ci_pct: float = typer.Option(2.0, min=0, help="Stop launching when the 95 % "
                                            "interval of the paired speedup is within +-this %."),
        max_group_secs: float = typer.Option(600.0, min=0, help="Time budget of one model's "
                                             "cells on one device, seconds."),
        warmup: int = typer.Option(5, min=0, help="Warm-up inferences per launch, discarded."),
        min_iters: int = typer.Option(50, min=1, help="Minimum timed inferences per launch."),
        min_secs: float = typer.Option(1.0, min=0, help="Minimum timed seconds per launch."),
        max_secs: float = typer.Option(150.0, min=0.1, help="Stop timing a launch after this."),
        max_spread_pct: float = typer.Option(5.0, help="Flag a cell unstable above this spread "
                                                       "of its launches' medians."),
        max_parallel: Optional[int] = typer.Option(None, min=1, help="At most this many devices "
                                                   "measuring at once (devices sharing a host)."),
        out: Path = typer.Option(Path("reports"), help="Reports directory."),
        resume: Optional[str] = typer.Option(None, help="Run id to resume: measure only the "
                                                        "cells it is missing."),
        trust_new_hosts: bool = typer.Option(False, "--trust-new-hosts",
                                             help="Accept unknown SSH host keys and record them."),
        strict: bool = typer.Option(False, "--strict", help="Exit 3 when cells are flagged "
                                    "(contended, unstable, throttled).")
        ) -> None:
    """Measure latency of binary models and their FP32 baselines on every device."""
    from rich.console import Console

    from bibench_deploy.fleet.engines.base import Measure
    from bibench_deploy.fleet.outcome import exit_code, problems
    from bibench_deploy.fleet.run import RunSettings, run_fleet
    from bibench_deploy.fleet.inventory import fleet_path
    settings = RunSettings(fleet=str(fleet_path(fleet)), models_dir=str(models_dir), models=models,
                           devices=[d.strip() for d in devices.split(",")] if devices else None,
                           threads=_ints(threads, "--threads"),
                           measure=Measure(warmup, min_iters, min_secs, max_secs, repeats,
                                           max_repeats, target_ci_pct, max_group_secs),
                           max_spread_pct=max_spread_pct, max_parallel=max_parallel)
    result = run_fleet(settings, out, resume, trust_new_hosts)
    console = Console()
    counts = {}
    for row in result.rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no cells"
    console.print(f"run {result.run_id}: {summary} -> {result.run_dir / 'latency.csv'}",
                  highlight=False)
    for line in problems(result.rows):
        console.print(f"  {line}", highlight=False)
    if result.interrupted:
        console.print(f"interrupted; continue with --resume {result.run_id}", highlight=False)
    raise typer.Exit(exit_code(result.rows, strict, result.interrupted))
