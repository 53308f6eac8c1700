"""The ImageNet ResNet stem in PyTorch's form (7x7/2 conv, padding 3; 3x3/2 max pool, padding 1
that never wins), checked by hand, against PyTorch, through LCE and through daBNN's export."""

import numpy as np
import pytest

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.architectures.resnet import imagenet_stem
from bibench_deploy.dabnn.convert import convert_onnx
from bibench_deploy.dabnn.export import export_onnx
from bibench_deploy.dabnn.keras_layers import explicit_pads
from bibench_deploy.errors import ConversionError

BNN = ALGORITHMS.get("bnn")


def stem_model(size: int, channels: int = 1, filters: int = 1):
    import tensorflow as tf
    inputs = tf.keras.Input((size, size, channels))
    return tf.keras.Model(inputs, imagenet_stem(inputs, BNN, filters))


def identity_batchnorm(model) -> None:
    bn = model.get_layer("stem_bn")
    channels = bn.gamma.shape[0]
    bn.set_weights([np.ones(channels), np.zeros(channels), np.zeros(channels),
                    np.full(channels, 1 - bn.epsilon)])


def with_tap(model, row: int, column: int):
    """The stem conv's kernel: 1 at one tap, 0 elsewhere (the conv output samples the input)."""
    kernel = np.zeros((7, 7, 1, 1), np.float32)
    kernel[row, column] = 1.0
    model.get_layer("stem").set_weights([kernel])
    identity_batchnorm(model)
    return model


def stem_conv_output(model, image):
    import tensorflow as tf
    probe = tf.keras.Model(model.inputs, model.get_layer("stem").output)
    return np.asarray(probe(image[None, :, :, None]))[0, :, :, 0]


def test_conv_pads_three_before_and_after_by_hand():
    """8x8 input, output 4x4: tap (kh, kw) reads input pixel (2i + kh - 3, 2j + kw - 3)."""
    image = np.arange(1, 65, dtype=np.float32).reshape(8, 8) / 100
    first = stem_conv_output(with_tap(stem_model(8), 0, 0), image)
    assert first[0, 0] == first[1, 3] == 0.0  # rows/columns -3 and -1: padding
    assert first[2, 2] == pytest.approx(image[1, 1]) and first[3, 3] == pytest.approx(image[3, 3])
    last = stem_conv_output(with_tap(stem_model(8), 6, 6), image)
    assert last[2, 2] == pytest.approx(image[7, 7])
    assert last[3, 3] == last[3, 0] == 0.0  # row 9: the third trailing row, padding as well


def test_max_pool_ignores_its_padding_on_negative_activations_by_hand():
    """Centre tap: the pool reads y[i, j] = x[2i, 2j] (4x4, all negative). Window (0, 0) covers
    rows and columns {-1, 0, 1}: its maximum is y[0, 0] (zero padding would give 0)."""
    image = -np.arange(1, 65, dtype=np.float32).reshape(8, 8) / 100
    model = with_tap(stem_model(8), 3, 3)
    pooled = np.asarray(model(image[None, :, :, None]))[0, :, :, 0]
    y = image[::2, ::2]
    expected = [[y[0, 0], y[0, 1]], [y[1, 0], y[1, 1]]]  # -0.01, -0.03, -0.17, -0.19
    np.testing.assert_allclose(pooled, expected, rtol=1e-6)
    assert pooled.shape == (2, 2) and pooled.max() < 0


@pytest.mark.parametrize("size", [16, 15])
def test_stem_is_pytorchs_resnet_stem(size):
    """Same weights as torch's Conv2d(7, 2, padding=3) + BatchNorm + Hardtanh +
    MaxPool2d(3, 2, padding=1), on an even and an odd input."""
    import torch

    model = stem_model(size, channels=3, filters=4)
    rng = np.random.default_rng(size)
    kernel = rng.normal(0, 0.05, size=(7, 7, 3, 4)).astype(np.float32)
    bn = [rng.uniform(0.5, 1.5, 4), rng.uniform(-0.5, 0.5, 4), rng.uniform(0.5, 1, 4),
          rng.uniform(0.5, 2, 4)]  # means > 0: many pooled values negative, few clipped
    model.get_layer("stem").set_weights([kernel])
    model.get_layer("stem_bn").set_weights(bn)
    image = rng.normal(size=(2, size, size, 3)).astype(np.float32)

    conv = torch.nn.Conv2d(3, 4, 7, 2, padding=3, bias=False)
    norm = torch.nn.BatchNorm2d(4, eps=1e-5).eval()
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1)))
        for parameter, value in zip((norm.weight, norm.bias, norm.running_mean,
                                     norm.running_var), bn):
            parameter.copy_(torch.from_numpy(value.astype(np.float32)))
        torch_stem = torch.nn.Sequential(conv, norm, torch.nn.Hardtanh(),
                                         torch.nn.MaxPool2d(3, 2, padding=1))
        expected = torch_stem(torch.from_numpy(image.transpose(0, 3, 1, 2))).numpy()
    ours = np.asarray(model(image)).transpose(0, 3, 1, 2)
    assert ours.shape == expected.shape == (2, 4, (size + 3) // 4, (size + 3) // 4)
    np.testing.assert_allclose(ours, expected, atol=1e-5)
    assert (ours < 0).mean() > 0.2 and (np.abs(ours) < 1).mean() > 0.5


def lce_ops_and_error(model, image):
    from bibench_deploy.lce.convert import convert, interpret
    from bibench_deploy.lce.flatbuffer import read_graph
    flatbuffer = convert(model)
    error = np.abs(interpret(flatbuffer, image) - np.asarray(model(image))).max()
    return [op.type for op in read_graph(flatbuffer).ops], error


@pytest.mark.converts
def test_lce_runs_the_stem_exactly():
    """PAD(3 before, 2 after) stays a PAD before a 'valid' CONV_2D, the -inf padding a PADV2."""
    model = stem_model(16, channels=3, filters=4)
    image = np.random.default_rng(1).normal(size=(2, 16, 16, 3)).astype(np.float32)
    ops, error = lce_ops_and_error(model, image)
    assert ops[:2] == ["PAD", "CONV_2D"] and ["PADV2", "MAX_POOL_2D"] == ops[-2:]
    assert error < 1e-5


@pytest.mark.converts
def test_lce_fuses_a_symmetric_stem_padding_into_a_wrong_same_conv():
    """Why the stem pads 3 before and 2 after: LCE 0.16 turns ZeroPadding2D(3) + 'valid' 7x7/2
    conv on an even input into a SAME conv (2 before, 3 after), another sampling grid."""
    import tensorflow as tf
    inputs = tf.keras.Input((16, 16, 3))
    padded = tf.keras.layers.ZeroPadding2D(3)(inputs)
    model = tf.keras.Model(inputs, tf.keras.layers.Conv2D(4, 7, 2, "valid")(padded))
    image = np.random.default_rng(2).normal(size=(2, 16, 16, 3)).astype(np.float32)
    ops, error = lce_ops_and_error(model, image)
    assert ops == ["CONV_2D"] and error > 0.1


def test_stem_exports_to_dab_with_symmetric_pads():
    """daBNN's FpConv2D pads 3, its MaxPool 1 (-FLT_MAX, never selected)."""
    model = stem_model(16, channels=3, filters=4)
    layers = convert_onnx(export_onnx(model)).model.layers
    assert [(layer.type, list(layer.params["pads"])) for layer in layers
            if layer.type in ("FpConv2D", "MaxPool")] == [("FpConv2D", [3, 3, 3, 3]),
                                                           ("MaxPool", [1, 1, 1, 1])]


def test_explicit_pads_accept_unread_trailing_padding_only():
    assert explicit_pads(224, 3, 2, 7, 2, "stem_pad") == 3   # the 3rd trailing row is not read
    assert explicit_pads(112, 1, 1, 3, 2, "stem_pool_pad") == 1
    assert explicit_pads(225, 3, 3, 7, 2, "stem_pad") == 3
    with pytest.raises(ConversionError, match="225 pixels, 3 before and 2 after"):
        explicit_pads(225, 3, 2, 7, 2, "stem_pad")  # odd: (3, 3) has one output more
    with pytest.raises(ConversionError, match="0 before and 1 after"):
        explicit_pads(112, 0, 1, 3, 2, "pool")      # TF 'same': the grid of (1, 1) differs


def test_minus_inf_padding_before_anything_but_a_max_pool_is_refused():
    import tensorflow as tf
    from bibench_deploy.algorithms.layers import max_pool_padding
    inputs = tf.keras.Input((8, 8, 3))
    padded = max_pool_padding(inputs, 1, "pad")
    pooled = tf.keras.layers.AveragePooling2D(2)(padded)
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(2)(
        tf.keras.layers.GlobalAveragePooling2D()(pooled)))
    with pytest.raises(ConversionError, match="'pad': explicit padding is exported only before "
                                              "'valid' max pools"):
        export_onnx(model)


@pytest.mark.converts  # exports and converts a whole stem + block: ~9 s of CPU
def test_stem_into_a_plus_one_padded_block_agrees_with_keras():
    """The stem on 32x32 into a basic block whose +1-padded binary conv and identity shortcut
    read the pool's output: MaxPool -> Neg (an Affine) in daBNN; ONNX and .dab match Keras."""
    import larq as lq
    import tensorflow as tf
    from tests.dabnn.keras_models import _randomize_batchnorm, hardtanh_class
    from tests.dabnn.test_export_keras import BATCH, assert_agree_with_keras

    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input((32, 32, 3))
    x = imagenet_stem(inputs, BNN, 32)
    y = lq.layers.QuantConv2D(32, 3, padding="same", pad_values=1.0, use_bias=False,
                              input_quantizer="ste_sign", kernel_quantizer="ste_sign")(x)
    x = hardtanh_class()()(tf.keras.layers.Add()([tf.keras.layers.BatchNormalization()(y), x]))
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(10)(
        tf.keras.layers.GlobalAveragePooling2D()(x)))
    _randomize_batchnorm(model, np.random.default_rng(0))
    layers = convert_onnx(export_onnx(model)).model.layers
    pool = next(i for i, layer in enumerate(layers) if layer.type == "MaxPool")
    assert [layer.type for layer in layers[pool:pool + 3]] == ["MaxPool", "Affine", "BinConv2D"]
    assert_agree_with_keras(model, np.random.default_rng(7).normal(
        size=(BATCH, 32, 32, 3)).astype(np.float32))
