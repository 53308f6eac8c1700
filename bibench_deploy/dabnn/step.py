"""The daBNN step of `build`: deploy graph -> ONNX (daBNN's strict form) -> .dab, both checked.

ONNX files are checked with onnxruntime against the Keras model on the audit batch, with the same
top-1 rule as the LCE audit; `.dab` files with the numpy reference executor of the format, as
daBNN's aarch64 build computes (float32, fused multiply-add Affine), judged by explained vs
unexplained disagreements (`dabnn.verdict`). An algorithm whose operator daBNN cannot run, or a
shape its runtime fails on, is recorded as unsupported with the reason; a `.dab` file with an
unexplained disagreement fails a trained build.

For untrained models the files are written from the model itself (its parameters drawn from the
seed, `training/untrained.py`) and the conversion is verified on a twin with the same weights
and BatchNorm statistics drawn once more (`verified_on` in the audit says which). As for LCE, an untrained network's ONNX
comparison is recorded (`numerics_enforced: false`), not enforced: without margins, rounding
flips of near-threshold bits move its argmax. The `.dab` verdict tells those flips from
conversion errors; it is enforced for trained builds and recorded with a warning for untrained
ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bibench_deploy import formats
from bibench_deploy.algorithms.base import Algorithm
from bibench_deploy.errors import ConversionError
from bibench_deploy.formats import DABNN, ONNX
from bibench_deploy.lce.audit import compare_outputs, numerics_pass
from bibench_deploy.training.untrained import twin_with_random_batchnorm

# The reference executor is plain numpy: bound its work on large inputs.
EXECUTOR_SAMPLES_SMALL_INPUT = 100
EXECUTOR_SAMPLES_LARGE_INPUT = 4


def onnx_outputs(onnx_model: Any, x_nhwc: np.ndarray) -> np.ndarray:
    import onnxruntime as ort
    session = ort.InferenceSession(onnx_model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    spec = session.get_inputs()[0]
    x = x_nhwc if spec.shape[-1] == x_nhwc.shape[-1] else x_nhwc.transpose(0, 3, 1, 2)
    return np.asarray(session.run(None, {spec.name: x})[0], dtype=np.float32)


def _checked(what: str, name: str, reference: np.ndarray, outputs: np.ndarray,
             enforced: bool) -> dict[str, Any]:
    numerics = compare_outputs(reference, outputs.reshape(reference.shape))
    numerics["numerics_enforced"] = enforced
    if enforced and not numerics_pass(numerics):
        raise ConversionError(
            f"{name}: the {what} does not match Keras on the audit batch (top-1 agreement "
            f"{numerics['top1_agreement']:.1%}, max |diff| {numerics['max_abs_diff']:.3g})")
    return numerics


def _dab_checked(conversion: Any, keras_model: Any, reference: np.ndarray, x: np.ndarray,
                 name: str, enforced: bool) -> dict[str, Any]:
    """The `.dab` verdict (see `dabnn.verdict`): for a trained build, a disagreement that
    near-tie rounding flips do not explain is a conversion error. An untrained build records
    it with a warning, as its LCE comparison: without margins, a flip in the residual stream
    (continuous values, no near-tie bound there) cascades beyond what the replay follows."""
    from bibench_deploy.dabnn.verdict import dab_verdict, verdict_pass
    verdict, outputs = dab_verdict(conversion.model, conversion.output_name, x, reference,
                                   keras_model)
    numerics = {**compare_outputs(reference, outputs.reshape(reference.shape)),
                "verdict": verdict, "numerics_enforced": enforced}
    if not verdict_pass(verdict):
        message = (f"{name}: the .dab model (reference executor, as daBNN's aarch64 build) "
                   f"disagrees with Keras on audit images {verdict['unexplained_samples']} "
                   "beyond near-tie rounding flips")
        if enforced:
            raise ConversionError(f"{message}; the conversion changed the model's meaning")
        numerics["numerics_warning"] = f"{message}; untrained, not enforced"
    return numerics


def export_fp32_onnx(fp32_model: Any, reference: np.ndarray, x: np.ndarray, path: Path,
                     name: str) -> dict[str, Any]:
    from bibench_deploy.dabnn.export import export_onnx
    try:
        onnx_model = export_onnx(fp32_model, path)
    except ConversionError as exc:
        return {"exported": False, "reason": str(exc)}
    return {"exported": True, **_checked("FP32 ONNX model", name, reference,
                                         onnx_outputs(onnx_model, x), enforced=True)}


def build_dabnn(algo: Algorithm, deploy_model: Any, reference: np.ndarray, x: np.ndarray,
                staging: Path, name: str, trained: bool) -> tuple[dict[str, Path], dict[str, Any]]:
    """Write <name>.onnx and <name>.dab when daBNN can run the model; return files and audit."""
    if not algo.dabnn.supported:
        return {}, {"supported": False, "reason": algo.dabnn.reason}
    from bibench_deploy.dabnn.convert import convert_onnx
    from bibench_deploy.dabnn.export import export_onnx
    files = formats.paths(staging, name, ONNX, DABNN)
    try:
        onnx_model = export_onnx(deploy_model, files[ONNX])
        conversion = convert_onnx(onnx_model)
    except ConversionError as exc:
        files[ONNX].unlink(missing_ok=True)
        return {}, {"supported": False, "reason": str(exc)}
    files[DABNN].write_bytes(conversion.model.to_bytes())
    if not trained:
        deploy_model = twin_with_random_batchnorm(deploy_model)
        reference = np.asarray(deploy_model(x, training=False), dtype=np.float32)
        onnx_model = export_onnx(deploy_model)
        conversion = convert_onnx(onnx_model)
    onnx_numerics = _checked("ONNX model", name, reference, onnx_outputs(onnx_model, x), trained)
    samples = (EXECUTOR_SAMPLES_SMALL_INPUT if x.shape[1] <= 64 else EXECUTOR_SAMPLES_LARGE_INPUT)
    dab_numerics = _dab_checked(conversion, deploy_model, reference[:samples], x[:samples], name,
                                enforced=trained)
    layers: dict[str, int] = {}
    for layer in conversion.model.layers:
        layers[layer.type] = layers.get(layer.type, 0) + 1
    verified_on = ("the built model" if trained else
                   "a twin with the same weights and randomised BatchNorm statistics")
    return files, {"supported": True, "reason": "", "verified_on": verified_on,
                   ONNX: onnx_numerics, DABNN: dab_numerics,
                   "layer_histogram": dict(sorted(layers.items())), "notes": conversion.notes}
