"""float32 fused multiply-add in numpy: a * x + b rounded once, as an aarch64 `fmadd` computes it.

daBNN's Affine is `*ptr = a[c] * *ptr + b[c]`, which aarch64 compilers contract into a fused
multiply-add; numpy has none. The emulation is exact:

- a * x of two float32 values is exact in float64 (24 + 24 = 48 significant bits <= 53).
- p + b rounded to float64 and then to float32 would round twice, and can be wrong where the
  float64 sum lands exactly on a float32 midpoint (an inexact sum just off the midpoint).
- Rounding the float64 sum *to odd* instead makes the second rounding correct (Boldo and
  Melquiond, "Emulation of FMA and correctly rounded sums: proved algorithms using rounding to
  odd", IEEE TC 2008: with 53 >= 24 + 2 bits, round-to-odd then round-to-nearest-even equals one
  round-to-nearest-even). TwoSum gives the exact error e of the float64 sum s (s + e = p + b);
  where e != 0 and s's last significand bit is even, s moves one float64 ulp towards e, which is
  the odd neighbour on the exact value's side.
- Only a float64 sum exactly on a float32 midpoint (or below float32's normal range) can round
  wrongly a second time, so only those elements take the round-to-odd path; the rest is one
  float64 sum and one conversion.

tests/dabnn/test_fma.py checks it against exact rational arithmetic, on cases that the plain
double rounding gets wrong.
"""

from __future__ import annotations

import numpy as np


def fma_float32(a, x, b) -> np.ndarray:
    """float32(a * x + b) with one rounding (ties to even); a, x, b broadcast like numpy."""
    a64, x64, b64 = np.broadcast_arrays(*(np.asarray(v, np.float32).astype(np.float64)
                                          for v in (a, x, b)))
    product = a64 * x64  # exact
    total = product + b64
    result = total.astype(np.float32)
    # Rounding the float64 sum again can only go wrong where it sits exactly on a float32
    # midpoint (every midpoint is a float64 number, so an exact value on the other side of one
    # would have rounded to it): low 29 of its 52 fraction bits 1 and 28 zeros. Below the
    # float32 normal range the midpoints sit elsewhere; those few take the exact path as well.
    suspect = (((np.ascontiguousarray(total).view(np.int64) & _LOW_29) == _MIDPOINT)
               | (np.abs(total) < _FLOAT32_NORMAL_MIN))
    if np.any(suspect):
        result[suspect] = _round_to_odd_sum(product[suspect], b64[suspect]).astype(np.float32)
    return result


_LOW_29 = (1 << 29) - 1
_MIDPOINT = 1 << 28
_FLOAT32_NORMAL_MIN = 2.0 ** -126


def _round_to_odd_sum(product: np.ndarray, b64: np.ndarray) -> np.ndarray:
    """product + b in float64, rounded to odd (exact: see the module's note)."""
    total = product + b64
    b_part = total - product
    error = (product - (total - b_part)) + (b64 - b_part)  # TwoSum: total + error == p + b
    even = (np.ascontiguousarray(total).view(np.int64) & 1) == 0
    inexact = (error != 0) & even & np.isfinite(total)
    towards = np.where(error > 0, np.inf, -np.inf)
    return np.where(inexact, np.nextafter(total, towards), total)
