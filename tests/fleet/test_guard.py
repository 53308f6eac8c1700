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

from bibench_deploy.fleet.guard import parse_during, parse_load, read_load
from bibench_deploy.fleet.run import RunSettings, run_fleet
from bibench_deploy.fleet.transports.local import LocalTransport
from tests.fleet.helpers import QUICK, read_rows
from tests.fleet.synthetic import synthetic_device, synthetic_models

HOG = "cpu-hog"  # its process name (comm) in /proc


@pytest.fixture
def hog(tmp_path, measures):
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


@pytest.mark.measures
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


def test_parse_during_takes_the_launchs_own_cpu_time_out():
    before = "state=x\ncpu0 1000 0 0 1000 0 0 0 0 0 0\ncpu1 0 0 0 2000 0 0 0 0 0 0\n" \
             "0m0.01s 0m0.00s\n0m1.50s 0m0.20s\n"
    # 2 s per core pass: core 0 busy 180 ticks, of which the launch's 1.5 s (1.5 + 0.2 ->
    # 3.1 + 0.1: +1.5 s of children's CPU); core 1 busy 50 of 200
    after = "0m0.01s 0m0.00s\n0m3.10s 0m0.10s\n" \
            "cpu0 1170 0 10 1020 0 0 0 0 0 0\ncpu1 40 0 10 2150 0 0 0 0 0 0\nfreq_khz=1\n"
    load = parse_during(before, after, [0])
    assert load.launch_cpu_s == pytest.approx(1.5) and load.window_s == pytest.approx(2.0)
    assert load.others_pct == pytest.approx(100 * (180 - 150) / 200)      # 15 %
    assert load.other_cores_busy_pct == pytest.approx(25.0)
    assert load.busy(0.10) and not load.busy(0.25)
    both = parse_during(before, after, [])  # every core: (230 - 150) / 400
    assert both.others_pct == pytest.approx(20.0) and both.other_cores_busy_pct is None
    # `times` as busybox sh and mksh (Android) print it, captured: the same 1.5 s
    for shell in ("0m0.010s 0m0.000s\n0m3.100s 0m0.100s\n", "0m00.01s 0m00.00s\n0m03.10s 0m00.10s\n"):
        captured = after.replace("0m0.01s 0m0.00s\n0m3.10s 0m0.10s\n", shell)
        assert shell in captured
        other = parse_during(before, captured, [0])
        assert other.launch_cpu_s == pytest.approx(1.5) and other.others_pct == pytest.approx(15.0)
    # no `times` output (a shell without it) or no /proc/stat: unknown, never contended
    assert parse_during(before.replace("0m", "xm"), after, [0]).others_pct is None
    assert not parse_during("", "", [0]).busy(0.0)
    # 0.3 s: core 0 busy 30 ticks, the launch's own 0.05 s: 83 % others, too short to decide
    short = parse_during(before, "0m0.01s 0m0.00s\n0m1.55s 0m0.20s\n"
                         "cpu0 1020 0 10 1000 0 0 0 0 0 0\ncpu1 0 0 0 2030 0 0 0 0 0 0\n", [0])
    assert short.window_s == pytest.approx(0.3) and short.others_pct == pytest.approx(250 / 3)
    assert not short.busy(0.25)


@pytest.mark.measures
def test_work_starting_during_a_launch_makes_its_cell_contended(tmp_path):
    """A process that starts on the measured core after the guard's reading, while the launch
    runs (here detached from the benchmark, as another job would be): the launch's reading before
    it was quiet, the counters around it show others' work; without it, the same cells are ok."""
    device = synthetic_device(tmp_path, affinity="1", max_start_load=0.1, max_wait_s=5)
    synthetic_models(tmp_path / "models", spin_s=1.0, hog_s=0.6)
    result, rows = _run(tmp_path, [device], "hog-during")
    assert {r["status"] for r in rows} == {"contended"}, [r["error"] for r in rows]
    assert all("shared their cores with other work while they ran" in r["error"] for r in rows)
    logs = _launch_logs(result.run_dir)
    assert all(log["load"]["busy_during"] and log["load"]["during"]["cores"] == [0] for log in logs)
    # the hog had about 0.3 s of the 1 s launch's core (it shares it with the benchmark)
    assert all(15 <= log["load"]["during"]["others_pct"] <= 60 for log in logs), \
        [log["load"]["during"] for log in logs]
    assert all(not log["load"]["contended"] for log in logs)  # each started on a quiet core

    synthetic_models(tmp_path / "models", spin_s=1.0)
    result, rows = _run(tmp_path, [device], "no-hog")
    if {r["status"] for r in rows} != {"ok"}:  # other work on core 0 during the launches
        pytest.skip(f"core 0 was busy without the hog: {[r['error'] for r in rows]}")
    assert all(log["load"]["during"]["others_pct"] <= 10 for log in _launch_logs(result.run_dir))
