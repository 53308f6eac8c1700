from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.reports.measure import MODELS, write_run


@pytest.fixture(scope="session")
def measured_run(tmp_path_factory, measures) -> Path:
    """A fleet run directory measured once per test session (read-only: copy before changing)."""
    return write_run(tmp_path_factory.mktemp("runs") / "test-run")


@pytest.fixture
def run_copy(measured_run, tmp_path) -> Path:
    return Path(shutil.copytree(measured_run, tmp_path / "run"))


@pytest.fixture
def models_copy(tmp_path) -> Path:
    return Path(shutil.copytree(MODELS, tmp_path / "models"))
