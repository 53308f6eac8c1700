"""`bibench-deploy algos`: the deployability table of every registered algorithm."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from bibench_deploy.cli import app


@app.command()
def algos(
    models_dir: Path = typer.Option(Path("models"), "--models-dir", help="Built models."),
    arch: str = typer.Option("resnet18", "--arch", help="Architecture whose builds to read."),
    markdown: bool = typer.Option(False, "--markdown", help="Print a Markdown table."),
    write: Optional[list[Path]] = typer.Option(
        None, "--write", help="Replace the table section between the algos-table markers of "
                              "this file (created if absent); repeatable, e.g. README.md."),
) -> None:
    """One row per algorithm: inference operator, LCE ops, binary-kernel coverage, extra float
    ops, file size, numerics vs Keras, daBNN support. Read from models/ARCH-ALGO/manifest.json."""
    from bibench_deploy.architectures import get_architecture
    from bibench_deploy.reports.deployability import collect, render_markdown, write_section
    get_architecture(arch)
    rows = collect(models_dir, arch)
    text = render_markdown(rows, arch)
    for path in write or []:
        write_section(path, text)
    if markdown:
        typer.echo(text, nl=False)
    else:
        _print_table(rows, arch)


def _print_table(rows, arch: str) -> None:
    from rich.console import Console
    from rich.table import Table
    from bibench_deploy.reports.deployability import HEADERS
    table = Table(title=f"Deployability on LCE ({arch})")
    for header in HEADERS:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*row.cells(), style="dim" if row.manifest is None else None)
    Console().print(table)
