"""Shared fixtures: the project's CLI run as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# The unit tier's markers, fixtures and checks.
pytest_plugins = ["tests.tiers"]

# PyTorch's OpenMP threads spin while they wait for work (GNU OpenMP's default): beside another
# pytest worker's TensorFlow build they burn the core that build needs. Passive waiting keeps the
# same threads and the same float results (same partition of the work); measured on this
# project's 2-core VM: two toy trainings side by side 19.7 s each -> 14.0 s (7.2 s alone).
# Set before any test module imports torch, which reads it when it loads OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "bibench_deploy", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli


def pytest_collection_modifyitems(config, items):
    """Tests marked `slow` run only when asked for (`-m slow`). Tests kept on one pytest-xdist
    worker (`xdist_group`, with `--dist loadgroup`) are a chain that runs one after the other,
    so they go first: the other worker shares out the rest meanwhile, instead of the chain
    starting last and running on alone."""
    items.sort(key=lambda item: item.get_closest_marker("xdist_group") is None)  # stable
    if "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
