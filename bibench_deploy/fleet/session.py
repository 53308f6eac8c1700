"""One device's connection: connect (retried with backoff), probe what the device is, get its
engines ready, push a group's models.

Connecting is retried (the attempts are counted for the rows); an unknown host key or a refused
login is not. What cannot be used raises a TransportError (or ParseError from the probe);
an engine that cannot run is not an error here: its `EngineReady.problem` says why, for its cells.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional

from bibench_deploy.fleet import rows as rowlib
from bibench_deploy.fleet.context import RunContext
from bibench_deploy.fleet.engines import ENGINES
from bibench_deploy.fleet.engines.base import ParseError
from bibench_deploy.fleet.engines.native import normal_arch
from bibench_deploy.fleet.plan import Cell
from bibench_deploy.fleet.probe import DeviceInfo, probe_info
from bibench_deploy.fleet.rows import CellFailed
from bibench_deploy.fleet.transports import open_transport
from bibench_deploy.fleet.transports.base import (AuthError, Blob, ConnectError, ConnectionLost,
                                                  HostKeyError, TransferError, Transport,
                                                  TransportError)


@dataclass
class EngineReady:
    """An engine on the device: its pushed files (sha256 -> path), version and sha256, or why
    it cannot run."""
    paths: dict[str, str] = field(default_factory=dict)
    version: str = ""
    sha256: str = ""
    problem: Optional[CellFailed] = None


def arch_mismatch(declared: Optional[str], reported: str) -> Optional[str]:
    """The fleet file says one CPU architecture, the device reports another: wrong device?"""
    if declared and reported and normal_arch(declared) != normal_arch(reported):
        return f"the fleet file declares arch {declared}, the device reports {reported}"
    return None


class DeviceSession:
    def __init__(self, device, ctx: RunContext):
        self.device, self.ctx = device, ctx
        self.transport: Optional[Transport] = None
        self.info = DeviceInfo()
        self.engines: dict[str, EngineReady] = {}
        self.connect_attempts = 0
        self.closed_bytes_pushed = 0  # by transports already closed (after a lost connection)

    @property
    def connected(self) -> bool:
        return self.transport is not None

    @property
    def bytes_pushed(self) -> int:
        return self.closed_bytes_pushed + (self.transport.bytes_pushed if self.transport else 0)

    def open(self) -> None:
        """Connect, probe the device and get every engine of the fleet file ready."""
        try:
            self.transport = self.connect_with_retries()
            self.info = probe_info(self.transport)
            self.engines = {name: self._ready_engine(name) for name in self.device.engines}
        except (TransportError, ParseError):
            self.close()
            raise

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.closed_bytes_pushed += self.transport.bytes_pushed
            self.transport = None

    def connect_with_retries(self) -> Transport:
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

    def push_models(self, group: list[Cell]) -> dict[str, str]:
        """The group's model files on the device (sha256 -> path), each file once."""
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
