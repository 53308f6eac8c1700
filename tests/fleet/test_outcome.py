"""`bibench-deploy run` as the shell sees it: exit codes per outcome, and model files that
changed after their build refused before anything is planned."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.fleet.synthetic import synthetic_device, synthetic_models

pytestmark = pytest.mark.measures

REPO = Path(__file__).resolve().parents[2]


def _run(tmp_path, devices, *options) -> subprocess.CompletedProcess:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(yaml.safe_dump({"devices": devices}))
    return subprocess.run([sys.executable, "-m", "bibench_deploy", "run", "--fleet", str(fleet),
                           "--models-dir", str(tmp_path / "models"), "--out", str(tmp_path / "r"),
                           "--min-iters", "1", "--min-secs", "0", "--warmup", "0",
                           "--max-repeats", "3", *options], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"},
                          timeout=300)


def test_every_cell_measured_exits_0(tmp_path):
    synthetic_models(tmp_path / "models")
    result = _run(tmp_path, [synthetic_device(tmp_path)], "--strict")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 ok" in result.stderr


def test_a_failed_cell_exits_1_and_says_why(tmp_path):
    synthetic_models(tmp_path / "models")
    broken = synthetic_device(tmp_path, "broken")
    broken["engines"]["lce_interpreter"]["python"] = str(tmp_path / "no-such-python")
    result = _run(tmp_path, [synthetic_device(tmp_path), broken])
    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 ok, 2 unsupported" in result.stderr
    assert "2 unsupported on broken: lce_interpreter cannot run on the device" in result.stderr


def test_flagged_cells_exit_0_or_3_with_strict(tmp_path):
    synthetic_models(tmp_path / "models", sigma=0.5)  # launches disagree: unstable
    result = _run(tmp_path, [synthetic_device(tmp_path)], "--max-spread-pct", "1")
    assert result.returncode == 0 and "2 unstable" in result.stderr
    result = _run(tmp_path, [synthetic_device(tmp_path)], "--max-spread-pct", "1", "--strict")
    assert result.returncode == 3 and "2 unstable on synth: launch medians differ" in result.stderr


def test_a_model_file_changed_after_its_build_is_refused(tmp_path):
    models = synthetic_models(tmp_path / "models")
    flatbuffer = models / "synth-bnn" / "synth-bnn.tflite"
    flatbuffer.write_text(json.dumps({"ms": 1.0, "sigma": 0.0}))  # edited after the build
    result = _run(tmp_path, [synthetic_device(tmp_path)])
    assert result.returncode == 1
    assert f"{flatbuffer} changed after its build" in result.stderr
    assert "bibench-deploy build --force" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "r").exists() or not list((tmp_path / "r").iterdir())  # nothing planned
