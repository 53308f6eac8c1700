"""The daBNN stage: the deploy graph as ONNX and `.dab`, the FP32 model as ONNX, all checked."""

from __future__ import annotations

from bibench_deploy import formats
from bibench_deploy.dabnn.step import build_dabnn, export_fp32_onnx
from bibench_deploy.stages.state import BuildState


def export_dabnn(state: BuildState) -> None:
    state.reporter.stage("exporting ONNX and daBNN models")
    state.dabnn_files, state.dabnn_audit = build_dabnn(
        state.algo, state.deploy, state.reference, state.x, state.staging, state.name,
        trained=state.trained)
    if "numerics_warning" in state.dabnn_audit.get(formats.DABNN, {}):
        state.reporter.warning(state.dabnn_audit[formats.DABNN]["numerics_warning"])
    state.fp32_onnx_path, = formats.paths(state.staging, state.name, formats.ONNX_FP32).values()
    state.fp32_onnx = export_fp32_onnx(state.fp32_model, state.fp32_reference, state.x,
                                       state.fp32_onnx_path, state.name)
