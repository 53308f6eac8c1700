"""Shapes that daBNN's runtime computes wrongly or aborts on (BNN_ASSERT in the aarch64 kernels).

- BinConv2D with a 3x3 kernel, equal strides and in in {128, 256, 512, 1024} runs the direct conv,
  which needs out % 128 == 0 (except in == out == 128).
- in == 64 with a 3x3 kernel and equal strides runs the 64-channel conv, which needs an even
  number of output channels and of output pixels.
- Every other BinConv2D runs the BGEMM, which needs an even number of 64-bit words per filter:
  with in == 64 (filters are not padded) kh*kw must be even; other channel counts are padded to
  128 bits. Its im2col needs kh*kw*in < 60000.
- Affine and pooling layers address rows with 16-byte aligned access: W*C % 4 == 0 (or W*C == 1)
  for the float tensors they read.
- Every tensor must be square (H == W): `Net::prepare` and `ADD_LAYER` pass the (H, W, C) of a
  shape into `Mat`'s (w, h, c), so a non-square tensor is laid out transposed. In the runtime an
  8x16 model's output was off by 20.5, its 64- and 128-channel 3x3 binary convs crashed and
  MaxPool aborted ("free(): invalid size"); only 1x1 convs were unaffected.
"""

from __future__ import annotations

from bibench_deploy.dabnn.model import DabModel, DabLayer

Shape = tuple[int, int, int]  # H, W, C
_DIRECT_CONV_CHANNELS = (128, 256, 512, 1024)
_ALIGNED_READERS = ("Affine", "AvePool", "MaxPool")
NON_SQUARE_REASON = ("daBNN v0.2.6 swaps height and width of non-square tensors (Net::prepare "
                     "and ADD_LAYER pass (H, W, C) into Mat's (w, h, c)), so it computes wrong "
                     "results or crashes; give the model a square input (H == W)")


def kernel_limit_violations(model: DabModel, shapes: dict[str, Shape]) -> list[str]:
    reasons = []
    for layer in model.layers:
        height, width, _ = shapes[layer.params["output"]]
        if height != width:
            reasons.append(f"{layer.type} {layer.params['output']!r} outputs {height}x{width} "
                           f"(H x W): {NON_SQUARE_REASON}")
        if layer.type == "BinConv2D":
            reasons += _bin_conv_violations(model, layer, shapes)
        if layer.type in _ALIGNED_READERS:
            height, width, channels = shapes[layer.params["input"]]
            if width * channels != 1 and width * channels % 4:
                reasons.append(f"{layer.type} reads {layer.params['input']!r} with W*C = "
                               f"{width * channels}, not a multiple of 4 (unaligned rows abort)")
    return reasons


def _bin_conv_violations(model: DabModel, layer: DabLayer, shapes: dict[str, Shape]) -> list[str]:
    out_channels, kernel_h, kernel_w, in_channels = model.tensors[layer.params["weight"]].shape
    out_h, out_w, _ = shapes[layer.params["output"]]
    stride_h, stride_w = layer.params["strides"][:2]
    where = (f"binary conv {layer.params['output']!r} ({kernel_h}x{kernel_w}, "
             f"{in_channels} -> {out_channels} channels)")
    square_3x3 = (kernel_h, kernel_w) == (3, 3) and stride_h == stride_w
    reasons = []
    if kernel_h * kernel_w * in_channels >= 60000:
        reasons.append(f"{where}: kh*kw*in = {kernel_h * kernel_w * in_channels} >= 60000")
    if square_3x3 and in_channels in _DIRECT_CONV_CHANNELS and out_channels % 128 \
            and not in_channels == out_channels == 128:
        reasons.append(f"{where}: the 3x3 direct conv needs out % 128 == 0")
    elif square_3x3 and in_channels == 64 and (out_channels % 2 or out_h * out_w % 2):
        reasons.append(f"{where}: the 64-channel 3x3 conv needs an even number of output "
                       f"channels and output pixels ({out_h}x{out_w})")
    elif not square_3x3 and in_channels == 64 and (kernel_h * kernel_w) % 2:
        reasons.append(f"{where}: {kernel_h * kernel_w} words per unpadded 64-channel filter; "
                       "the BGEMM needs an even number")
    return reasons
