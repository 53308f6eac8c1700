"""The commands as a user runs them: the default local fleet, and `devices check` over SSH."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.fleet.helpers import MEASURED, read_rows

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bibench_deploy", *args], capture_output=True,
                          text=True, cwd=REPO, env=env, timeout=300)


def test_main_job_on_the_default_local_fleet(models_dir, tmp_path):
    env = {**os.environ, "HOME": str(tmp_path)}  # the local device's work dir lives under ~
    result = _cli("run", "--models-dir", str(models_dir), "--models", "tiny-bnn", "--out",
                  str(tmp_path / "reports"), "--min-secs", "0.05", env=env)
    assert result.returncode == 0, result.stderr
    run_dir = next((tmp_path / "reports").iterdir())
    rows = read_rows(run_dir)
    assert [(r["device"], r["variant"]) for r in rows] == [("host", "binary"), ("host", "fp32")]
    assert all(r["status"] in MEASURED and r["use_indirect_bgemm"] == "true" for r in rows)
    assert list((run_dir / "raw" / "host").rglob("launch-3.stdout"))
    assert (tmp_path / ".cache" / "bibench-deploy" / "device" / "blobs").is_dir()


def test_devices_check_reports_each_device(lab):
    up, down = lab.server("up"), lab.server("down")
    fleet = lab.fleet([lab.device(up, "up"), lab.device(down, "down")])
    down.kill()
    result = _cli("devices", "check", "--fleet", str(fleet), env={**os.environ, "COLUMNS": "250"})
    assert result.returncode == 1  # a device is unreachable
    up_line = next(line for line in result.stdout.splitlines() if line.startswith("up "))
    assert os.uname().machine in up_line and "lce_interpreter: ok 0.16.0" in up_line
    assert "refused" in next(line for line in result.stdout.splitlines() if line.startswith("down"))


def test_bad_option_values_are_one_line_errors(models_dir, tmp_path):
    result = _cli("run", "--threads", "1,x", "--models-dir", str(models_dir))
    assert result.returncode == 2 and "--threads expects comma-separated integers" in result.stderr
    result = _cli("run", "--models-dir", str(tmp_path), "--reports-dir", str(tmp_path / "r"))
    assert result.returncode == 1 and "no built models match" in result.stderr
    result = _cli("run", "--resume", "nope", "--reports-dir", str(tmp_path))
    assert result.returncode == 1 and "no run to resume" in result.stderr
