"""Floating-point quantization: values rounded to a float format, and a GEMM computed in it.

* :func:`round_to_format`: round float64 values to a float format (fp32, fp16, bf16, fp8_e4m3,
  fp8_e5m2) to nearest, ties to even, with subnormals; a value beyond the largest finite one
  becomes infinity (IEEE formats, OCP E5M2) or, with ``saturate``, the largest finite value.
  OCP E4M3 has no infinity: it saturates by default (the OCP 8-bit Floating Point
  Specification rev. 1.0 allows a saturating conversion; the alternative is NaN).
* :func:`float_gemm`: ``A`` and ``B`` cast to the layer's formats, multiplied on a given float
  ``gemm`` (the ``pe`` array with float32 registers: every product and every addition rounded
  to fp32, as an fp32 accumulator does), and the error against float64 ``A @ B``.

Plain numpy (``frexp``/``ldexp``/``rint``); tests check it against ``ml_dtypes`` casts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from accelsim.compress.quantize import NumericError, output_error
from accelsim.errors import UnsupportedError
from accelsim.spec.number_format import NumberFormat, number_format

FloatGemm = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``(A (M, K), B (K, N) float arrays) -> (M, N) outputs`` computed by the float hardware."""


def round_to_format(x, fmt: NumberFormat | str, saturate: bool | None = None) -> np.ndarray:
    """``x`` rounded to the float format ``fmt`` (round to nearest, ties to even), as float64.

    Parameters
    ----------
    x : array_like
    fmt : NumberFormat or str
        A float format (``"bf16"``, ``"fp8_e4m3"``, ...).
    saturate : bool, optional
        Values beyond the largest finite one (and infinities) become it, signed. ``None``: only
        for formats without infinities (E4M3); other formats overflow to infinity. NaN stays NaN.
    """
    fmt = number_format(fmt)
    if not fmt.is_float:
        raise UnsupportedError(f"round_to_format needs a float format, got {fmt.name}")
    x = np.asarray(x, dtype=np.float64)
    saturate = not fmt.ieee_specials if saturate is None else saturate
    if fmt.mantissa_bits >= 52:
        out = x.copy()
    else:
        _, exponent = np.frexp(x)  # x = f * 2**exponent, 0.5 <= |f| < 1: leading bit at exponent - 1
        ulp = np.maximum(exponent - 1, fmt.min_normal_exponent) - fmt.mantissa_bits
        out = np.where(np.isfinite(x), np.ldexp(np.rint(np.ldexp(x, -ulp)), ulp), x)
    over = np.abs(out) > fmt.max_finite
    if saturate:
        out = np.where(over & ~np.isnan(out), np.copysign(fmt.max_finite, x), out)
    elif fmt.ieee_specials:
        out = np.where(over, np.copysign(np.inf, x), out)
    else:
        out = np.where(over, np.nan, out)
    return out


def accumulator_dtype(accumulator_bits: int) -> type:
    """numpy dtype of a float accumulator of ``accumulator_bits`` (32: fp32, 64: fp64)."""
    if accumulator_bits == 32:
        return np.float32
    if accumulator_bits == 64:
        return np.float64
    raise UnsupportedError(f"a float accumulator of {accumulator_bits} bits is not emulated (the pe fidelity "
                           "computes float layers with fp32 or fp64 accumulators: set mac.accumulator_bits "
                           "to 32 or 64)")


def numpy_float_gemm(accumulator_bits: int = 32, chunk: int = 0) -> FloatGemm:
    """A numpy model of a float array: products and sums in the accumulator's dtype, each output
    summed in reduction order from 0 in chunks of ``chunk`` (0: the whole reduction), the chunk
    sums added in order to an output starting at 0 (as the ``pe`` array's ws row folds do)."""
    dtype = accumulator_dtype(accumulator_bits)

    def gemm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a, b = np.asarray(a, dtype), np.asarray(b, dtype)
        k = a.shape[1]
        step = chunk or max(k, 1)
        out = np.zeros((a.shape[0], b.shape[1]), dtype)
        for start in range(0, k, step):
            part = np.zeros_like(out)
            for j in range(start, min(k, start + step)):
                part = part + np.multiply.outer(a[:, j], b[j, :])
            out = out + part
        return out

    return gemm


@dataclass(frozen=True)
class FloatGemmResult:
    """One GEMM computed in float formats and what it cost in accuracy.

    Attributes
    ----------
    out : (M, N) float64
        What the hardware returned.
    a, b : float64 arrays
        The operands after rounding to their formats.
    error : NumericError
        ``out`` against float64 ``A @ B`` of the unrounded operands.
    """

    out: np.ndarray
    a: np.ndarray
    b: np.ndarray
    error: NumericError


def float_gemm(a: np.ndarray, b: np.ndarray, act: NumberFormat | str, weight: NumberFormat | str,
               gemm: FloatGemm) -> FloatGemmResult:
    """Round ``A[M, K]`` to ``act`` and ``B[K, N]`` to ``weight`` (:func:`round_to_format`),
    multiply on ``gemm``, measure the error against float64 ``A @ B``."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise UnsupportedError(f"expected A[M, K] and B[K, N], got shapes {a.shape} and {b.shape}")
    qa, qb = round_to_format(a, act), round_to_format(b, weight)
    out = np.asarray(gemm(qa, qb), dtype=np.float64)
    return FloatGemmResult(out=out, a=qa, b=qb, error=output_error(a @ b, out))
