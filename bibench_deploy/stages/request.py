"""What a build is asked for, checked before any heavy work."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from bibench_deploy.algorithms import get_algorithm
from bibench_deploy.architectures import get_architecture
from bibench_deploy.data import DATASETS
from bibench_deploy.data.digits import NAME as DIGITS
from bibench_deploy.model_dir import check_output
from bibench_deploy.training.train import TrainConfig

DEFAULT_DATASET = DIGITS
DEFAULT_ARCH = "resnet20"


@dataclass(frozen=True)
class BuildRequest:
    algo: str
    arch: str = DEFAULT_ARCH
    dataset: str = DEFAULT_DATASET
    data_dir: Optional[Path] = None
    train: TrainConfig = field(default_factory=TrainConfig)
    out: Path = Path("models")
    force: bool = False
    padding: str = "one"            # binary conv padding policy: "one" (+1) or "zero" (BiBench)
    source: Optional[Any] = None    # weights from elsewhere instead of training (see importer)

    @property
    def name(self) -> str:
        return f"{self.arch}-{self.algo}"


def check_request(request: BuildRequest) -> Path:
    """Validate names and the output location before any heavy work; return the target dir."""
    get_algorithm(request.algo).with_padding(request.padding)
    get_architecture(request.arch)
    DATASETS.get(request.dataset)
    return check_output(request.out, request.name, request.force)
