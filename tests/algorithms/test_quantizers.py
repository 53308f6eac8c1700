"""Forward values and pseudo-gradients of every quantizer on fixed tensors, against the formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

import bibench_deploy  # noqa: F401  (selects the Keras 2 API before TensorFlow loads)
import tensorflow as tf

from bibench_deploy.algorithms import fourier, quantizers as q

# Values on every side of the clip and ApproxSign break points, 0 included (sign(0) = +1).
X = np.array([-2.0, -1.0, -0.75, -0.25, 0.0, 0.25, 0.75, 1.0, 1.5], dtype="float32")
SIGN = np.where(X >= 0, 1.0, -1.0)
CLIP = (np.abs(X) <= 1).astype("float32")


def value_and_grad(fn, x, dy=None):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
        loss = tf.reduce_sum(y * (tf.ones_like(y) if dy is None else tf.constant(dy)))
    return y.numpy(), tape.gradient(loss, x).numpy()


def kernel(seed=0, shape=(3, 3, 4, 5)):
    w = np.random.default_rng(seed).normal(scale=0.8, size=shape).astype("float32")
    w[0, 0, 0, 0], w[0, 0, 1, 0] = 1.0, 3.0   # a weight on the clip edge and an outlier
    return w


def test_ste_sign_is_clipped_ste():
    y, g = value_and_grad(lambda x: q.lq.quantizers.ste_sign(x), X)
    np.testing.assert_array_equal(y, SIGN)
    np.testing.assert_array_equal(g, CLIP)


def test_approx_sign_gradient_is_the_bireal_polynomial():
    y, g = value_and_grad(lambda x: q.lq.quantizers.approx_sign(x), X)
    expected = np.select([(X >= -1) & (X < 0), (X >= 0) & (X < 1)], [2 + 2 * X, 2 - 2 * X], 0.0)
    np.testing.assert_array_equal(y, SIGN)
    np.testing.assert_allclose(g, expected, atol=1e-6)


def test_mean_scaled_sign_scales_per_output_channel_and_passes_unscaled_clip_ste():
    w = kernel()
    y, g = value_and_grad(q.MeanScaledSign(), w)
    alpha = np.abs(w).mean(axis=(0, 1, 2))
    np.testing.assert_allclose(y, alpha * np.where(w >= 0, 1, -1), rtol=1e-6)
    np.testing.assert_array_equal(g, (np.abs(w) <= 1).astype("float32"))
    assert g[0, 0, 0, 0] == 1.0 and g[0, 0, 1, 0] == 0.0


def test_input_scaled_sign_is_beta_per_sample_with_clip_ste():
    a = np.random.default_rng(1).normal(size=(2, 3, 3, 4)).astype("float32")
    y, g = value_and_grad(q.InputScaledSign(), a)
    beta = np.abs(a).mean(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(y, beta * np.where(a >= 0, 1, -1), rtol=1e-6)
    np.testing.assert_array_equal(g, (np.abs(a) <= 1).astype("float32"))


def test_output_scaled_sign_divides_its_gradient_by_beta():
    a = np.random.default_rng(2).normal(size=(2, 3, 3, 4)).astype("float32")
    y, g = value_and_grad(q.OutputScaledSign(), a)
    beta = np.abs(a).mean(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_array_equal(y, np.where(a >= 0, 1, -1))
    np.testing.assert_allclose(g, (np.abs(a) <= 1) / beta, rtol=1e-6)


def test_recu_activation_gradient_in_inference_mode_is_the_triangle():
    y, g = value_and_grad(lambda x: q.RecuActivationSign()(x, training=False), X)
    np.testing.assert_array_equal(y, SIGN)
    np.testing.assert_allclose(g, np.maximum(0, 2 - 2 * np.abs(X)), atol=1e-6)


def test_recu_activation_in_training_standardises_and_the_gradient_flows_through_it():
    a = np.random.default_rng(3).normal(scale=0.7, size=(2, 2, 2, 3)).astype("float32")
    dy = np.random.default_rng(4).normal(size=a.shape).astype("float32")
    y, g = value_and_grad(lambda x: q.RecuActivationSign()(x, training=True), a, dy)
    np.testing.assert_array_equal(y, np.where(a >= 0, 1, -1))
    n = a[0].size
    for s in range(2):   # d/da_i sum_j dy_j h(a_j / sd) with sd = sqrt(var_unbiased + 1e-5)
        x = a[s].ravel().astype("float64")
        sd = math.sqrt(x.var(ddof=1) + 1e-5)
        gh = dy[s].ravel() * np.maximum(0, 2 - 2 * np.abs(x / sd))
        expected = gh / sd - (gh * x).sum() * (x - x.mean()) / ((n - 1) * sd ** 3)
        np.testing.assert_allclose(g[s].ravel(), expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("tau", [0.85, 0.99])
def test_recu_kernel_forward_and_gradient_through_clamp_and_standardisation(tau):
    w = kernel(5)
    dy = np.random.default_rng(6).normal(size=w.shape).astype("float32")
    quantizer = q.RecuKernelSign()
    quantizer.build(w.shape)
    quantizer.tau.assign(tau)
    y, g = value_and_grad(quantizer, w, dy)
    rows = w.reshape(-1, w.shape[-1]).astype("float64")
    n = rows.shape[0]
    centred = rows - rows.mean(axis=0)
    sd = np.sqrt(centred.var(axis=0, ddof=1) + 1e-5)
    w_hat = 2 * math.sqrt(2) * centred / sd
    clip = -np.abs(w_hat).mean() * math.log(2 - 2 * tau)
    np.testing.assert_array_equal(y.reshape(rows.shape), np.where(centred >= 0, 1, -1))
    mask = np.abs(w_hat) <= clip
    assert 0 < mask.mean() < 1
    big_g = dy.reshape(rows.shape) * mask
    k = 2 * math.sqrt(2)
    expected = (k / sd * (big_g - big_g.mean(axis=0))
                - k * centred * (big_g * centred).sum(axis=0) / ((n - 1) * sd ** 3))
    np.testing.assert_allclose(g.reshape(rows.shape), expected, rtol=1e-4, atol=1e-5)


def test_mean_centred_sign_is_the_recu_inference_kernel():
    w = kernel(7)
    quantizer = q.RecuKernelSign()
    quantizer.build(w.shape)
    quantizer.tau.assign(0.9)
    np.testing.assert_array_equal(q.MeanCentredSign()(w).numpy(), quantizer(w).numpy())


@pytest.mark.parametrize("n", [9, 13, 17])
def test_fourier_gradient_is_the_series_and_zero_outside_the_clip(n):
    y, g = value_and_grad(lambda x: fourier.fourier_sign(x, tf.constant(n)), X)
    series = sum(np.cos((2 * i + 1) * 0.1 * X.astype("float64")) for i in range(n + 1))
    expected = np.where(np.abs(X) <= 1, 4 * 0.1 / math.pi * series, 0.0)
    np.testing.assert_array_equal(y, SIGN)
    np.testing.assert_allclose(g, expected, rtol=1e-5)
    assert g[1] != 0 and g[0] == 0 and g[-1] == 0     # |x| = 1 kept, |x| > 1 zero (BiBench)
    assert g[4] == pytest.approx(4 * 0.1 / math.pi * (n + 1))


def _mlp(rows, quantizer):
    out = 0.1 * np.sin(rows)
    if quantizer.fc1 is not None:
        out += np.maximum(rows @ quantizer.fc1.numpy(), 0) @ quantizer.fc2.numpy()
    return out


def test_fda_activation_adds_the_noise_only_in_training():
    a = np.random.default_rng(8).normal(size=(2, 3, 3, 128)).astype("float32")
    quantizer = fourier.FdaActivationSign()
    quantizer.build(a.shape)
    assert tuple(quantizer.fc1.shape) == (128, 2) and tuple(quantizer.fc2.shape) == (2, 128)
    sign = np.where(a >= 0, 1.0, -1.0)
    np.testing.assert_array_equal(quantizer(a, training=False).numpy(), sign)
    expected = sign + 0.1 * _mlp(a, quantizer)
    np.testing.assert_allclose(quantizer(a, training=True).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_fda_narrow_layers_have_no_mlp_like_bibench():
    quantizer = fourier.FdaActivationSign()
    quantizer.build((1, 4, 4, 16))   # 16 // 64 = 0 hidden units: only 0.1 sin(a) remains
    assert quantizer.fc1 is None and quantizer.trainable_weights == []


def test_fda_kernel_forward_in_training_and_inference():
    w = kernel(9, shape=(3, 3, 16, 4))
    quantizer = fourier.FdaKernelSign()
    quantizer.build(w.shape)
    quantizer.noise_weight.assign(0.05)
    alpha = np.abs(w).mean(axis=(0, 1, 2))
    sign = np.where(w >= 0, 1.0, -1.0)
    np.testing.assert_allclose(quantizer(w, training=False).numpy(), alpha * sign, rtol=1e-6)
    rows = w.transpose(3, 0, 1, 2).reshape(4, -1)
    noise = _mlp(rows, quantizer).reshape(4, 3, 3, 16).transpose(1, 2, 3, 0)
    np.testing.assert_allclose(quantizer(w, training=True).numpy(),
                               alpha * (sign + 0.05 * noise), rtol=1e-5, atol=1e-6)


def test_fda_kernel_gradient_is_alpha_times_fourier_without_noise():
    w = kernel(10, shape=(1, 1, 2, 3))
    quantizer = fourier.FdaKernelSign()
    quantizer.build(w.shape)
    quantizer.noise_weight.assign(0.0)
    _, g = value_and_grad(lambda x: quantizer(x, training=True), w)
    series = sum(np.cos((2 * i + 1) * 0.1 * w) for i in range(10))
    expected = np.abs(w).mean(axis=(0, 1, 2)) * np.where(np.abs(w) <= 1, 0.4 / math.pi * series, 0)
    np.testing.assert_allclose(g, expected, rtol=1e-5)


def test_reactnet_threshold_gets_the_approx_sign_gradient_of_a_plus_b():
    from bibench_deploy.algorithms.layers import _layer_classes
    shift = _layer_classes()["ChannelShift"]()
    a = np.random.default_rng(11).uniform(-1.5, 1.5, size=(2, 3, 3, 4)).astype("float32")
    shift(a)   # builds the weights
    b = np.array([0.0, 0.3, -0.6, 1.2], dtype="float32")
    shift.threshold.assign(b)
    with tf.GradientTape() as tape:
        y = q.lq.quantizers.approx_sign(shift(tf.constant(a)))
        loss = tf.reduce_sum(y)
    grad = tape.gradient(loss, shift.threshold).numpy()
    z = a + b
    np.testing.assert_array_equal(y.numpy(), np.where(z >= 0, 1, -1))
    expected = np.where(np.abs(z) <= 1, 2 - 2 * np.abs(z), 0).sum(axis=(0, 1, 2))
    np.testing.assert_allclose(grad, expected, rtol=1e-5)


def test_xnorpp_gamma_is_the_outer_product_of_its_factors():
    from bibench_deploy.algorithms.layers import _layer_classes
    layer = _layer_classes()["SpatialScale"]()
    y = np.random.default_rng(12).normal(size=(2, 3, 4, 5)).astype("float32")
    layer(y)   # builds the weights
    rng = np.random.default_rng(13)
    h, w, o = rng.uniform(size=3), rng.uniform(size=4), rng.uniform(size=5)
    layer.h_scale.assign(h.reshape(3, 1, 1)), layer.w_scale.assign(w.reshape(1, 4, 1))
    layer.o_scale.assign(o)
    gamma = h[:, None, None] * w[None, :, None] * o[None, None, :]
    np.testing.assert_allclose(layer(y).numpy(), y * gamma, rtol=1e-6)
    assert layer.extra_flops() == 3 * 4 * 5
