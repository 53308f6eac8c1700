"""Live progress for long commands: a rich display on a terminal, timestamped lines otherwise.

On a terminal each finished stage stays on screen with its duration and the current one shows a
spinner and its elapsed time; training shows a bar with elapsed time and ETA. Without a terminal
(CI logs, `| tee`) every stage, a training line every LINE_EVERY_S and every epoch's loss and
accuracy are printed as `[mm:ss] ...` lines.
"""

from __future__ import annotations

import time
from typing import Any, Optional

from rich.console import Console
from rich.markup import escape
from rich.progress import (BarColumn, Progress, ProgressColumn, SpinnerColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)
from rich.table import Column
from rich.text import Text

from bibench_deploy.elapsed import clock, eta
from bibench_deploy.reporter import Reporter

LINE_EVERY_S = 10.0


class _CountColumn(ProgressColumn):
    """`12/45` for a task with a total, nothing for a stage without one."""

    def render(self, task) -> Text:
        return Text("" if task.total is None else f"{task.completed:.0f}/{task.total:.0f}")


class _RemainingColumn(TimeRemainingColumn):
    def render(self, task) -> Text:
        return Text("") if task.total is None else Text("eta ") + super().render(task)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


class BuildReporter(Reporter):
    """Renders `build`'s stages, training progress and epochs."""

    def __init__(self, console: Optional[Console] = None):
        self.console = console or stderr_console()
        self.live = self.console.is_terminal
        self.started = time.monotonic()
        self._stage: Optional[str] = None
        self._stage_started = 0.0
        self._task = None
        self._progress: Optional[Progress] = None
        self._batches_started: Optional[tuple[float, int]] = None
        self._last_line = 0.0

    def __enter__(self) -> "BuildReporter":
        if self.live:
            # the description gives way (ellipsis) so that the times always stay on screen
            description = TextColumn("{task.description}", table_column=Column(
                ratio=1, no_wrap=True, overflow="ellipsis"))
            self._progress = Progress(SpinnerColumn(), description, BarColumn(bar_width=30),
                                      _CountColumn(), TimeElapsedColumn(), _RemainingColumn(),
                                      console=self.console, expand=True)
            self._progress.start()
        return self

    def __exit__(self, exc_type, *exc: Any) -> None:
        self._end_stage(failed=exc_type is not None)
        if self._progress is not None:
            self._progress.stop()

    def _print(self, markup: str) -> None:
        (self._progress.console if self._progress else self.console).print(markup)

    def _stamp(self) -> str:
        return f"[{clock(time.monotonic() - self.started)}]"

    def stage(self, text: str) -> None:
        self._end_stage()
        self._stage, self._stage_started = text, time.monotonic()
        self._batches_started = None
        if self._progress is not None:
            self._task = self._progress.add_task(escape(text), total=None)
        else:
            self._print(f"{self._stamp()} {escape(text)}")

    def _end_stage(self, failed: bool = False) -> None:
        if self._stage is None:
            return
        took = time.monotonic() - self._stage_started
        if self._progress is not None:
            self._progress.remove_task(self._task)
            mark = "[red]x[/red]" if failed else "[green]✓[/green]"
            self._print(f"{mark} {escape(self._stage)} [dim]{took:.1f} s[/dim]")
        else:
            outcome = "stopped after" if failed else "done in"
            self._print(f"{self._stamp()} {outcome} {took:.1f} s: {escape(self._stage)}")
        self._stage, self._task = None, None

    def progress(self, done: int, total: int, text: str) -> None:
        now = time.monotonic()
        if self._batches_started is None:  # the first batch: graph tracing is over
            self._batches_started = (now, done)
        if self._progress is not None:
            self._progress.update(self._task, total=total, completed=done,
                                  description=escape(text))
            return
        if now - self._last_line >= LINE_EVERY_S or done == total:
            self._last_line = now
            since, first = self._batches_started
            left = eta(now - since, done - first, total - first)
            self._print(f"{self._stamp()} {escape(text)}: batch {done}/{total}"
                        + (f", eta {clock(left)}" if left is not None else ""))

    def epoch(self, record: dict[str, float], epochs: int) -> None:
        self._print(f"{self._stamp()} epoch {record['epoch']}/{epochs}: loss {record['loss']:.4f}, "
                    f"train accuracy {record['train_accuracy']:.1%}, "
                    f"test accuracy {record['test_accuracy']:.1%}")

    def warning(self, text: str) -> None:
        self._print(f"[yellow]warning:[/yellow] {escape(text)}")
