"""One device's worker: connect, probe, push, then measure its cells one at a time.

Every way a device can fail becomes a status row for the cells it affects; the worker never
raises, so the other devices carry on. Connecting is retried with backoff (the attempts are
recorded); a measurement is never retried.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from bibench_deploy.fleet import rows as rowlib
from bibench_deploy.fleet.engines import ENGINES
from bibench_deploy.fleet.engines.base import Launch, Measure, ParseError
from bibench_deploy.fleet.engines.native import normal_arch
from bibench_deploy.fleet.lab.client import LabError, PlaceBusy
from bibench_deploy.fleet.lab.lease import Lease, at_service
from bibench_deploy.fleet.guard import (GuardRecord, contention, mask_cores, read_load,
                                        wait_for_quiet)
from bibench_deploy.fleet.plan import Cell, groups
from bibench_deploy.fleet.probe import (DeviceInfo, launch_with_state, probe_info, probe_state,
                                        run_state_commands, throttling_began)
from bibench_deploy.fleet.stats import guard_fields, stop_reason, summarize
from bibench_deploy.fleet.transports import open_transport
from bibench_deploy.fleet.transports.base import (AuthError, Blob, ConnectError, ConnectionLost,
                                                  HostKeyError, TransferError, TransportError)

COOLDOWN_POLL_S = 2.0
COOLDOWN_MAX_WAIT_S = 120.0


@dataclass
class RunContext:
    run_id: str
    run_dir: Path
    tool_version: str
    measure: Measure
    journal: object
    max_spread_pct: float = 5.0
    trust_new_hosts: bool = False
    connect_tries: int = 3
    backoff_s: float = 0.5
    stop: threading.Event = field(default_factory=threading.Event)
    # devices sharing a host (--max-parallel): a device holds a turn for one whole group (push,
    # every round, op profile), so a cell's launches run back to back, not minutes apart
    measuring: Optional[threading.Semaphore] = None
    prior_attempts: dict[str, int] = field(default_factory=dict)
    on_progress: Callable[[str, dict], None] = lambda device, update: None


def arch_mismatch(declared: Optional[str], reported: str) -> Optional[str]:
    """The fleet file says one CPU architecture, the device reports another: wrong device?"""
    if declared and reported and normal_arch(declared) != normal_arch(reported):
        return f"the fleet file declares arch {declared}, the device reports {reported}"
    return None


class CellFailed(Exception):
    def __init__(self, status: str, error: str, elapsed_s: float = 0.0):
        super().__init__(error)
        self.status, self.error, self.elapsed_s = status, error, elapsed_s


@dataclass
class EngineReady:
    paths: dict[str, str] = field(default_factory=dict)
    version: str = ""
    sha256: str = ""
    problem: Optional[CellFailed] = None


class DeviceWorker:
    def __init__(self, device, cells: list[Cell], ctx: RunContext):
        self.device, self.cells, self.ctx = device, cells, ctx
        self.transport = None
        self.info = DeviceInfo()
        self.engines: dict[str, EngineReady] = {}
        self.connect_attempts = 0
        self.setup_s = 0.0     # connecting and probing, not yet attributed to a cell
        self.bytes_pushed = 0  # of transports already closed (after a lost connection)
        self.done = 0

    # ---- the loop --------------------------------------------------------------------------
    def run(self) -> None:
        remaining = groups(self.cells)
        lease = None
        try:
            if self.device.labgrid is not None:
                lease = Lease(self.device.name, self.device.labgrid, self.ctx.run_dir,
                              self.ctx.stop.is_set, lambda state: self._progress(state=state))
                if not self._hold(lease, remaining):
                    return
            while remaining and not self.ctx.stop.is_set():
                if self.transport is None and not self._connect(remaining):
                    return
                group = remaining.pop(0)
                self._measure_group(group)
        except Exception as exc:  # a bug: keep its trace, give the device's cells a row, go on
            self._internal_error(exc, remaining)
        finally:
            self._write_transfer_log()
            if self.transport is not None:
                self.transport.close()
            if lease is not None:
                lease.release()
            self._progress(state="stopped" if self.ctx.stop.is_set() else "done", cell="")

    def _internal_error(self, exc: Exception, remaining: list[list[Cell]]) -> None:
        import traceback
        folder = self.ctx.run_dir / "raw" / self.device.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "internal-error.txt").write_text(traceback.format_exc())
        journaled = set(self.ctx.journal.rows())
        for cell in self.cells:
            if cell.key not in journaled:
                self._journal(cell, rowlib.finish(self._row(cell), "run_failed",
                                                  f"internal error: {exc!r}", self._attempt(cell)))

    def _write_transfer_log(self) -> None:
        """What this device cost in connections and pushed bytes (second runs push nothing)."""
        folder = self.ctx.run_dir / "raw" / self.device.name
        folder.mkdir(parents=True, exist_ok=True)
        self.bytes_pushed += self.transport.bytes_pushed if self.transport is not None else 0
        (folder / "transfer.json").write_text(json.dumps(
            {"bytes_pushed": self.bytes_pushed, "connect_attempts": self.connect_attempts}))

    def _progress(self, **update) -> None:
        self.ctx.on_progress(self.device.name, update)

    def _hold(self, lease: Lease, remaining: list[list[Cell]]) -> bool:
        """Reserve and acquire the device's labgrid place; connect to its NetworkService."""
        self._progress(state=f"reserving {self.device.labgrid.wanted()}")
        try:
            service = lease.hold()
        except PlaceBusy as exc:
            lease.busy(str(exc))
            self._fail_remaining(remaining, "busy", str(exc))
            return False
        except LabError as exc:
            self._fail_remaining(remaining, "unreachable", str(exc))
            return False
        if service is None:  # stopped while waiting
            return False
        self.device = at_service(self.device, service)
        return True

    def _fail_remaining(self, remaining: list[list[Cell]], status: str, error: str) -> None:
        for pair in remaining:
            for cell in pair:
                self._journal(cell, rowlib.finish(self._row(cell), status, error,
                                                  self._attempt(cell)))
        remaining.clear()

    def _connect(self, remaining: list[list[Cell]]) -> bool:
        """Connect (with retries) and get ready; on failure every remaining cell gets a row."""
        self._progress(state="connecting")
        started = time.monotonic()
        try:
            self.transport = self._connect_with_retries()
            self.info = probe_info(self.transport)
            self.engines = {name: self._ready_engine(name) for name in self.device.engines}
            self.setup_s += time.monotonic() - started  # counted in the next pair's overhead
            return True
        except (TransportError, ParseError) as exc:
            if self.transport is not None:
                self.transport.close()
                self.transport = None
            status = "unreachable" if not isinstance(exc, TransferError) else "transfer_failed"
            self._fail_remaining(remaining, status, str(exc))
            return False

    def _connect_with_retries(self):
        delay = self.ctx.backoff_s
        for attempt in range(1, self.ctx.connect_tries + 1):
            self.connect_attempts += 1
            transport = open_transport(self.device, self.ctx.trust_new_hosts)
            try:
                transport.connect()
                return transport
            except (HostKeyError, AuthError):
                transport.close()
                raise
            except (ConnectError, ConnectionLost) as exc:
                transport.close()
                if attempt == self.ctx.connect_tries or self.ctx.stop.is_set():
                    raise ConnectError(f"{exc} (after {attempt} attempts)") from None
                time.sleep(delay)
                delay *= 2

    def _ready_engine(self, name: str) -> EngineReady:
        engine, config = ENGINES.get(name), self.device.engines[name]
        problem = arch_mismatch(self.device.arch, self.info.arch) or \
            engine.binary_problem(config, self.info.arch)
        if problem:
            return EngineReady(problem=CellFailed("unsupported", f"{name}: {problem}"))
        try:
            paths = self.transport.ensure(engine.files(config))
        except TransferError as exc:
            return EngineReady(problem=CellFailed("transfer_failed", f"{name}: {exc}"))
        checked = self.transport.run(engine.check_argv(self.device, config, paths), 60.0)
        if checked.rc != 0:
            reason = rowlib.first_line(checked.stderr) or f"exit code {checked.rc}"
            return EngineReady(problem=CellFailed("unsupported", f"{name} cannot run on the "
                                                  f"device: {reason}"))
        try:
            version = engine.check_version(checked.stdout)
        except ParseError as exc:
            return EngineReady(problem=CellFailed("unsupported", f"{name} cannot run on the "
                                                  f"device: {exc}"))
        return EngineReady(paths, version, engine.engine_sha256(config))

    # ---- one group of cells ----------------------------------------------------------------
    def _measure_group(self, group: list[Cell]) -> None:
        ready = self.engines[group[0].engine]
        if group[0].model.unsupported:  # e.g. no .dab artefact: the manifest says why
            return self._fail_all(group, CellFailed("unsupported", f"{group[0].engine}: "
                                                   f"{group[0].model.unsupported}"))
        if ready.problem:
            return self._fail_all(group, ready.problem)
        if self.ctx.measuring:
            self._progress(state="waiting for its turn", cell=group[0].model.name)
        with self.ctx.measuring or contextlib.nullcontext():  # a whole group per turn
            started = time.monotonic()  # a turn's wait is neither orchestration nor measuring
            try:
                self._progress(state="pushing", cell=group[0].model.name)
                models = self._push_models(group)
                launches, states, guards, failures, engine_s, stop = \
                    self._launch_rounds(group, ready, models)
            except TransferError as exc:
                return self._fail_all(group, CellFailed("transfer_failed", str(exc)))
            except ConnectionLost as exc:
                self.transport.close()
                self.bytes_pushed += self.transport.bytes_pushed
                self.transport = None
                return self._fail_all(group, CellFailed("unreachable", f"connection lost during "
                                                       f"measurement: {exc}"))
            if stop is None:
                return  # interrupted mid-group: nothing journaled, --resume measures it again
            self._op_profile(group, ready, models, failures)
        overhead_s = (time.monotonic() - started - engine_s + self.setup_s) / len(group)
        self.setup_s = 0.0
        for cell in group:
            row = self._cell_row(cell, ready, launches[cell.key], states[cell.key],
                                 failures.get(cell.key))
            row.update(guard_fields(guards[cell.key]), overhead_s=overhead_s,
                       stop_reason="failed" if cell.key in failures else stop[0],
                       paired_halfwidth_pct=stop[1])
            if row["status"] in ("ok", "unstable") and row["contended_launches"]:
                rowlib.finish(row, "contended", contention(guards[cell.key], self.device),
                              self._attempt(cell))
            self._journal(cell, row)

    def _push_models(self, group: list[Cell]) -> dict[str, str]:
        # cells of one side share their model file: each file once
        blobs = list({c.model.sha256: Blob(c.model.path, c.model.sha256, c.model.path.suffix)
                      for c in group}.values())
        missing_kb = sum(b.local.stat().st_size for b in blobs) / 1024
        present = self.transport.present_blobs(blobs)
        if present != {b.name for b in blobs} and self.info.disk_free_kb is not None \
                and missing_kb > self.info.disk_free_kb:
            raise TransferError(f"device disk full: {self.info.disk_free_kb} KB free in "
                                f"{self.device.work_dir}, models need {missing_kb:.0f} KB")
        return self.transport.ensure(blobs, present)

    def _launch_rounds(self, group, ready, models):
        """Rounds of one launch per cell until the group's stop rule says so. Returns launches,
        states and guard records per cell, failures, benchmark seconds, and (stop reason, paired
        half-width %), or None for the stop when interrupted."""
        launches = {c.key: [] for c in group}
        states = {c.key: [] for c in group}
        guards: dict[str, list[GuardRecord]] = {c.key: [] for c in group}
        failures: dict[str, CellFailed] = {}
        engine_s, started, rounds, contended = 0.0, time.monotonic(), 0, False
        commands_before = run_state_commands(self.transport, self.device.state_commands)
        stop = None
        while stop is None and not self.ctx.stop.is_set():
            rounds += 1
            for cell in group:
                if cell.key in failures or self.ctx.stop.is_set():
                    continue
                self._progress(state="measuring", cell=f"{cell.model.name} {cell.model.variant} "
                               f"t{cell.threads} #{rounds}")
                try:
                    launch, before, after, elapsed, guard = self._launch(cell, ready, models,
                                                                         rounds, not contended)
                    engine_s += elapsed + guard.waited_s  # measuring time, not orchestration
                    contended = contended or guard.contended  # later launches do not wait again
                    launches[cell.key].append(launch)
                    states[cell.key].append((before, after))
                    guards[cell.key].append(guard)
                    self._progress(last_ms=launch.median_ms)
                except CellFailed as failed:
                    engine_s += failed.elapsed_s
                    failures[cell.key] = failed
            if not self.ctx.stop.is_set():
                stop = stop_reason(group, launches, failures, rounds,
                                   time.monotonic() - started, self.ctx.measure)
        commands_after = run_state_commands(self.transport, self.device.state_commands)
        for cell in group:
            if states[cell.key]:
                states[cell.key][0][0].commands = commands_before
                states[cell.key][-1][1].commands = commands_after
            if self.device.state_commands:
                self._raw_folder(cell).joinpath("state-commands.json").write_text(json.dumps(
                    {"before": commands_before, "after": commands_after}, indent=1))
        return launches, states, guards, failures, engine_s, stop

    def _guard(self, cell: Cell, wait: bool) -> GuardRecord:
        """Wait (up to the device's max_wait_s) until the launch's cores are quiet."""
        cores = mask_cores(cell.affinity)
        return wait_for_quiet(lambda: read_load(self.transport, cores), self.device.max_start_load,
                              self.device.max_wait_s if wait else 0.0, self.ctx.stop.is_set)

    def _launch(self, cell: Cell, ready: EngineReady, models: dict[str, str], repeat: int,
                wait: bool = True):
        engine, config = ENGINES.get(cell.engine), self.device.engines[cell.engine]
        argv = engine.argv(self.device, config, ready.paths, models[cell.model.sha256],
                           cell.threads, cell.options, self.ctx.measure)
        if cell.affinity:
            argv = ["taskset", cell.affinity, *argv]
        self._cool_down(repeat, cell)
        deadline = self.device.timeout_s or self.ctx.measure.deadline_s()
        guard = self._guard(cell, wait)
        span = [time.time()]
        result, before, after, guard.during = launch_with_state(self.transport, argv, deadline,
                                                                 mask_cores(cell.affinity))
        span.append(time.time())
        guard.busy_during = guard.during.busy(self.device.max_start_load)
        self._raw_log(cell, f"launch-{repeat}", argv, result, before, after, guard, span)
        if result.timed_out:
            raise CellFailed("timeout", f"killed after the {deadline:g} s deadline", result.elapsed_s)
        if result.rc != 0:
            raise CellFailed("run_failed", f"exit code {result.rc}: "
                             f"{rowlib.first_line(result.stderr) or 'no error output'}",
                             result.elapsed_s)
        try:
            return engine.parse(result.stdout), before, after, result.elapsed_s, guard
        except ParseError as exc:
            raise CellFailed("run_failed", str(exc), result.elapsed_s) from None

    def _op_profile(self, pair, ready, models, failures) -> None:
        """One extra, unmeasured launch with per-op profiling, written to ops/<cell>.csv."""
        engine, config = ENGINES.get(pair[0].engine), self.device.engines[pair[0].engine]
        if not config.op_profiling or not engine.OP_PROFILING:
            return
        for cell in pair:
            if cell.key in failures:
                continue
            argv = engine.argv(self.device, config, ready.paths, models[cell.model.sha256],
                               cell.threads, cell.options, self.ctx.measure, op_profiling=True)
            result = self.transport.run(argv, self.device.timeout_s or self.ctx.measure.deadline_s())
            state = probe_state(self.transport, {})
            self._raw_log(cell, "op-profile", argv, result, state, state)
            if result.rc == 0:
                rowlib.write_ops_csv(self.ctx.run_dir / "ops" / f"{rowlib.cell_slug(cell.key)}.csv",
                                     engine.parse_op_profile(result.stdout))

    def _cool_down(self, repeat: int, cell: Cell) -> None:
        if self.device.cooldown_s and (repeat > 1 or cell.model.variant != "binary"):
            time.sleep(self.device.cooldown_s)
        limit = self.device.max_start_temp_c
        waited = 0.0
        while limit is not None and waited < COOLDOWN_MAX_WAIT_S and not self.ctx.stop.is_set():
            temp = probe_state(self.transport, {}).temp_c
            if temp is None or temp <= limit:
                return
            time.sleep(COOLDOWN_POLL_S)
            waited += COOLDOWN_POLL_S

    # ---- rows ------------------------------------------------------------------------------
    def _row(self, cell: Cell, ready: Optional[EngineReady] = None) -> dict:
        ready = ready or self.engines.get(cell.engine) or EngineReady()
        return rowlib.base_row(cell, self.ctx.run_id, self.ctx.tool_version, self.info,
                               ready.version, ready.sha256)

    def _attempt(self, cell: Cell) -> int:
        return self.ctx.prior_attempts.get(cell.key, 0) + self.connect_attempts

    def _cell_row(self, cell, ready, launches: list[Launch], states, failure) -> dict:
        row = self._row(cell, ready)
        row.update(repeats=len(launches))
        if states:
            row.update(rowlib.state_fields(states[0][0], states[-1][1]))
        if failure:
            return rowlib.finish(row, failure.status, failure.error, self._attempt(cell))
        row.update(summarize(launches))
        status, error = "ok", ""
        if throttling_began(states[0][0], states[-1][1]):
            status, error = "throttled", "the device reported throttling during the cell"
        elif len(launches) > 1 and row["repeat_spread_pct"] > self.ctx.max_spread_pct:
            status = "unstable"
            error = (f"launch medians differ by {row['repeat_spread_pct']:.1f} % "
                     f"(limit {self.ctx.max_spread_pct:g} %)")
        return rowlib.finish(row, status, error, self._attempt(cell))

    def _fail_all(self, pair: list[Cell], failed: CellFailed) -> None:
        for cell in pair:
            self._journal(cell, rowlib.finish(self._row(cell), failed.status, failed.error,
                                              self._attempt(cell)))

    def _journal(self, cell: Cell, row: dict) -> None:
        self.ctx.journal.append(cell.key, row)
        self.done += 1
        self._progress(done=self.done, last_status=row["status"], last_ms=row.get("latency_median_ms"),
                       last_cell=f"{cell.model.name} {cell.model.variant} t{cell.threads}")

    def _raw_folder(self, cell: Cell) -> Path:
        folder = self.ctx.run_dir / "raw" / self.device.name / rowlib.cell_slug(cell.key)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _raw_log(self, cell: Cell, name: str, argv, result, before, after,
                 guard: Optional[GuardRecord] = None, span: Optional[list[float]] = None) -> None:
        folder = self._raw_folder(cell)
        (folder / f"{name}.stdout").write_text(result.stdout)
        (folder / f"{name}.stderr").write_text(result.stderr)
        (folder / f"{name}.json").write_text(json.dumps({
            "cell": cell.key, "argv": argv, "rc": result.rc, "elapsed_s": result.elapsed_s,
            "timed_out": result.timed_out, "state_before": vars(before),
            "state_after": vars(after), "load": guard.as_dict() if guard else None,
            "started_unix": span[0] if span else None, "ended_unix": span[1] if span else None},
            indent=1, default=str))
