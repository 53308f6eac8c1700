"""`manifest.json`: what a built model directory holds, and where every number came from.

Layout of `models/<arch>-<algo>/`: `manifest.json` and one file `<name><suffix>` per artefact,
each of a format in `bibench_deploy.formats` (its key, suffix and meaning): the LCE flatbuffer,
its FP32 twin, the trained Keras model, and where daBNN can run the model (`deploy.dabnn` says
why not) the ONNX deploy graph, the daBNN model and the FP32 ONNX twin.

Keys (schema_version 1):
    name, arch, algo, padding ("one": binary convs pad with +1; "zero": BiBench's 0),
    created_utc, tool_version, versions{tensorflow, larq, larq_compute_engine}
    dataset{name, description, train_samples, test_samples}, input_shape [1, H, W, C], num_classes
    training{epochs, trained, optimizer, lr, batch_size, seed, history[{epoch, loss,
             train_accuracy, test_accuracy}], test_accuracy}
    artefacts{<format key>: {path (relative), sha256, bytes}}   keys: bibench_deploy.formats
    audit{<format key>: {...}, ...}       see bibench_deploy.lce, bibench_deploy.dabnn
    deploy{dabnn: {supported, reason}}
    complexity{...}                       see bibench_deploy.complexity
Models brought in by `add` (bibench_deploy.sources.add) have the same layout and keys, plus
    source{kind: "added", format, path, sha256, bytes}; training{trained: null, test_accuracy: null}
    and, for a .tflite or .dab alone, complexity{unknown: reason} (theory is never guessed).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from bibench_deploy import formats
from bibench_deploy.errors import ManifestError

MANIFEST_NAME = "manifest.json"
SCHEMA_VERSION = 1
REQUIRED_KEYS = ("schema_version", "name", "arch", "algo", "input_shape", "artefacts")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def artefact_entry(model_dir: Path, path: Path) -> dict[str, Any]:
    return {"path": str(path.relative_to(model_dir)), "sha256": sha256_file(path),
            "bytes": path.stat().st_size}


def write_manifest(model_dir: Path, manifest: dict[str, Any]) -> Path:
    path = model_dir / MANIFEST_NAME
    path.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    return path


def load_manifest(model_dir: Path) -> dict[str, Any]:
    path = Path(model_dir) / MANIFEST_NAME
    if not path.is_file():
        raise ManifestError(f"{path}: no manifest; build the model with `bibench-deploy build`")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); rebuild it") from None
    missing = [k for k in REQUIRED_KEYS if k not in manifest]
    if missing:
        raise ManifestError(f"{path}: missing keys {', '.join(missing)}; rebuild the model")
    for key in ("name", "arch", "algo"):
        _check_label(path, key, manifest[key])
    if manifest["schema_version"] != SCHEMA_VERSION:
        raise ManifestError(f"{path}: schema_version {manifest['schema_version']} is not "
                            f"{SCHEMA_VERSION}; rebuild the model with this version")
    return manifest


MAX_LABEL_CHARS = 128


def _check_label(path: Path, key: str, value: Any) -> None:
    """A model's name, arch and algo go into progress lines, tables, CSV rows and file names: one
    printable line of bounded length (a newline in a name forged a progress line)."""
    if not isinstance(value, str) or not value or len(value) > MAX_LABEL_CHARS \
            or not value.isprintable():
        shown = repr(value)[:60]
        raise ManifestError(f"{path}: {key} {shown} is not one printable line of at most "
                            f"{MAX_LABEL_CHARS} characters; rebuild the model or fix its manifest")


def artefact_path(model_dir: Path, manifest: dict[str, Any], kind: str) -> Path:
    """The file of artefact `kind`, confined to `model_dir`: a manifest is untrusted input, so a
    path that is absolute, climbs out (`..`), or is a link is refused, never followed."""
    formats.get(kind)  # an unknown kind is a wrong name, not a model without that file
    try:
        relative = manifest["artefacts"][kind]["path"]
    except (KeyError, TypeError):
        raise ManifestError(f"{model_dir}: manifest has no {kind!r} artefact") from None
    path = Path(model_dir) / str(relative)
    if (not isinstance(relative, str) or not relative or Path(relative).is_absolute()
            or ".." in Path(relative).parts):
        raise ManifestError(f"{model_dir}: the {kind!r} artefact's path {relative!r} leaves the "
                            "model directory; give a file name inside it (rebuild the model)")
    if path.is_symlink() or any(parent.is_symlink() for parent in _parents_below(path, model_dir)):
        raise ManifestError(f"{model_dir}: the {kind!r} artefact {relative!r} is a link; links "
                            "in a model directory are not followed: copy the file in its place")
    return path


def _parents_below(path: Path, top: Path) -> list[Path]:
    """The directories between `top` (excluded) and `path`."""
    return [p for p in path.parents if p != Path(top) and Path(top) in p.parents]


def find_model_dirs(models_dir: Path, pattern: str = "*") -> list[Path]:
    """Model directories under `models_dir` whose name matches the glob `pattern`."""
    import fnmatch
    return sorted(p.parent for p in Path(models_dir).glob(f"*/{MANIFEST_NAME}")
                  if fnmatch.fnmatchcase(p.parent.name, pattern))
