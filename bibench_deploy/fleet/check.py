"""`devices check`: connect to every device in parallel and report what it is, without measuring."""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bibench_deploy import __version__
from bibench_deploy.fleet.engines.base import Measure, ParseError
from bibench_deploy.fleet.probe import DeviceInfo, DeviceState, probe_state
from bibench_deploy.fleet.transports.base import TransportError
from bibench_deploy.fleet.worker import DeviceWorker, RunContext


@dataclass
class DeviceReport:
    name: str
    ok: bool
    error: str = ""
    info: DeviceInfo = field(default_factory=DeviceInfo)
    state: DeviceState = field(default_factory=DeviceState)
    engines: dict[str, str] = field(default_factory=dict)  # name -> version or problem


def check_device(device, trust_new_hosts: bool = False) -> DeviceReport:
    ctx = RunContext("check", Path(tempfile.gettempdir()), __version__, Measure(), journal=None,
                     trust_new_hosts=trust_new_hosts)
    worker = DeviceWorker(device, [], ctx)
    try:
        worker.transport = worker._connect_with_retries()
        from bibench_deploy.fleet.probe import probe_info
        report = DeviceReport(device.name, True, info=probe_info(worker.transport))
        worker.info = report.info
        report.state = probe_state(worker.transport, device.state_commands)
        for name in device.engines:
            ready = worker._ready_engine(name)
            report.engines[name] = (f"{ready.problem.status}: {ready.problem.error}"
                                    if ready.problem else f"ok {ready.version}".strip())
        return report
    except (TransportError, ParseError) as exc:
        return DeviceReport(device.name, False, str(exc))
    finally:
        if worker.transport is not None:
            worker.transport.close()


def check_devices(devices, trust_new_hosts: bool = False) -> list[DeviceReport]:
    with ThreadPoolExecutor(max_workers=max(1, len(devices))) as pool:
        return list(pool.map(lambda d: check_device(d, trust_new_hosts), devices))
