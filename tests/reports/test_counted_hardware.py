"""The hardware track, summary.md, the terminal and speedup_insns.png with an emulated device's
counts beside real boards' latencies, against numbers worked out by hand: a count sits in its
own columns (millions of guest instructions), never in a latency's, and never in OM_infer."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bibench_deploy.reports.aggregate import aggregate
from bibench_deploy.reports.hardware import OM_ROW, hardware_table
from bibench_deploy.reports.headline import headline
from bibench_deploy.reports.load import Run
from bibench_deploy.reports.markdown import COUNT_MEANING, render_markdown
from bibench_deploy.reports.plots import speedup_insns_plot
from bibench_deploy.reports.report import Report
from bibench_deploy.reports.summary import summarize
from tests.reports.test_counted import _row

ALGOS = ("bnn", "xnor")
# per algorithm: r_s, FP32 / LCE file bytes (size ratio 8 and 10)
THEORY = {"bnn": (12.0, 800, 100), "xnor": (11.0, 1000, 100)}
MANIFESTS = {f"resnet20-{a}": {"name": f"resnet20-{a}", "arch": "resnet20", "algo": a,
                               "input_shape": [1, 32, 32, 3],
                               "complexity": {"totals": {"r_s": r_s}},
                               "artefacts": {"lce": {"bytes": lce}, "fp32": {"bytes": fp32}}}
             for a, (r_s, fp32, lce) in THEORY.items()}


def _cell(device, algo, variant, status, **numbers):
    return {**_row(device, variant, status, **numbers), "model": f"resnet20-{algo}", "algo": algo}


def _timed(device, algo, variant, ms):
    return _cell(device, algo, variant, "ok", latency_median_ms=ms, repeat_medians_ms=f"{ms};{ms};{ms}")


# boards pi (bnn 2 vs 8 ms: 4x; xnor 4 vs 8 ms: 2x) and rock (bnn 4 vs 8 ms: 2x, xnor 8 vs 8 ms: 1x);
# emu counts bnn 2.5 M vs FP32 10 M insns: 4x, xnor 4 M vs 10 M: 2.5x
BOARDS = [_timed(d, a, v, ms) for d, by_algo in (("pi", {"bnn": 2.0, "xnor": 4.0}),
                                                 ("rock", {"bnn": 4.0, "xnor": 8.0}))
          for a, binary_ms in by_algo.items() for v, ms in (("binary", binary_ms), ("fp32", 8.0))]
EMULATED = [_cell("emu", a, v, "counted", guest_insns_per_inference=n)
            for a, binary in (("bnn", 2.5e6), ("xnor", 4e6)) for v, n in (("binary", binary), ("fp32", 1e7))]


def _report_parts(rows):
    summary, _ = summarize(rows, MANIFESTS)
    best = headline(rows, summary)
    aggregates = aggregate(best)
    return summary, best, aggregates, hardware_table(best, aggregates, rows, MANIFESTS)


def _by_device(table):
    return {r["device"]: r for r in table}


def test_a_counted_device_row_holds_counts_and_their_speedup():
    emu = _by_device(_report_parts(BOARDS + EMULATED)[3])["emu"]
    assert emu["fp32_minsns"] == 10.0 and emu["fp32_engine"] == "lce_benchmark_model"
    assert (emu["bnn_minsns"], emu["bnn_speedup_insns_x"]) == (2.5, 4.0)
    assert (emu["xnor_minsns"], emu["xnor_speedup_insns_x"]) == (4.0, 2.5)
    assert emu["bnn_status"] == emu["xnor_status"] == "counted"


def test_no_latency_column_holds_a_count_and_no_count_column_a_latency():
    table = _report_parts(BOARDS + EMULATED)[3]
    latency = ["fp32_ms", *(f"{a}_{s}" for a in ALGOS for s in ("ms", "speedup_x"))]
    count = ["fp32_minsns", *(f"{a}_{s}" for a in ALGOS for s in ("minsns", "speedup_insns_x"))]
    devices = _by_device(r for r in table if r["device"] != OM_ROW)
    assert all(devices["emu"][c] is None for c in latency)
    for board in ("pi", "rock"):
        assert all(devices[board][c] is None for c in count)
        assert all(devices[board][c] is not None for c in latency)
    assert devices["pi"]["bnn_ms"] == 2.0 and devices["pi"]["bnn_speedup_x"] == 4.0


def test_om_infer_over_latency_devices_is_unchanged_by_counted_rows():
    boards_only = [r for r in _report_parts(BOARDS)[3] if r["device"] == OM_ROW]
    with_emu = [r for r in _report_parts(BOARDS + EMULATED)[3] if r["device"] == OM_ROW]
    assert with_emu == boards_only and len(with_emu) == 1
    [om] = with_emu
    # OM_infer = sqrt((mean speedup^2 + size ratio^2) / 2) over pi and rock
    assert om["bnn_speedup_x"] == pytest.approx(math.sqrt((3.0 ** 2 + 8.0 ** 2) / 2))
    assert om["xnor_speedup_x"] == pytest.approx(math.sqrt((1.5 ** 2 + 10.0 ** 2) / 2))
    assert om["bnn_minsns"] is None and om["bnn_speedup_insns_x"] is None


def test_an_emulated_device_alone_in_its_engine_makes_no_om_infer_row():
    emulated = [{**r, "engine": "lce_emulated"} for r in EMULATED]
    table = _report_parts(BOARDS + emulated)[3]
    assert [r["engine"] for r in table if r["device"] == OM_ROW] == ["lce_benchmark_model"]


def test_an_engine_without_fp32_counts_against_the_device_s_fewest_fp32_instructions():
    def head(engine, algo, insns, fp32_insns):
        return {"device": "emu", "engine": engine, "threads": 1, "arch": "resnet20", "algo": algo,
                "status": "counted", "note": None, "latency_median_ms": None,
                "fp32_latency_median_ms": None, "speedup_x": None,
                "guest_insns_per_inference": insns, "fp32_guest_insns_per_inference": fp32_insns,
                "speedup_insns_x": fp32_insns / insns if fp32_insns else None}

    table = hardware_table([head("lce_benchmark_model", "bnn", 2.5e6, 1e7),
                            head("dabnn", "bnn", 2e6, None)], [], [], MANIFESTS)
    dabnn = next(r for r in table if r["engine"] == "dabnn")
    assert dabnn["fp32_minsns"] == 10.0 and dabnn["fp32_engine"] == "lce_benchmark_model"
    assert dabnn["bnn_minsns"] == 2.0 and dabnn["bnn_speedup_insns_x"] == 5.0
    assert dabnn["fp32_ms"] is None and dabnn["bnn_speedup_x"] is None


def _report(rows) -> Report:
    summary, best, aggregates, table = _report_parts(rows)
    return Report(Run(Path("."), "r1", {}, rows), summary, aggregates, [], [], best, table)


def test_summary_md_labels_counts_and_says_what_they_are():
    text = render_markdown(_report(BOARDS + EMULATED), [])
    assert text.count(COUNT_MEANING) == 2  # headline and hardware track
    [emu] = [line for line in text.splitlines() if line.startswith("| emu |") and "M insns" in line]
    assert "| 10.0 M insns |" in emu and "| 2.50 M insns (4.00x by insns) |" in emu
    assert "FP32 ms (emulated: M insns)" in text
    [pi] = [line for line in text.splitlines() if line.startswith("| pi |") and "(4.00x)" in line]
    assert "insns" not in pi
    assert COUNT_MEANING not in render_markdown(_report(BOARDS), [])


def test_the_terminal_says_what_the_count_is(capsys):
    from bibench_deploy.cli.render import print_report_counts
    print_report_counts(BOARDS + EMULATED)
    assert COUNT_MEANING in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("models", [2, 8])
def test_the_figure_sets_counts_beside_latencies_and_r_s(tmp_path, models):
    algos = [f"a{i}" for i in range(models)]
    manifests = {f"resnet20-{a}": {"arch": "resnet20", "algo": a,
                                   "complexity": {"totals": {"r_s": 4.0 + i}}} for i, a in enumerate(algos)}
    rows = [_timed(d, a, "binary", 8.0 / (1 + i * f)) for a, i in zip(algos, range(models))
            for d, f in (("pi", 0.5), ("rock", 0.3))]
    rows += [_timed(d, a, "fp32", 8.0) for a in algos for d in ("pi", "rock")]
    rows += [_cell("emu", a, v, "counted", guest_insns_per_inference=1e7 / (1 + i * 0.8 if v == "binary" else 1))
             for i, a in enumerate(algos) for v in ("binary", "fp32")]
    summary, _ = summarize(rows, manifests)
    path = speedup_insns_plot(headline(rows, summary), tmp_path / "speedup_insns.png")
    assert path == tmp_path / "speedup_insns.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    boards = [r for r in rows if r["device"] != "emu"]
    assert speedup_insns_plot(headline(boards, summarize(boards, manifests)[0]), tmp_path / "x.png") is None
