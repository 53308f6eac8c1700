"""The deployability table: rows from manifests, "not built" rows, the generated README section."""

from __future__ import annotations

import json

import pytest

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.errors import BibenchError
from bibench_deploy.reports.deployability import (END, START, collect, render_markdown,
                                                  replace_section, write_section)


def fake_manifest(algo: str) -> dict:
    return {
        "schema_version": 1, "name": f"resnet18-{algo}", "arch": "resnet18", "algo": algo,
        "input_shape": [1, 32, 32, 3],
        "artefacts": {"lce": {"path": "m.tflite", "bytes": 2_500_000}},
        "training": {"test_accuracy": 0.5},
        "audit": {"lce": {"op_histogram": {"LceBconv2d": 16, "LceQuantize": 16, "ABS": 16},
                          "extra_float_ops": {"ABS": {"count": 16, "flops": 1000}},
                          "extra_float_flops": 1000, "binary_mac_share": 1.0,
                          "max_abs_diff": 0.00123, "top1_agreement": 0.99,
                          "disagreements": 3, "explained_flips": 3, "unexplained": 0}},
    }


def test_rows_read_manifests_and_say_when_a_model_is_not_built(tmp_path):
    (tmp_path / "resnet18-xnor").mkdir()
    (tmp_path / "resnet18-xnor" / "manifest.json").write_text(json.dumps(fake_manifest("xnor")))
    rows = {row.algo: row for row in collect(tmp_path, "resnet18")}
    assert sorted(rows) == ALGORITHMS.names()
    cells = rows["xnor"].cells()
    assert cells[2] == "LceBconv2d x16, LceQuantize x16; float: ABS x16"
    assert cells[3:10] == ("100.0%", "0.001 MFLOPs", "2.50 MB", "0.00123", "99.0%", "3 / 0",
                           "50.0%")
    assert cells[10].startswith("no: ")
    assert rows["bnn"].manifest is None and rows["bnn"].cells()[2].startswith("not built")
    assert rows["bnn"].cells()[10] == "yes"


def test_markdown_has_one_row_per_algorithm_and_escapes_pipes(tmp_path):
    text = render_markdown(collect(tmp_path, "resnet18"), "resnet18")
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(ALGORITHMS.names())
    assert all(line.count(" | ") == table[0].count(" | ") for line in table[2:])


def test_section_between_markers_is_replaced_and_the_rest_kept(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n{START}\nold\n{END}\ntail\n")
    write_section(readme, "new\n")
    assert readme.read_text() == f"# title\n{START}\nnew\n{END}\ntail\n"
    with pytest.raises(BibenchError):
        replace_section("no markers", "x")


def test_algos_command_prints_the_table(cli, tmp_path):
    result = cli("algos", "--models-dir", str(tmp_path), "--markdown",
                 "--write", str(tmp_path / "algorithms.md"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("not built") == len(ALGORITHMS.names())
    assert (tmp_path / "algorithms.md").read_text().startswith(START)
