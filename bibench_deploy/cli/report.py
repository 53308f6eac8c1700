"""`bibench-deploy report`: measured vs theoretical savings of a fleet run, as CSV, Markdown, PNG."""

from __future__ import annotations

from pathlib import Path

import typer

from bibench_deploy.cli import app


@app.command()
def report(
    run_dir: Path = typer.Argument(..., help="Fleet run directory, reports/<run-id>."),
    models_dir: Path = typer.Option(Path("models"), "--models-dir", help="Where the models' manifests are."),
    formats: str = typer.Option("csv,md,png", "--format", help="Comma-separated: csv, md, png, svg, pdf."),
    compare_with: Path = typer.Option(None, "--compare", help="Another run directory, shown as A against this run (B)."),
    out: Path = typer.Option(None, "--out", help="Output directory (default: the run directory)."),
) -> None:
    """Join a run's measurements with the model manifests: summary, aggregates, figures."""
    from rich.console import Console

    from bibench_deploy.reports.report import build_report, parse_formats, write_report

    chosen = parse_formats(formats)
    built = build_report(run_dir, models_dir)
    baseline = build_report(compare_with, models_dir) if compare_with else None
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    for warning in [*built.warnings, *(baseline.warnings if baseline else [])]:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    for path in write_report(built, out or run_dir, chosen, baseline):
        typer.echo(str(path))
