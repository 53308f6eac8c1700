"""`bibench-deploy convert MODEL.onnx --to dabnn`: convert a model from elsewhere."""

from __future__ import annotations

from pathlib import Path

import typer

from bibench_deploy.cli import app
from bibench_deploy.errors import ConversionError

TARGETS = ("dabnn",)


@app.command()
def convert(
    model: Path = typer.Argument(..., exists=True, dir_okay=False, help="An ONNX model."),
    to: str = typer.Option(..., "--to", help=f"Target format: {', '.join(TARGETS)}."),
    out: Path = typer.Option(None, "--out", help="Output file (default: MODEL with the "
                                                 "target's suffix)."),
) -> None:
    """Convert an ONNX model (e.g. a PyTorch model exported with Sign ops) for an engine."""
    if to not in TARGETS:
        raise ConversionError(f"unknown target {to!r}: choose one of {', '.join(TARGETS)}")
    from bibench_deploy.dabnn.convert import convert_file

    out = out or model.with_suffix(".dab")
    conversion = convert_file(model, out)
    layer_types = [layer.type for layer in conversion.model.layers]
    typer.echo(f"{out}: {len(layer_types)} layers, {layer_types.count('BinConv2D')} binary convs, "
               f"output blob {conversion.output_name!r}")
    for note in conversion.notes:
        typer.echo(f"note: {note}")
