"""An emulated aarch64 device through the tool's own paths: `run --fleet` with the litert engine
on a small FP32 .tflite counts guest instructions per inference (never a latency), the count
repeats, and `report` shows it."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bibench_deploy.emulation.litert import MARKER, default_userland

pytestmark = [pytest.mark.measures, pytest.mark.converts]

FLEET = """\
devices:
  - name: emu
    transport: emulated
    work_dir: {work}
    engines:
      litert: {{}}
"""
ROOT = Path(__file__).resolve().parents[2]


def _needs_emulation() -> None:
    if not shutil.which("qemu-aarch64"):
        pytest.skip("qemu-aarch64 not installed (apt-get install qemu-user gcc)")
    if not (default_userland() / MARKER).is_file():
        pytest.skip(f"no aarch64 userland at {default_userland()} (set BIBENCH_AARCH64_ROOT or "
                    f"run make aarch64-userland)")


@pytest.fixture(scope="module")
def emulated(tmp_path_factory):
    _needs_emulation()
    from tests.fleet.tiny_models import build_model_dir
    root = tmp_path_factory.mktemp("emulated")
    build_model_dir(root / "models", "tiny-fp", size=8, filters=4)
    (root / "fleet.yaml").write_text(FLEET.format(work=root / "work"))
    return root


def _run(root: Path) -> dict:
    reports = root / "reports"
    before = set(reports.iterdir()) if reports.is_dir() else set()
    subprocess.run([sys.executable, "-m", "bibench_deploy", "run", "--fleet",
                    str(root / "fleet.yaml"), "--models-dir", str(root / "models"),
                    "--reports-dir", str(reports)], check=True, cwd=ROOT, capture_output=True,
                   text=True, env={**os.environ, "XDG_CACHE_HOME": str(root / "cache")})
    [run_dir] = set(reports.iterdir()) - before
    with open(run_dir / "latency.csv", newline="") as f:
        [row] = list(csv.DictReader(f))
    return {"run_dir": run_dir, **row}


def test_an_emulated_cell_is_counted_repeatably_and_reported(emulated):
    first = _run(emulated)
    assert (first["status"], first["engine"], first["variant"]) == ("counted", "litert", "fp32")
    assert first["device_arch"] == "aarch64" and first["error"] == ""
    count = float(first["guest_insns_per_inference"])
    assert count > 0
    assert all(first[k] == "" for k in first if k.startswith("latency_")), "a count is no latency"
    assert (first["run_dir"] / "raw" / "emu").is_dir()
    second = _run(emulated)
    assert abs(float(second["guest_insns_per_inference"]) - count) / count <= 1e-5
    shown = subprocess.run([sys.executable, "-m", "bibench_deploy", "report", str(first["run_dir"]),
                            "--models-dir", str(emulated / "models"), "--format", "csv"],
                           check=True, cwd=ROOT, capture_output=True, text=True)
    assert "guest instructions per inference" in shown.stdout
    assert f"{count:,.0f}" in shown.stdout
