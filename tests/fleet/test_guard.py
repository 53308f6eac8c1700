"""The quiet-device guard against a real CPU hog pinned to the measured core, on the local
transport and over a real sshd; with the hog stopped, the same cells are not contended by it."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from bibench_deploy.fleet.guard import parse_load, read_load
from bibench_deploy.fleet.run import RunSettings, run_fleet
from bibench_deploy.fleet.transports.local import LocalTransport
from tests.fleet.helpers import QUICK, read_rows
from tests.fleet.synthetic import synthetic_device, synthetic_models

HOG = "cpu-hog"  # its process name (comm) in /proc


@pytest.fixture
def hog(tmp_path):
    """A busy loop pinned to core 0 (taskset), as another user's benchmark would be."""
    script = tmp_path / HOG
    script.write_text("#!/bin/sh\nwhile :; do :; done\n")
    script.chmod(0o755)
    process = subprocess.Popen(["taskset", "-c", "0", str(script)])
    time.sleep(0.3)
    yield process
    process.kill()
    process.wait()


def _local(tmp_path) -> LocalTransport:
    device = yaml.safe_load(yaml.safe_dump(synthetic_device(tmp_path)))
    return LocalTransport(type("Device", (), device))


def test_reading_sees_the_hog_on_its_core(hog, tmp_path):
    reading = read_load(_local(tmp_path), [0])
    assert reading.cores == [0] and reading.busy_pct >= 90, reading
    assert HOG in reading.tasks and reading.runnable >= 1


def test_parse_counts_busy_and_steal_of_the_chosen_cores_only():
    before = "cpu0 100 0 100 700 100 0 0 0 0 0\ncpu1 0 0 0 1000 0 0 0 0 0 0\n"
    after = "cpu0 400 0 200 800 100 0 50 50 0 0\ncpu1 0 0 0 2000 0 0 0 0 0 0\n"
    tasks = ("1 (init) S 0 " + "0 " * 40 + "\n"
             "42 (my (odd) task) R 1 " + "0 " * 33 + "0 0\n"     # runnable, last on core 0
             "43 (grep) R 7 " + "0 " * 33 + "0 0\n")             # the probe's own child
    stdout = f"{before}@@bibench-load\n{after}@@bibench-load 7 6\n{tasks}"
    reading = parse_load(stdout, [0])
    # core 0: 500 of 600 ticks busy (user 300, system 100, softirq 50, steal 50; idle 100)
    assert reading.busy_pct == pytest.approx(100 * 500 / 600)
    assert reading.steal_pct == pytest.approx(100 * 50 / 600)
    assert reading.tasks == ["my (odd) task"] and reading.runnable == 1
    assert parse_load(stdout, [1]).busy_pct == 0 and parse_load(stdout, [1]).runnable == 0
    assert parse_load(stdout, []).busy_pct == pytest.approx(100 * 500 / 600 / 2)
    unknown = parse_load("", [0])  # no /proc/stat: unknown, never guessed, never waited on
    assert unknown.busy_pct is None and unknown.quiet(0.01)


def _run(tmp_path, devices, name, measure=QUICK, **settings):
    fleet = tmp_path / f"{name}.yaml"
    fleet.write_text(yaml.safe_dump({"devices": devices}))
    result = run_fleet(RunSettings(fleet=str(fleet), models_dir=str(tmp_path / "models"),
                                   measure=measure, **settings), tmp_path / name)
    return result, read_rows(result.run_dir)


def _launch_logs(run_dir: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in run_dir.rglob("launch-*.json")]


def _check_contended_by_hog(result, rows, waited: float) -> None:
    assert {r["status"] for r in rows} == {"contended"}, [r["error"] for r in rows]
    for row in rows:
        assert float(row["load_busy_max_pct"]) >= 90 and HOG in row["load_tasks"].split(";")
        assert int(row["contended_launches"]) == 3 and row["latency_median_ms"]  # measured, marked
        assert "busy cores" in row["error"]
    logs = _launch_logs(result.run_dir)
    assert len(logs) == 6 and all(log["load"]["contended"] and log["load"]["cores"] == [0] for log in logs)
    # the first launch waited out max_wait_s; later launches of the group do not wait again
    assert max(log["load"]["waited_s"] for log in logs) >= waited
    assert sorted(log["load"]["polls"] > 1 for log in logs) == [False] * 5 + [True]


def test_hog_on_the_measured_core_makes_local_cells_contended(hog, tmp_path):
    synthetic_models(tmp_path / "models")
    device = synthetic_device(tmp_path, affinity="1", max_start_load=0.5, max_wait_s=1.5)
    result, rows = _run(tmp_path, [device], "hogged")
    _check_contended_by_hog(result, rows, 1.5)

    hog.kill()
    hog.wait()
    result, rows = _run(tmp_path, [{**device, "max_wait_s": 10}], "quiet")
    assert all(HOG not in r["load_tasks"].split(";") for r in rows)
    if {r["status"] for r in rows} != {"ok"}:  # other work kept core 0 busy for 10 s
        pytest.skip(f"core 0 stayed busy without the hog: {rows[0]['load_tasks']}")
    assert all(int(r["contended_launches"]) == 0 for r in rows)
    assert all(float(r["load_busy_max_pct"]) <= 50 for r in rows)


def test_hog_makes_cells_contended_over_ssh(hog, lab, tmp_path):
    synthetic_models(tmp_path / "models")
    server = lab.server("board")
    engine = synthetic_device(tmp_path)["engines"]["lce_interpreter"]
    device = lab.device(server, "board", affinity="1", max_start_load=0.5, max_wait_s=1.5,
                        engine=engine)
    result, rows = _run(tmp_path, [device], "ssh-hogged")
    _check_contended_by_hog(result, rows, 1.5)


def _overlapping(logs: list[dict]) -> int:
    """How many pairs of launches of different devices ran at the same time."""
    device = lambda log: log["cell"].split("|")[0]  # noqa: E731
    return sum(device(a) != device(b) and a["started_unix"] < b["ended_unix"]
               and b["started_unix"] < a["ended_unix"] for i, a in enumerate(logs) for b in logs[:i])


def test_the_tools_own_parallel_devices_count_as_load(tmp_path):
    """Two local devices on core 0 measuring at once: their benchmarks overlap and the guard sees
    the core busy. With --max-parallel 1 they take turns of one whole group each, and the guard
    reads the core inside the turn, so neither sees the other."""
    synthetic_models(tmp_path / "models", spin_s=0.5)
    # no waiting: a device that waited for quiet would find the gaps between its twin's launches
    twins = [synthetic_device(tmp_path, f"twin-{i}", affinity="1", max_start_load=0.1,
                              max_wait_s=0.0, cooldown_s=0.4 * i) for i in range(2)]
    engine = "synthetic-pytho"  # the engine's process name (comm, 15 characters)
    two = dataclasses.replace(QUICK, repeats=2, max_repeats=2)
    parallel, rows = _run(tmp_path, twins, "parallel", two)
    assert _overlapping(_launch_logs(parallel.run_dir))
    # which launches' 0.3 s readings fall in a twin's benchmark depends on timing (whether the
    # twin's process is still runnable when the reading ends, too); a cell is contended exactly
    # when one of its launches started on the busy core, and at least one did
    assert any(int(r["contended_launches"]) for r in rows)
    assert all((r["status"] == "contended") == (int(r["contended_launches"]) > 0) for r in rows)
    turns, _ = _run(tmp_path, twins, "turns", two, max_parallel=1)
    logs = _launch_logs(turns.run_dir)
    assert not _overlapping(logs) and not [log for log in logs if engine in log["load"]["tasks"]]
    # a turn is a whole group: each twin's four launches run back to back, not interleaved
    order = [log["cell"].split("|")[0] for log in sorted(logs, key=lambda log: log["started_unix"])]
    assert sorted(order) == ["twin-0"] * 4 + ["twin-1"] * 4
    assert order in (sorted(order), sorted(order, reverse=True)), order
