"""Small PyTorch binarized networks, exported to ONNX opset 10 with Sign ops (daBNN's strict form)."""

from __future__ import annotations

import numpy as np


def build(kind: str, in_channels: int = 64, seed: int = 0):
    import torch
    from torch import nn

    torch.manual_seed(seed)

    class BinaryConv(nn.Conv2d):
        """sign(x) padded with -1, convolved with sign(W): daBNN's strict pattern."""

        def forward(self, x):
            pad = self.padding[0]
            x = nn.functional.pad(torch.sign(x), [pad] * 4, value=-1.0)
            return nn.functional.conv2d(x, torch.sign(self.weight), self.bias, self.stride)

    class ScaledBinaryConv(BinaryConv):
        """XNOR-style per-channel weight scale alpha = mean |W| multiplied after the conv."""

        def forward(self, x):
            alpha = self.weight.abs().mean(dim=(1, 2, 3)).detach().reshape(1, -1, 1, 1)
            return super().forward(x) * alpha

    def bn(channels):
        layer = nn.BatchNorm2d(channels, eps=1e-3)
        layer.running_mean.uniform_(-2, 2)
        layer.running_var.uniform_(0.5, 2)
        layer.weight.data.uniform_(0.5, 1.5)
        layer.bias.data.uniform_(-0.5, 0.5)
        return layer

    class Block(nn.Module):
        def __init__(self, channels, conv=BinaryConv):
            super().__init__()
            self.conv = conv(channels, channels, 3, padding=1, bias=False)
            self.bn = bn(channels)

        def forward(self, x):
            return nn.functional.hardtanh(self.bn(self.conv(x)) + x)

    class Net(nn.Module):
        def __init__(self, conv=BinaryConv):
            super().__init__()
            self.stem = nn.Conv2d(3, in_channels, 3, padding=1)
            self.stem_bn = bn(in_channels)
            self.block1, self.block2 = Block(in_channels, conv), Block(in_channels, conv)
            self.down = BinaryConv(in_channels, 128, 3, stride=2, padding=1, bias=True)
            self.down_bn = bn(128)
            self.fc = nn.Linear(128, 10)

        def forward(self, x):
            x = nn.functional.hardtanh(self.stem_bn(self.stem(x)))
            x = self.block2(self.block1(x))
            x = nn.functional.hardtanh(self.down_bn(self.down(x)))
            x = nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
            return self.fc(x)

    class ThresholdBinaryConv(BinaryConv):
        """ReActNet's RSign: a learnable per-channel threshold added before sign."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.threshold = nn.Parameter(torch.full((1, self.in_channels, 1, 1), 0.1))

        def forward(self, x):
            return super().forward(x + self.threshold)

    class RuntimeScaledBinaryConv(BinaryConv):
        """XNOR-Net: the output scaled by the mean |x| of the input, computed at run time."""

        def forward(self, x):
            return super().forward(x) * x.abs().mean(dim=1, keepdim=True)

    class SpatialScaledBinaryConv(BinaryConv):
        """XNOR-Net++: a learned scale over channels, height and width."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.scale = nn.Parameter(torch.rand(self.out_channels, 8, 8) + 0.5)

        def forward(self, x):
            return super().forward(x) * self.scale

    class GroupedBinaryConv(BinaryConv):
        def __init__(self, channels, out_channels, kernel, **kwargs):
            super().__init__(channels, out_channels, kernel, groups=2, **kwargs)

        def forward(self, x):
            x = nn.functional.pad(torch.sign(x), [1] * 4, value=-1.0)
            return nn.functional.conv2d(x, torch.sign(self.weight), None, 1, 0, 1, 2)

    nets = {"resnet": lambda: Net(), "scaled": lambda: Net(ScaledBinaryConv),
            "reactnet": lambda: Net(ThresholdBinaryConv), "xnor": lambda: Net(RuntimeScaledBinaryConv),
            "xnorpp": lambda: Net(SpatialScaledBinaryConv), "groups": lambda: Net(GroupedBinaryConv)}
    return nets[kind]().eval()


def export(model, path, size: int = 8) -> None:
    import torch

    dummy = torch.zeros(1, 3, size, size)
    torch.onnx.export(model, dummy, str(path), opset_version=10, dynamo=False,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})


def images(count: int, size: int = 8, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(count, 3, size, size)).astype(np.float32)
