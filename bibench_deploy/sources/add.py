"""`add`: bring a model from elsewhere into `models/<name>/`, described like a built one.

Sources: a saved Keras/Larq model (`.keras`, `.h5`, a SavedModel directory), an LCE/TFLite
flatbuffer (`.tflite`) or a daBNN model (`.dab`). The manifest has `build`'s layout with
`source` (kind `added`, format, path, sha256) in place of training. From a Keras model
everything `build` derives is derived (LCE and FP32 flatbuffers, audit, complexity); from a
flatbuffer or `.dab` alone only what the file itself holds: its operators and its size.
Complexity is then `{"unknown": reason}`, and reports say that theory is unknown.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from bibench_deploy import formats
from bibench_deploy.errors import BibenchError, UsageError
from bibench_deploy.formats import DABNN, FP32, LCE
from bibench_deploy.model_dir import artefacts, check_output, write_model_dir
from bibench_deploy.reporter import Reporter
from bibench_deploy.sources.add_request import (FP32_CHOICES, NAME_PATTERN, AddRequest,
                                                added_manifest, source_entry, source_format,
                                                theory_unknown)


def check_add_request(request: AddRequest) -> tuple[str, Path]:
    """Validate everything cheap before any heavy work; return the source format and target."""
    fmt = source_format(request.model)
    name = request.resolved_name
    if not NAME_PATTERN.fullmatch(name):
        raise UsageError(f"--name {name!r}: use letters, digits, '_', '.', '-' "
                           "(starting with a letter or digit)")
    if request.fp32 not in FP32_CHOICES:
        fp32_format = source_format(Path(request.fp32))
        if fp32_format == "dab":
            raise BibenchError(f"--fp32 {request.fp32}: a .dab has no FP32 form; give a .tflite "
                               "or Keras model, auto or none")
    if request.dataset is not None:
        from bibench_deploy.data import DATASETS
        DATASETS.get(request.dataset)
    return fmt, check_output(request.out, name, request.force)


def add(request: AddRequest, reporter: Reporter = Reporter()) -> dict[str, Any]:
    fmt, target = check_add_request(request)
    if fmt == "dab":
        produce = lambda staging: _add_dab(request, staging)  # noqa: E731
    elif fmt == "tflite":
        produce = lambda staging: _add_tflite(request, staging, reporter)  # noqa: E731
    else:
        def produce(staging: Path) -> dict[str, Any]:
            from bibench_deploy.sources.add_keras import add_keras
            return add_keras(request, fmt, staging, reporter)
    return write_model_dir(target, produce)


def _add_tflite(request: AddRequest, staging: Path, reporter: Reporter) -> dict[str, Any]:
    from bibench_deploy.lce.flatbuffer import BCONV, FLOAT_MAC_OPS, read_graph
    reporter.stage("reading the flatbuffer")
    name = request.resolved_name
    data = request.model.read_bytes()
    try:
        graph = read_graph(data)
    except Exception as exc:  # the schema reader raises anything on a non-flatbuffer
        raise BibenchError(f"{request.model}: not a TFLite flatbuffer ({type(exc).__name__}); "
                           "give a file written by the LCE or TFLite converter") from None
    files = formats.paths(staging, name, LCE)
    shutil.copyfile(request.model, files[LCE])
    audit = {"op_histogram": graph.histogram(),
             "binary_macs_in_bconv": sum(op.macs for op in graph.ops if op.type == BCONV),
             "float_macs": sum(op.macs for op in graph.ops if op.type in FLOAT_MAC_OPS)}
    manifest = added_manifest(request, "tflite")
    fp32_files, fp32_audit = _fp32_file(request, staging)
    files.update(fp32_files)
    inputs = [graph.shapes[i] for i in _graph_inputs(data)]
    manifest.update({
        "input_shape": list(inputs[0]) if inputs else None,
        "artefacts": artefacts(staging, files),
        "audit": {LCE: audit, **({FP32: fp32_audit} if fp32_audit else {})},
        "complexity": theory_unknown("tflite"),
        "deploy": {DABNN: {"supported": False,
                             "reason": "added as a .tflite: no daBNN model"}},
    })
    return manifest


def _graph_inputs(flatbuffer: bytes) -> list[int]:
    from tensorflow.lite.python import schema_py_generated as schema
    model = schema.ModelT.InitFromPackedBuf(bytearray(flatbuffer), 0)
    return [int(i) for i in model.subgraphs[0].inputs]


def _fp32_file(request: AddRequest, staging: Path) -> tuple[dict[str, Path], dict[str, Any]]:
    """A given FP32 .tflite, copied as the FP32 artefact; nothing for auto or none."""
    if request.fp32 in FP32_CHOICES:
        return {}, {}
    source = Path(request.fp32)
    if source_format(source) != "tflite":
        raise BibenchError(f"--fp32 {source}: with a .{request.model.suffix[1:]} model the FP32 "
                           "baseline must be a .tflite")
    files = formats.paths(staging, request.resolved_name, FP32)
    shutil.copyfile(source, files[FP32])
    return files, {"source": source_entry(source, "tflite")}


def _add_dab(request: AddRequest, staging: Path) -> dict[str, Any]:
    from bibench_deploy.dabnn.model import DabModel
    name = request.resolved_name
    try:
        model = DabModel.from_bytes(request.model.read_bytes())
    except Exception as exc:  # a damaged flatbuffer raises from deep inside the reader
        raise BibenchError(f"{request.model}: not a daBNN model ({type(exc).__name__}: {exc}); "
                           "give a .dab written by `bibench-deploy convert` or onnx2bnn") from None
    layers: dict[str, int] = {}
    for layer in model.layers:
        layers[layer.type] = layers.get(layer.type, 0) + 1
    files = formats.paths(staging, name, DABNN)
    shutil.copyfile(request.model, files[DABNN])
    manifest = added_manifest(request, "dab")
    manifest.update({
        "input_shape": list(model.input_shape),
        "artefacts": artefacts(staging, files),
        "audit": {DABNN: {"supported": True, "reason": "",
                            "layer_histogram": dict(sorted(layers.items()))}},
        "complexity": theory_unknown("dab"),
        "deploy": {DABNN: {"supported": True, "reason": ""}},
    })
    return manifest
