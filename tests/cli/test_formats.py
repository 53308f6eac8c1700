"""One spelling of CSV values, model directories that follow the umask, Markdown cells."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from bibench_deploy.model_dir import _move_into_place
from bibench_deploy.reports.markdown import table
from bibench_deploy.reports.schema import csv_text


def test_csv_values():
    assert [csv_text(v) for v in (None, True, False, 3, "x")] == ["", "true", "false", "3", "x"]
    assert csv_text(0.20491703224756427) == "0.204917"
    assert csv_text(1331840.0) == "1331840.0" and csv_text(1.5e-07) == "1.5e-07"
    assert csv_text(30.644209514656414) == "30.6442"


def test_model_directory_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        staging = Path(tempfile.mkdtemp(dir=tmp_path))  # mkdtemp: 0700
        (staging / "manifest.json").write_text("{}")
        _move_into_place(staging, tmp_path / "resnet20-bnn")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "resnet20-bnn").stat().st_mode) == 0o755


def test_markdown_cells_keep_a_pipe():
    assert table(["op"], [["mean|a|"]]).splitlines()[-1] == "| mean\\|a\\| |"
