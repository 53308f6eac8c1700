"""A model directory `models/<name>/`: checked before work, written whole or not at all.

Everything is written into a temporary directory beside the output and moved into place only
when all of it succeeded, so a failed or interrupted `build`, `import` or `add` leaves nothing
half-written.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

from bibench_deploy import __version__
from bibench_deploy.errors import BibenchError, OutputExistsError
from bibench_deploy.manifest import SCHEMA_VERSION, artefact_entry, write_manifest


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


def base_manifest(request: Any) -> dict[str, Any]:
    """The manifest's head: what was asked (`name`, `arch`, `algo`, `padding` of a build or add
    request) and the versions that made it."""
    import larq
    import larq_compute_engine
    import tensorflow as tf
    return {"schema_version": SCHEMA_VERSION, "name": request.name, "arch": request.arch,
            "algo": request.algo, "padding": request.padding, "tool_version": __version__,
            "versions": {"tensorflow": tf.__version__, "larq": larq.__version__,
                         "larq_compute_engine": larq_compute_engine.__version__}}


def artefacts(staging: Path, files: dict[str, Path]) -> dict[str, Any]:
    return {kind: artefact_entry(staging, path) for kind, path in files.items()}
