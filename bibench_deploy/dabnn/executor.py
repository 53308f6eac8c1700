"""Reference executor of `.dab` models in numpy: the format's semantics, NHWC, each image on its own.

It follows the runtime where a writer could go wrong: BinConv2D binarizes its input at 0
(x > 0 -> +1, else -1), pads with -1 and outputs the mismatch count popcount(x XOR w) over
K = kh*kw*in bits; Relu, Affine, Add and PRelu overwrite their (first) input, so a tensor read
after an in-place layer has changed, exactly as on the device; dilations are ignored; layers
the runtime cannot execute (FC, Softmax, Binarize, global pooling) raise.

Arithmetic: by default as daBNN's aarch64 build, in float32 with the Affine as one fused
multiply-add (`AARCH64`); `PORTABLE` rounds a * x and then + b (a build without FMA
contraction); `EXACT` computes in float64, where float32 rounding cannot flip a binarization, so
its output is the converted network's function itself (the verdict compares it with Keras in
float64). Float convs and pooling sum in float64 and round once, in every mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bibench_deploy.dabnn.bitpack import unpack_weights
from bibench_deploy.dabnn.fma import fma_float32
from bibench_deploy.dabnn.model import DabModel


class UnsupportedLayer(ValueError):
    """The model holds a layer that the daBNN runtime cannot execute."""


@dataclass(frozen=True)
class Arithmetic:
    dtype: type = np.float32
    fused_affine: bool = True  # a * x + b rounded once (aarch64 fmadd)


@dataclass
class BinarizationTrace:
    """Per BinConv2D, by output name: `inputs` receives the float tensor it binarized; where
    `forced` holds signs (+/-1, the input's shape), they replace its own binarization (to replay
    the bits another implementation computed)."""
    inputs: dict[str, np.ndarray] = field(default_factory=dict)
    forced: dict[str, np.ndarray] = field(default_factory=dict)


AARCH64 = Arithmetic(np.float32, fused_affine=True)
PORTABLE = Arithmetic(np.float32, fused_affine=False)
EXACT = Arithmetic(np.float64, fused_affine=False)


BATCH = 16  # images per pass: whole-batch numpy calls, with bounded memory (float64 windows)


def run(model: DabModel, image_hwc: np.ndarray, arithmetic: Arithmetic = AARCH64,
        trace: BinarizationTrace | None = None) -> dict[str, np.ndarray]:
    """Every named activation after running `model` on one (H, W, C) float image."""
    _check_shape(model, image_hwc.shape)
    batch_trace = BinarizationTrace(forced={name: signs[None] for name, signs
                                            in (trace.forced.items() if trace else ())})
    blobs = _run(model, np.asarray(image_hwc)[None], arithmetic, batch_trace)
    if trace is not None:
        trace.inputs.update({name: values[0] for name, values in batch_trace.inputs.items()})
    image_views: dict[int, np.ndarray] = {}  # one view per buffer: in-place layers share one
    return {name: image_views.setdefault(id(values), values[0]) for name, values in blobs.items()}


def run_batch(model: DabModel, images_nhwc: np.ndarray, output: str,
              arithmetic: Arithmetic = AARCH64) -> np.ndarray:
    """`output` for each image of a batch, stacked. Nothing mixes images; only the numpy calls
    are shared (BATCH images at a time), so the one difference from `run` on each image can be
    the order in which BLAS sums a float conv's float64 products, far below the float32
    rounding that follows."""
    _check_shape(model, images_nhwc.shape[1:])
    return np.concatenate([_run(model, images_nhwc[start:start + BATCH], arithmetic,
                                BinarizationTrace())[output].copy()
                           for start in range(0, len(images_nhwc), BATCH)])


def _check_shape(model: DabModel, shape) -> None:
    expected = tuple(model.input_shape[1:])
    if tuple(shape) != expected:
        raise ValueError(f"input shape {tuple(shape)}, model expects {expected}")


def _run(model: DabModel, images: np.ndarray, arithmetic: Arithmetic,
         trace: BinarizationTrace) -> dict[str, np.ndarray]:
    """Every named activation, with a leading batch axis, after running `model` on NHWC
    `images`."""
    blobs = {model.input_name: np.array(images, dtype=arithmetic.dtype)}
    for layer in model.layers:
        runner = _RUNNERS.get(layer.type)
        if runner is None:
            raise UnsupportedLayer(f"the daBNN runtime cannot execute {layer.type} layers")
        if layer.params["output"] in blobs:  # the runtime would write into the existing buffer
            raise ValueError(f"layer output {layer.params['output']!r} is not a new name")
        if layer.type == "BinConv2D":
            _bin_conv(model, layer.params, blobs, trace)
        else:
            runner(model, layer.params, blobs, arithmetic)
    return blobs


def _symmetric(pads) -> tuple[int, int]:
    pads = list(pads or [0, 0])
    if len(pads) == 4 and (pads[0] != pads[2] or pads[1] != pads[3]):
        raise UnsupportedLayer(f"asymmetric pads {pads}")
    return int(pads[0]), int(pads[1])


def _windows(x: np.ndarray, kernel, pads, strides, pad_value: float) -> np.ndarray:
    """(N, out_h, out_w, kh, kw, C) windows of an (N, H, W, C) tensor."""
    pad_h, pad_w = _symmetric(pads)
    stride_h, stride_w = (list(strides) or [1, 1])[:2]
    padded = np.pad(x, ((0, 0), (pad_h, pad_h), (pad_w, pad_w), (0, 0)),
                    constant_values=pad_value)
    views = np.lib.stride_tricks.sliding_window_view(padded, tuple(kernel), axis=(1, 2))
    return views[:, ::stride_h, ::stride_w].transpose(0, 1, 2, 4, 5, 3)


def _conv(windows: np.ndarray, weights_ohwi: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    batch, out_h, out_w = windows.shape[:3]
    columns = windows.reshape(batch * out_h * out_w, -1).astype(dtype)
    filters = weights_ohwi.reshape(weights_ohwi.shape[0], -1).astype(dtype)
    return (columns @ filters.T).reshape(batch, out_h, out_w, -1)


def _bin_conv(model: DabModel, p: dict, blobs: dict, trace: BinarizationTrace) -> None:
    tensor = model.tensors[p["weight"]]
    weights = unpack_weights(tensor.bits, tensor.shape)
    trace.inputs[p["output"]] = blobs[p["input"]].copy()
    signs = trace.forced.get(p["output"])
    if signs is None:
        signs = np.where(blobs[p["input"]] > 0, 1.0, -1.0)
    # sums of K products of +-1: integers, exact in float32 (a faster product) while K <= 2^24
    exact = np.float32 if weights[0].size <= 2 ** 24 else np.float64
    dot = _conv(_windows(signs, weights.shape[1:3], p.get("pads"), p.get("strides"), -1.0),
                weights, exact)
    mismatches = (weights[0].size - dot) / 2
    blobs[p["output"]] = mismatches.astype(blobs[p["input"]].dtype)


def _fp_conv(model: DabModel, p: dict, blobs: dict, arithmetic: Arithmetic) -> None:
    weights = model.tensors[p["weight"]].floats
    result = _conv(_windows(blobs[p["input"]], weights.shape[1:3], p.get("pads"),
                            p.get("strides"), 0.0), weights)
    if p.get("bias"):
        result = result + model.tensors[p["bias"]].floats
    blobs[p["output"]] = result.astype(arithmetic.dtype)


def _pool(p: dict, blobs: dict, arithmetic: Arithmetic, average: bool) -> None:
    kernel = list(p["kernel_shape"])
    if min(kernel) < 1:
        raise UnsupportedLayer("global pooling (kernel -1) is broken in the daBNN runtime")
    if average and any(p.get("pads") or []):
        raise UnsupportedLayer("padded average pooling counts padding differently per kernel")
    x = blobs[p["input"]]
    windows = _windows(x, kernel, p.get("pads"), p.get("strides"), np.nan)
    reduce = np.nanmean if average else np.nanmax
    blobs[p["output"]] = reduce(windows.astype(np.float64), axis=(3, 4)).astype(arithmetic.dtype)


def _in_place(blobs: dict, p: dict, values: np.ndarray) -> None:
    target = blobs[p["input"]]
    target[...] = values
    blobs[p["output"]] = target


def _affine(model: DabModel, p: dict, blobs: dict, arithmetic: Arithmetic) -> None:
    a, b, x = model.tensors[p["a"]].floats, model.tensors[p["b"]].floats, blobs[p["input"]]
    _in_place(blobs, p, fma_float32(a, x, b) if arithmetic.fused_affine else a * x + b)


def _relu(model: DabModel, p: dict, blobs: dict, arithmetic: Arithmetic) -> None:
    _in_place(blobs, p, np.maximum(blobs[p["input"]], 0))


def _prelu(model: DabModel, p: dict, blobs: dict, arithmetic: Arithmetic) -> None:
    x, slope = blobs[p["input"]], model.tensors[p["slope"]].floats
    _in_place(blobs, p, np.where(x < 0, x * slope, x))


def _add(model: DabModel, p: dict, blobs: dict, arithmetic: Arithmetic) -> None:
    first, second = blobs[p["input1"]], blobs[p["input2"]]
    if first.shape != second.shape:
        raise UnsupportedLayer(f"Add of shapes {first.shape} and {second.shape}")
    first += second
    blobs[p["output"]] = first


def _concat(model: DabModel, p: dict, blobs: dict, arithmetic: Arithmetic) -> None:
    if p.get("axis") != 3 or len(p["inputs"]) != 2:
        raise UnsupportedLayer("Concat needs exactly 2 inputs on axis 3")
    blobs[p["output"]] = np.concatenate([blobs[name] for name in p["inputs"]], axis=-1)


_RUNNERS = {
    "BinConv2D": _bin_conv, "FpConv2D": _fp_conv, "Affine": _affine, "Relu": _relu,
    "PRelu": _prelu, "Add": _add, "Concat": _concat,
    "AvePool": lambda model, p, blobs, arithmetic: _pool(p, blobs, arithmetic, average=True),
    "MaxPool": lambda model, p, blobs, arithmetic: _pool(p, blobs, arithmetic, average=False),
}
