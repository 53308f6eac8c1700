"""PyTorch binarized networks exported with Sign ops -> ONNX -> .dab, checked end to end."""

import numpy as np
import pytest

from bibench_deploy.dabnn import executor
from bibench_deploy.dabnn.convert import convert_onnx
from bibench_deploy.dabnn.model import DabModel
from bibench_deploy.errors import ConversionError
from tests.dabnn import torch_models

BATCH = 64


@pytest.fixture(scope="module")
def exported(tmp_path_factory, converts):
    """kind -> (torch model, ONNX path), exported once per module."""
    directory = tmp_path_factory.mktemp("onnx")
    models = {}
    for kind in ("resnet", "scaled", "reactnet", "xnor", "xnorpp", "groups"):
        model = torch_models.build(kind)
        torch_models.export(model, directory / f"{kind}.onnx")
        models[kind] = (model, directory / f"{kind}.onnx")
    return models


def onnxruntime_outputs(path, images):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": images})[0]


@pytest.mark.parametrize("kind", ["resnet", "scaled"])
def test_onnx_matches_torch_and_dab_matches_onnx(exported, kind):
    import onnx
    import torch

    model, path = exported[kind]
    images = torch_models.images(BATCH)
    with torch.no_grad():
        expected = model(torch.from_numpy(images)).numpy()
    logits = onnxruntime_outputs(path, images)
    np.testing.assert_allclose(logits, expected, atol=1e-4)

    conversion = convert_onnx(onnx.load(str(path)))
    dab = DabModel.from_bytes(conversion.model.to_bytes())
    dab_logits = executor.run_batch(dab, images.transpose(0, 2, 3, 1), conversion.output_name)
    dab_logits = dab_logits.reshape(BATCH, -1)
    assert np.abs(dab_logits - logits).max() < 1e-3
    assert (dab_logits.argmax(1) == logits.argmax(1)).mean() >= 0.99


def test_binary_convs_become_binconv_with_affine(exported):
    import onnx

    conversion = convert_onnx(onnx.load(str(exported["resnet"][1])))
    types = [layer.type for layer in conversion.model.layers]
    assert types.count("BinConv2D") == 3
    for index, layer_type in enumerate(types):
        if layer_type == "BinConv2D":
            assert types[index + 1] == "Affine"
    assert "FC" not in types and "Softmax" not in types
    pool = next(layer for layer in conversion.model.layers if layer.type == "AvePool")
    assert pool.params["kernel_shape"] == [4, 4]  # fixed kernel, not global (-1)
    assert types[-1] == "FpConv2D"


def test_hardtanh_kept_where_it_feeds_a_residual(exported):
    """The stem's Hardtanh feeds block1's binary conv and its residual add: it must stay (as
    5 in-place layers); dropping it would change the residual."""
    import onnx

    types = [layer.type for layer in convert_onnx(onnx.load(str(exported["resnet"][1]))).model.layers]
    assert types[1:6] == ["Affine", "Relu", "Affine", "Relu", "Affine"]


@pytest.mark.parametrize("kind, reason", [
    ("reactnet", "learnable threshold"),
    ("xnor", "runtime activation scale"),
    ("xnorpp", "spatial scale"),
    ("groups", "grouped convolution"),
])
def test_refused_with_reason(exported, kind, reason):
    import onnx

    with pytest.raises(ConversionError, match=reason):
        convert_onnx(onnx.load(str(exported[kind][1])))
