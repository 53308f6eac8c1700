"""One device's worker: hold its labgrid place (if any), connect, then measure its cells one
group at a time. The parts: `DeviceSession` (connect, probe, push), `Measurement` (the launch
loop and the quiet-device guard) and `Recorder` (journal rows and raw logs).

Every way a device can fail becomes a status row for the cells it affects; the worker never
raises, so the other devices carry on. Connecting is retried with backoff (the attempts are
recorded); a measurement is never retried.
"""

from __future__ import annotations

import contextlib
import time

from bibench_deploy.fleet.context import RunContext
from bibench_deploy.fleet.engines.base import ParseError
from bibench_deploy.fleet.lab.client import LabError, PlaceBusy
from bibench_deploy.fleet.lab.lease import Lease, at_service
from bibench_deploy.fleet.measurement import Measurement
from bibench_deploy.fleet.plan import Cell, groups
from bibench_deploy.fleet.recorder import Recorder
from bibench_deploy.fleet.rows import CellFailed
from bibench_deploy.fleet.session import DeviceSession
from bibench_deploy.fleet.transports.base import ConnectionLost, TransferError, TransportError


class DeviceWorker:
    def __init__(self, device, cells: list[Cell], ctx: RunContext):
        self.cells, self.ctx = cells, ctx
        self.session = DeviceSession(device, ctx)
        self.recorder = Recorder(self.session, ctx)
        self.measurement = Measurement(self.session, self.recorder, ctx)
        self.setup_s = 0.0  # connecting and probing, not yet attributed to a cell

    def run(self) -> None:
        remaining = groups(self.cells)
        lease = None
        try:
            if self.session.device.labgrid is not None:
                lease = Lease(self.session.device.name, self.session.device.labgrid,
                              self.ctx.run_dir, self.ctx.stop.is_set,
                              lambda state: self.recorder.progress(state=state))
                if not self._hold(lease, remaining):
                    return
            while remaining and not self.ctx.stop.is_set():
                if not self.session.connected and not self._connect(remaining):
                    return
                self._measure_group(remaining.pop(0))
        except Exception as exc:  # a bug: keep its trace, give the device's cells a row, go on
            self.recorder.internal_error(exc, self.cells)
        finally:
            self.recorder.transfer_log()
            self.session.close()
            if lease is not None:
                lease.release()
            self.recorder.progress(state="stopped" if self.ctx.stop.is_set() else "done", cell="")

    def _hold(self, lease: Lease, remaining: list[list[Cell]]) -> bool:
        """Reserve and acquire the device's labgrid place; connect to its NetworkService."""
        self.recorder.progress(state=f"reserving {self.session.device.labgrid.wanted()}")
        try:
            service = lease.hold()
        except PlaceBusy as exc:
            lease.busy(str(exc))
            self._fail_remaining(remaining, CellFailed("busy", str(exc)))
            return False
        except LabError as exc:
            self._fail_remaining(remaining, CellFailed("unreachable", str(exc)))
            return False
        if service is None:  # stopped while waiting
            return False
        self.session.device = at_service(self.session.device, service)
        return True

    def _fail_remaining(self, remaining: list[list[Cell]], failed: CellFailed) -> None:
        self.recorder.fail_all([cell for group in remaining for cell in group], failed)
        remaining.clear()

    def _connect(self, remaining: list[list[Cell]]) -> bool:
        """Connect (with retries) and get ready; on failure every remaining cell gets a row."""
        self.recorder.progress(state="connecting")
        started = time.monotonic()
        try:
            self.session.open()
        except (TransportError, ParseError) as exc:
            status = "unreachable" if not isinstance(exc, TransferError) else "transfer_failed"
            self._fail_remaining(remaining, CellFailed(status, str(exc)))
            return False
        self.setup_s += time.monotonic() - started  # counted in the next group's overhead
        return True

    def _measure_group(self, group: list[Cell]) -> None:
        ready = self.session.engines[group[0].engine]
        if group[0].model.unsupported:  # e.g. no .dab artefact: the manifest says why
            return self.recorder.fail_all(group, CellFailed(
                "unsupported", f"{group[0].engine}: {group[0].model.unsupported}"))
        if ready.problem:
            return self.recorder.fail_all(group, ready.problem)
        if self.ctx.measuring:
            self.recorder.progress(state="waiting for its turn", cell=group[0].model.name)
        with self.ctx.measuring or contextlib.nullcontext():  # a whole group per turn
            started = time.monotonic()  # a turn's wait is neither orchestration nor measuring
            try:
                self.recorder.progress(state="pushing", cell=group[0].model.name)
                models = self.session.push_models(group)
                result = self.measurement.rounds(group, ready, models)
            except TransferError as exc:
                return self.recorder.fail_all(group, CellFailed("transfer_failed", str(exc)))
            except ConnectionLost as exc:
                self.session.close()
                return self.recorder.fail_all(group, CellFailed(
                    "unreachable", f"connection lost during measurement: {exc}"))
            if result.stop is None:
                return  # interrupted mid-group: nothing journaled, --resume measures it again
            self.measurement.op_profile(group, ready, models, result.failures)
        overhead_s = (time.monotonic() - started - result.engine_s + self.setup_s) / len(group)
        self.setup_s = 0.0
        for cell in group:
            self.recorder.measured(cell, ready, result, overhead_s)
