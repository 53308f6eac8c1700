"""What a Keras/Larq layer computes in deploy form, read from its class, config and quantizers.

Quantizers are identified by what they compute, not by name: the input quantizer must be
sign(x) (binarization at 0, values +/-1), the kernel quantizer alpha * sign(W) with one positive
alpha per output channel. Activations are probed the same way (identity, ReLU, Hardtanh).
"""

from __future__ import annotations

import numpy as np

from bibench_deploy.errors import ConversionError

_PROBE = np.array([-3.0, -1.0, -0.4, 0.4, 1.0, 3.0], np.float32)


def activation_kind(function_or_layer) -> str:
    """'linear', 'relu' or 'hardtanh'; raises for anything else."""
    import tensorflow as tf

    values = np.asarray(function_or_layer(tf.constant(_PROBE.reshape(1, 1, 1, -1))))
    values = values.reshape(-1)
    for kind, expected in (("linear", _PROBE), ("relu", np.maximum(_PROBE, 0)),
                           ("hardtanh", np.clip(_PROBE, -1, 1))):
        if np.allclose(values, expected):
            return kind
    raise ConversionError(f"activation {function_or_layer!r} is none of identity, ReLU, "
                          "Hardtanh")


def is_sign_quantizer(quantizer) -> bool:
    """Whether `quantizer` binarizes at 0 to +/-1 (what daBNN's BinConv2D does to its input)."""
    import tensorflow as tf

    values = np.asarray(quantizer(tf.constant(_PROBE))).reshape(-1)
    return bool(np.array_equal(values, np.where(_PROBE > 0, 1.0, -1.0)))


def binary_kernel(quantizer, kernel_hwio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(signs +/-1 as HWIO, alpha per output channel) with quantizer(W) == alpha * signs."""
    import tensorflow as tf

    quantized = np.asarray(quantizer(tf.constant(kernel_hwio)), np.float64)
    alpha = np.abs(quantized).reshape(-1, quantized.shape[-1]).max(axis=0)
    signs = np.sign(quantized)
    if np.any(alpha <= 0) or not np.allclose(signs * alpha, quantized, rtol=1e-5, atol=0):
        raise ConversionError(f"kernel quantizer {quantizer!r} is not alpha * sign(W) with one "
                              "alpha per output channel")
    return signs, alpha


def same_pads(size: int, kernel: int, stride: int, layer_name: str) -> int:
    """The symmetric pad of TF 'same' padding, or ConversionError where TF pads asymmetrically."""
    output = -(-size // stride)
    total = max((output - 1) * stride + kernel - size, 0)
    if total % 2:
        raise ConversionError(
            f"{layer_name}: TF 'same' padding of {size} pixels with kernel {kernel}, stride "
            f"{stride} pads {total // 2} before and {total - total // 2} after; daBNN pads "
            "symmetrically (use explicit symmetric padding and 'valid' in the model)")
    return total // 2


def explicit_pads(size: int, before: int, after: int, kernel: int, stride: int,
                  layer_name: str) -> int:
    """The symmetric pad equal to explicit padding (before, after) of `size` pixels read by a
    'valid' window (kernel, stride), or ConversionError. (before, after) with after < before
    computes what (before, before) does when the output size is the same: the last window then
    ends inside the padding that is there (PyTorch's padding 3 of a 7x7/2 conv on 224 pixels,
    written as 3 before and 2 after)."""
    outputs = (size + before + after - kernel) // stride + 1
    if after > before or (size + 2 * before - kernel) // stride + 1 != outputs:
        raise ConversionError(
            f"{layer_name}: explicit padding of {size} pixels, {before} before and {after} "
            f"after, under a {kernel}-pixel window with stride {stride}; daBNN pads "
            "symmetrically")
    return before
