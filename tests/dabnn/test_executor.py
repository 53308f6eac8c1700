import numpy as np
import pytest

from bibench_deploy.dabnn import executor
from bibench_deploy.dabnn.bitpack import pack_weights
from bibench_deploy.dabnn.model import DabModel, DabTensor


def one_conv_model(in_channels: int, pads: int) -> DabModel:
    model = DabModel("x", (1, 2, 2, in_channels))
    weights = np.ones((1, 3, 3, in_channels))
    model.add_tensor(DabTensor("w", weights.shape, bits=pack_weights(weights)))
    model.add_layer("BinConv2D", input="x", weight="w", pads=[pads] * 4, strides=[1, 1],
                    dilations=[1, 1], output="y")
    return model


@pytest.mark.parametrize("in_channels", [32, 64])
def test_bin_conv_counts_mismatches_and_pads_with_minus_one(in_channels):
    image = np.ones((2, 2, in_channels), np.float32)
    image[0, 0, :] = 0.0  # 0 binarizes to -1
    mismatches = executor.run(one_conv_model(in_channels, 1), image)["y"]
    # each 3x3 window of the padded 4x4 input holds 5 padding (-1) pixels and the 0 pixel
    np.testing.assert_array_equal(mismatches[..., 0], np.full((2, 2), 6 * in_channels))


def test_in_place_layers_overwrite_their_input():
    model = DabModel("x", (1, 1, 1, 4))
    model.add_tensor(DabTensor("a", (4,), floats=np.full(4, 2, np.float32)))
    model.add_tensor(DabTensor("b", (4,), floats=np.zeros(4, np.float32)))
    model.add_layer("Affine", input="x", a="a", b="b", output="y")
    model.add_layer("Add", input1="x", input2="y", output="z")
    blobs = executor.run(model, np.ones((1, 1, 4), np.float32))
    np.testing.assert_array_equal(blobs["z"].ravel(), [4, 4, 4, 4])  # (2x) + (2x), not x + 2x
    assert blobs["x"] is blobs["z"]


def test_layers_the_runtime_cannot_run_raise():
    model = DabModel("x", (1, 2, 2, 4))
    model.add_layer("AvePool", input="x", kernel_shape=[-1, -1], pads=[0, 0, 0, 0],
                    strides=[1, 1], output="y")
    with pytest.raises(executor.UnsupportedLayer, match="global"):
        executor.run(model, np.zeros((2, 2, 4), np.float32))
    model.layers[0] = model.layers[0].__class__("Softmax", {"input": "x", "output": "y"})
    with pytest.raises(executor.UnsupportedLayer, match="Softmax"):
        executor.run(model, np.zeros((2, 2, 4), np.float32))


def test_a_batch_computes_each_image_as_it_is_computed_alone():
    rng = np.random.default_rng(0)
    model = DabModel("x", (1, 8, 8, 3))
    model.add_tensor(DabTensor("stem", (32, 3, 3, 3),
                               floats=rng.normal(size=(32, 3, 3, 3)).astype(np.float32)))
    model.add_tensor(DabTensor("a", (32,), floats=rng.normal(size=32).astype(np.float32)))
    model.add_tensor(DabTensor("b", (32,), floats=rng.normal(size=32).astype(np.float32)))
    binary = np.where(rng.normal(size=(32, 3, 3, 32)) > 0, 1.0, -1.0)
    model.add_tensor(DabTensor("w", binary.shape, bits=pack_weights(binary)))
    model.add_layer("FpConv2D", input="x", weight="stem", pads=[1] * 4, strides=[2, 2],
                    dilations=[1, 1], output="s")
    model.add_layer("Affine", input="s", a="a", b="b", output="t")
    model.add_layer("MaxPool", input="t", kernel_shape=[2, 2], pads=[0] * 4, strides=[1, 1],
                    output="p")
    model.add_layer("BinConv2D", input="p", weight="w", pads=[1] * 4, strides=[1, 1],
                    dilations=[1, 1], output="y")
    model.add_layer("Affine", input="y", a="a", b="b", output="z")
    images = rng.normal(size=(executor.BATCH + 4, 8, 8, 3)).astype(np.float32)
    alone = np.stack([executor.run(model, image)["z"] for image in images])
    batched = executor.run_batch(model, images, "z")
    assert batched.shape == (len(images), 3, 3, 32)
    np.testing.assert_array_equal(batched, alone)
    assert len(np.unique(batched.reshape(len(images), -1), axis=0)) == len(images)
