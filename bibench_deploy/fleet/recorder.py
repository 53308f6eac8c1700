"""What one device's worker writes: a journal row per finished cell, the raw log of every launch,
the device's transfer log, and its progress on the live display.

    raw/<device>/<cell>/launch-<n>.{stdout,stderr,json}   each launch, with the device's state
    raw/<device>/<cell>/count-*.{stdout,stderr,json}      an emulated device's launches, counted
    raw/<device>/<cell>/count.json                         their pair: N1, N2, counts, agreement
    raw/<device>/<cell>/op-profile.*, state-commands.json
    raw/<device>/transfer.json                             connections and pushed bytes
    raw/<device>/internal-error.txt                        the trace of a bug, if one happened
"""

from __future__ import annotations

import json
import traceback
from pathlib import Path
from typing import Optional

from bibench_deploy.fleet import counting
from bibench_deploy.fleet import rows as rowlib
from bibench_deploy.fleet.context import RunContext
from bibench_deploy.fleet.engines.base import Launch
from bibench_deploy.fleet.guard import GuardRecord, contention
from bibench_deploy.fleet.plan import Cell
from bibench_deploy.fleet.probe import throttling_began
from bibench_deploy.fleet.rows import CellFailed
from bibench_deploy.fleet.session import DeviceSession, EngineReady
from bibench_deploy.fleet.stats import guard_fields, summarize


class Recorder:
    def __init__(self, session: DeviceSession, ctx: RunContext):
        self.session, self.ctx = session, ctx
        self.device_name = session.device.name
        self.done = 0

    def progress(self, **update) -> None:
        self.ctx.on_progress(self.device_name, update)

    # ---- rows ------------------------------------------------------------------------------
    def row(self, cell: Cell, ready: Optional[EngineReady] = None) -> dict:
        ready = ready or self.session.engines.get(cell.engine) or EngineReady()
        return rowlib.base_row(cell, self.ctx.run_id, self.ctx.tool_version, self.session.info,
                               ready.version, ready.sha256)

    def attempt(self, cell: Cell) -> int:
        return self.ctx.prior_attempts.get(cell.key, 0) + self.session.connect_attempts

    def fail_all(self, cells: list[Cell], failed: CellFailed) -> None:
        for cell in cells:
            self.journal(cell, rowlib.finish(self.row(cell), failed.status, failed.error,
                                             self.attempt(cell)))

    def measured(self, cell: Cell, ready: EngineReady, group, overhead_s: float) -> None:
        """The row of a measured cell (`group`: the GroupResult of its group)."""
        failure = group.failures.get(cell.key)
        if cell.key in group.counts or (failure and group.stop[0] == "counted"):
            return self.journal(cell, self._counted_row(cell, ready, group.counts.get(cell.key),
                                                        failure, overhead_s))
        row = self._cell_row(cell, ready, group.launches[cell.key], group.states[cell.key], failure)
        guards = group.guards[cell.key]
        row.update(guard_fields(guards), overhead_s=overhead_s,
                   stop_reason="failed" if failure else group.stop[0],
                   paired_halfwidth_pct=group.stop[1])
        if row["status"] in ("ok", "unstable") and row["contended_launches"]:
            rowlib.finish(row, "contended", contention(guards, self.session.device),
                          self.attempt(cell))
        self.journal(cell, row)

    def _counted_row(self, cell, ready, counted, failure, overhead_s: float) -> dict:
        """An emulated device's cell: its instruction count, no latency, no device state."""
        row = self.row(cell, ready)
        row.update(overhead_s=overhead_s, stop_reason="failed" if failure else "counted",
                   warmup_runs=0)
        if failure:
            return rowlib.finish(row, failure.status, failure.error, self.attempt(cell))
        row.update(repeats=len(counted.runs), guest_insns_per_inference=counted.instructions)
        return rowlib.finish(row, "counted", "", self.attempt(cell))

    def _cell_row(self, cell, ready, launches: list[Launch], states, failure) -> dict:
        row = self.row(cell, ready)
        row.update(repeats=len(launches))
        if states:
            row.update(rowlib.state_fields(states[0][0], states[-1][1]))
        if failure:
            return rowlib.finish(row, failure.status, failure.error, self.attempt(cell))
        row.update(summarize(launches))
        status, error = "ok", ""
        if throttling_began(states[0][0], states[-1][1]):
            status, error = "throttled", "the device reported throttling during the cell"
        elif len(launches) > 1 and row["repeat_spread_pct"] > self.ctx.max_spread_pct:
            status = "unstable"
            error = (f"launch medians differ by {row['repeat_spread_pct']:.1f} % "
                     f"(limit {self.ctx.max_spread_pct:g} %)")
        return rowlib.finish(row, status, error, self.attempt(cell))

    def journal(self, cell: Cell, row: dict) -> None:
        self.ctx.journal.append(cell.key, row)
        self.done += 1
        self.progress(done=self.done, last_status=row["status"], last_ms=row.get("latency_median_ms"),
                      last_cell=f"{cell.model.name} {cell.model.variant} t{cell.threads}")

    def internal_error(self, exc: Exception, cells: list[Cell]) -> None:
        """A bug: keep its trace, give each of `cells` not yet journaled a row."""
        (self._device_folder() / "internal-error.txt").write_text(traceback.format_exc())
        journaled = set(self.ctx.journal.rows())
        for cell in cells:
            if cell.key not in journaled:
                self.journal(cell, rowlib.finish(self.row(cell), "run_failed",
                                                 f"internal error: {exc!r}", self.attempt(cell)))

    # ---- raw files -------------------------------------------------------------------------
    def transfer_log(self) -> None:
        """What this device cost in connections and pushed bytes (second runs push nothing)."""
        (self._device_folder() / "transfer.json").write_text(json.dumps(
            {"bytes_pushed": self.session.bytes_pushed,
             "connect_attempts": self.session.connect_attempts}))

    def _device_folder(self) -> Path:
        folder = self.ctx.run_dir / "raw" / self.device_name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def raw_folder(self, cell: Cell) -> Path:
        folder = self.ctx.run_dir / "raw" / self.device_name / rowlib.cell_slug(cell.key)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def state_commands(self, cell: Cell, before: dict, after: dict) -> None:
        self.raw_folder(cell).joinpath("state-commands.json").write_text(json.dumps(
            {"before": before, "after": after}, indent=1))

    def guest_log(self, cell: Cell, name: str, argv, guest) -> None:
        """One launch under qemu: its output and guest instruction count (no time, no state)."""
        folder = self.raw_folder(cell)
        (folder / f"{name}.stdout").write_text(guest.stdout)
        (folder / f"{name}.stderr").write_text(guest.stderr)
        (folder / f"{name}.json").write_text(json.dumps({
            "cell": cell.key, "argv": argv, "rc": guest.returncode,
            "guest_instructions": guest.guest_instructions}, indent=1))

    def count_log(self, cell: Cell, counted) -> None:
        """The pair behind a counted cell: N1, N2, each repeat's counts and their agreement."""
        (self.raw_folder(cell) / "count.json").write_text(json.dumps(
            {"cell": cell.key, **counting.details(counted)}, indent=1))

    def raw_log(self, cell: Cell, name: str, argv, result, before, after,
                guard: Optional[GuardRecord] = None, span: Optional[list[float]] = None) -> None:
        folder = self.raw_folder(cell)
        (folder / f"{name}.stdout").write_text(result.stdout)
        (folder / f"{name}.stderr").write_text(result.stderr)
        (folder / f"{name}.json").write_text(json.dumps({
            "cell": cell.key, "argv": argv, "rc": result.rc, "elapsed_s": result.elapsed_s,
            "timed_out": result.timed_out, "state_before": vars(before),
            "state_after": vars(after), "load": guard.as_dict() if guard else None,
            "started_unix": span[0] if span else None, "ended_unix": span[1] if span else None},
            indent=1, default=str))
