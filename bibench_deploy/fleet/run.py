"""A fleet run end to end: plan, measure, journal, write reports/<run-id>/.

    reports/<run-id>/run.json        settings, fleet file sha256, tool version, models' sha256
    reports/<run-id>/journal.jsonl   every finished cell, appended and fsynced at once
    reports/<run-id>/latency.csv     one row per cell (bibench_deploy.cells)
    reports/<run-id>/raw/...         stdout, stderr and device state of every launch
    reports/<run-id>/ops/...         per-op profiles, where the engine gives them
"""

from __future__ import annotations

import json
import platform
import secrets
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from bibench_deploy import __version__
from bibench_deploy.errors import FleetError
from bibench_deploy.fleet.context import RunContext
from bibench_deploy.fleet.engines.base import Measure
from bibench_deploy.fleet.engines.getting import check_engines, converter_versions
from bibench_deploy.fleet.inventory import load_fleet
from bibench_deploy.fleet.lab.check import check_labs
from bibench_deploy.fleet.journal import JOURNAL_NAME, Journal
from bibench_deploy.fleet.plan import load_models, plan_cells
from bibench_deploy.fleet.rows import write_csv

RUN_MANIFEST = "run.json"
RERUN_STATUSES = ("unreachable", "busy")  # nothing was measured: --resume tries these cells again


@dataclass
class RunSettings:
    fleet: str
    models_dir: str = "models"
    models: str = "*"
    devices: Optional[list[str]] = None
    threads: Optional[list[int]] = None
    measure: Measure = Measure()
    max_spread_pct: float = 5.0
    max_parallel: Optional[int] = None


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    rows: list[dict]
    interrupted: bool = False


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def run_fleet(settings: RunSettings, out_dir: Path, resume: Optional[str] = None,
              trust_new_hosts: bool = False, console=None) -> RunResult:
    run_id, run_dir, settings = _open_run(settings, Path(out_dir), resume)
    fleet = load_fleet(Path(settings.fleet))
    _print_notes(fleet.notes, console)
    devices = fleet.select(settings.devices)
    check_labs(devices)  # a coordinator that is down or a missing place: one line, no run
    models = load_models(Path(settings.models_dir), settings.models)
    # a changed fetched binary or one of another version than the converter: refused, no run
    _print_notes(check_engines(devices, converter_versions(Path(settings.models_dir),
                                                           settings.models)), console)
    cells = plan_cells(devices, models, settings.threads)
    manifest = _run_manifest(run_id, settings, fleet, cells)
    if resume:
        _check_same_inputs(run_dir, manifest)
    else:  # created only once the plan stands: a refused input leaves no run behind
        _make_run_dir(run_dir)
        (run_dir / RUN_MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    journal = Journal(run_dir / JOURNAL_NAME)
    done = journal.rows()
    todo = [c for c in cells if c.key not in done or done[c.key]["status"] in RERUN_STATUSES]
    ctx = RunContext(run_id, run_dir, __version__, settings.measure, journal,
                     settings.max_spread_pct, trust_new_hosts,
                     prior_attempts={k: int(r.get("attempt") or 0) for k, r in done.items()},
                     measuring=threading.BoundedSemaphore(settings.max_parallel)
                     if settings.max_parallel else None)
    from bibench_deploy.fleet.scheduler import run_workers
    interrupted = False
    try:
        run_workers(devices, todo, ctx, console)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        rows = _write_latency(run_dir, cells, journal)
    return RunResult(run_id, run_dir, rows, interrupted)


def _print_notes(notes: list[str], console=None) -> None:
    from rich.console import Console
    from rich.markup import escape
    console = console or Console(stderr=True)
    for note in notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}", highlight=False, soft_wrap=True)


def _open_run(settings: RunSettings, out_dir: Path, resume: Optional[str]):
    if not resume:
        run_id = new_run_id()
        return run_id, out_dir / run_id, settings
    run_dir = out_dir / resume
    if not (run_dir / RUN_MANIFEST).is_file():
        raise FleetError(f"{run_dir}: no run to resume (no {RUN_MANIFEST})")
    saved = json.loads((run_dir / RUN_MANIFEST).read_text())["settings"]
    # a run recorded before adaptive repeats took exactly `repeats` launches per cell
    saved["measure"].setdefault("max_repeats", saved["measure"].get("repeats", 3))
    saved["measure"] = Measure(**saved["measure"])
    return resume, run_dir, RunSettings(**saved)


def _make_run_dir(run_dir: Path) -> None:
    try:
        run_dir.mkdir(parents=True)
    except OSError as exc:
        raise FleetError(f"cannot create {run_dir}: {exc.strerror}; choose a writable "
                         "--reports-dir") from None


def _run_manifest(run_id: str, settings: RunSettings, fleet, cells) -> dict:
    models = {(c.model.name, c.model.artefact): c.model for c in cells if not c.model.unsupported}
    return {
        "run_id": run_id, "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "tool_version": __version__, "host": platform.node(), "python": platform.python_version(),
        "fleet_file": str(fleet.path), "fleet_sha256": fleet.sha256,
        "settings": {**asdict(settings), "fleet": str(Path(settings.fleet))},
        "models": [{"name": m.name, "variant": m.variant, "artefact": m.artefact,
                    "path": str(m.path),
                    "sha256": m.sha256, "bytes": m.bytes} for m in models.values()],
        "cells": len(cells),
    }


def _check_same_inputs(run_dir: Path, manifest: dict) -> None:
    saved = json.loads((run_dir / RUN_MANIFEST).read_text())
    if saved["fleet_sha256"] != manifest["fleet_sha256"]:
        raise FleetError(f"{manifest['fleet_file']} changed since run {saved['run_id']} started; "
                         "start a new run instead of resuming")
    if {m["sha256"] for m in saved["models"]} != {m["sha256"] for m in manifest["models"]}:
        raise FleetError(f"the models changed since run {saved['run_id']} started; "
                         "start a new run instead of resuming")


def _write_latency(run_dir: Path, cells, journal: Journal) -> list[dict]:
    done = journal.rows()
    rows = [done[c.key] for c in cells if c.key in done]
    write_csv(run_dir / "latency.csv", rows)
    return rows
