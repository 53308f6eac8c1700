"""`bibench-deploy run --fleet F`: measure every model on every device of a fleet."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from bibench_deploy.cli import app
from bibench_deploy.cli.options import (REPORTS_DIR, deprecated_option, existing_dir,
                                        models_dir_option, names, renamed)
from bibench_deploy.errors import EXIT_INTERRUPTED, UsageError


def _ints(text: Optional[str], option: str) -> Optional[list[int]]:
    if not text:
        return None
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"{option} expects comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise UsageError(f"{option} expects positive integers, got {text!r}")
    return values


def resume_command(run_id: str, reports_dir: Path) -> str:
    import shlex
    return f"bibench-deploy run --resume {shlex.quote(run_id)} --reports-dir {shlex.quote(str(reports_dir))}"


@app.command("run")
def run(fleet: Optional[Path] = typer.Option(None, "--fleet", "-f", help="Fleet file (YAML); "
                                             "default devices/local.yaml (the host itself)."),
        models_dir: Path = models_dir_option(),
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
        max_spread_pct: float = typer.Option(5.0, min=0, help="Flag a cell unstable above this "
                                             "spread of its launches' medians."),
        max_parallel: Optional[int] = typer.Option(None, min=1, help="At most this many devices "
                                                   "measuring at once (devices sharing a host)."),
        reports_dir: Path = typer.Option(REPORTS_DIR, "--reports-dir",
                                         help="Where run directories (RUN_ID/) are created."),
        old_out: Optional[Path] = deprecated_option("--out"),
        resume: Optional[str] = typer.Option(None, help="Run id to resume: measure only the "
                                                        "cells it is missing."),
        trust_new_hosts: bool = typer.Option(False, "--trust-new-hosts",
                                             help="Accept unknown SSH host keys and record them."),
        strict: bool = typer.Option(False, "--strict", help="Exit 3 when cells are flagged "
                                    "(contended, unstable, throttled).")
        ) -> None:
    """Measure latency of binary models and their FP32 baselines on every device."""
    from bibench_deploy.cli.progress import stderr_console
    from bibench_deploy.cli.render import print_run_results
    from bibench_deploy.fleet.engines.base import Measure
    from bibench_deploy.fleet.outcome import exit_code, problems
    from bibench_deploy.fleet.run import RERUN_STATUSES, RunSettings, run_fleet
    from bibench_deploy.fleet.inventory import fleet_path
    reports_dir = renamed(reports_dir, old_out, "--reports-dir", "--out", REPORTS_DIR)
    if not resume:
        existing_dir(models_dir, "--models-dir")
    settings = RunSettings(fleet=str(fleet_path(fleet)), models_dir=str(models_dir), models=models,
                           devices=names(devices), threads=_ints(threads, "--threads"),
                           measure=Measure(warmup, min_iters, min_secs, max_secs, repeats,
                                           max_repeats, target_ci_pct, max_group_secs),
                           max_spread_pct=max_spread_pct, max_parallel=max_parallel)
    console = stderr_console()
    result = run_fleet(settings, reports_dir, resume, trust_new_hosts, console)
    print_run_results(result.rows)
    counts: dict[str, int] = {}
    for row in result.rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no cells"
    console.print(f"run {result.run_id}: {summary} -> {result.run_dir / 'latency.csv'}")
    for line in problems(result.rows):
        console.print(f"  {line}", highlight=False)
    if result.interrupted:
        console.print(f"interrupted; continue with: {resume_command(result.run_id, reports_dir)}")
        raise typer.Exit(EXIT_INTERRUPTED)
    for status in RERUN_STATUSES:
        if counts.get(status):
            console.print(f"{counts[status]} cell(s) {status}; retry them with: "
                          f"{resume_command(result.run_id, reports_dir)}")
    console.print(f"report: bibench-deploy report {result.run_dir}")
    raise typer.Exit(exit_code(result.rows, strict))
