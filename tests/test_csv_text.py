"""Text cells of every CSV the tool writes cannot become spreadsheet formulas, and read back
exactly."""

from __future__ import annotations

import csv

import pytest

from bibench_deploy.cells import LATENCY_COLUMNS, LATENCY_FIELDS, csv_text, csv_value
from bibench_deploy.fleet.rows import write_csv
from bibench_deploy.reports.load import read_typed_csv

HOSTILE = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "'=x", "'",
           "plain", "resnet18-bnn", ""]


@pytest.mark.parametrize("text", HOSTILE)
def test_text_never_starts_a_formula_and_reads_back(text):
    written = csv_text(text)
    assert not written.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert csv_value(written) == text


def test_numbers_are_written_as_numbers():
    assert [csv_text(v) for v in (-1.5, -3, 0.0)] == ["-1.5", "-3", "0.0"]


def test_latency_csv_keeps_hostile_names_out_of_formulas_and_reports_read_them_back(tmp_path):
    row = {name: None for name in LATENCY_FIELDS}
    row.update(device="pi", model="=cmd|' /C calc'!A0", arch="@arch", algo="-algo",
               variant="binary", engine="lce_interpreter", threads=1, status="failed",
               error="+ injected")
    path = tmp_path / "latency.csv"
    write_csv(path, [row])
    with open(path, newline="") as f:
        raw = next(csv.DictReader(f))
    assert all(not raw[k].startswith(("=", "+", "-", "@")) for k in ("model", "arch", "algo", "error"))
    typed = read_typed_csv(path, LATENCY_COLUMNS, ())[0]
    assert (typed["model"], typed["arch"], typed["algo"], typed["error"]) == \
        ("=cmd|' /C calc'!A0", "@arch", "-algo", "+ injected")
