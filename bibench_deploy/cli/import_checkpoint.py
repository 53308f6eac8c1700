"""`bibench-deploy import`: a BiBench PyTorch checkpoint -> models/ARCH-ALGO/, like `build`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from bibench_deploy.cli import app
from bibench_deploy.stages.request import DEFAULT_DATASET


@app.command("import")
def import_command(
    checkpoint: Path = typer.Argument(..., help="BiBench/mmcls checkpoint (.pth)."),
    algo: str = typer.Option(..., "--algo", help="The checkpoint's algorithm (see `algos`)."),
    arch: str = typer.Option(..., "--arch", help="resnet18, resnet34 or resnet20_bibench "
                             "(BiBench's ResNet-20, 64-channel stem)."),
    padding: str = typer.Option("zero", "--padding", help="zero: BiBench's semantics, exact; "
                                "one: +1 padding (daBNN), agreement recorded."),
    reference: Optional[Path] = typer.Option(None, "--reference", help="inputs and logits "
                                             "written by bibench_reference_script.py."),
    dataset: str = typer.Option(DEFAULT_DATASET, "--dataset", help="Audit images "
                                "(sklearn-digits-32, or cifar10 with --data-dir)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Local dataset directory."),
    out: Path = typer.Option(Path("models"), "--models-dir", "--out",
                             help="Models directory; the model goes to DIR/ARCH-ALGO/."),
    force: bool = typer.Option(False, "--force", help="Replace an existing model directory."),
) -> None:
    """Map CHECKPOINT onto ARCH with ALGO's operators, convert, audit, write models/ARCH-ALGO/."""
    from bibench_deploy.cli.progress import BuildReporter
    from bibench_deploy.cli.render import print_build_summary
    from bibench_deploy.stages.request import BuildRequest
    from bibench_deploy.sources.importer import import_checkpoint
    from bibench_deploy.training.train import TrainConfig
    request = BuildRequest(algo, arch, dataset, data_dir, TrainConfig(epochs=0), out, force,
                           padding)
    with BuildReporter() as reporter:
        manifest = import_checkpoint(checkpoint, request, reference, reporter)
    print_build_summary(manifest, out / request.name)
