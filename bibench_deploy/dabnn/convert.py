"""ONNX -> daBNN (.dab): the entry point. The rules are in `onnx_to_dab`."""

from __future__ import annotations

from pathlib import Path

from bibench_deploy.dabnn.constant_folding import fold_constants
from bibench_deploy.dabnn.onnx_graph import OnnxGraph
from bibench_deploy.dabnn.onnx_to_dab import DabConversion, OnnxToDab
from bibench_deploy.dabnn.refusals import find_refusals
from bibench_deploy.dabnn.straight_through import strip_straight_through
from bibench_deploy.errors import ConversionError

__all__ = ["DabConversion", "convert_onnx", "convert_file"]


def convert_onnx(onnx_model) -> DabConversion:
    """Convert a loaded `onnx.ModelProto`; raises ConversionError with the reasons it cannot."""
    onnx_model, estimators = strip_straight_through(onnx_model)
    try:
        graph = OnnxGraph.load(onnx_model)
    except ValueError as exc:
        raise ConversionError(str(exc)) from None
    folded = fold_constants(graph)
    reasons = find_refusals(graph)
    if reasons:
        raise ConversionError("daBNN cannot run this model: " + "; ".join(reasons)
                              + _opset_hint(graph))
    try:
        conversion = OnnxToDab(graph, folded).run()
    except ConversionError as exc:
        raise ConversionError(str(exc) + _opset_hint(graph)) from None
    if estimators:
        conversion.notes.append(f"{estimators} straight-through estimators "
                                "(F.detach() - S.detach() + S) read as their forward value F")
    return conversion


def _opset_hint(graph: OnnxGraph) -> str:
    """daBNN's own converter, onnx2bnn, matches its patterns only at opset <= 10."""
    if graph.opset <= 10:
        return ""
    return (f" (the model is exported at opset {graph.opset}; daBNN's onnx2bnn needs opset <= "
            "10: re-export with torch.onnx.export(..., opset_version=10))")


def convert_file(onnx_path: Path, dab_path: Path) -> DabConversion:
    import onnx

    try:
        onnx_model = onnx.load(str(onnx_path))
    except Exception as exc:  # protobuf raises its own DecodeError types
        raise ConversionError(f"cannot read {onnx_path} as ONNX: {exc}") from None
    conversion = convert_onnx(onnx_model)
    if not any(layer.type == "BinConv2D" for layer in conversion.model.layers):
        raise ConversionError(f"{onnx_path} has no binary convolution (Sign -> Conv with sign "
                              "weights), so daBNN would run it all in float; export the "
                              "binarized model with its Sign ops")
    try:
        dab_path.write_bytes(conversion.model.to_bytes())
    except OSError as exc:
        raise ConversionError(f"cannot write {dab_path}: {exc.strerror}") from None
    return conversion
