"""`counted` cells (an emulated device's instructions per inference) are a success, carry no
latency, and never enter a latency aggregate; the reports set their counts beside r_s."""

from __future__ import annotations

from bibench_deploy.fleet.outcome import exit_code
from bibench_deploy.reports.aggregate import aggregate, undeployable
from bibench_deploy.reports.headline import headline
from bibench_deploy.reports.summary import summarize

MANIFEST = {"name": "resnet20-bnn", "arch": "resnet20", "algo": "bnn",
            "complexity": {"totals": {"r_s": 12.0}}}


def _row(device: str, variant: str, status: str, **numbers) -> dict:
    return {"device": device, "device_arch": "aarch64", "engine": "lce_benchmark_model",
            "threads": 1, "affinity": "", "use_indirect_bgemm": False, "use_xnnpack": True,
            "model": "resnet20-bnn", "arch": "resnet20", "algo": "bnn", "variant": variant,
            "status": status, "error": "", "repeats": 3, "stop_reason": "fixed",
            "load_busy_max_pct": None, "guest_insns_per_inference": None,
            "latency_median_ms": None, "latency_ci95_low_ms": None,
            "latency_ci95_high_ms": None, "repeat_medians_ms": None, **numbers}


ROWS = [_row("pi", "binary", "ok", latency_median_ms=2.0, repeat_medians_ms="2;2;2"),
        _row("pi", "fp32", "ok", latency_median_ms=8.0, repeat_medians_ms="8;8;8"),
        _row("emu", "binary", "counted", guest_insns_per_inference=1e6),
        _row("emu", "fp32", "counted", guest_insns_per_inference=5e6)]


def test_counted_cells_never_enter_a_latency_aggregate():
    summary, _ = summarize(ROWS, {"resnet20-bnn": MANIFEST})
    best = headline(ROWS, summary)
    [agg] = aggregate(best)
    assert agg["devices"] == 1 and agg["speedup_geomean_x"] == 4.0  # the board's alone
    emu = next(r for r in best if r["device"] == "emu")
    assert emu["speedup_x"] is None and emu["latency_median_ms"] is None
    assert emu["status"] == "counted" and emu["speedup_insns_x"] == 5.0
    assert undeployable(summary, {}) == []


def test_summary_sets_the_instruction_speedup_beside_r_s():
    summary, _ = summarize(ROWS, {"resnet20-bnn": MANIFEST})
    emu = next(r for r in summary if r["device"] == "emu")
    assert (emu["guest_insns_per_inference"], emu["fp32_guest_insns_per_inference"]) == (1e6, 5e6)
    assert emu["speedup_insns_x"] == 5.0 and emu["speedup_theoretical_x"] == 12.0
    assert emu["speedup_measured_x"] is None and emu["latency_median_ms"] is None
    pi = next(r for r in summary if r["device"] == "pi")
    assert pi["speedup_insns_x"] is None and pi["speedup_measured_x"] == 4.0


def test_counted_is_a_success():
    assert exit_code(ROWS) == exit_code(ROWS, strict=True) == 0
