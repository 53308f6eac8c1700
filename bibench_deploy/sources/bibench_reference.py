"""BiBench's eval forward of a CIFAR ResNet in float64 numpy, from the checkpoint's tensors.

Independent of Keras and of this project's deploy forms: it reads the (prefix-free) state dict
and computes what BiBench's PyTorch modules compute in `eval()` mode, with torch.sign
(sign(0) = 0), zero padding of the binarized input (`F.conv2d(padding=1)`), BatchNorm with its
running statistics (eps 1e-5) and Hardtanh. Input NHWC (the imported model's layout).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

EPS = 1e-5
Tensors = dict[str, np.ndarray]
BATCH = 10  # samples per chunk: the im2col windows of 32x32x64 take ~50 MB per sample


def conv2d(x: np.ndarray, w: np.ndarray, stride: int, pad: int) -> np.ndarray:
    """NCHW x OIHW -> NCHW, zero padding `pad`, like F.conv2d."""
    kh, kw = w.shape[2:]
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    n, c, ho, wo = windows.shape[:4]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * kh * kw)
    out = cols @ w.reshape(w.shape[0], -1).T
    return out.reshape(n, ho, wo, -1).transpose(0, 3, 1, 2)


def batch_norm(x: np.ndarray, t: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    shape = (1, -1, 1, 1)
    scale = t[f"{prefix}.weight"] / np.sqrt(t[f"{prefix}.running_var"] + EPS)
    return ((x - t[f"{prefix}.running_mean"].reshape(shape)) * scale.reshape(shape)
            + t[f"{prefix}.bias"].reshape(shape))


def channel_mean_abs(w: np.ndarray) -> np.ndarray:
    return np.abs(w).mean(axis=(1, 2, 3), keepdims=True)


@dataclass(frozen=True)
class ConvReference:
    """What one algorithm's BiBench conv does in eval mode, around `conv2d(sign(x), W_b)`:
    `shift` is added to the input before the sign, `activation` scales the binarized input,
    `weight` binarizes W, `output` scales the conv's result. Each takes the conv's tensors."""
    weight: Callable[[np.ndarray, Tensors, str], np.ndarray]
    shift: Optional[Callable[[Tensors, str], np.ndarray]] = None
    activation: Optional[Callable[[np.ndarray], np.ndarray]] = None
    output: Optional[Callable[[np.ndarray, Tensors, str], np.ndarray]] = None


def _sign_weight(w: np.ndarray, t: Tensors, prefix: str) -> np.ndarray:
    return np.sign(w)


def _scaled_sign_weight(w: np.ndarray, t: Tensors, prefix: str) -> np.ndarray:
    return channel_mean_abs(w) * np.sign(w)


def _recu_weight(w: np.ndarray, t: Tensors, prefix: str) -> np.ndarray:
    centred = w - w.mean(axis=(1, 2, 3), keepdims=True)
    w1 = centred / (np.sqrt(centred.var(axis=(1, 2, 3), ddof=1, keepdims=True) + EPS)
                    / 2 / np.sqrt(2))
    tau = float(np.asarray(t[f"{prefix}.tau"]).reshape(-1)[0])
    with np.errstate(divide="ignore"):
        q = -np.abs(w1).mean() * np.log(2 - 2 * tau)
    return np.sign(np.clip(w1, -q, q))


def _xnorpp_output(y: np.ndarray, t: Tensors, prefix: str) -> np.ndarray:
    ho, wo = y.shape[2:]
    return (y * t[f"{prefix}.o_scale"] * t[f"{prefix}.h_scale"][:, :, :ho]
            * t[f"{prefix}.w_scale"][:, :, :, :wo])


# Every algorithm `import` accepts (those declaring a `bibench_conv`) has an entry; FDA's eval
# forward is the scaled sign when its noise weight is 0, which the importer requires.
REFERENCES: dict[str, ConvReference] = {
    "bnn": ConvReference(_sign_weight),
    "xnor": ConvReference(_scaled_sign_weight,
                          activation=lambda x: np.abs(x).mean(axis=(1, 2, 3), keepdims=True)),
    "dorefa": ConvReference(_scaled_sign_weight),
    "bireal": ConvReference(_scaled_sign_weight),
    "xnorpp": ConvReference(_sign_weight, output=_xnorpp_output),
    "reactnet": ConvReference(_scaled_sign_weight,
                              shift=lambda t, prefix: t[f"{prefix}.channel_threshold"]),
    "recu": ConvReference(_recu_weight, output=lambda y, t, prefix: y * t[f"{prefix}.alpha"]),
    "fda": ConvReference(_scaled_sign_weight),
}


def binary_conv(x: np.ndarray, t: Tensors, prefix: str, algo: str,
                stride: int) -> np.ndarray:
    """One BiBench binary conv (3x3, padding 1) in eval mode."""
    ref = REFERENCES[algo]
    if ref.shift is not None:
        x = x + ref.shift(t, prefix)
    a = np.sign(x)
    if ref.activation is not None:
        a = ref.activation(x) * a
    y = conv2d(a, ref.weight(t[f"{prefix}.weight"], t, prefix), stride, 1)
    return y if ref.output is None else ref.output(y, t, prefix)


def _hardtanh(x: np.ndarray) -> np.ndarray:
    return np.clip(x, -1.0, 1.0)


def _block(x, t, prefix, algo, stride):
    out = _hardtanh(batch_norm(binary_conv(x, t, f"{prefix}.conv1", algo, stride), t,
                               f"{prefix}.bn1"))
    out = batch_norm(binary_conv(out, t, f"{prefix}.conv2", algo, 1), t, f"{prefix}.bn2")
    identity = x
    if f"{prefix}.downsample.0.weight" in t:
        identity = batch_norm(conv2d(x, t[f"{prefix}.downsample.0.weight"], stride, 0), t,
                              f"{prefix}.downsample.1")
    return _hardtanh(out + identity)


def forward(tensors: dict[str, np.ndarray], algo: str, depths: tuple[int, ...],
            x_nhwc: np.ndarray) -> np.ndarray:
    """Logits of BiBench's ResNet_CIFAR (stages of `depths` BasicBlocks) on `x_nhwc`."""
    t = {k: np.asarray(v, np.float64) for k, v in tensors.items()}
    logits = []
    for start in range(0, len(x_nhwc), BATCH):
        x = np.asarray(x_nhwc[start:start + BATCH], np.float64).transpose(0, 3, 1, 2)
        x = _hardtanh(batch_norm(conv2d(x, t["backbone.conv1.weight"], 1, 1), t, "backbone.bn1"))
        for stage, depth in enumerate(depths, start=1):
            for block in range(depth):
                stride = 2 if block == 0 and stage > 1 else 1
                x = _block(x, t, f"backbone.layer{stage}.{block}", algo, stride)
        features = x.mean(axis=(2, 3))
        logits.append(features @ t["head.fc.weight"].T + t["head.fc.bias"])
    return np.concatenate(logits)
