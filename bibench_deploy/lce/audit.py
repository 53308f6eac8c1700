"""What really became a binary kernel, and whether the flatbuffer computes what Keras computes.

Every number is read from the flatbuffer itself or from running it:
- `op_histogram`: operator types and counts.
- `binary_macs_in_bconv` / `binary_macs_expected`: MACs executed by `LceBconv2d` against the
  binarized MACs (BOPs) of the Keras model; `binary_mac_share` is their ratio (1.0 = every
  binarized conv runs as a binary kernel).
- `float_fallback_macs`: MACs in float CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED beyond
  the model's full-precision layers; non-zero means binarized convs run as float convs.
- `extra_float_ops`: float operators beyond those of the FP32 baseline of the same architecture
  (e.g. ABS, MEAN, MUL of a runtime scale), per type: the surplus count over the baseline and
  the surplus FLOPs, one FLOP per output element (per input element for reductions);
  `extra_float_flops` is their sum.
- `max_abs_diff`, `top1_agreement`: LCE interpreter vs the reference on the audit batch (for
  the binarized flatbuffer the deploy graph in float64, for the FP32 one Keras).
- `disagreements`, `explained_flips`, `unexplained`: the binarized flatbuffer's verdict
  (lce/verdict.py): top-1 disagreements with the float64 reference, those explained by
  sign flips within float32 rounding of their threshold, and the rest (conversion errors);
  `keras_float32` is the same comparison against the float32 Keras deploy graph.
- `missing_declared_ops`: float operator types the algorithm declares (`inference_float_ops`)
  that the flatbuffer does not run beyond its FP32 baseline; the build fails on any, because
  such a graph (e.g. a Gamma of ones folded away) would not measure the algorithm's cost.
"""

from __future__ import annotations

from math import prod
from typing import Any, Iterable, Optional

import numpy as np

from bibench_deploy.lce.flatbuffer import BCONV, FLOAT_MAC_OPS, LCE_OPS, Graph

TOP1_AGREEMENT_MIN = 0.99
REDUCTIONS = frozenset({"MEAN", "SUM", "REDUCE_MAX"})


def compare_outputs(reference: np.ndarray, candidate: np.ndarray) -> dict[str, Any]:
    diff = np.abs(reference - candidate)
    agree = float(np.mean(reference.argmax(-1) == candidate.argmax(-1)))
    return {"samples": int(len(reference)), "max_abs_diff": float(diff.max()),
            "mean_abs_diff": float(diff.mean()), "top1_agreement": agree,
            "reference_max_abs": float(np.abs(reference).max())}


def _op_flops(graph: Graph, op: Any) -> int:
    if op.type in REDUCTIONS:
        return prod(graph.shapes.get(op.inputs[0], ()))
    return op.output_elements


def float_op_totals(graph: Graph) -> dict[str, dict[str, int]]:
    """Per float operator type (binary kernels and MAC ops aside): count and FLOPs."""
    totals: dict[str, dict[str, int]] = {}
    for op in graph.ops:
        if op.type in LCE_OPS or op.type in FLOAT_MAC_OPS:
            continue
        entry = totals.setdefault(op.type, {"count": 0, "flops": 0})
        entry["count"] += 1
        entry["flops"] += _op_flops(graph, op)
    return totals


def _extra_float_ops(graph: Graph, baseline: Graph) -> dict[str, dict[str, int]]:
    base = float_op_totals(baseline)
    extra = {}
    for op_type, entry in float_op_totals(graph).items():
        ref = base.get(op_type, {"count": 0, "flops": 0})
        if entry["count"] > ref["count"]:
            extra[op_type] = {"count": entry["count"] - ref["count"],
                              "flops": max(0, entry["flops"] - ref["flops"])}
    return extra


def audit_graph(graph: Graph, keras_totals: dict[str, Any],
                baseline: Optional[Graph]) -> dict[str, Any]:
    bconv_macs = sum(op.macs for op in graph.ops if op.type == BCONV)
    float_macs = sum(op.macs for op in graph.ops if op.type in FLOAT_MAC_OPS)
    expected_binary = int(keras_totals.get("bops", 0))
    expected_float = int(keras_totals.get("mac_flops", keras_totals.get("flops", 0)))
    extra = _extra_float_ops(graph, baseline) if baseline is not None else {}
    return {
        "op_histogram": graph.histogram(),
        "binary_macs_expected": expected_binary,
        "binary_macs_in_bconv": bconv_macs,
        "binary_mac_share": bconv_macs / expected_binary if expected_binary else None,
        "float_macs": float_macs,
        "float_fallback_macs": max(0, float_macs - expected_float),
        "extra_float_ops": extra,
        "extra_float_flops": sum(e["flops"] for e in extra.values()),
    }


def lce_verdict(model64: Any, x: np.ndarray, flatbuffer: bytes,
                keras_outputs: np.ndarray, search: bool) -> dict[str, Any]:
    """The binarized flatbuffer's comparison and verdict (see the module docstring).

    Disagreements are attributed from LCE's own sign inputs (one float64 replay each); where
    those cannot be matched to the model's quantizers, by a search only with `search` (trained
    builds: an untrained network's near-ties cascade and each search costs many float64
    passes), and are otherwise counted as not attributed.
    """
    from bibench_deploy.lce.convert import interpret_with_sign_inputs
    from bibench_deploy.lce.verdict import MAX_ATTRIBUTED, rounding_verdict
    lce_outputs, sign_inputs = interpret_with_sign_inputs(flatbuffer, x)
    verdict = rounding_verdict(model64, x, lce_outputs, MAX_ATTRIBUTED if search else 0,
                               sign_inputs)
    return {"reference": "deploy graph in float64",
            **compare_outputs(verdict.pop("reference"), lce_outputs), **verdict,
            "keras_float32": compare_outputs(keras_outputs, lce_outputs)}


def verdict_mismatch(audit: dict[str, Any]) -> str:
    """The failed verdict in words: how many disagreements are not explained."""
    return (f"{audit['unexplained']} of {audit['disagreements']} disagreements with its float64 "
            f"reference on the audit batch are not explained by float32 rounding (top-1 "
            f"agreement {audit['top1_agreement']:.1%}, max |diff| {audit['max_abs_diff']:.3g})")


def verdict_pass(audit: dict[str, Any]) -> bool:
    """Every top-1 disagreement explained by float32 rounding."""
    return audit["unexplained"] == 0


def numerics_pass(numerics: dict[str, Any]) -> bool:
    return numerics["top1_agreement"] >= TOP1_AGREEMENT_MIN


def missing_declared_ops(audit: dict[str, Any], declared: Iterable[str]) -> list[str]:
    """Declared float op types absent from the audited graph's `extra_float_ops`.

    Compared with the FP32 twin, not with the bare histogram: a ResNet has residual ADDs in
    any case, so only the surplus over the baseline shows that ReActNet's thresholds survived.
    """
    return sorted(set(declared) - set(audit["extra_float_ops"]))
