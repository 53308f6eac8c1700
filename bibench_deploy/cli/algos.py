"""`bibench-deploy algos`: the deployability table of every registered algorithm."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from bibench_deploy.cli import app
from bibench_deploy.cli.options import existing_dir, models_dir_option, note, writable_file
from bibench_deploy.stages.request import DEFAULT_ARCH

WIDE_COLUMNS = 160  # below this terminal width the table drops its long text columns
# The columns a narrow terminal shows, with short headers (full names: reports/deployability.py).
COMPACT = {"algorithm": "algo", "binary MACs in LceBconv2d": "bconv\nMACs",
           "extra float ops / inference": "extra\nfloat ops", "LCE file": "LCE\nfile",
           "max |diff| vs Keras": "max\n|diff|", "top-1 agreement": "top-1\nagree",
           "test accuracy": "test\nacc", "daBNN": "daBNN"}


@app.command()
def algos(
    models_dir: Path = models_dir_option("Built models."),
    arch: str = typer.Option(DEFAULT_ARCH, "--arch", help="Architecture whose builds to read "
                             "(the same default as `build`)."),
    markdown: bool = typer.Option(False, "--markdown", help="Print a Markdown table."),
    wide: bool = typer.Option(False, "--wide", help="Every column (inference operator, LCE ops, "
                              "daBNN reasons), whatever the terminal width."),
    write: Optional[list[Path]] = typer.Option(
        None, "--write", help="Replace the table section between the algos-table markers of "
                              "this file (created if absent); repeatable, e.g. README.md."),
) -> None:
    """One row per algorithm: inference operator, LCE ops, binary-kernel coverage, extra float
    ops, file size, numerics vs Keras, daBNN support. Read from models/ARCH-ALGO/manifest.json."""
    from bibench_deploy.architectures import get_architecture
    from bibench_deploy.errors import BibenchError
    from bibench_deploy.reports.deployability import collect, render_markdown, write_section
    get_architecture(arch)
    existing_dir(models_dir, "--models-dir")
    for path in write or []:
        writable_file(path, "--write")
    rows = collect(models_dir, arch)
    if all(row.manifest is None for row in rows):
        _hint_other_archs(models_dir, arch)
    text = render_markdown(rows, arch)
    for path in write or []:
        try:
            write_section(path, text)
        except OSError as exc:
            raise BibenchError(f"cannot write {path}: {exc.strerror}") from None
    if markdown:
        typer.echo(text, nl=False)
    else:
        _print_table(rows, arch, wide, models_dir)


def _hint_other_archs(models_dir: Path, arch: str) -> None:
    from bibench_deploy.manifest import find_model_dirs
    built = sorted({d.name.rsplit("-", 1)[0] for d in find_model_dirs(models_dir)} - {arch})
    if built:
        note(f"no {arch} model is built under {models_dir}; built architectures: "
             f"{', '.join(built)} (choose one with --arch)")


def _print_table(rows, arch: str, wide: bool, models_dir: Path) -> None:
    from rich.console import Console
    from rich import box
    from rich.markup import escape
    from rich.table import Table
    from bibench_deploy.reports.deployability import HEADERS
    console = Console()
    wide = wide or console.width >= WIDE_COLUMNS
    shown = [header for header in HEADERS if wide or header in COMPACT]
    lines = []
    for row in rows:
        cells = dict(zip(HEADERS, row.cells()))
        if not wide:  # the hidden columns' facts, shortened into the shown ones
            cells["daBNN"] = cells["daBNN"].split(":")[0]
            if row.manifest is None:
                cells["binary MACs in LceBconv2d"] = row.missing.split(" (")[0]
        lines.append(([cells[h] for h in shown], row.manifest is None))
    table = Table(title=f"Deployability on LCE ({arch})", title_justify="left",
                  box=box.SIMPLE_HEAD if not wide else box.HEAVY_HEAD, pad_edge=wide,
                  show_edge=wide)
    for header in shown:  # compact headers are short lines: values wrap by word, if at all
        table.add_column(header if wide else COMPACT[header], overflow="fold")
    for values, missing in lines:
        table.add_row(*map(escape, values), style="dim" if missing else None)
    console.print(table)
    if not wide:
        console.print(f"[dim]models from {escape(str(models_dir))}/{arch}-ALGO/; --wide (or a terminal "
                      f"of {WIDE_COLUMNS}+ columns) adds the inference operator, LCE ops and daBNN "
                      "reasons; --markdown prints everything.[/dim]")
