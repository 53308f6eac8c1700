"""Command-line entry point. Commands import their heavy dependencies lazily."""

from __future__ import annotations

import sys

import typer

from bibench_deploy import __version__
from bibench_deploy.errors import BibenchError

app = typer.Typer(
    name="bibench-deploy",
    help="Binarized neural networks from training to measured latency on edge hardware.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"bibench-deploy {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    pass


def _register() -> None:
    from bibench_deploy.cli import (algos, build, convert, devices, import_checkpoint,  # noqa: F401
                                    report, run)


def main() -> None:
    _register()
    try:
        app()  # standalone: usage errors exit 2 with click's message, Ctrl-C exits 130
    except BibenchError as exc:
        from rich.console import Console
        Console(stderr=True).print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
