"""`bibench-deploy build`: train, convert, audit and describe one model."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from bibench_deploy.cli import app
from bibench_deploy.cli.options import MODELS_DIR, deprecated_option, models_dir_option, renamed
from bibench_deploy.stages.request import DEFAULT_ARCH, DEFAULT_DATASET

OPTIMIZERS = ("adam", "sgd")


@app.command()
def build(
    algo: str = typer.Option(..., "--algo", help="Binarization algorithm (see `algos`)."),
    arch: str = typer.Option(DEFAULT_ARCH, "--arch", help="Architecture: resnet18, resnet20, "
                             "resnet34, vgg_small, resnet18_imagenet."),
    dataset: str = typer.Option(DEFAULT_DATASET, "--dataset",
                                help="sklearn-digits-32 (embedded) or cifar10 (with --data-dir)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir",
                                            help="Local dataset directory (cifar10 only)."),
    epochs: int = typer.Option(1, "--epochs", min=0, help="0 builds an untrained model."),
    batch_size: int = typer.Option(32, "--batch-size", min=1),
    lr: float = typer.Option(1e-3, "--lr", min=0.0),
    optimizer: str = typer.Option("adam", "--optimizer", help="adam or sgd (momentum 0.9)."),
    seed: int = typer.Option(0, "--seed"),
    models_dir: Path = models_dir_option("Models directory; the model goes to DIR/ARCH-ALGO/."),
    old_out: Optional[Path] = deprecated_option("--out"),
    force: bool = typer.Option(False, "--force", help="Replace an existing model directory."),
    padding: str = typer.Option("one", "--padding", help="Binary conv padding: one (+1, LCE's "
                                "fast same-one padding, daBNN) or zero (BiBench's semantics)."),
) -> None:
    """Train ALGO on ARCH, convert to LCE and FP32 flatbuffers, audit, write models/ARCH-ALGO/."""
    from bibench_deploy.errors import UsageError
    from bibench_deploy.data.digits import NAME as DIGITS
    if optimizer not in OPTIMIZERS:
        raise UsageError(f"unknown optimizer {optimizer!r}: use --optimizer adam or sgd")
    if data_dir is not None and dataset == DIGITS:
        raise UsageError(f"--data-dir is not used by the embedded dataset {DIGITS}; drop it, "
                         "or choose --dataset cifar10")
    from bibench_deploy.data import DATASETS
    DATASETS.get(dataset)  # an unknown name first, with its suggestion
    if data_dir is None and dataset != DIGITS:
        raise UsageError(f"--dataset {dataset} is read from local files: give --data-dir DIR")
    models_dir = renamed(models_dir, old_out, "--models-dir", "--out", MODELS_DIR)
    from bibench_deploy.stages.build import build as run_build
    from bibench_deploy.stages.request import BuildRequest
    from bibench_deploy.training.train import TrainConfig
    from bibench_deploy.cli.progress import BuildReporter
    from bibench_deploy.cli.render import print_build_summary
    request = BuildRequest(algo, arch, dataset, data_dir,
                           TrainConfig(epochs, batch_size, lr, optimizer, seed), models_dir, force,
                           padding)
    with BuildReporter() as reporter:
        manifest = run_build(request, reporter)
    print_build_summary(manifest, models_dir / request.name)
