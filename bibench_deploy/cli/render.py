"""Rich rendering shared by commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console(stderr=True)


class RichReporter:
    """A build reporter: one line per stage, a progress bar while training."""

    def __enter__(self) -> "RichReporter":
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                  MofNCompleteColumn(), TimeElapsedColumn(), console=console)
        self._progress.start()
        self._task = None
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.stop()

    def stage(self, text: str) -> None:
        self._finish_task()
        self._progress.console.print(f"[bold]>[/bold] {text}")

    def progress(self, done: int, total: int, text: str) -> None:
        if self._task is None:
            self._task = self._progress.add_task(text, total=total)
        self._progress.update(self._task, completed=done, description=text)

    def _finish_task(self) -> None:
        if self._task is not None:
            self._progress.remove_task(self._task)
            self._task = None


def _fmt(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_build_summary(manifest: dict[str, Any], path: Path) -> None:
    audit, totals = manifest["audit"]["lce"], manifest["complexity"]["totals"]
    training = manifest["training"]
    table = Table(title=f"{manifest['name']}  ->  {path}", show_header=False)
    rows = [
        ("dataset", f"{manifest['dataset']['name']} ({manifest['dataset']['train_samples']} train"
                    f" / {manifest['dataset']['test_samples']} test)"),
        ("epochs", f"{training['epochs']}" + ("" if training["trained"] else " (untrained)")),
        ("test accuracy", _fmt(training["test_accuracy"], ".2%")),
        ("binary MACs in LceBconv2d", _fmt(audit["binary_mac_share"], ".1%")),
        ("float fallback MACs", f"{audit['float_fallback_macs']:,}"),
        ("extra float ops", ", ".join(f"{k} x{v['count']}" for k, v in
                                      audit["extra_float_ops"].items()) or "none"),
        ("LCE vs float64", f"top-1 agreement {audit['top1_agreement']:.1%}, "
                           f"max |diff| {audit['max_abs_diff']:.3g}; disagreements "
                           f"{audit['disagreements']}: {audit['explained_flips']} rounding "
                           f"flips, {audit['unexplained']} unexplained"),
        ("BOPs / FLOPs / OPs", f"{totals['bops'] / 1e6:.2f} M / {totals['flops'] / 1e6:.2f} M / "
                               f"{totals['ops'] / 1e6:.2f} M"),
        ("r_s / r_c (theoretical)", f"{_fmt(totals['r_s'], '.1f')}x / {_fmt(totals['r_c'], '.1f')}x"),
        ("file sizes LCE / FP32", f"{manifest['complexity']['file_bytes']['lce'] / 1e6:.2f} MB / "
                                  f"{manifest['complexity']['file_bytes']['fp32'] / 1e6:.2f} MB"),
        ("op histogram", ", ".join(f"{k} {v}" for k, v in audit["op_histogram"].items())),
    ]
    for key, value in rows:
        table.add_row(key, value)
    Console().print(table)
