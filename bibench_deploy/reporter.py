"""What long commands (`build`, `import`, `add`) tell about their progress, and to whom."""

from __future__ import annotations


class Reporter:
    """Receives progress; the CLI renders it (timing each stage), tests ignore it."""

    def stage(self, text: str) -> None: ...

    def progress(self, done: int, total: int, text: str) -> None: ...

    def epoch(self, record: dict[str, float], epochs: int) -> None:
        """One finished epoch: {epoch, loss, train_accuracy, test_accuracy}."""

    def warning(self, text: str) -> None:
        self.stage(f"warning: {text}")
