"""`devices check`: connect to every device in parallel and report what it is, without measuring."""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from bibench_deploy import __version__
from bibench_deploy.fleet.context import RunContext
from bibench_deploy.fleet.engines import ENGINES
from bibench_deploy.fleet.engines.base import Measure, ParseError
from bibench_deploy.fleet.lab.client import LabError, PlaceBusy
from bibench_deploy.fleet.lab.lease import Lease, at_service
from bibench_deploy.fleet.probe import (DeviceInfo, DeviceState, probe_info_and_state,
                                        run_state_commands)
from bibench_deploy.fleet.rows import first_line
from bibench_deploy.fleet.transports.base import TransportError
from bibench_deploy.fleet.session import DeviceSession


@dataclass
class DeviceReport:
    name: str
    ok: bool
    error: str = ""
    info: DeviceInfo = field(default_factory=DeviceInfo)
    state: DeviceState = field(default_factory=DeviceState)
    engines: dict[str, str] = field(default_factory=dict)  # name -> version or problem


def check_device(device, trust_new_hosts: bool = False) -> DeviceReport:
    """A device of a labgrid place is checked while its place is held, like a run holds it."""
    if device.labgrid is None:
        return _check_reachable(device, trust_new_hosts)
    with tempfile.TemporaryDirectory(prefix="bibench-check-") as folder:
        lease = Lease(device.name, device.labgrid, Path(folder), lambda: False, lambda state: None)
        try:
            service = lease.hold()
            return _check_reachable(at_service(device, service), trust_new_hosts)
        except (LabError, PlaceBusy) as exc:
            return DeviceReport(device.name, False, str(exc))
        finally:
            lease.release()


def _check_reachable(device, trust_new_hosts: bool) -> DeviceReport:
    ctx = RunContext("check", Path(tempfile.gettempdir()), __version__, Measure(), journal=None,
                     trust_new_hosts=trust_new_hosts)
    session = DeviceSession(device, ctx)
    try:
        session.transport = session.connect_with_retries()
        checks = {name: ENGINES.get(name).quick_check_argv(device, config)
                  for name, config in device.engines.items()}
        first = next((name for name, argv in checks.items() if argv), None)
        info, state, result = probe_info_and_state(session.transport, checks.get(first))
        state.commands = run_state_commands(session.transport, device.state_commands)
        report = DeviceReport(device.name, True, info=info, state=state)
        for name, config in device.engines.items():
            report.engines[name] = _engine_status(session.transport, name, config, info,
                                                  checks[name], result if name == first else None)
        return report
    except (TransportError, ParseError) as exc:
        return DeviceReport(device.name, False, str(exc))
    finally:
        session.close()


def _engine_status(transport, name: str, config, info: DeviceInfo, argv, result) -> str:
    engine = ENGINES.get(name)
    problem = engine.binary_problem(config, info.arch)
    if problem:
        return f"unsupported: {problem}"
    if argv is None:
        return "ok (pushed at run time)"
    result = result or transport.run(argv, 60.0)
    if result.rc != 0:
        return f"unsupported: {first_line(result.stderr) or f'exit code {result.rc}'}"
    try:
        return f"ok {engine.check_version(result.stdout)}".strip()
    except ParseError as exc:
        return f"unsupported: {exc}"


def check_devices(devices, trust_new_hosts: bool = False,
                  on_report: Optional[Callable[[DeviceReport], None]] = None) -> list[DeviceReport]:
    """Every device checked in parallel; `on_report` gets each report as its device answers.
    Returns the reports in fleet order."""
    with ThreadPoolExecutor(max_workers=max(1, len(devices))) as pool:
        futures = {pool.submit(check_device, d, trust_new_hosts): d.name for d in devices}
        reports = {}
        for future in as_completed(futures):
            report = future.result()
            reports[report.name] = report
            if on_report is not None:
                on_report(report)
    return [reports[d.name] for d in devices]
