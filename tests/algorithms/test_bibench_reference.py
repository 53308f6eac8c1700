"""Stride-2 binary convs against BiBench's own PyTorch operators (tensors in fixtures/).

3x3 conv, stride 2, padding 1, 8x8 input, 16 -> 4 channels, training mode, loss sum(y * g).
BiBench pads the binarized input with 0, this project with +1 by default, so the default policy
is compared where the padding value cannot matter: with g zero on the outputs that read padding
(first row and column), y on the other outputs and every gradient. Statistics that must not see
the padding (XNOR-Net's beta, ReCU's per-sample variance) still enter every compared number.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import bibench_deploy  # noqa: F401
import tensorflow as tf

from bibench_deploy.algorithms import ALGORITHMS, schedules

REFERENCE = np.load(Path(__file__).parent / "fixtures" / "bibench_stride2.npz")
RTOL = 1e-4
CIN, COUT, SIZE = 16, 4, 8


def nhwc(a):
    return np.ascontiguousarray(np.asarray(a).transpose(0, 2, 3, 1))


def hwio(w):
    return np.ascontiguousarray(np.asarray(w).transpose(2, 3, 1, 0))


def fda_rows_to_larq(fc1):
    """BiBench flattens a kernel row as (C_in, kh, kw), this project as (kh, kw, C_in)."""
    hidden = fc1.shape[0]
    return fc1.reshape(hidden, CIN, 3, 3).transpose(2, 3, 1, 0).reshape(9 * CIN, hidden)


def fda_cols_to_larq(fc2):
    hidden = fc2.shape[1]
    return fc2.reshape(CIN, 3, 3, hidden).transpose(3, 1, 2, 0).reshape(hidden, 9 * CIN)


def larq_conv(algo):
    """The algorithm's binary conv with BiBench's parameters; (model, {name: variable})."""
    from bibench_deploy.algorithms.fourier import FourierQuantizer
    from bibench_deploy.algorithms.quantizers import RecuKernelSign
    inputs = tf.keras.Input((SIZE, SIZE, CIN))
    model = tf.keras.Model(inputs, algo.binary_conv(inputs, COUT, 3, 2, "conv"))
    conv = model.get_layer("conv")
    conv.kernel.latent_variable.assign(hwio(REFERENCE["w"]))
    params = {"w": conv.kernel}
    if algo.name == "reactnet":
        layer = model.get_layer("conv_threshold")
        layer.threshold.assign(REFERENCE["react_threshold"].reshape(-1))
        params["threshold"] = layer.threshold
    if algo.name == "xnorpp":
        layer, out = model.get_layer("conv_gamma"), SIZE // 2
        layer.o_scale.assign(REFERENCE["xnorpp_o_scale"].reshape(-1))
        layer.h_scale.assign(REFERENCE["xnorpp_h_scale"][0, 0, :out, 0].reshape(out, 1, 1))
        layer.w_scale.assign(REFERENCE["xnorpp_w_scale"][0, 0, 0, :out].reshape(1, out, 1))
        params.update(o_scale=layer.o_scale, h_scale=layer.h_scale, w_scale=layer.w_scale)
    if algo.name == "recu":
        layer = model.get_layer("conv_alpha")
        layer.alpha.assign(REFERENCE["recu_alpha"].reshape(-1))
        params["alpha"] = layer.alpha
        for quantizer in schedules.quantizers(model, RecuKernelSign):
            quantizer.tau.assign(float(REFERENCE["recu_tau"].reshape(-1)[0]))
    if algo.name == "fda":
        for quantizer in schedules.quantizers(model, FourierQuantizer):
            quantizer.fourier_n.assign(int(REFERENCE["fda_n"]))
            quantizer.noise_weight.assign(float(REFERENCE["fda_noise_weight"]))
        kernel_noise = conv.kernel_quantizer
        kernel_noise.fc1.assign(fda_rows_to_larq(REFERENCE["fda_w_fc1"]))
        kernel_noise.fc2.assign(fda_cols_to_larq(REFERENCE["fda_w_fc2"]))
        params.update(w_fc1=kernel_noise.fc1, w_fc2=kernel_noise.fc2)
    return model, params


def run(model, params, g):
    x = tf.constant(nhwc(REFERENCE["x"]), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = model(x, training=True)
        loss = tf.reduce_sum(y * tf.constant(nhwc(g), tf.float32))
    names = list(params)
    grads = tape.gradient(loss, [x, *params.values()])
    return y.numpy(), dict(zip(["x", *names], (np.asarray(d) for d in grads)))


def larq_form(name, reference_grad):
    """A BiBench gradient in this project's layout."""
    if name in ("x",):
        return nhwc(reference_grad)
    if name == "w":
        return hwio(reference_grad)
    if name == "h_scale":
        return reference_grad[0, 0, :SIZE // 2, 0].reshape(-1, 1, 1)
    if name == "w_scale":
        return reference_grad[0, 0, 0, :SIZE // 2].reshape(1, -1, 1)
    if name == "w_fc1":
        return fda_rows_to_larq(reference_grad)
    if name == "w_fc2":
        return fda_cols_to_larq(reference_grad)
    return reference_grad.reshape(-1)


def relative_error(actual, expected):
    return float(np.max(np.abs(actual - expected)) / np.max(np.abs(expected)))


def compare_with_bibench(algo, variant, positions=(slice(None), slice(None))):
    model, params = larq_conv(algo)
    g = REFERENCE["g"] * (REFERENCE["interior"] if variant == "interior" else 1.0)
    y, grads = run(model, params, g)
    prefix = f"{algo.name}/{variant}/"
    errors = {"y": relative_error(y[(slice(None), *positions)],
                                   nhwc(REFERENCE[prefix + "y"])[(slice(None), *positions)])}
    for name, grad in grads.items():
        reference = REFERENCE[prefix + "d" + name]
        errors[f"d{name}"] = relative_error(grad, larq_form(name, reference))
    return errors


@pytest.mark.parametrize("name", ["bnn", "xnor", "dorefa", "bireal", "xnorpp", "reactnet",
                                  "recu", "fda"])
def test_stride2_conv_trains_with_bibench_values_and_gradients(name):
    interior = (slice(1, None), slice(1, None))
    errors = compare_with_bibench(ALGORITHMS.get(name), "interior", interior)
    assert max(errors.values()) <= RTOL, errors


@pytest.mark.parametrize("name", ["bnn", "xnor", "dorefa", "bireal", "xnorpp", "reactnet",
                                  "recu", "fda"])
def test_with_zero_padding_every_output_and_gradient_is_bibench_s(name):
    errors = compare_with_bibench(ALGORITHMS.get(name).with_padding("zero"), "full")
    assert max(errors.values()) <= RTOL, errors


def test_plus_one_padding_differs_from_bibench_on_the_border():
    """The comparison sees padding: with +1 the outputs that read it are not BiBench's."""
    errors = compare_with_bibench(ALGORITHMS.get("bnn"), "full")
    assert errors["y"] > 0.01


def test_the_reference_covers_every_extra_parameter_gradient():
    for algo, extras in {"reactnet": ["threshold"], "xnorpp": ["o_scale", "h_scale", "w_scale"],
                         "recu": ["alpha"], "fda": ["w_fc1", "w_fc2"]}.items():
        for extra in extras:
            assert np.abs(REFERENCE[f"{algo}/interior/d{extra}"]).max() > 0, (algo, extra)
