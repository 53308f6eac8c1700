"""`build`: train -> deploy graph -> LCE + FP32 flatbuffers -> audit -> complexity -> manifest.

Everything is written into a temporary directory beside the output and moved into place only
when the whole build succeeded, so a failed or interrupted build leaves nothing half-written.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from bibench_deploy import __version__
from bibench_deploy.algorithms import get_algorithm
from bibench_deploy.architectures import get_architecture
from bibench_deploy.pipeline.train import TrainConfig
from bibench_deploy.data import DATASETS, load_dataset
from bibench_deploy.data.digits import NAME as DIGITS
from bibench_deploy.errors import BibenchError, ConversionError, OutputExistsError
from bibench_deploy.manifest import SCHEMA_VERSION, artefact_entry, write_manifest

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


class Reporter:
    """Receives progress; the CLI renders it, tests ignore it."""

    def stage(self, text: str) -> None: ...

    def progress(self, done: int, total: int, text: str) -> None: ...

    def epoch(self, record: dict[str, float], epochs: int) -> None:
        """One finished epoch: {epoch, loss, train_accuracy, test_accuracy}."""

    def warning(self, text: str) -> None:
        self.stage(f"warning: {text}")


def check_request(request: BuildRequest) -> Path:
    """Validate names and the output location before any heavy work; return the target dir."""
    get_algorithm(request.algo).with_padding(request.padding)
    get_architecture(request.arch)
    DATASETS.get(request.dataset)
    return check_output(request.out, request.name, request.force)


def check_output(out: Path, name: str, force: bool) -> Path:
    """`out/name`, after checking it may be written: absent or `force`, `out` writable."""
    target = out / name
    if target.exists() and not force:
        raise OutputExistsError(f"{target} already exists; pass --force to replace it")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BibenchError(f"cannot create output directory {out}: {exc.strerror}; "
                           "choose a writable --models-dir") from None
    if not os.access(out, os.W_OK):
        raise BibenchError(f"output directory {out} is not writable; "
                           "choose a writable --models-dir")
    return target


def build(request: BuildRequest, reporter: Reporter = Reporter()) -> dict[str, Any]:
    target = check_request(request)
    reporter.stage(f"loading dataset {request.dataset}")
    dataset = load_dataset(request.dataset, request.data_dir)

    def steps(staging: Path) -> dict[str, Any]:
        reporter.stage("importing TensorFlow, Larq and the LCE converter")
        from bibench_deploy.pipeline.steps import run_steps
        return run_steps(request, dataset, staging, reporter)
    return write_model_dir(target, steps)


def write_model_dir(target: Path, produce: Callable[[Path], dict[str, Any]]) -> dict[str, Any]:
    """Run `produce(staging)` in a temporary directory beside `target`, write its manifest
    there and move the directory into place only when all of it succeeded."""
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        manifest = produce(staging)
        manifest["created_utc"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        write_manifest(staging, manifest)
        _move_into_place(staging, target)
        return manifest
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _move_into_place(staging: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    staging.chmod(_dir_mode())  # mkdtemp makes 0700; a model directory follows the umask
    staging.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _dir_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def base_manifest(request: BuildRequest) -> dict[str, Any]:
    import larq
    import larq_compute_engine
    import tensorflow as tf
    return {"schema_version": SCHEMA_VERSION, "name": request.name, "arch": request.arch,
            "algo": request.algo, "padding": request.padding, "tool_version": __version__,
            "versions": {"tensorflow": tf.__version__, "larq": larq.__version__,
                         "larq_compute_engine": larq_compute_engine.__version__}}


def artefacts(staging: Path, files: dict[str, Path]) -> dict[str, Any]:
    return {kind: artefact_entry(staging, path) for kind, path in files.items()}


def require(condition: bool, message: Callable[[], str]) -> None:
    if not condition:
        raise ConversionError(message())
