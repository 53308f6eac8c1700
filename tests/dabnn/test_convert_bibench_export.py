"""`convert --to dabnn` on real torch.onnx.export output of BiBench's operators (the detach trick,
scaled weights, ApproxSign), checked numerically: PyTorch vs onnxruntime vs the .dab executor."""

import numpy as np
import pytest
import torch
from torch import nn

from bibench_deploy.dabnn import executor
from bibench_deploy.dabnn.convert import convert_onnx
from bibench_deploy.dabnn.model import DabModel
from bibench_deploy.errors import ConversionError
from tests.importer.bibench_torch import CONVS

pytestmark = pytest.mark.converts

BATCH, SIZE = 32, 12


class SmallNet(nn.Module):
    """Float stem, two BiBench binary convs (3x3, the second stride 2), global pool, fc.
    `padding` is the binary convs' own (BiBench zero-pads sign(x); 0 leaves them unpadded)."""

    def __init__(self, algo: str, padding: int = 0):
        super().__init__()
        self.stem = nn.Conv2d(3, 64, 3, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(64)
        self.conv1 = CONVS[algo](64, 64, 3, padding=padding)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = CONVS[algo](64, 128, 3, stride=2, padding=padding)
        self.bn2 = nn.BatchNorm2d(128)
        self.fc = nn.Linear(128, 10)
        generator = torch.Generator().manual_seed(0)
        for bn in (self.bn0, self.bn1, self.bn2):
            channels = bn.num_features
            bn.running_mean.copy_(torch.rand(channels, generator=generator) - 0.5)
            bn.running_var.copy_(torch.rand(channels, generator=generator) + 0.5)
            bn.weight.data.copy_(torch.rand(channels, generator=generator) + 0.5)
            bn.bias.data.copy_(torch.rand(channels, generator=generator) - 0.5)

    def forward(self, x):
        x = nn.functional.hardtanh(self.bn0(self.stem(x)))
        x = nn.functional.hardtanh(self.bn1(self.conv1(x)))
        x = nn.functional.hardtanh(self.bn2(self.conv2(x)))
        return self.fc(x.mean(dim=(2, 3)))


def export(algo, path, padding=0, opset=10, batch_axis=True):
    """torch.onnx.export of SmallNet; `batch_axis` False gives a static batch of 1 (XNOR-Net++
    slices its h/w scales by the output's shape, which stays symbolic with a batch axis)."""
    torch.manual_seed(1)
    model = SmallNet(algo, padding).eval()
    axes = {"input": {0: "batch"}, "logits": {0: "batch"}} if batch_axis else None
    torch.onnx.export(model, torch.zeros(1, 3, SIZE, SIZE), str(path), opset_version=opset,
                      dynamo=False, input_names=["input"], output_names=["logits"],
                      dynamic_axes=axes)
    return model


def images():
    return np.random.default_rng(2).normal(size=(BATCH, 3, SIZE, SIZE)).astype(np.float32)


def dab_logits(conversion, batch):
    dab = DabModel.from_bytes(conversion.model.to_bytes())
    nhwc = batch.transpose(0, 2, 3, 1)
    return np.concatenate([executor.run_batch(dab, nhwc[i:i + 1], conversion.output_name)
                           .reshape(1, -1) for i in range(len(nhwc))])


@pytest.mark.parametrize("opset", [10, 13])
@pytest.mark.parametrize("algo", ["bnn", "dorefa", "bireal", "recu"])
def test_bibench_export_converts_exactly(tmp_path, algo, opset):
    import onnx
    import onnxruntime

    model = export(algo, tmp_path / "m.onnx", opset=opset)
    batch = images()
    with torch.no_grad():
        expected = model(torch.from_numpy(batch)).numpy()
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"),
                                           providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"input": batch})[0], expected, atol=1e-4)

    conversion = convert_onnx(onnx.load(str(tmp_path / "m.onnx")))
    types = [layer.type for layer in conversion.model.layers]
    assert types.count("BinConv2D") == 2
    assert "4 straight-through estimators" in " ".join(conversion.notes)  # 2 inputs, 2 weights
    logits = dab_logits(conversion, batch)
    assert np.abs(logits - expected).max() < 1e-3
    assert (logits.argmax(1) == expected.argmax(1)).all()


def test_scaled_weights_fold_alpha_into_the_affine(tmp_path):
    """DoReFa's alpha_c * sign(W): packed as sign bits, alpha_c in the Affine after the conv;
    dropping alpha (reading the weights as plain signs) changes the logits."""
    import onnx

    model = export("dorefa", tmp_path / "m.onnx")
    conversion = convert_onnx(onnx.load(str(tmp_path / "m.onnx")))
    batch = images()[:4]
    with torch.no_grad():
        expected = model(torch.from_numpy(batch)).numpy()
        for conv in (model.conv1, model.conv2):
            conv.weight.copy_(conv.weight / conv.weight.abs().mean(dim=(1, 2, 3), keepdim=True))
        unscaled = model(torch.from_numpy(batch)).numpy()
    logits = dab_logits(conversion, batch)
    assert np.abs(logits - expected).max() < 1e-3
    assert np.abs(unscaled - expected).max() > 1e-2


@pytest.mark.parametrize("algo, padding, reason", [
    ("xnor", 0, "runtime activation scale"),
    ("xnorpp", 0, "spatial scale"),
    ("reactnet", 0, "learnable threshold"),
    ("bnn", 1, "pads its binarized input with 0"),
])
def test_bibench_export_refused_with_reason(tmp_path, algo, padding, reason):
    import onnx

    export(algo, tmp_path / "m.onnx", padding, batch_axis=False)
    with pytest.raises(ConversionError, match=reason) as caught:
        convert_onnx(onnx.load(str(tmp_path / "m.onnx")))
    assert "opset" not in str(caught.value)


def test_refusal_at_opset_above_10_hints_at_opset_10(tmp_path):
    import onnx

    export("bnn", tmp_path / "m.onnx", padding=1, opset=13)
    with pytest.raises(ConversionError, match=r"opset 13.*opset_version=10"):
        convert_onnx(onnx.load(str(tmp_path / "m.onnx")))


def test_non_binary_weights_refused(tmp_path):
    """A conv on sign(x) whose weights vary in magnitude within a channel is not binary."""
    import onnx

    model = export("bnn", tmp_path / "m.onnx")
    onnx_model = onnx.load(str(tmp_path / "m.onnx"))

    class FloatWeights(nn.Module):
        def __init__(self, conv):
            super().__init__()
            self.conv = conv

        def forward(self, x):
            return nn.functional.conv2d(torch.sign(x), self.conv.weight)

    model.conv1 = FloatWeights(model.conv1)
    torch.onnx.export(model, torch.zeros(1, 3, SIZE, SIZE), str(tmp_path / "f.onnx"),
                      opset_version=10, dynamo=False)
    del onnx_model
    with pytest.raises(ConversionError, match="not \\+/-alpha per output channel"):
        convert_onnx(onnx.load(str(tmp_path / "f.onnx")))
