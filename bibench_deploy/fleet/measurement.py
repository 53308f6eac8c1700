"""Measuring one group of cells on a connected device: rounds of one launch per cell until the
group's stop rule says so, each launch behind the quiet-device guard and the cool-down, then the
optional op-profiling launch.

A launch that fails (deadline, exit code, unparsable output) fails its cell, never the group;
a measurement is never retried. Transport errors (a lost connection, a failed push) propagate.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional

from bibench_deploy import formats
from bibench_deploy.fleet import rows as rowlib
from bibench_deploy.fleet.context import RunContext
from bibench_deploy.fleet.counting import count_cell
from bibench_deploy.fleet.engines import ENGINES
from bibench_deploy.fleet.engines.base import Launch, ParseError
from bibench_deploy.fleet.guard import GuardRecord, mask_cores, read_load, wait_for_quiet
from bibench_deploy.fleet.plan import Cell
from bibench_deploy.fleet.probe import launch_with_state, probe_state, run_state_commands
from bibench_deploy.fleet.recorder import Recorder
from bibench_deploy.fleet.rows import CellFailed
from bibench_deploy.fleet.session import DeviceSession, EngineReady
from bibench_deploy.fleet.stats import stop_reason

COOLDOWN_POLL_S = 2.0
COOLDOWN_MAX_WAIT_S = 120.0


@dataclass
class GroupResult:
    """Per cell key: launches, (state before, state after) of each launch, guard records, and
    failures; the benchmark's own seconds; (stop reason, paired half-width %), or None when the
    run was stopped mid-group."""
    launches: dict[str, list[Launch]]
    states: dict[str, list]
    guards: dict[str, list[GuardRecord]]
    failures: dict[str, CellFailed]
    engine_s: float = 0.0
    stop: Optional[tuple] = None
    counts: dict = field(default_factory=dict)  # cell key -> PerInference (emulated devices)

    @classmethod
    def empty(cls, group: list[Cell]) -> "GroupResult":
        keys = [cell.key for cell in group]
        return cls({k: [] for k in keys}, {k: [] for k in keys}, {k: [] for k in keys}, {})


class Measurement:
    def __init__(self, session: DeviceSession, recorder: Recorder, ctx: RunContext):
        self.session, self.recorder, self.ctx = session, recorder, ctx

    @property
    def device(self):
        return self.session.device

    def rounds(self, group: list[Cell], ready: EngineReady, models: dict[str, str]) -> GroupResult:
        """Rounds of one launch per cell until the group's stop rule says so; an emulated
        device's cells are counted instead."""
        if self.session.transport.COUNTS_INSTRUCTIONS:
            return self.counted(group, ready, models)
        result = GroupResult.empty(group)
        started, rounds, contended = time.monotonic(), 0, False
        commands_before = self._state_commands()
        while result.stop is None and not self.ctx.stop.is_set():
            rounds += 1
            for cell in group:
                if cell.key in result.failures or self.ctx.stop.is_set():
                    continue
                contended = self._one_launch(cell, ready, models, rounds, contended, result)
            if not self.ctx.stop.is_set():
                result.stop = stop_reason(group, result.launches, result.failures, rounds,
                                          time.monotonic() - started, self.ctx.measure)
        self._record_state_commands(group, result, commands_before, self._state_commands())
        return result

    def counted(self, group: list[Cell], ready: EngineReady, models: dict[str, str]) -> GroupResult:
        """Guest instructions per inference of each cell (fleet/counting.py)."""
        result = GroupResult.empty(group)
        transport, deadline = self.session.transport, self._deadline_s()
        for cell in group:
            if self.ctx.stop.is_set():
                return result
            self.recorder.progress(state="counting", cell=f"{cell.model.name} "
                                   f"{cell.model.variant}")
            started = time.monotonic()
            try:
                result.counts[cell.key] = count_cell(
                    self._exact_argv(cell, ready, models),
                    lambda argv: transport.guest(argv, deadline),
                    lambda name, argv, guest: self.recorder.guest_log(cell, name, argv, guest))
                self.recorder.count_log(cell, result.counts[cell.key])
            except CellFailed as failed:
                result.failures[cell.key] = failed
            result.engine_s += time.monotonic() - started
        result.stop = ("counted", None)
        return result

    def _exact_argv(self, cell: Cell, ready: EngineReady, models: dict[str, str]):
        engine, config = ENGINES.get(cell.engine), self.device.engines[cell.engine]
        model_path = models[cell.model.sha256]

        def argv_for(iterations: int) -> list[str]:
            argv = engine.exact_argv(self.device, config, ready.paths, model_path, cell.threads,
                                     cell.options, iterations)
            if argv is None:
                raise CellFailed("unsupported", f"{cell.engine} cannot run an exact number of "
                                 "inferences, which an emulated device's count needs")
            return argv
        return argv_for

    def _one_launch(self, cell, ready, models, repeat: int, contended: bool,
                    result: GroupResult) -> bool:
        """One launch of `cell` into `result`; returns whether the group has been contended."""
        self.recorder.progress(state="measuring", cell=f"{cell.model.name} {cell.model.variant} "
                               f"t{cell.threads} #{repeat}")
        try:
            launch, before, after, elapsed, guard = self._launch(cell, ready, models, repeat,
                                                                 not contended)
        except CellFailed as failed:
            result.engine_s += failed.elapsed_s
            result.failures[cell.key] = failed
            return contended
        result.engine_s += elapsed + guard.waited_s  # measuring time, not orchestration
        result.launches[cell.key].append(launch)
        result.states[cell.key].append((before, after))
        result.guards[cell.key].append(guard)
        self.recorder.progress(last_ms=launch.median_ms)
        return contended or guard.contended  # later launches do not wait again

    def _state_commands(self) -> dict:
        return run_state_commands(self.session.transport, self.device.state_commands)

    def _record_state_commands(self, group, result: GroupResult, before: dict,
                               after: dict) -> None:
        for cell in group:
            states = result.states[cell.key]
            if states:
                states[0][0].commands = before
                states[-1][1].commands = after
            if self.device.state_commands:
                self.recorder.state_commands(cell, before, after)

    def _guard(self, cell: Cell, wait: bool) -> GuardRecord:
        """Wait (up to the device's max_wait_s) until the launch's cores are quiet."""
        cores = mask_cores(cell.affinity)
        return wait_for_quiet(lambda: read_load(self.session.transport, cores),
                              self.device.max_start_load,
                              self.device.max_wait_s if wait else 0.0, self.ctx.stop.is_set)

    def _deadline_s(self) -> float:
        return self.device.timeout_s or self.ctx.measure.deadline_s()

    def _launch(self, cell: Cell, ready: EngineReady, models: dict[str, str], repeat: int,
                wait: bool = True):
        engine, config = ENGINES.get(cell.engine), self.device.engines[cell.engine]
        argv = engine.argv(self.device, config, ready.paths, models[cell.model.sha256],
                           cell.threads, cell.options, self.ctx.measure)
        if cell.affinity:
            argv = ["taskset", cell.affinity, *argv]
        self._cool_down(repeat, cell)
        deadline = self._deadline_s()
        guard = self._guard(cell, wait)
        span = [time.time()]
        result, before, after, guard.during = launch_with_state(
            self.session.transport, argv, deadline, mask_cores(cell.affinity))
        span.append(time.time())
        guard.busy_during = guard.during.busy(self.device.max_start_load)
        self.recorder.raw_log(cell, f"launch-{repeat}", argv, result, before, after, guard, span)
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
        except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
            # what a parser did not foresee in a device's output fails this launch, not the run
            raise CellFailed("run_failed", f"unreadable engine output ({type(exc).__name__}: "
                             f"{str(exc)[:200]})", result.elapsed_s) from None

    def op_profile(self, group: list[Cell], ready: EngineReady, models: dict[str, str],
                   failures: dict[str, CellFailed]) -> None:
        """One extra, unmeasured launch per cell with per-op profiling, to ops/<cell>.csv."""
        engine, config = ENGINES.get(group[0].engine), self.device.engines[group[0].engine]
        if not config.op_profiling or not engine.OP_PROFILING:
            return
        for cell in group:
            if cell.key in failures:
                continue
            argv = engine.argv(self.device, config, ready.paths, models[cell.model.sha256],
                               cell.threads, cell.options, self.ctx.measure, op_profiling=True)
            result = self.session.transport.run(argv, self._deadline_s())
            state = probe_state(self.session.transport, {})
            self.recorder.raw_log(cell, "op-profile", argv, result, state, state)
            if result.rc == 0:
                rowlib.write_ops_csv(self.ctx.run_dir / "ops" / f"{rowlib.cell_slug(cell.key)}.csv",
                                     engine.parse_op_profile(result.stdout))

    def _cool_down(self, repeat: int, cell: Cell) -> None:
        if self.device.cooldown_s and (repeat > 1 or cell.model.variant != formats.VARIANT_BINARY):
            time.sleep(self.device.cooldown_s)
        limit = self.device.max_start_temp_c
        waited = 0.0
        while limit is not None and waited < COOLDOWN_MAX_WAIT_S and not self.ctx.stop.is_set():
            temp = probe_state(self.session.transport, {}).temp_c
            if temp is None or temp <= limit:
                return
            time.sleep(COOLDOWN_POLL_S)
            waited += COOLDOWN_POLL_S
