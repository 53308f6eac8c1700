"""Progress of `build` and `run`: live on a terminal, timestamped lines in logs."""

from __future__ import annotations

import io
import re

from rich.console import Console

from bibench_deploy.cli import progress as progress_mod
from bibench_deploy.cli.progress import BuildReporter
from bibench_deploy.elapsed import clock, eta
from bibench_deploy.fleet.scheduler import Progress

STAMP = r"\[\d\d:\d\d\]"


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=120, color_system=None), out


def _feed(reporter: BuildReporter) -> None:
    with reporter:
        reporter.stage("loading dataset")
        reporter.stage("training x for 2 epoch(s)")
        for done in range(1, 11):
            reporter.progress(done, 10, f"epoch {1 + (done > 5)}/2 loss 0.5")
            if done % 5 == 0:
                reporter.epoch({"epoch": done // 5, "loss": 0.5, "train_accuracy": 0.8,
                                "test_accuracy": 0.75}, 2)
        reporter.warning("untrained, not enforced")
        reporter.stage("converting")


def test_build_log_without_a_terminal(monkeypatch):
    monkeypatch.setattr(progress_mod, "LINE_EVERY_S", 0.0)
    console, out = _console(False)
    _feed(BuildReporter(console))
    lines = out.getvalue().splitlines()
    assert all(re.match(STAMP, line) or line.startswith("warning:") for line in lines), lines
    assert any(re.search(r"done in \d+\.\d s: loading dataset", line) for line in lines)
    assert any(re.search(r"epoch 2/2 loss 0.5: batch 8/10, eta \d\d:\d\d", line) for line in lines)
    epochs = [line for line in lines if "train accuracy" in line]
    assert len(epochs) == 2
    assert epochs[0].endswith("epoch 1/2: loss 0.5000, train accuracy 80.0%, test accuracy 75.0%")
    assert "warning: untrained, not enforced" in lines
    assert lines[-1].endswith("done in 0.0 s: converting")


def test_build_display_on_a_terminal():
    console, out = _console(True)
    _feed(BuildReporter(console))
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    assert re.search(r"✓ loading dataset \d+\.\d s", text)
    assert re.search(r"✓ training x for 2 epoch\(s\) \d+\.\d s", text)
    assert "epoch 2/2: loss 0.5000" in text


def test_failed_stage_is_marked():
    console, out = _console(True)
    try:
        with BuildReporter(console) as reporter:
            reporter.stage("converting")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert re.search(r"x converting \d+\.\d s", re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue()))


def test_clock_and_eta():
    assert clock(0) == "00:00" and clock(125.9) == "02:05" and clock(3725) == "1:02:05"
    assert eta(10.0, 0, 4) is None and eta(10.0, 2, 4) == 10.0 and eta(10.0, 4, 4) == 0.0


def test_run_progress_lines_and_live_table():
    lines: list[str] = []
    progress = Progress({"pi": 2, "phone": 1}, lines.append)
    progress.update("pi", {"state": "measuring", "cell": "m binary t1 #1"})
    assert lines == []  # only finished cells make a line
    progress.update("pi", {"done": 1, "last_status": "ok", "last_ms": 12.3456,
                           "last_cell": "m binary t1"})
    assert re.fullmatch(r"pi: m binary t1: ok 12\.346 ms \(1/3 cells, elapsed \d\d:\d\d, "
                        r"eta \d\d:\d\d\)", lines[0]), lines
    progress.update("phone", {"done": 1, "last_status": "unreachable", "last_ms": None,
                              "last_cell": "m binary t1", "state": "done"})
    assert lines[1].startswith("phone: m binary t1: unreachable (2/3 cells")
    console, out = _console(True)
    console.print(progress.table())
    table = out.getvalue()
    for header in ("device", "state", "elapsed", "last ms"):
        assert header in table
    assert "2/3 cells, elapsed" in table  # overall progress under the table
