"""`.dab` vs its Keras source: explained vs unexplained disagreements.

The reference executor runs the model as daBNN's aarch64 build does (float32, the Affine as one
fused multiply-add). Keras rounds differently, so a value within a few float32 ulps of 0 can
binarize differently in the two, and one flipped bit moves the logits (sometimes top-1). Such a
flip is not a conversion error, but "top-1 agreement >= 99 %" cannot tell it from one, and on a
batch of 4 images it hides nothing and forgives nothing.

A sample disagrees when its top-1 differs from Keras's or a logit differs by more than
LOGIT_TOLERANCE * (1 + max |Keras logit|). Each disagreement is replayed: the executor runs the
sample again with every binary conv fed the bits Keras binarized (its QuantConv2D inputs, in
daBNN's sign convention). It is *explained* when

- the replay agrees with Keras (so everything outside the binarizations is right), and
- every bit that Keras and the executor binarized differently sat at a near tie: |x| at most
  NEAR_TIE times the largest magnitude of that tensor and of the values that formed it
  (`rounding_scale`: a clipped residual sum is rounded relative to its operands, which can be
  hundreds while max |x| is 1), float32 rounding far below any trained margin,

and *unexplained* otherwise: a clear bit that differs, or a replay that still disagrees, is a
conversion error. The check passes when no disagreement is unexplained.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bibench_deploy.dabnn import executor
from bibench_deploy.dabnn.model import DabModel
from bibench_deploy.rounding_scale import operand_scales

LOGIT_TOLERANCE = 1e-3
NEAR_TIE = 1e-5  # relative to the largest |value| that formed x; float32 has 2^-24 = 6e-8


def dab_verdict(model: DabModel, output: str, images: np.ndarray, reference: np.ndarray,
                keras_model: Any) -> tuple[dict[str, Any], np.ndarray]:
    """(verdict, the executor's outputs) on `images` (NHWC) against Keras's `reference` logits
    of `keras_model`."""
    outputs = executor.run_batch(model, images, output).reshape(reference.shape)
    disagreeing = [i for i in range(len(images)) if not _agree(reference[i], outputs[i])]
    explained, unexplained = [], []
    keras_inputs, scales = (_keras_binary_inputs(keras_model, images[disagreeing])
                            if disagreeing else ({}, {}))
    for row, index in enumerate(disagreeing):
        flips = _replay(model, output, images[index], reference[index],
                        {name: values[row] for name, values in keras_inputs.items()},
                        {name: float(scale[row]) for name, scale in scales.items()})
        (explained if flips is not None else unexplained).append(
            {"sample": index, **({"flipped_bits": flips} if flips is not None else {})})
    return {"arithmetic": "float32, Affine as fused multiply-add (daBNN's aarch64 build)",
            "disagreements": len(disagreeing), "explained": len(explained),
            "unexplained": len(unexplained), "explained_samples": explained,
            "unexplained_samples": [entry["sample"] for entry in unexplained],
            "near_tie": NEAR_TIE, "logit_tolerance": LOGIT_TOLERANCE}, outputs


def verdict_pass(verdict: dict[str, Any]) -> bool:
    return verdict["unexplained"] == 0


def _agree(reference: np.ndarray, candidate: np.ndarray) -> bool:
    bound = LOGIT_TOLERANCE * (1 + float(np.abs(reference).max()))
    return bool(reference.argmax() == candidate.argmax()
                and np.abs(reference - candidate).max() <= bound)


def _replay(model: DabModel, output: str, image: np.ndarray, reference: np.ndarray,
            keras_inputs: dict[str, np.ndarray], scales: dict[str, float]) -> int | None:
    """The number of near-tie bits that explain the sample's disagreement, or None.
    `scales`: per Keras conv, the largest |value| among the operands that formed its input."""
    own = executor.BinarizationTrace()
    executor.run(model, image, trace=own)
    replay = executor.BinarizationTrace()
    for conv, values in own.inputs.items():
        keras_name = conv.split("/binary")[0]
        if keras_name not in keras_inputs:
            return None  # a binary conv without a Keras counterpart: nothing to replay
        replay.forced[conv] = _dab_convention_signs(values, keras_inputs[keras_name])
    replayed = executor.run(model, image, trace=replay)[output].reshape(reference.shape)
    flipped = 0
    for conv, values in replay.inputs.items():  # each conv's input, all earlier bits as Keras's
        differs = replay.forced[conv] != np.where(values > 0, 1.0, -1.0)
        scale = max(float(np.abs(values).max()), scales.get(conv.split("/binary")[0], 0.0))
        near = np.abs(values) <= NEAR_TIE * max(scale, 1e-30)
        if np.any(differs & ~near):
            return None
        flipped += int(differs.sum())
    return flipped if flipped and _agree(reference, replayed) else None


def _dab_convention_signs(dab_values: np.ndarray, keras_values: np.ndarray) -> np.ndarray:
    """Keras's bits (Larq: x >= 0 -> +1) as the signs daBNN's conv would need on its own input,
    which is the Keras tensor or its negation (see `polarity`): for a negated input -x the
    exporter negated the weights too, so daBNN's +1 stands for Larq's -1."""
    keras_values = _crop(keras_values, dab_values.shape)
    negated = float(np.sum(dab_values * keras_values)) < 0
    if negated:
        return np.where(keras_values >= 0, -1.0, 1.0)
    return np.where(keras_values >= 0, 1.0, -1.0)


def _crop(values: np.ndarray, shape) -> np.ndarray:
    """A QuantConv2D input after explicit ZeroPadding2D, without the padding daBNN adds itself."""
    top, left = ((values.shape[0] - shape[0]) // 2, (values.shape[1] - shape[1]) // 2)
    return values[top:top + shape[0], left:left + shape[1]]


def _keras_binary_inputs(keras_model: Any, images: np.ndarray
                         ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Layer name -> the float inputs of every binarized QuantConv2D on `images`, and layer
    name -> per image, the largest |value| among the operands that formed them."""
    import tensorflow as tf
    convs = [layer for layer in keras_model.layers if type(layer).__name__ == "QuantConv2D"
             and getattr(layer, "input_quantizer", None) is not None]
    if not convs:
        return {}, {}
    probe = tf.keras.Model(keras_model.inputs, [layer.input for layer in convs])
    values = probe(images, training=False)
    values = values if isinstance(values, (list, tuple)) else [values]
    scales = operand_scales(keras_model, convs, images)
    return ({layer.name: np.asarray(v) for layer, v in zip(convs, values)},
            {layer.name: scale for layer, scale in zip(convs, scales)})
