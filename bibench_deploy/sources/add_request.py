"""What `add` is asked for, and the parts of its manifest that need no TensorFlow: the request,
the source file's format, hash and entry. Both halves of `add` (add, add_keras) build on it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from bibench_deploy.errors import BibenchError, UsageError
from bibench_deploy.manifest import sha256_file
from bibench_deploy.model_dir import base_manifest

KERAS_SUFFIXES = {".keras": "keras", ".h5": "h5", ".hdf5": "h5"}
ADDED_ALGO = "added"  # the algorithm part of a name without one (`quicknet` -> quicknet-added)
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
FP32_CHOICES = ("auto", "none")


@dataclass(frozen=True)
class AddRequest:
    model: Path
    name: Optional[str] = None
    fp32: str = "auto"                      # auto | none | a file (.tflite or Keras model)
    input_shape: Optional[tuple[int, int, int]] = None
    dataset: Optional[str] = None           # audit batch from this dataset, else N(0, 1) inputs
    out: Path = Path("models")
    force: bool = False
    custom_objects: tuple[str, ...] = ()    # modules to import that register Keras objects

    @property
    def resolved_name(self) -> str:
        if self.name:
            return self.name
        stem = self.model.name if self.model.is_dir() else self.model.stem
        return re.sub(r"[^A-Za-z0-9_.]+", "_", stem).strip("_.") or "model"

    @property
    def arch(self) -> str:
        arch, _, algo = self.resolved_name.rpartition("-")
        return arch or algo

    @property
    def padding(self) -> None:
        """The binary convs' padding policy: unknown for a model made elsewhere."""
        return None

    @property
    def algo(self) -> str:
        arch, _, algo = self.resolved_name.rpartition("-")
        return algo if arch else ADDED_ALGO


def source_format(path: Path) -> str:
    """keras | h5 | savedmodel | tflite | dab, or a clear error."""
    if not path.exists():
        raise UsageError(f"{path}: no such file or directory")
    if path.is_dir():
        if (path / "saved_model.pb").is_file():
            return "savedmodel"
        raise BibenchError(f"{path}: a directory without saved_model.pb is not a SavedModel; "
                           "give a .keras, .h5, .tflite or .dab file or a SavedModel directory")
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError as exc:
        raise BibenchError(f"{path}: cannot read it ({exc.strerror}); check its permissions")
    suffix = path.suffix.lower()
    if suffix in KERAS_SUFFIXES:
        return KERAS_SUFFIXES[suffix]
    if suffix in (".tflite", ".dab"):
        return suffix[1:]
    raise BibenchError(f"{path}: unknown model format {suffix or '(no suffix)'!r}; give a .keras, "
                       ".h5, .tflite or .dab file or a SavedModel directory")


def source_sha256(path: Path) -> str:
    """The file's sha256; for a directory, the sha256 of its files' relative paths and hashes."""
    if path.is_file():
        return sha256_file(path)
    digest = hashlib.sha256()
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{item.relative_to(path)}\0{sha256_file(item)}\n".encode())
    return digest.hexdigest()


def source_entry(path: Path, fmt: str) -> dict[str, Any]:
    size = (path.stat().st_size if path.is_file()
            else sum(p.stat().st_size for p in path.rglob("*") if p.is_file()))
    return {"kind": "added", "format": fmt, "path": str(path.resolve()),
            "sha256": source_sha256(path), "bytes": size}


def added_manifest(request: AddRequest, fmt: str) -> dict[str, Any]:
    return {**base_manifest(request), "name": request.resolved_name,
            "source": source_entry(request.model, fmt),
            "training": {"trained": None, "test_accuracy": None,
                         "note": "added model: its training is not known to this tool"}}


def theory_unknown(fmt: str) -> dict[str, str]:
    return {"unknown": f"added as a .{fmt} without its Keras model: BOPs, FLOPs, OPs, r_s and "
                       "r_c cannot be computed from the file, and are not guessed"}
