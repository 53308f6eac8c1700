"""Keras/Larq model -> ONNX (strict daBNN form) -> .dab, checked against Keras."""

import numpy as np
import pytest

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.deploy_graph.deploy import build_deploy_model
from bibench_deploy.dabnn import executor
from bibench_deploy.dabnn.convert import convert_onnx
from bibench_deploy.dabnn.export import export_onnx
from bibench_deploy.errors import ConversionError
from tests.algorithms.conftest import TINY, perturb
from tests.algorithms.conftest import images as tiny_images
from tests.dabnn import keras_models
from tests.dabnn.onnx_graphs import run_onnxruntime

pytestmark = pytest.mark.converts

BATCH = 64


@pytest.fixture(scope="module")
def keras_model():
    return keras_models.resnet_like()


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(5).normal(size=(BATCH, 8, 8, 3)).astype(np.float32)


def test_onnx_and_dab_agree_with_keras(keras_model, images):
    assert_agree_with_keras(keras_model, images)


def test_explicit_symmetric_padding_with_stride_2(images):
    """ZeroPadding2D(1) + 'valid' stride-2 binary conv: Larq binarizes the zeros to +1."""
    assert_agree_with_keras(keras_models.resnet_like(binary_stride=2, explicit_padding=True),
                            images)


def assert_agree_with_keras(keras_model, images):
    expected = keras_model.predict(images, verbose=0)
    onnx_model = export_onnx(keras_model)
    onnx_logits = run_onnxruntime(onnx_model, images.transpose(0, 3, 1, 2))
    assert np.abs(onnx_logits - expected).max() < 1e-3
    assert (onnx_logits.argmax(1) == expected.argmax(1)).mean() >= 0.99

    conversion = convert_onnx(onnx_model)
    dab_logits = executor.run_batch(conversion.model, images, conversion.output_name)
    dab_logits = dab_logits.reshape(BATCH, -1)
    assert np.abs(dab_logits - expected).max() < 1e-3
    assert (dab_logits.argmax(1) == expected.argmax(1)).mean() >= 0.99


def test_binary_convs_are_in_strict_form(keras_model):
    onnx_model = export_onnx(keras_model)
    producers = {node.output[0]: node for node in onnx_model.graph.node}
    convs = [n for n in onnx_model.graph.node if n.op_type == "Conv"
             and producers.get(n.input[1], n).op_type == "Sign"]
    assert len(convs) == 2
    for conv in convs:
        pad = producers[conv.input[0]]
        assert pad.op_type == "Pad" and producers[pad.input[0]].op_type == "Sign"
        assert next(a.f for a in pad.attribute if a.name == "value") == -1.0
        assert [n.op_type for n in onnx_model.graph.node if conv.output[0] in n.input] == [
            "BatchNormalization"]
    assert onnx_model.opset_import[0].version == 10


def test_asymmetric_same_padding_is_refused():
    model = keras_models.resnet_like(binary_stride=2)
    with pytest.raises(ConversionError, match="pads 0 before and 1 after"):
        export_onnx(model)


def test_zero_padding_of_binary_input_is_refused():
    with pytest.raises(ConversionError, match="padding with \\+1 or -1 only"):
        export_onnx(keras_models.resnet_like(pad_values=0.0))


def test_relu_on_a_plus_one_padded_input_has_no_sign_convention():
    with pytest.raises(ConversionError, match="no sign convention"):
        export_onnx(keras_models.resnet_like(relu_on_block_input=True))


def test_a_plus_one_padded_conv_on_the_model_input_has_no_sign_convention():
    import larq as lq
    import tensorflow as tf
    inputs = tf.keras.Input((8, 8, 3))
    conv = lq.layers.QuantConv2D(8, 3, padding="same", pad_values=1.0, input_quantizer="ste_sign",
                                 kernel_quantizer="ste_sign")(inputs)
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(4)(
        tf.keras.layers.GlobalAveragePooling2D()(conv)))
    with pytest.raises(ConversionError, match="no sign convention fits"):
        export_onnx(model)


def test_imagenet_stem_max_pool_feeds_a_plus_one_padded_block():
    """ResNet-18's ImageNet stem (symmetric on an odd input): max pool, then one Neg for the
    block that reads it, as MaxPool -> Affine(-1, 0) in daBNN."""
    model = keras_models.imagenet_stem_like(29)
    onnx_model = export_onnx(model)
    nodes = {node.output[0]: node for node in onnx_model.graph.node}
    negations = [n for n in onnx_model.graph.node if n.op_type == "Neg"]
    assert len(negations) == 1 and nodes[negations[0].input[0]].op_type == "MaxPool"
    layers = convert_onnx(onnx_model).model.layers
    pool = next(i for i, layer in enumerate(layers) if layer.type == "MaxPool")
    assert layers[pool + 1].type == "Affine" and layers[pool + 2].type == "BinConv2D"
    assert_agree_with_keras(model, np.random.default_rng(6).normal(
        size=(BATCH, 29, 29, 3)).astype(np.float32))


def test_vgg_classifier_over_a_flattened_map_is_a_conv(images):
    """Flatten (Keras: h, w, c order) -> Dense becomes one FpConv2D with a 4x4 kernel."""
    model = keras_models.vgg_like()
    conversion = convert_onnx(export_onnx(model))
    classifier = conversion.model.layers[-1]
    assert classifier.type == "FpConv2D"
    assert conversion.model.tensors[classifier.params["weight"]].shape == (10, 4, 4, 32)
    assert_agree_with_keras(model, images)


def op_types(onnx_model) -> list[str]:
    return [node.op_type for node in onnx_model.graph.node]


@pytest.mark.parametrize("name", ALGORITHMS.names())
def test_every_algorithms_deploy_graph_exports_or_is_refused(name):
    """Registry-wide: the deploy form (trained-like state, thresholds centred) of every
    algorithm daBNN supports reaches .dab and matches Keras (ReCU's per-channel alpha folds
    into the Affine); the others are refused by the exporter itself."""
    import tensorflow as tf
    algo = ALGORITHMS.get(name)
    tf.keras.utils.set_random_seed(0)
    trained = TINY.build(algo, 10)
    perturb(trained)
    deploy, _, _ = build_deploy_model(TINY, algo, trained, 10)
    if not algo.dabnn.supported:
        with pytest.raises(ConversionError):
            export_onnx(deploy)
        return
    assert_agree_with_keras(deploy, tiny_images(BATCH))
