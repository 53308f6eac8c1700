"""Which float values set the rounding of a binarized input (`rounding_scale`), by hand."""

from __future__ import annotations

import numpy as np

import bibench_deploy  # noqa: F401
import larq as lq
import tensorflow as tf

from bibench_deploy.algorithms.layers import hardtanh
from bibench_deploy.rounding_scale import OperandScales, operand_tensors


def pick(x, channel, name):
    """Channel `channel` of x as a 1x1 conv (exact: one product by 1, sums of zeros)."""
    kernel = np.zeros((1, 1, int(x.shape[-1]), 1))
    kernel[0, 0, channel, 0] = 1.0
    return tf.keras.layers.Conv2D(1, 1, use_bias=False, name=name,
                                  kernel_initializer=tf.constant_initializer(kernel))(x)


def model():
    """a + b -> Hardtanh -> pad -> binary conv; BatchNorm(c) -> Hardtanh -> binary conv; and a
    binary conv reading the model input."""
    inputs = tf.keras.Input((4, 4, 3))
    total = tf.keras.layers.Add(name="add")([pick(inputs, 0, "a"), pick(inputs, 1, "b")])
    padded = tf.keras.layers.ZeroPadding2D(1, name="pad")(hardtanh(total, "act"))
    residual = lq.layers.QuantConv2D(1, 3, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                                     name="residual_bconv")(padded)
    normed = tf.keras.layers.BatchNormalization(name="bn")(pick(inputs, 2, "c"))
    plain = lq.layers.QuantConv2D(1, 1, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                                  name="bn_bconv")(hardtanh(normed, "act_bn"))
    first = lq.layers.QuantConv2D(1, 1, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                                  name="input_bconv")(inputs)
    outputs = [tf.keras.layers.Flatten()(t) for t in (residual, plain, first)]
    return tf.keras.Model(inputs, tf.keras.layers.Concatenate()(outputs))


def test_operands_are_found_through_clipping_and_padding():
    m = model()
    add = m.get_layer("add")
    assert operand_tensors(m.get_layer("residual_bconv")) == [add.output, *add.input]
    assert operand_tensors(m.get_layer("bn_bconv")) == [m.get_layer("bn").output]
    assert operand_tensors(m.get_layer("input_bconv")) == []  # nothing rounded before it


def test_scales_are_the_largest_operand_per_sample():
    m = model()
    layers = [m.get_layer(name) for name in ("residual_bconv", "bn_bconv", "input_bconv")]
    x = np.zeros((2, 4, 4, 3), np.float32)
    x[0, 1, 2, 0], x[0, 1, 2, 1] = 200.0, -200.0   # cancel: the sum is 0, max|a + b| is 0
    x[1, 0, 0, 0], x[1, 3, 3, 1] = 3.0, -5.0
    x[:, 0, 1, 2] = [7.0, -9.0]
    residual, normed, first = OperandScales(m, layers)(x)
    assert list(residual) == [200.0, 5.0]
    gamma, beta, mean, var = (w.astype(np.float64) for w in m.get_layer("bn").get_weights())
    bn = lambda v: np.abs(gamma * (v - mean) / np.sqrt(var + 1e-3) + beta)[0]  # noqa: E731
    np.testing.assert_allclose(normed, [max(bn(7.0), bn(0.0)), max(bn(-9.0), bn(0.0))],
                               rtol=1e-6)
    assert list(first) == [0.0, 0.0]
