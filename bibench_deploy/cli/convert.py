"""`bibench-deploy convert MODEL.onnx --to dabnn`: convert a model from elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from bibench_deploy import formats
from bibench_deploy.cli import app
from bibench_deploy.cli.options import writable_file
from bibench_deploy.errors import UsageError

TARGETS = (formats.DABNN,)  # formats `convert_file` writes from ONNX


@app.command()
def convert(
    model: Path = typer.Argument(..., exists=True, dir_okay=False, metavar="MODEL",
                                 help="An ONNX model."),
    to: str = typer.Option(..., "--to", help=f"Target format: {', '.join(TARGETS)}."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output file (default: MODEL with "
                                                           "the target's suffix)."),
) -> None:
    """Convert an ONNX model (e.g. a PyTorch model exported with Sign ops) for an engine."""
    if to not in TARGETS:
        raise UsageError(f"unknown target {to!r}: choose one of {', '.join(TARGETS)}")
    out = writable_file(out or model.with_suffix(formats.get(to).suffix), "--out")
    from bibench_deploy.dabnn.convert import convert_file

    conversion = convert_file(model, out)
    layer_types = [layer.type for layer in conversion.model.layers]
    typer.echo(f"{out}: {len(layer_types)} layers, {layer_types.count('BinConv2D')} binary convs, "
               f"output blob {conversion.output_name!r}")
    for note in conversion.notes:
        typer.echo(f"note: {note}")
