"""A small PyTorch reimplementation of BiBench's binary convs and CIFAR ResNets, for the tests.

Written for this project from BiBench's operator definitions (the math in
/docs/algorithms.md); checked against tensors generated from BiBench's own code
(tests/algorithms/fixtures/bibench_stride2.npz). Module and parameter names follow BiBench's,
so `state_dict()` has the key layout of a BiBench/mmcls checkpoint:
`arch.backbone.layer1.0.conv1.weight`, `arch.head.fc.bias`, ...
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def straight_through(value, surrogate):
    """`value` forward, the gradient of `surrogate` backward (BiBench's detach trick)."""
    return value.detach() - surrogate.detach() + surrogate


def clipped_sign(x):
    return straight_through(torch.sign(x), x.clamp(-1.0, 1.0))


def polynomial_sign(x):
    """sign(x) with the ApproxSign gradient 2 - 2|x| on [-1, 1] (Bi-Real, ReActNet, ReCU)."""
    poly = torch.where(x < 0, x * x + 2 * x, 2 * x - x * x)
    return straight_through(torch.sign(x), torch.where(x.abs() < 1, poly, torch.sign(x)))


def channel_mean_abs(w):
    return w.abs().mean(dim=(1, 2, 3), keepdim=True).detach()


class FourierSign(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, terms):
        ctx.save_for_backward(x)
        ctx.terms = int(terms)
        return torch.sign(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        omega = 0.1
        series = sum(torch.cos((2 * i + 1) * omega * x) for i in range(ctx.terms + 1))
        return torch.where(x.abs() > 1, 0.0 * grad, 4 * omega / math.pi * series * grad), None


class BinaryConv(nn.Module):
    """Base: weight [C_out, C_in, k, k], BiBench's stride and padding (zero pads sign(x))."""

    def __init__(self, cin, cout, kernel_size=3, stride=1, padding=0, bias=False):
        super().__init__()
        self.stride, self.padding = stride, padding
        self.weight = nn.Parameter(0.1 * torch.randn(cout, cin, kernel_size, kernel_size))

    def conv(self, x, w):
        return F.conv2d(x, w, stride=self.stride, padding=self.padding)


class BNNConv(BinaryConv):
    def forward(self, x):
        return self.conv(clipped_sign(x), clipped_sign(self.weight))


class ScaledWeightConv(BinaryConv):
    """alpha_c * sign(W) with the clipped STE (DoReFa; Bi-Real and XNOR-Net build on it)."""

    def binary_weight(self):
        w = self.weight
        return straight_through(channel_mean_abs(w) * torch.sign(w), w.clamp(-1, 1))


class DoReFaConv(ScaledWeightConv):
    def forward(self, x):
        return self.conv(clipped_sign(x), self.binary_weight())


class BiRealConv(ScaledWeightConv):
    def forward(self, x):
        return self.conv(polynomial_sign(x), self.binary_weight())


class XNORConv(ScaledWeightConv):
    def forward(self, x):
        beta = x.abs().mean(dim=(1, 2, 3), keepdim=True).detach()
        return self.conv(straight_through(beta * torch.sign(x), x.clamp(-1, 1)),
                         self.binary_weight())


class ReActConv(ScaledWeightConv):
    def __init__(self, cin, cout, *args, **kwargs):
        super().__init__(cin, cout, *args, **kwargs)
        self.channel_threshold = nn.Parameter(torch.zeros(1, cin, 1, 1))

    def forward(self, x):
        return self.conv(polynomial_sign(x + self.channel_threshold), self.binary_weight())


class XNORPlusPlusConv(BinaryConv):
    def __init__(self, cin, cout, *args, **kwargs):
        super().__init__(cin, cout, *args, **kwargs)
        self.o_scale = nn.Parameter(torch.ones(1, cout, 1, 1))
        self.h_scale = nn.Parameter(torch.ones(1, 1, 2000, 1))
        self.w_scale = nn.Parameter(torch.ones(1, 1, 1, 2000))

    def forward(self, x):
        y = self.conv(clipped_sign(x), clipped_sign(self.weight))
        return (y * self.o_scale * self.h_scale[:, :, :y.shape[2]]
                * self.w_scale[:, :, :, :y.shape[3]])


class ReCUConv(BinaryConv):
    def __init__(self, cin, cout, *args, **kwargs):
        super().__init__(cin, cout, *args, **kwargs)
        self.alpha = nn.Parameter(torch.rand(cout, 1, 1))
        self.register_buffer("tau", torch.tensor(1.0))

    def set_epoch(self, epoch, epochs):
        a = (0.99 - 0.85) / (math.e - 1)
        self.tau = torch.tensor([a * math.exp(epoch / epochs) + 0.85 - a])

    def forward(self, x):
        w = self.weight - self.weight.mean(dim=(1, 2, 3), keepdim=True)
        w = w / (torch.sqrt(w.var(dim=(1, 2, 3), keepdim=True) + 1e-5) / 2 / math.sqrt(2))
        q = float(-(w.abs().mean() * torch.log(2 - 2 * self.tau)).detach())
        w = w.clamp(-q, q)
        if self.training:
            x = x / torch.sqrt(x.var(dim=(1, 2, 3), keepdim=True) + 1e-5)
        return self.conv(polynomial_sign(x), straight_through(torch.sign(w), w)) * self.alpha


class NoiseMLP(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.fc1 = nn.Linear(features, features // 64, bias=False)
        self.fc2 = nn.Linear(features // 64, features, bias=False)

    def forward(self, rows):
        return self.fc2(F.relu(self.fc1(rows))) + 0.1 * torch.sin(rows)


class FDAConv(BinaryConv):
    def __init__(self, cin, cout, kernel_size=3, *args, **kwargs):
        super().__init__(cin, cout, kernel_size, *args, **kwargs)
        self.register_buffer("n", torch.tensor(9))
        self.register_buffer("alpha", torch.tensor(0.1))
        self.weight_noise = NoiseMLP(cin * kernel_size * kernel_size)
        self.act_noise = NoiseMLP(cin)

    def set_epoch(self, epoch, epochs):
        self.alpha = torch.tensor(0.05 * (1 + math.cos((epoch + 1) / epochs * math.pi)))
        self.n = torch.tensor(9 + int(epoch / epochs * 9))

    def forward(self, x):
        w = self.weight
        bw = FourierSign.apply(w, self.n) + self.alpha * self.weight_noise(
            w.reshape(w.shape[0], -1)).reshape(w.shape)
        rows = x.flatten(2).transpose(1, 2)
        ba = FourierSign.apply(x, self.n) + self.alpha * self.act_noise(rows).transpose(
            1, 2).reshape(x.shape)
        return self.conv(ba, bw * channel_mean_abs(w))


CONVS = {"bnn": BNNConv, "xnor": XNORConv, "dorefa": DoReFaConv, "bireal": BiRealConv,
         "xnorpp": XNORPlusPlusConv, "reactnet": ReActConv, "recu": ReCUConv, "fda": FDAConv}


class BasicBlock(nn.Module):
    def __init__(self, conv, cin, cout, stride, act):
        super().__init__()
        self.conv1 = conv(cin, cout, 3, stride=stride, padding=1)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = conv(cout, cout, 3, stride=1, padding=1)
        self.bn2 = nn.BatchNorm2d(cout)
        self.activation = act()
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.activation(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.activation(out + identity)


class Backbone(nn.Module):
    def __init__(self, conv, stem, widths, depths, act):
        super().__init__()
        self.conv1 = nn.Conv2d(3, stem, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.activation = act()
        cin = stem
        for i, (width, depth) in enumerate(zip(widths, depths), start=1):
            blocks = [BasicBlock(conv, cin if b == 0 else width, width,
                                 2 if (b == 0 and i > 1) else 1, act) for b in range(depth)]
            self.add_module(f"layer{i}", nn.Sequential(*blocks))
            cin = width
        self.stages = len(widths)

    def forward(self, x):
        x = self.activation(self.bn1(self.conv1(x)))
        for i in range(1, self.stages + 1):
            x = getattr(self, f"layer{i}")(x)
        return x


class Head(nn.Module):
    def __init__(self, features, classes):
        super().__init__()
        self.fc = nn.Linear(features, classes)


class Classifier(nn.Module):
    """mmcls' ImageClassifier: backbone -> global average pooling -> head.fc."""

    def __init__(self, backbone, features, classes):
        super().__init__()
        self.backbone, self.head = backbone, Head(features, classes)

    def forward(self, x):
        return self.head.fc(self.backbone(x).mean(dim=(2, 3)))


class SimpleArchitecture(nn.Module):
    """BiBench's wrapper: its state_dict keys start with `arch.`."""

    def __init__(self, arch):
        super().__init__()
        self.arch = arch

    def forward(self, x):
        return self.arch(x)


ARCHS = {"resnet18": (64, (64, 128, 256, 512), (2, 2, 2, 2)),
         "resnet34": (64, (64, 128, 256, 512), (3, 4, 6, 3)),
         "resnet20_bibench": (64, (16, 32, 64), (3, 3, 3))}


def bibench_resnet(arch, algo, classes=10, act=nn.Hardtanh, widths_scale=1):
    stem, widths, depths = ARCHS[arch]
    widths = tuple(w // widths_scale for w in widths)
    backbone = Backbone(CONVS[algo], stem // widths_scale, widths, depths, act)
    return SimpleArchitecture(Classifier(backbone, widths[-1], classes))


def set_epoch(model, epoch, epochs):
    for module in model.modules():
        if hasattr(module, "set_epoch"):
            module.set_epoch(epoch, epochs)
