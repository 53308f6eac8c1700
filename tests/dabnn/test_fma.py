"""fma_float32 against exact rational arithmetic, on the cases plain double rounding gets wrong."""

from fractions import Fraction

import numpy as np

from bibench_deploy.dabnn.fma import fma_float32

F32 = np.float32


def correctly_rounded(a, x, b) -> np.float32:
    """a * x + b computed exactly, rounded once to float32 (nearest, ties to even)."""
    exact = Fraction(float(a)) * Fraction(float(x)) + Fraction(float(b))
    near = F32(float(exact))
    candidates = [np.nextafter(near, F32(-np.inf)), near, np.nextafter(near, F32(np.inf))]
    return min(candidates, key=lambda c: (abs(Fraction(float(c)) - exact),
                                          int(np.array(c, F32).view(np.int32)) & 1))


def double_rounding_cases(n: int, seed: int = 0):
    """b = 1 + odd * 2^-23 and a * x = 2^-24 (1 - j^2 2^-46) for a = 1 + j 2^-23,
    x = (1 - j 2^-23) 2^-24: the exact sum lies just below a float32 midpoint, the float64 sum
    exactly on it, and ties-to-even then rounds it up."""
    rng = np.random.default_rng(seed)
    j = rng.integers(1, 300, n).astype(np.float64)
    odd = 2 * rng.integers(0, 2 ** 21, n) + 1
    sign = rng.choice([-1.0, 1.0], n)
    a = (1 + j * 2.0 ** -23).astype(F32)
    x = ((1 - j * 2.0 ** -23) * 2.0 ** -24 * sign).astype(F32)
    b = ((1 + odd * 2.0 ** -23) * sign).astype(F32)
    return a, x, b


def test_matches_exact_rounding_where_double_rounding_fails():
    a, x, b = double_rounding_cases(300)
    expected = np.array([correctly_rounded(*t) for t in zip(a, x, b)])
    double_rounded = (a.astype(np.float64) * x + b).astype(F32)
    assert np.all(double_rounded != expected)  # every case is a double-rounding trap
    np.testing.assert_array_equal(fma_float32(a, x, b), expected)


def test_matches_exact_rounding_on_random_operands():
    rng = np.random.default_rng(1)
    a, x, b = (rng.normal(size=2000) * 10.0 ** rng.integers(-6, 6, 2000) for _ in range(3))
    a, x, b = (v.astype(F32) for v in (a, x, b))
    expected = np.array([correctly_rounded(*t) for t in zip(a, x, b)])
    np.testing.assert_array_equal(fma_float32(a, x, b), expected)


def test_matches_exact_rounding_below_the_float32_normal_range():
    """Results among float32's subnormals, whose midpoints are not where the normal ones are."""
    rng = np.random.default_rng(2)
    a = (rng.normal(size=2000) * 1e-20).astype(F32)
    x = (rng.normal(size=2000) * 1e-19).astype(F32)
    b = (rng.normal(size=2000) * 1e-39).astype(F32)
    expected = np.array([correctly_rounded(*t) for t in zip(a, x, b)])
    assert np.mean(np.abs(expected) < np.finfo(F32).tiny) > 0.5
    np.testing.assert_array_equal(fma_float32(a, x, b), expected)


def test_one_rounding_differs_from_two():
    """a * x rounded, then + b rounded (what numpy computes) differs from the fused result."""
    a = x = F32(1 + 2 ** -12)
    b = F32(-(1 + 2 ** -11))
    assert fma_float32(a, x, b) == F32(2.0 ** -24)  # exact: (1 + 2^-11 + 2^-24) - (1 + 2^-11)
    assert a * x + b == F32(0)  # the product's 2^-24 is a tie, rounded to even: lost
    assert fma_float32(np.full((2, 3), a), x, np.full(3, b)).shape == (2, 3)
