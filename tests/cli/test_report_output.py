"""`report` prints its headline table and where the files are, on stdout."""

from __future__ import annotations

from tests.reports.measure import MODELS, write_run


def test_report_prints_the_headline_and_the_files(cli, tmp_path):
    run = write_run(tmp_path / "run")
    result = cli("report", str(run), "--models-dir", str(MODELS), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("per algorithm, geometric mean over devices")
    header = next(line for line in lines if "speedup/r_s" in line).split()
    # a config shared by every line moves into the title
    assert [h for h in header if h != "config"][:3] == ["model", "devices", "speedup"]
    rows = [line.split() for line in lines if line.strip().startswith(("tiny-bnn", "tiny-dorefa"))]
    assert {row[0] for row in rows} == {"tiny-bnn", "tiny-dorefa"}
    assert all(row[-5].endswith("x") for row in rows)  # the measured speedup, e.g. 0.912x
    figures = next(line for line in lines if line.startswith("figures: "))
    assert str(tmp_path / "out" / "speedup.png") in figures
    assert (tmp_path / "out" / "speedup.png").is_file()
    assert any(line.startswith("tables: ") and "summary.csv" in line for line in lines)
