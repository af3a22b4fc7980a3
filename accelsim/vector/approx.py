"""Approximations of scalar functions a vector unit uses, in numpy, with their op counts.

Two families:

* Floating-point fits of a function ``f`` on an interval ``[lo, hi]`` (:func:`fit`): a lookup
  table (:class:`Lut`), piecewise-linear segments (:class:`Pwl`) or a polynomial
  (:class:`Poly`). Each is a callable (numpy in, numpy out, inputs clipped to the interval)
  with ``ops``, the primitive operations one evaluation costs. Callers add range reduction
  and tails (see :mod:`accelsim.vector.functions`).
* I-BERT's integer-only kernels (Kim et al., "I-BERT: Integer-only BERT Quantization",
  ICML 2021, Algorithms 1-4): :func:`i_poly`, :func:`i_exp`, :func:`i_erf`, :func:`i_gelu`,
  :func:`i_sqrt`. They take int64 arrays and a float scale ``S`` (``value = q * S``) and
  return integers and their scale, computing only with integer adds, multiplies, shifts and
  divides; the constants are the paper's published coefficients.

Arithmetic here is float64: reported errors are those of the approximation alone, not of
the unit's float precision (fp32 rounding adds about 6e-8 relative).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from accelsim.spec.workload import ImplKind, NonlinearImpl
from accelsim.vector.program import VectorOp, merge, ops

Function = Callable[[np.ndarray], np.ndarray]

_FIT_SAMPLES_PER_PIECE = 64
_POLY_NODES = 512


@dataclass(frozen=True, eq=False)
class Lut:
    """``entries`` samples of f at evenly spaced points of [lo, hi]; nearest entry or linear interpolation."""

    lo: float
    hi: float
    values: np.ndarray
    interpolate: bool

    def __call__(self, x: np.ndarray) -> np.ndarray:
        step = (self.hi - self.lo) / (len(self.values) - 1)
        t = (np.clip(x, self.lo, self.hi) - self.lo) / step
        if not self.interpolate:
            return self.values[np.rint(t).astype(np.int64)]
        index = np.minimum(np.floor(t).astype(np.int64), len(self.values) - 2)
        frac = t - index
        left, right = self.values[index], self.values[index + 1]
        return left + frac * (right - left)

    @property
    def ops(self) -> Mapping[VectorOp, int]:
        # index = (x - lo) * (1/step), converted to an integer, then one or two table reads;
        # interpolation adds frac = t - index and left + frac * (right - left).
        if self.interpolate:
            return ops(FADD=3, FMUL=2, CVT=1, TABLE=2)
        return ops(FADD=1, FMUL=1, CVT=1, TABLE=1)


@dataclass(frozen=True, eq=False)
class Pwl:
    """Evenly spaced segments of [lo, hi], each a least-squares line ``slope * x + intercept``."""

    lo: float
    hi: float
    slopes: np.ndarray
    intercepts: np.ndarray

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.clip(x, self.lo, self.hi)
        width = (self.hi - self.lo) / len(self.slopes)
        index = np.minimum(np.floor((x - self.lo) / width).astype(np.int64), len(self.slopes) - 1)
        return self.slopes[index] * x + self.intercepts[index]

    @property
    def ops(self) -> Mapping[VectorOp, int]:
        # segment index as for a LUT, read slope and intercept, one multiply-add
        return ops(FADD=2, FMUL=2, CVT=1, TABLE=2)


@dataclass(frozen=True, eq=False)
class Poly:
    """A least-squares polynomial on Chebyshev nodes of [lo, hi], evaluated by Horner's rule."""

    lo: float
    hi: float
    coefficients: np.ndarray  # highest power first

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.clip(x, self.lo, self.hi)
        y = np.full_like(x, self.coefficients[0], dtype=np.float64)
        for c in self.coefficients[1:]:
            y = y * x + c
        return y

    @property
    def ops(self) -> Mapping[VectorOp, int]:
        degree = len(self.coefficients) - 1
        return ops(FADD=degree, FMUL=degree)


def fit(f: Function, lo: float, hi: float, impl: NonlinearImpl) -> Lut | Pwl | Poly:
    """The ``impl`` (lut, pwl or poly) approximation of ``f`` on ``[lo, hi]``."""
    if impl.kind is ImplKind.LUT:
        return Lut(lo, hi, f(np.linspace(lo, hi, impl.entries)), impl.interpolate)
    if impl.kind is ImplKind.PWL:
        edges = np.linspace(lo, hi, impl.segments + 1)
        slopes, intercepts = np.empty(impl.segments), np.empty(impl.segments)
        for i in range(impl.segments):
            x = np.linspace(edges[i], edges[i + 1], _FIT_SAMPLES_PER_PIECE)
            slopes[i], intercepts[i] = np.polyfit(x, f(x), 1)
        return Pwl(lo, hi, slopes, intercepts)
    if impl.kind is ImplKind.POLY:
        nodes = np.cos(np.pi * (np.arange(_POLY_NODES) + 0.5) / _POLY_NODES)
        x = lo + (hi - lo) * (nodes + 1) / 2
        fitted = np.polynomial.Polynomial.fit(x, f(x), impl.degree).convert()
        return Poly(lo, hi, fitted.coef[::-1].copy())
    raise ValueError(f"fit() takes a lut, pwl or poly implementation, got {impl.kind.value}")


# ---------------------------------------------------------------- I-BERT integer-only kernels

# Coefficients published in I-BERT (Kim et al., ICML 2021), Algorithms 2 and 3.
IEXP_A, IEXP_B, IEXP_C = 0.3585, 1.353, 0.344
IERF_A, IERF_B, IERF_C = -0.2888, -1.769, 1.0
_MAX_SHIFT = 62

I_POLY_OPS = ops(IADD=2, IMUL=1)
"""(q + q_b)^2 + q_c: two adds, one multiply."""
I_EXP_OPS = merge(I_POLY_OPS, ops(IMUL=2, SHIFT=2, IADD=1, ICMP=1))
"""z = -q / q_ln2 (a multiply by the reciprocal and a shift), clamp z, q_p = q + z*q_ln2, i-poly, >> z."""
I_ERF_OPS = merge(I_POLY_OPS, ops(ICMP=2, IMUL=1))
"""sign and clip (two compares), i-poly, times the sign."""
I_GELU_OPS = merge(I_ERF_OPS, ops(IADD=1, IMUL=1))
"""i-erf, + q_1, times q."""
ISQRT_ITERATION_OPS = ops(IDIV=1, IADD=1, SHIFT=1, ICMP=1)
ISQRT_MAX_ITERATIONS = 6
"""Newton steps of :func:`i_sqrt` for any n < 2**62 (checked exhaustively per bit length in the tests)."""


def i_poly(q: np.ndarray, scale: float, a: float, b: float, c: float) -> tuple[np.ndarray, float]:
    """Integer ``a (x + b)^2 + c`` for ``x = q * scale`` (I-BERT Algorithm 1)."""
    q_b = math.floor(b / scale)
    q_c = math.floor(c / (a * scale * scale))
    return (q + q_b) ** 2 + q_c, a * scale * scale


def i_exp(q: np.ndarray, scale: float) -> tuple[np.ndarray, float]:
    """Integer ``exp(x)`` for ``x = q * scale <= 0`` (I-BERT Algorithm 3).

    exp(x) = 2^-z exp(p) with p in (-ln 2, 0]; exp(p) by a second-order polynomial.
    """
    q_ln2 = max(1, math.floor(math.log(2) / scale))  # at least one step (coarse inputs: scale > ln 2)
    z = (-q) // q_ln2
    q_p = q + z * q_ln2
    q_l, scale_l = i_poly(q_p, scale, IEXP_A, IEXP_B, IEXP_C)
    return q_l >> np.minimum(z, _MAX_SHIFT), scale_l


def i_erf(q: np.ndarray, scale: float) -> tuple[np.ndarray, float]:
    """Integer ``erf(x)`` for ``x = q * scale`` (I-BERT Algorithm 2)."""
    q_clip = np.minimum(np.abs(q), math.floor(-IERF_B / scale))
    q_l, scale_l = i_poly(q_clip, scale, IERF_A, IERF_B, IERF_C)
    return np.sign(q) * q_l, scale_l


def i_gelu(q: np.ndarray, scale: float) -> tuple[np.ndarray, float]:
    """Integer ``GELU(x) = x/2 (1 + erf(x / sqrt 2))`` for ``x = q * scale`` (I-BERT Algorithm 2)."""
    q_erf, scale_erf = i_erf(q, scale / math.sqrt(2))
    q_one = math.floor(1 / scale_erf)
    return q * (q_erf + q_one), scale * scale_erf / 2


def i_sqrt(n: np.ndarray) -> tuple[np.ndarray, int]:
    """``floor(sqrt(n))`` of non-negative integers ``n`` by integer Newton steps (I-BERT Algorithm 4).

    ``n`` is int64 or an object array of Python integers (exact at any size). Returns the roots
    and the largest number of Newton steps any element took; raises ValueError for a negative ``n``.
    """
    n = np.asarray(n)
    n = n if n.dtype == object else n.astype(np.int64)
    if np.any(n < 0):
        raise ValueError("i_sqrt of a negative number")
    bits = np.zeros(n.shape, dtype=np.int64)
    rest = n.copy()
    while np.any(rest):
        bits += rest > 0
        rest >>= 1
    x = np.ones_like(n) << ((bits + 1) // 2).astype(n.dtype)
    done = n == 0
    steps = 0
    while not np.all(done):
        steps += 1
        nxt = (x + n // np.maximum(x, 1)) // 2
        stop = nxt >= x
        done = done | stop
        x = np.where(done, x, nxt)
    return np.where(n == 0, 0, x), steps
