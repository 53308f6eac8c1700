"""The numerical verdict: rounding flips are explained, conversion errors are not.

Everything runs through the real LCE converter and interpreter; the reference is the float64
deploy graph.
"""

from __future__ import annotations

import numpy as np
import pytest

import bibench_deploy  # noqa: F401
import larq as lq
import tensorflow as tf

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.lce import verdict
from bibench_deploy.lce.convert import convert, interpret, interpret_with_sign_inputs
from bibench_deploy.deploy_graph.deploy import build_deploy_model, float64_deploy, float64_keras
from bibench_deploy.lce.verdict import rounding_verdict
from tests.algorithms.conftest import TINY, images, perturb

pytestmark = pytest.mark.converts

IN_CHANNELS = 8
# how disagreements are attributed: by replaying LCE's own sign inputs, or by the search
METHODS = ("replay", "search")


def lce(model, x, method):
    """rounding_verdict's LCE arguments for `model` converted, attributed by `method`."""
    flatbuffer = convert(model)
    if method == "replay":
        outputs, sign_inputs = interpret_with_sign_inputs(flatbuffer, x)
        assert np.array_equal(outputs, interpret(flatbuffer, x))  # the extra outputs change nothing
        return {"candidate": outputs, "sign_inputs": sign_inputs}
    return {"candidate": interpret(flatbuffer, x)}


ATTRIBUTION = {"replay": "LCE's sign inputs replayed", "search": "search over near-threshold flips"}


def tie_model(standalone_sign=False):
    """float 1x1 conv -> BatchNorm -> sign -> binary 1x1 conv; the logits read one pixel's bits.
    The sign is the conv's input quantizer, or (`standalone_sign`) a quantizer layer of its own."""
    inputs = tf.keras.Input((4, 4, IN_CHANNELS))
    z = tf.keras.layers.Conv2D(4, 1, name="float_conv")(inputs)
    z = tf.keras.layers.BatchNormalization(name="bn")(z)
    if standalone_sign:
        z = lq.quantizers.SteSign(name="sign")(z)
    y = lq.layers.QuantConv2D(2, 1, input_quantizer=None if standalone_sign else "ste_sign",
                              kernel_quantizer="ste_sign", use_bias=False, name="bconv")(z)
    logits = tf.keras.layers.Dense(2, name="out")(tf.keras.layers.Flatten()(y))
    return tf.keras.Model(inputs, logits)


@pytest.fixture(scope="module", params=[False, True], ids=["input_quantizer", "sign_layer"])
def sign_ties(request):
    """(float32 model, float64 model, images): pixel (0, 0) of every image has its four sign
    inputs within a few float32 ulps of 0 in float64, so float32 rounding decides the bits that
    decide the top-1 (logits = +-sum of those four bits); every other pixel is O(1)."""
    rng = np.random.default_rng(0)
    model32 = tie_model(request.param)
    kernel, bias, gamma, beta, mean, var, bkernel, dense, dense_bias = model32.get_weights()
    weights = [rng.normal(size=kernel.shape), rng.normal(size=bias.shape),
               rng.uniform(0.5, 1.5, gamma.shape), rng.normal(0, 0.3, beta.shape),
               rng.normal(0, 0.3, mean.shape), rng.uniform(0.5, 2.0, var.shape),
               np.ones(bkernel.shape), np.zeros(dense.shape), np.zeros(dense_bias.shape)]
    weights[7][0] = [1.0, -1.0]  # logits read output channel 0 of pixel (0, 0)
    weights = [w.astype("float32") for w in weights]
    model32.set_weights(weights)
    with float64_keras():
        model64 = tie_model(request.param)
    model64.set_weights(weights)
    w, b = weights[0][0, 0].astype(np.float64), weights[1].astype(np.float64)
    g = weights[2] / np.sqrt(weights[5].astype(np.float64) + 1e-3)
    on_threshold = weights[4] - weights[3] / g  # float conv output where BatchNorm gives 0
    x = rng.normal(size=(verdict.MAX_ATTRIBUTED, 4, 4, IN_CHANNELS)).astype("float32")
    for image in x:
        rest = image[0, 0, 4:].astype(np.float64) @ w[4:] + b
        image[0, 0, :4] = np.linalg.solve(w[:4].T, on_threshold - rest)
    return model32, model64, x


@pytest.mark.parametrize("method", METHODS)
def test_float32_rounding_flips_are_explained(sign_ties, method):
    model32, model64, x = sign_ties
    result = rounding_verdict(model64, x, **lce(model32, x, method))
    assert result["attribution"] == ATTRIBUTION[method]
    assert result["sign_quantizers"] == 1
    assert result["disagreements"] >= 2  # LCE rounds some of the planted ties the other way
    assert result["explained_flips"] == result["disagreements"] and result["unexplained"] == 0
    assert result["not_attributed"] == 0
    assert all(1 <= n <= 4 for n in result["flips_per_explained_image"])  # 4 ties per image
    with verdict.sign_probes(model64):
        pass
    assert type(model64.get_layer("bconv").input_quantizer) is not verdict._SignProbe
    assert "call" not in vars(model64.layers[3])  # every probe removed again


def test_equal_sign_inputs_flip_as_one_group(sign_ties):
    """Three pixels with the same inputs (a uniform patch) and logits that read all three: LCE
    rounds the three equal values alike; the attribution flips them together."""
    model32, model64, x = sign_ties
    x = x.copy()
    x[:, 0, 1] = x[:, 1, 0] = x[:, 0, 0]
    dense = model32.get_layer("out")
    kernel, bias = (w.copy() for w in dense.get_weights())
    for pixel in (1, 4):  # flattened [4, 4, 2]: (0, 1) and (1, 0), output channel 0
        kernel[2 * pixel] = kernel[0]
    original = dense.get_weights()
    try:
        for model in (model32, model64):
            model.get_layer("out").set_weights([kernel, bias])
        result = rounding_verdict(model64, x, interpret(convert(model32), x))
    finally:  # the models are shared with the other tests of this module
        for model in (model32, model64):
            model.get_layer("out").set_weights(original)
    assert result["disagreements"] >= 2 and result["unexplained"] == 0
    assert all(n % 3 == 0 for n in result["flips_per_explained_image"])


@pytest.mark.parametrize("method", METHODS)
def test_without_the_rounding_bound_nothing_is_explained(sign_ties, monkeypatch, method):
    model32, model64, x = sign_ties
    monkeypatch.setattr(verdict, "BOUND_ULPS", 0)
    result = rounding_verdict(model64, x, **lce(model32, x, method))
    assert result["disagreements"] >= 2
    assert result["explained_flips"] == 0 and result["unexplained"] == result["disagreements"]


def drop_alpha(deploy):
    deploy.get_layer("conv1_alpha").alpha.assign(np.ones(16, "float32"))


def shift_padding(deploy):
    """TF's asymmetric stride-2 padding (0 before, 1 after) instead of the symmetric one."""
    pads = [layer for layer in deploy.layers
            if isinstance(layer, tf.keras.layers.ZeroPadding2D)]
    assert pads
    for layer in pads:
        layer.padding = ((0, 2), (0, 2))


def ternary_input(deploy):
    """larq's ste_tern in front of conv1: the converter silently makes it a binary sign."""
    deploy.get_layer("conv1").input_quantizer = lq.quantizers.SteTern()


def tiny_deploy(algo_name):
    algo = ALGORITHMS.get(algo_name)
    tf.keras.utils.set_random_seed(0)
    trained = TINY.build(algo, 10)
    perturb(trained)
    deploy, _, _ = build_deploy_model(TINY, algo, trained, 10)
    return algo, deploy


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("algo_name", ["bnn", "dorefa"])
def test_a_correct_conversion_has_no_unexplained_disagreement(algo_name, method):
    algo, deploy = tiny_deploy(algo_name)
    x = images(100)
    result = rounding_verdict(float64_deploy(TINY, algo, deploy, 10), x,
                              **lce(deploy, x, method))
    assert result["sign_quantizers"] == 2 and result["unexplained"] == 0


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("algo_name,plant", [("dorefa", drop_alpha), ("bnn", shift_padding),
                                             ("bnn", ternary_input)])
def test_planted_conversion_errors_are_unexplained(algo_name, plant, method):
    algo, deploy = tiny_deploy(algo_name)
    reference = float64_deploy(TINY, algo, deploy, 10)
    plant(deploy)
    x = images(100)
    result = rounding_verdict(reference, x, **lce(deploy, x, method))
    assert result["disagreements"] >= 5
    assert result["unexplained"] == result["disagreements"]
    if plant is not ternary_input:  # no probe of the reference stands for the ternary one
        assert result["attribution"] == ATTRIBUTION[method]


def test_equal_sign_inputs_on_the_border_may_round_apart_from_the_interior():
    """Equal float64 sign inputs across a whole feature map, of which an engine rounded only the
    interior ones to the other side (LCE computes zero-padded borders through other float
    operations, seen on resnet20-fda with zero padding): the attribution flips the interior
    part of the group alone."""
    with float64_keras():
        inputs = tf.keras.Input((4, 4, 1))
        y = lq.layers.QuantConv2D(1, 1, input_quantizer="ste_sign", kernel_quantizer=None,
                                  use_bias=False, kernel_initializer="ones", name="bconv")(inputs)
        logits = tf.keras.layers.Dense(3, name="out")(tf.keras.layers.Flatten()(y))
        model64 = tf.keras.Model(inputs, logits)
    rng = np.random.default_rng(0)
    model64.get_layer("out").set_weights([rng.normal(size=(16, 3)), np.zeros(3)])
    x = np.full((1, 4, 4, 1), -1e-7)  # one value everywhere, far within the rounding bound
    x[0, 0, 0, 0] = 1.0               # of max|z| = 1
    rounded = x.copy()
    rounded[0, 1:3, 1:3, 0] = 0.0     # only the interior rounds up to the threshold: +1
    target = np.asarray(model64(rounded, training=False))
    result = rounding_verdict(model64, x, target)
    assert result["disagreements"] == 1 and result["unexplained"] == 0
    assert result["flips_per_explained_image"] == [4]
    far = x.copy()
    far[0, 1:3, 1:3, 0] = -0.5  # the interior far from the threshold: its bits cannot flip
    result = rounding_verdict(model64, far, target)
    assert result["disagreements"] == 1 and result["unexplained"] == 1


def test_a_clipped_residual_sum_is_bounded_by_its_operands():
    """z = Hardtanh(a + b) with a = 200, b = -200 - 1e-3 at one pixel: max|z| is 1, but float32
    rounds a + b relative to 200 (one ulp = 1.5e-5). A flip of that bit (|z| = 1e-3, beyond
    2^10 u max|z| = 6.1e-5, within 2^10 u * 200 = 0.012) is explained; the same |z| formed
    from operands of size 0.5 is not (seen on resnet18_imagenet-bnn's .dab: a residual sum of
    207 behind Hardtanh)."""
    from tests.test_rounding_scale import pick
    from bibench_deploy.algorithms.layers import hardtanh
    with float64_keras():
        inputs = tf.keras.Input((4, 4, 2))
        z = tf.keras.layers.Add(name="add")([pick(inputs, 0, "a"), pick(inputs, 1, "b")])
        y = lq.layers.QuantConv2D(1, 1, input_quantizer="ste_sign", kernel_quantizer=None,
                                  use_bias=False, kernel_initializer="ones",
                                  name="bconv")(hardtanh(z, "act"))
        logits = tf.keras.layers.Dense(3, name="out")(tf.keras.layers.Flatten()(y))
        model64 = tf.keras.Model(inputs, logits)
    rng = np.random.default_rng(0)
    model64.get_layer("out").set_weights([rng.normal(size=(16, 3)), np.zeros(3)])

    def case(operand):
        x = np.zeros((1, 4, 4, 2))
        x[0, :, :, 0] = rng.uniform(0.2, 0.9, (4, 4))   # clear bits elsewhere, max|z| < 1
        x[0, 0, 0, 0] = 1.0                             # max|z| = 1
        x[0, 1, 2] = [operand, -operand - 1e-3]         # z = -1e-3 at (1, 2)
        rounded = x.copy()
        rounded[0, 1, 2, 1] = -operand                  # an engine's rounding: z = 0, bit +1
        return x, np.asarray(model64(rounded, training=False))

    result = rounding_verdict(model64, *case(200.0))
    assert result["disagreements"] == 1 and result["unexplained"] == 0
    assert result["flips_per_explained_image"] == [1]
    result = rounding_verdict(model64, *case(0.5))
    assert result["disagreements"] == 1 and result["unexplained"] == 1
