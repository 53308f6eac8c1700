"""`bibench-deploy add MODEL`: bring a saved Keras/Larq model, a .tflite or a .dab into models/."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from bibench_deploy import formats
from bibench_deploy.cli import app
from bibench_deploy.errors import UsageError


def parse_input_shape(text: Optional[str]) -> Optional[tuple[int, int, int]]:
    if text is None:
        return None
    try:
        dims = tuple(int(d) for d in text.split(","))
    except ValueError:
        dims = ()
    if len(dims) != 3 or min(dims) < 1:
        raise UsageError(f"--input-shape expects H,W,C (three positive integers), got {text!r}")
    return dims  # type: ignore[return-value]


@app.command()
def add(
    model: Path = typer.Argument(..., help="A .keras, .h5, SavedModel directory, .tflite or .dab."),
    name: Optional[str] = typer.Option(None, "--name", help="Model name (default: the file's "
                                       "stem); NAME or ARCH-ALGO."),
    fp32: str = typer.Option("auto", "--fp32", help="FP32 baseline: auto (the model with every "
                             "quantizer removed), none, or a .tflite / Keras file."),
    input_shape: Optional[str] = typer.Option(None, "--input-shape", help="H,W,C where the "
                                              "saved model leaves them free."),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="Audit batch from this "
                                          "dataset (default: N(0, 1) inputs)."),
    custom_objects: Optional[list[str]] = typer.Option(
        None, "--custom-objects", help="Python module to import first, registering the "
        "model's own Keras objects (e.g. larq_zoo); repeatable."),
    out: Path = typer.Option(Path("models"), "--models-dir", "--out",
                             help="Models directory (the models/NAME/ it writes)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing model directory."),
) -> None:
    """Convert, audit and describe a model from elsewhere; write models/NAME/ like `build`."""
    from bibench_deploy.cli.progress import BuildReporter
    from bibench_deploy.sources.add import AddRequest, add as run_add
    request = AddRequest(model, name, fp32, parse_input_shape(input_shape), dataset, out, force,
                         tuple(custom_objects or ()))
    with BuildReporter() as reporter:
        manifest = run_add(request, reporter)
    print_add_summary(manifest, out / request.resolved_name)


def _mb(value: Optional[int]) -> str:
    return "-" if value is None else f"{value / 1e6:.2f} MB"


def summary_rows(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    source, audit = manifest["source"], manifest["audit"]
    rows = [("source", f"{source['format']} {source['path']} (sha256 {source['sha256'][:12]})"),
            ("input", "x".join(map(str, manifest["input_shape"] or ["?"])))]
    complexity = manifest["complexity"]
    if "unknown" in complexity:
        hist = (audit.get(formats.LCE) or {}).get("op_histogram") or \
            audit.get(formats.DABNN, {}).get("layer_histogram", {})
        rows += [("theory", "unknown: " + complexity["unknown"]),
                 ("operators", ", ".join(f"{k} {v}" for k, v in hist.items()))]
        return rows
    lce, fp32, totals, larq = audit[formats.LCE], audit[formats.FP32], complexity["totals"], \
        complexity["larq_summary"]
    share = lce["binary_mac_share"]
    rows += [
        ("FP32 baseline", fp32["baseline"]),
        ("binary MACs in LceBconv2d", "-" if share is None else f"{share:.1%}"),
        ("float fallback", lce["float_fallback"]["line"]),
        ("LCE vs Keras", f"top-1 agreement {lce['top1_agreement']:.1%}, max |diff| "
                         f"{lce['max_abs_diff']:.3g} ({audit['audit_batch']})"),
        ("BOPs / FLOPs / OPs", f"{totals['bops'] / 1e6:.2f} M / {totals['flops'] / 1e6:.2f} M / "
                               f"{totals['ops'] / 1e6:.2f} M"),
        ("larq summary MACs", f"{larq['binary_macs'] / 1e6:.2f} M binary, "
                              f"{larq['float32_macs'] / 1e6:.2f} M float32"),
        ("uncounted layers", ", ".join(complexity["uncounted"]) or "none"),
        ("r_s / r_c (theoretical)", f"{totals['r_s'] or 0:.1f}x / {totals['r_c'] or 0:.1f}x"),
        ("file sizes LCE / FP32", " / ".join(_mb(complexity["file_bytes"][key])
                                             for key in (formats.LCE, formats.FP32))),
        ("op histogram", ", ".join(f"{k} {v}" for k, v in lce["op_histogram"].items())),
    ]
    return rows


def print_add_summary(manifest: dict[str, Any], path: Path) -> None:
    from rich.console import Console
    from rich.table import Table
    table = Table(title=f"{manifest['name']}  ->  {path}", show_header=False)
    for key, value in summary_rows(manifest):
        table.add_row(key, value)
    console = Console()
    console.print(table)
    for warning in manifest["audit"].get("warnings", []):
        Console(stderr=True).print(f"[yellow]warning:[/yellow] {warning}", highlight=False,
                                   soft_wrap=True)
