"""`bibench-deploy report`: measured vs theoretical savings of a fleet run, as CSV, Markdown, PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from bibench_deploy.cli import app
from bibench_deploy.cli.options import existing_dir, models_dir_option


@app.command()
def report(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR",
                                   help="Fleet run directory, reports/<run-id>."),
    models_dir: Path = models_dir_option("Where the models' manifests are."),
    formats: str = typer.Option("csv,md,png", "--format", help="Comma-separated: csv, md, png, svg, pdf."),
    compare_with: Optional[Path] = typer.Option(None, "--compare", help="Another run directory, "
                                                "shown as A against this run (B)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output directory (default: the run "
                                                           "directory)."),
) -> None:
    """Join a run's measurements with the model manifests: summary, aggregates, figures."""
    from rich.console import Console

    from bibench_deploy.cli.progress import stderr_console
    from bibench_deploy.cli.render import print_report_counts, print_report_headline
    from bibench_deploy.reports.report import build_report, parse_formats, write_report

    chosen = parse_formats(formats)
    existing_dir(run_dir, "RUN_DIR")
    if compare_with is not None:
        existing_dir(compare_with, "--compare")
    built = build_report(run_dir, models_dir)
    baseline = build_report(compare_with, models_dir) if compare_with else None
    console = stderr_console()
    for warning in [*built.warnings, *(baseline.warnings if baseline else [])]:
        console.print(f"[yellow]warning:[/yellow] {warning}", markup=True)
    written = write_report(built, out or run_dir, chosen, baseline)
    print_report_headline(built.aggregates)
    print_report_counts(built.run.rows)
    out_console = Console(highlight=False, soft_wrap=True)
    figures = [p for p in written if p.suffix == ".png"]
    tables = [p for p in written if p.suffix != ".png"]
    if tables:
        out_console.print(f"tables: {', '.join(str(p) for p in tables)}", markup=False)
    if figures:
        out_console.print(f"figures: {', '.join(str(p) for p in figures)}", markup=False)
