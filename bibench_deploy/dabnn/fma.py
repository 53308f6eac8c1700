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

tests/dabnn/test_fma.py checks it against exact rational arithmetic, on cases that the plain
double rounding gets wrong.
"""

from __future__ import annotations

import numpy as np


def fma_float32(a, x, b) -> np.ndarray:
    """float32(a * x + b) with one rounding (ties to even); a, x, b broadcast like numpy."""
    a64, x64, b64 = (np.asarray(v, np.float32).astype(np.float64) for v in (a, x, b))
    product = a64 * x64  # exact
    total = product + b64
    b_part = total - product
    error = (product - (total - b_part)) + (b64 - b_part)  # TwoSum: total + error == p + b
    even = (np.ascontiguousarray(total).view(np.int64) & 1) == 0
    inexact = (error != 0) & even & np.isfinite(total)
    towards = np.where(error > 0, np.inf, -np.inf)
    rounded_to_odd = np.where(inexact, np.nextafter(total, towards), total)
    return rounded_to_odd.astype(np.float32)
