"""A device lost mid-run, a run interrupted with Ctrl-C, a crash: --resume completes the run,
keeps every measured row and duplicates none."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bibench_deploy.fleet.run import RunSettings, run_fleet
from tests.fleet.helpers import MEASURED, QUICK, by_device, cell_key, read_rows


def _journal_lines(run_root: Path, device: str = "") -> int:
    total = 0
    for journal in run_root.glob("*/journal.jsonl"):
        total += sum(1 for line in journal.read_text().splitlines() if f'"{device}' in line)
    return total


def _when(condition, timeout_s: float = 60.0) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < end, "condition not reached in time"
        time.sleep(0.02)


def test_server_killed_mid_run_then_resume(lab, models_dir, tmp_path):
    steady, doomed = lab.server("steady"), lab.server("doomed")
    fleet = lab.fleet([lab.device(steady, "steady"), lab.device(doomed, "doomed")])
    out = tmp_path / "reports"
    killer = threading.Thread(target=lambda: (_when(lambda: _journal_lines(out, "doomed") >= 2),
                                              doomed.kill()))
    killer.start()
    settings = RunSettings(fleet=str(fleet), models_dir=str(models_dir), measure=QUICK)
    first = run_fleet(settings, out)
    killer.join()
    rows = by_device(read_rows(first.run_dir))
    assert all(r["status"] in MEASURED for r in rows["steady"])
    assert [r["status"] for r in rows["doomed"]].count("unreachable") == 2
    kept = {cell_key(r): r for r in read_rows(first.run_dir) if r["status"] != "unreachable"}

    doomed.start()  # the device is back, same port, same host key
    second = run_fleet(settings, out, resume=first.run_id)
    rows = read_rows(second.run_dir)
    assert len(rows) == len({cell_key(r) for r in rows}) == 8
    assert all(r["status"] in MEASURED for r in rows)
    for row in rows:
        if cell_key(row) in kept:  # measured rows are kept as they were, not measured again
            assert row == kept[cell_key(row)]
        else:
            assert int(row["attempt"]) >= 2


def _cli(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bibench_deploy", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_ctrl_c_then_resume_gives_each_row_once(lab, models_dir, tmp_path):
    server = lab.server("one")
    fleet = lab.fleet([lab.device(server, "one")])
    out = tmp_path / "reports"
    args = ["run", "--fleet", str(fleet), "--models-dir", str(models_dir), "--out", str(out),
            "--warmup", "2", "--min-iters", "10", "--min-secs", "0.02", "--max-repeats", "3"]
    process = _cli(*args)
    _when(lambda: _journal_lines(out) >= 2)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    run_id = next(out.iterdir()).name
    before = read_rows(out / run_id)
    assert 2 <= len(before) < 4

    command = err.split("interrupted; continue with: ", 1)[1].splitlines()[0]
    assert command == f"bibench-deploy run --resume {run_id} --reports-dir {out}"
    elsewhere = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    resumed = _cli(*shlex.split(command)[1:], cwd=tmp_path, env=elsewhere)  # what users are told
    stdout, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    after = read_rows(out / run_id)
    assert len(after) == len({cell_key(r) for r in after}) == 4
    assert all(r in after for r in before)
    assert all(r["status"] in MEASURED for r in after)


def test_crash_leaves_a_resumable_journal(lab, models_dir, tmp_path):
    server = lab.server("one")
    fleet = lab.fleet([lab.device(server, "one")])
    out = tmp_path / "reports"
    process = _cli("run", "--fleet", str(fleet), "--models-dir", str(models_dir), "--out", str(out),
                   "--warmup", "2", "--min-iters", "10", "--min-secs", "0.02", "--max-repeats", "3")
    _when(lambda: _journal_lines(out) >= 2)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()
    run_id = next(out.iterdir()).name
    journaled = [json.loads(line)["cell"] for line in (out / run_id / "journal.jsonl").read_text().splitlines()]
    resumed = _cli("run", "--resume", run_id, "--out", str(out))
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    rows = read_rows(out / run_id)
    assert len(rows) == len({cell_key(r) for r in rows}) == 4
    cells = [json.loads(line)["cell"] for line in (out / run_id / "journal.jsonl").read_text().splitlines()]
    assert cells[:len(journaled)] == journaled and len(cells) == len(set(cells)) == 4
