"""`bibench-deploy build`: train, convert, audit and describe one model."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from bibench_deploy.pipeline.build import DEFAULT_DATASET
from bibench_deploy.cli import app


@app.command()
def build(
    algo: str = typer.Option(..., "--algo", help="Binarization algorithm (see `algos`)."),
    arch: str = typer.Option("resnet20", "--arch", help="Architecture: resnet18, resnet20, "
                             "resnet34, vgg_small, resnet18_imagenet."),
    dataset: str = typer.Option(DEFAULT_DATASET, "--dataset",
                                help="sklearn-digits-32 (embedded) or cifar10 (with --data-dir)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Local dataset directory."),
    epochs: int = typer.Option(1, "--epochs", min=0, help="0 builds an untrained model."),
    batch_size: int = typer.Option(32, "--batch-size", min=1),
    lr: float = typer.Option(1e-3, "--lr", min=0.0),
    optimizer: str = typer.Option("adam", "--optimizer", help="adam or sgd (momentum 0.9)."),
    seed: int = typer.Option(0, "--seed"),
    out: Path = typer.Option(Path("models"), "--out", help="Models directory."),
    force: bool = typer.Option(False, "--force", help="Replace an existing model directory."),
    padding: str = typer.Option("one", "--padding", help="Binary conv padding: one (+1, LCE's "
                                "fast same-one padding, daBNN) or zero (BiBench's semantics)."),
) -> None:
    """Train ALGO on ARCH, convert to LCE and FP32 flatbuffers, audit, write models/ARCH-ALGO/."""
    from bibench_deploy.pipeline.build import BuildRequest, build as run_build
    from bibench_deploy.pipeline.train import TrainConfig
    from bibench_deploy.cli.render import RichReporter, print_build_summary
    from bibench_deploy.errors import BibenchError
    if optimizer not in ("adam", "sgd"):
        raise BibenchError(f"unknown optimizer {optimizer!r}: use --optimizer adam or sgd")
    request = BuildRequest(algo, arch, dataset, data_dir,
                           TrainConfig(epochs, batch_size, lr, optimizer, seed), out, force,
                           padding)
    with RichReporter() as reporter:
        manifest = run_build(request, reporter)
    print_build_summary(manifest, out / request.name)
