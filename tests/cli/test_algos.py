"""`algos` fits the terminal and reads the same architecture `build` writes by default."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.stages.request import DEFAULT_ARCH
from tests.algorithms.test_table import fake_manifest
from tests.conftest import ROOT


def _algos(models, columns: int, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": str(columns)}
    return subprocess.run([sys.executable, "-m", "bibench_deploy", "algos", "--models-dir",
                           str(models), *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def models(tmp_path):
    for algo in ("bnn", "xnor"):
        (tmp_path / f"{DEFAULT_ARCH}-{algo}").mkdir()
        (tmp_path / f"{DEFAULT_ARCH}-{algo}" / "manifest.json").write_text(
            json.dumps(fake_manifest(algo)))
    return tmp_path


@pytest.mark.parametrize("columns", [80, 120])
def test_fits_the_terminal_without_breaking_words(models, columns):
    result = _algos(models, columns)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns
    table = "\n".join(lines)
    for name in ALGORITHMS.names():
        assert any(line.split()[:1] == [name] for line in lines), name
    bnn = next(line for line in lines if line.split()[:1] == ["bnn"])
    xnor = next(line for line in lines if line.split()[:1] == ["xnor"])
    assert "100.0%" in bnn and "2.50 MB" in bnn and bnn.split()[-1] == "yes"
    assert xnor.split()[-1] == "no"  # the reason is in --wide / --markdown
    assert "not built" in next(line for line in lines if line.split()[:1] == ["dorefa"])
    assert "--wide" in table


def test_wide_shows_every_column(models):
    narrow, wide = _algos(models, 200).stdout, _algos(models, 200, "--wide").stdout
    assert "LceQuantize" not in _algos(models, 120).stdout
    for text in (narrow, wide):  # 160+ columns are wide by themselves
        assert "inference" in text and "LceQuantize" in text and "no:" in text


def test_default_arch_is_builds_and_other_built_archs_are_named(tmp_path):
    (tmp_path / "resnet18-bnn").mkdir()
    (tmp_path / "resnet18-bnn" / "manifest.json").write_text(json.dumps(fake_manifest("bnn")))
    result = _algos(tmp_path, 120)
    assert result.returncode == 0
    assert f"Deployability on LCE ({DEFAULT_ARCH})" in result.stdout
    assert f"note: no {DEFAULT_ARCH} model is built under {tmp_path}; built architectures: " \
           "resnet18 (choose one with --arch)" in " ".join(result.stderr.split())
