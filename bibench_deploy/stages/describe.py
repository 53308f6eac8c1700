"""The last stages: artefacts written, the manifest filled in, an import checked against
BiBench's own semantics."""

from __future__ import annotations

from typing import Any

from bibench_deploy import formats
from bibench_deploy.formats import DABNN, FP32, LCE, ONNX_FP32
from bibench_deploy.model_dir import artefacts
from bibench_deploy.stages.state import BuildState
from bibench_deploy.training.train import weights_sha256


def write_artefacts(state: BuildState) -> None:
    state.reporter.stage("writing artefacts")
    staging, name = state.staging, state.name
    files = {**formats.paths(staging, name, LCE, FP32, formats.KERAS), **state.dabnn_files}
    if state.fp32_onnx["exported"]:
        files[ONNX_FP32] = state.fp32_onnx_path
    files[LCE].write_bytes(state.binary_fb)
    files[FP32].write_bytes(state.fp32_fb)
    state.model.save(files[formats.KERAS])
    state.files = files
    state.complexity["file_bytes"] = {LCE: len(state.binary_fb), FP32: len(state.fp32_fb)}
    state.complexity["file_size_ratio"] = len(state.fp32_fb) / len(state.binary_fb)


def describe(state: BuildState) -> None:
    request, dataset, algo, x = state.request, state.dataset, state.algo, state.x
    state.manifest.update({
        "dataset": dataset.summary(),
        "input_shape": [1, state.arch.input_size, state.arch.input_size, 3],
        "num_classes": dataset.num_classes,
        "preprocessing": state.prep.describe() if request.source is None else
        request.source.preprocessing(state.prep.describe(), dataset.name, len(x)),
        "training": _training(state),
        "algorithm": {"name": algo.name, "title": algo.title, "paper": algo.paper,
                      "inference_operator": algo.inference_operator},
        "artefacts": artefacts(state.staging, state.files),
        "audit": {LCE: state.binary_audit, FP32: state.fp32_audit,
                  DABNN: state.dabnn_audit, ONNX_FP32: state.fp32_onnx,
                  "audit_batch": f"first {len(x)} test images of {dataset.name}"},
        "complexity": state.complexity,
        "deploy": {DABNN: {"supported": state.dabnn_audit["supported"],
                             "reason": state.dabnn_audit["reason"]}},
    })


def _training(state: BuildState) -> dict[str, Any]:
    return {**state.request.train.describe(), "trained": state.trained,
            "history": state.history, "test_accuracy": state.test_accuracy,
            "untrained_parameters": state.randomized,
            "weights_sha256": weights_sha256(state.model),
            "fp32_baseline": "untrained (same architecture, random init): latency only"}


def verify_import(state: BuildState) -> None:
    """An imported checkpoint's own checks (the request's source decides them)."""
    source = state.request.source
    if source is None:
        return
    state.reporter.stage("checking against BiBench's semantics")
    state.manifest["training"]["imported"] = True
    state.manifest["import"] = {**state.imported, **source.verify(
        state.algo, state.binary_fb, state.x, state.deploy_logits64, state.deploy64)}
