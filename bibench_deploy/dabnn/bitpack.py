"""Bit-packing of binary conv weights, exactly as the daBNN runtime reads them.

Per output filter the OHWI weights are flattened (input channel fastest); bit = 1 where w > 0,
else 0 (the bit of -1). Element 64k + j is bit j of word k (LSB first, little-endian words).
With exactly 64 input channels the filters are packed back to back (kh*kw words each); otherwise
each filter is zero-padded to a multiple of 128 bits. Padding bits are 0 in weights and in the
runtime's packed input alike, so they never count as mismatches.

(onnx2bnn's own packer reads 64 bits past the filter when kh*kw*in mod 128 is in (0, 64), e.g.
in = 32 or 48 with 3x3 kernels, instead of writing zero padding; this packer writes zeros.)
"""

from __future__ import annotations

import numpy as np


def padded_filter_bits(shape: tuple[int, ...]) -> int:
    """Number of bits one packed filter occupies for a weight of shape (out, kh, kw, in)."""
    filter_bits = int(np.prod(shape[1:]))
    if shape[3] == 64:
        return filter_bits
    return -(-filter_bits // 128) * 128


def pack_weights(weights_ohwi: np.ndarray) -> np.ndarray:
    """Pack +/-1 (or any real) OHWI weights into uint64 words; bit = weight > 0."""
    out_channels = weights_ohwi.shape[0]
    bits = (weights_ohwi.reshape(out_channels, -1) > 0)
    padding = padded_filter_bits(weights_ohwi.shape) - bits.shape[1]
    bits = np.pad(bits, ((0, 0), (0, padding)))
    packed_bytes = np.packbits(bits.ravel(), bitorder="little")
    return packed_bytes.view("<u8").astype(np.uint64)


def unpack_weights(words: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The +/-1 float32 OHWI weights that `words` hold; raises ValueError on a malformed layout."""
    out_channels, filter_bits = shape[0], int(np.prod(shape[1:]))
    padded_bits = padded_filter_bits(shape)
    if len(words) * 64 != out_channels * padded_bits:
        raise ValueError(f"{len(words)} words do not hold {out_channels} filters of "
                         f"{padded_bits} bits")
    raw = np.asarray(words, dtype="<u8").view(np.uint8)
    bits = np.unpackbits(raw, bitorder="little").reshape(out_channels, padded_bits)
    if bits[:, filter_bits:].any():
        raise ValueError("padding bits of a binary weight are not zero")
    signs = bits[:, :filter_bits].astype(np.float32) * 2 - 1
    return signs.reshape(shape)
