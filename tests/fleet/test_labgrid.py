"""Runs on boards reserved through a real labgrid coordinator on 127.0.0.1: real exporters whose
NetworkService resources point at real sshd servers, places with tags."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from bibench_deploy.fleet.run import RunSettings, run_fleet
from tests.fleet.conftest import FleetLab
from tests.fleet.helpers import MEASURED, QUICK, by_device, read_rows
from tests.fleet.labgrid_lab import CLIENT, REPO, Lab, lab_fleet
from tests.fleet.sshd import free_port

pytestmark = pytest.mark.skipif(
    not CLIENT.exists(), reason=f"labgrid's virtual environment is absent ({CLIENT} not found; "
                                "`make labgrid-venv` creates it)")


@pytest.fixture(scope="module")
def farm(tmp_path_factory, client_key, sshd, labgrid):
    root = tmp_path_factory.mktemp("farm")
    boards = FleetLab(root, client_key)
    lab = Lab(root / "lab")
    try:
        lab.start()
        servers = {name: boards.server(name) for name in ("rpi-a", "rpi-b")}
        lab.export("rpi-a", servers["rpi-a"], {"board": "rpi4", "lab": "north"})
        lab.export("rpi-b", servers["rpi-b"], {"board": "jetson", "lab": "north"})
        yield boards, lab, servers
    finally:
        lab.close()
        boards.close()


def _settings(fleet: Path, models_dir: Path, **extra) -> RunSettings:
    return RunSettings(fleet=str(fleet), models_dir=str(models_dir), models="tiny-bnn",
                       measure=QUICK, **extra)


def _locks(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "locks.jsonl").read_text().splitlines()]


def _wait_free(lab: Lab, place: str, timeout_s: float = 30.0) -> str:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end and lab.holder(place) != "None":
        time.sleep(0.2)
    return lab.holder(place)


def _wait_records(run_dir: Path, count: int, timeout_s: float = 60.0) -> list[dict]:
    """The run's lock records once there are `count` of them. A killed run's keeper writes
    `released` after the coordinator has freed the place and the reservation is cancelled, so
    the place can be free a moment before the record is there."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end and len(_locks(run_dir)) < count:
        time.sleep(0.2)
    return _locks(run_dir)


def _cli(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "bibench_deploy", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_run_reserves_measures_and_releases(farm, models_dir, tmp_path):
    boards, lab, servers = farm
    fleet = lab_fleet(tmp_path / "fleet.yaml", lab.coordinator,
                      boards.device(servers["rpi-a"], "x"), tags={"board": "rpi4"})
    result = run_fleet(_settings(fleet, models_dir), tmp_path / "reports")
    rows = read_rows(result.run_dir)
    assert rows and {r["device"] for r in rows} == {"rpi4"}
    assert all(r["status"] in MEASURED for r in rows), [(r["status"], r["error"]) for r in rows]
    acquired, released = _locks(result.run_dir)
    assert acquired["event"] == "acquired" and acquired["place"] == "rpi-a"
    assert acquired["coordinator"] == lab.coordinator
    assert acquired["resources"] == [{"NetworkService": {
        "address": "127.0.0.1", "port": servers["rpi-a"].port, "username": "root"}}]
    assert released["event"] == "released" and released["place_was_acquired"]
    assert released["released_utc"] > acquired["acquired_utc"]
    # the launches happened between acquiring and releasing
    launches = [json.loads(p.read_text()) for p in result.run_dir.glob("raw/rpi4/*/launch-*.json")]
    assert launches and all(l["started_unix"] and l["ended_unix"] for l in launches)
    assert lab.holder("rpi-a") == "None"
    assert acquired["token"] not in lab.reservations()


def test_place_held_by_another_client_times_out_busy_others_carry_on(farm, models_dir, tmp_path):
    boards, lab, servers = farm
    assert lab.client("-p", "rpi-b", "acquire", user="colleague").returncode == 0
    try:
        plain = boards.device(servers["rpi-a"], "plain")
        fleet = lab_fleet(tmp_path / "fleet.yaml", lab.coordinator,
                          boards.device(servers["rpi-b"], "x"), places=["rpi-b"], place_wait_s=4,
                          plain=[plain])
        started = time.monotonic()
        screen = io.StringIO()  # the live display, as a terminal would show it
        console = Console(file=screen, force_terminal=True, width=300)
        result = run_fleet(_settings(fleet, models_dir), tmp_path / "reports", console=console)
        waited = time.monotonic() - started
    finally:
        lab.client("-p", "rpi-b", "release", user="colleague")
    rows = by_device(read_rows(result.run_dir))
    assert {r["status"] for r in rows["rpi-b"]} == {"busy"}
    assert all("held by" in r["error"] and "/colleague" in r["error"] for r in rows["rpi-b"])
    assert all(r["status"] in MEASURED for r in rows["plain"])  # the plain device carried on
    assert waited >= 4
    assert "waiting for place rpi-b (held by " in screen.getvalue()
    (busy,) = _locks(result.run_dir)[:1]
    assert busy["event"] == "busy"
    # nothing of ours is left on the coordinator; --resume tries the busy cells again
    assert lab.holder("rpi-b") == "None"
    resumed = run_fleet(_settings(fleet, models_dir), tmp_path / "reports", resume=result.run_id)
    rows = by_device(read_rows(resumed.run_dir))
    assert all(r["status"] in MEASURED for r in rows["rpi-b"]), rows["rpi-b"]
    assert [l["event"] for l in _locks(result.run_dir)][-2:] == ["acquired", "released"]


@pytest.mark.slow  # ~35 s: two whole runs, one after the other
def test_two_runs_on_one_place_are_serialised(farm, models_dir, tmp_path):
    boards, lab, servers = farm
    fleet = lab_fleet(tmp_path / "fleet.yaml", lab.coordinator,
                      boards.device(servers["rpi-a"], "x"), places=["rpi-a"])
    runs = [_cli("run", "--fleet", str(fleet), "--models-dir", str(models_dir), "--models",
                 "tiny-bnn", "--reports-dir", str(tmp_path / f"r{i}"), "--min-secs", "0.02",
                 "--repeats", "2", "--max-repeats", "2") for i in (1, 2)]
    for run in runs:
        out, err = run.communicate(timeout=240)
        assert run.returncode in (0, 3), err
    spans = []
    for i in (1, 2):
        (run_dir,) = (tmp_path / f"r{i}").iterdir()
        launches = [json.loads(p.read_text()) for p in run_dir.glob("raw/rpi-a/*/launch-*.json")]
        assert len(launches) >= 4
        spans.append((min(l["started_unix"] for l in launches),
                      max(l["ended_unix"] for l in launches)))
    first, second = sorted(spans)
    assert first[1] < second[0], f"launches overlap: {spans}"
    assert lab.holder("rpi-a") == "None"


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL],
                         ids=["ctrl-c", "sigterm", "killed"])
def test_interrupted_or_killed_run_releases_its_place(farm, models_dir, tmp_path, how):
    boards, lab, servers = farm
    fleet = lab_fleet(tmp_path / "fleet.yaml", lab.coordinator,
                      boards.device(servers["rpi-a"], "x"), places=["rpi-a"])
    run = _cli("run", "--fleet", str(fleet), "--models-dir", str(models_dir), "--reports-dir",
               str(tmp_path / "r"), "--min-secs", "0.5", "--repeats", "20", "--max-repeats", "20")
    end = time.monotonic() + 60
    while time.monotonic() < end and lab.holder("rpi-a") == "None":
        time.sleep(0.2)
    assert lab.holder("rpi-a") != "None", "the run never acquired its place"
    run.send_signal(how)
    run.communicate(timeout=60)
    assert _wait_free(lab, "rpi-a") == "None"
    (run_dir,) = (tmp_path / "r").iterdir()
    events = [l["event"] for l in _wait_records(run_dir, 2)]
    assert events == ["acquired", "released"]


def test_coordinator_down_is_one_line(farm, models_dir, tmp_path):
    boards, lab, servers = farm
    fleet = lab_fleet(tmp_path / "fleet.yaml", f"127.0.0.1:{free_port()}",
                      boards.device(servers["rpi-a"], "x"), places=["rpi-a"])
    run = _cli("run", "--fleet", str(fleet), "--models-dir", str(models_dir), "--reports-dir",
               str(tmp_path / "r"))
    out, err = run.communicate(timeout=60)
    assert run.returncode == 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "is not reachable" in lines[0] and "Traceback" not in err, err
    assert not (tmp_path / "r").exists() or not list((tmp_path / "r").iterdir())


def test_devices_check_holds_the_place_while_it_checks(farm, tmp_path):
    boards, lab, servers = farm
    fleet = lab_fleet(tmp_path / "fleet.yaml", lab.coordinator,
                      boards.device(servers["rpi-b"], "x"), tags={"board": "jetson"})
    check = _cli("devices", "check", "--fleet", str(fleet))
    out, err = check.communicate(timeout=120)
    assert check.returncode == 0, out + err
    assert "jetson" in out + err
    assert _wait_free(lab, "rpi-b") == "None"
