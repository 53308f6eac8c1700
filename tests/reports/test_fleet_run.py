"""A report from a real run of the fleet runner (`run_fleet`, two local devices, LCE interpreter),
every number checked against a hand computation over the run's latency.csv."""

from __future__ import annotations

import pytest

from bibench_deploy.fleet.engines.base import Measure
from bibench_deploy.fleet.run import RunSettings, run_fleet
from bibench_deploy.reports.report import build_report, write_report
from tests.reports.hand import baseline_of, check_aggregate, check_cell, csv_rows
from tests.reports.measure import MODELS

pytestmark = pytest.mark.measures

FLEET = """\
devices:
{}
"""
DEVICE = """\
  - name: {name}
    transport: local
    work_dir: {work}
    threads: [1]
    max_start_load: 1.0   # this test checks the report's arithmetic; the guard has its own tests
    engines:
      lce_interpreter:
        use_indirect_bgemm: true
        use_xnnpack: false
"""


@pytest.fixture(scope="module")
def fleet_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("fleet")
    fleet = root / "fleet.yaml"
    fleet.write_text(FLEET.format("".join(DEVICE.format(name=n, work=root / n) for n in ("box-a", "box-b"))))
    settings = RunSettings(fleet=str(fleet), models_dir=str(MODELS),
                           measure=Measure(warmup_runs=2, min_iters=20, min_secs=0.05, max_secs=30, repeats=3, max_repeats=3),
                           max_parallel=1)
    return run_fleet(settings, root / "reports").run_dir


def test_report_of_a_fleet_run_by_hand(fleet_run, tmp_path):
    report = build_report(fleet_run, MODELS)
    rows = csv_rows(fleet_run)
    binaries = [r for r in rows if r["variant"] == "binary"]
    assert len(report.summary) == len(binaries) == 4
    assert all(r["status"] in ("ok", "unstable") for r in rows), [r["error"] for r in rows]
    for model in ("tiny-bnn", "tiny-dorefa"):
        speedups = []
        for binary in (r for r in binaries if r["model"] == model):
            [out] = [s for s in report.summary if (s["device"], s["model"]) == (binary["device"], model)]
            speedups.append(check_cell(out, binary, baseline_of(rows, binary)))
        [agg] = [g for g in report.aggregates if g["algo"] == model.split("-")[1]]
        check_aggregate(agg, speedups, model)
    written = write_report(report, tmp_path)
    assert {p.name for p in written} >= {"summary.csv", "summary.md", "speedup.png", "latency.png"}
