"""ONNX -> daBNN (.dab): the entry point. The rules are in `onnx_to_dab`."""

from __future__ import annotations

from pathlib import Path

from bibench_deploy.dabnn.constant_folding import fold_constants
from bibench_deploy.dabnn.onnx_graph import OnnxGraph
from bibench_deploy.dabnn.onnx_to_dab import DabConversion, OnnxToDab
from bibench_deploy.dabnn.refusals import find_refusals
from bibench_deploy.errors import ConversionError

__all__ = ["DabConversion", "convert_onnx", "convert_file"]


def convert_onnx(onnx_model) -> DabConversion:
    """Convert a loaded `onnx.ModelProto`; raises ConversionError with the reasons it cannot."""
    try:
        graph = OnnxGraph.load(onnx_model)
    except ValueError as exc:
        raise ConversionError(str(exc)) from None
    folded = fold_constants(graph)
    reasons = find_refusals(graph)
    if reasons:
        raise ConversionError("daBNN cannot run this model: " + "; ".join(reasons))
    return OnnxToDab(graph, folded).run()


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
