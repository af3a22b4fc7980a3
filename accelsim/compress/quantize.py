"""Uniform quantizers, quantized GEMM on integer hardware, and the numeric error it costs.

* :func:`quant_params` / :func:`quantize` / :func:`dequantize`: symmetric (signed codes in
  ``[-(2^(b-1) - 1), 2^(b-1) - 1]``, zero point 0) or asymmetric (unsigned codes in
  ``[0, 2^b - 1]`` with an integer zero point), per tensor or per channel, round half to even.
* :func:`quantized_gemm`: quantize ``A[M, K]`` (activations) and ``B[K, N]`` (weights), run the
  integer GEMM of their codes on a given integer ``gemm`` (the ``pe`` array, or
  :func:`integer_gemm`, an independent numpy model of the accumulator), remove the zero points,
  dequantize, and measure the error against float64 ``A @ B``.

Zero points are handled as integer hardware does (gemmlowp's scheme): the array multiplies the
raw codes, so its accumulators hold ``sum_k qa*qw``; the post-processing unit subtracts
``zw*sum_k qa + za*sum_k qw - K*za*zw`` exactly (int64) before scaling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from accelsim.errors import UnsupportedError
from accelsim.spec.arch import MacSpec, Overflow

IntegerGemm = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``(A codes (M, K) int64, B codes (K, N) int64) -> accumulators (M, N) int64``."""


@dataclass(frozen=True)
class QuantParams:
    """Scale and zero point of a quantized tensor: ``x ~ (q - zero_point) * scale``.

    ``scale`` (float64) and ``zero_point`` (int64) have the tensor's number of dimensions, with
    size 1 on every axis but ``axis`` (the channel axis; None: per tensor, every size 1), so
    they broadcast against the tensor.
    """

    bits: int
    symmetric: bool
    axis: int | None
    scale: np.ndarray
    zero_point: np.ndarray

    @property
    def qmin(self) -> int:
        return -(2 ** (self.bits - 1) - 1) if self.symmetric else 0

    @property
    def qmax(self) -> int:
        return 2 ** (self.bits - 1) - 1 if self.symmetric else 2**self.bits - 1


def quant_params(x: np.ndarray, bits: int, *, symmetric: bool = True, axis: int | None = None) -> QuantParams:
    """Min/max calibration of ``x`` for ``bits``-bit codes, per tensor or per ``axis`` channel.

    Symmetric: ``scale = max|x| / (2^(b-1) - 1)``. Asymmetric: the range ``[min(x, 0),
    max(x, 0)]`` (so zero is exact) over ``2^b - 1`` steps, ``zero_point = round(-lo / scale)``.
    An all-zero channel gets scale 1.
    """
    x = np.asarray(x, dtype=np.float64)
    if symmetric and bits < 2:
        raise UnsupportedError(f"symmetric quantization needs at least 2 bits, got {bits}; use asymmetric for 1 bit")
    if bits < 1 or bits > 32:
        raise UnsupportedError(f"expected 1 to 32 quantization bits, got {bits}")
    if axis is not None and not -x.ndim <= axis < x.ndim:
        raise UnsupportedError(f"channel axis {axis} is out of range for a {x.ndim}-d tensor")
    axis = None if axis is None else axis % x.ndim
    reduce = tuple(i for i in range(x.ndim) if i != axis)
    lo = np.minimum(x.min(axis=reduce, keepdims=True), 0.0) if x.size else np.zeros([1] * x.ndim)
    hi = np.maximum(x.max(axis=reduce, keepdims=True), 0.0) if x.size else np.zeros([1] * x.ndim)
    if symmetric:
        scale = np.maximum(-lo, hi) / (2 ** (bits - 1) - 1)
        scale = np.where(scale > 0, scale, 1.0)
        zero_point = np.zeros_like(scale, dtype=np.int64)
    else:
        scale = (hi - lo) / (2**bits - 1)
        scale = np.where(scale > 0, scale, 1.0)
        zero_point = np.clip(np.rint(-lo / scale), 0, 2**bits - 1).astype(np.int64)
    return QuantParams(bits=bits, symmetric=symmetric, axis=axis, scale=scale, zero_point=zero_point)


def quantize(x: np.ndarray, params: QuantParams) -> np.ndarray:
    """Integer codes (int64) of ``x``: ``clip(round(x / scale) + zero_point, qmin, qmax)``."""
    codes = np.rint(np.asarray(x, dtype=np.float64) / params.scale) + params.zero_point
    return np.clip(codes, params.qmin, params.qmax).astype(np.int64)


def dequantize(codes: np.ndarray, params: QuantParams) -> np.ndarray:
    """Real values (float64) of integer ``codes``: ``(codes - zero_point) * scale``."""
    return (np.asarray(codes, dtype=np.int64) - params.zero_point) * params.scale


@dataclass(frozen=True)
class NumericError:
    """How far a computed output is from its float64 reference.

    ``sqnr_db``: ``10 log10(sum y^2 / sum (y - y_hat)^2)`` (inf when exact);
    ``max_abs_error``: ``max |y - y_hat|``; ``max_rel_error``: ``max_abs_error / max |y|``,
    relative to the output's largest magnitude (so outputs near zero do not blow it up).
    """

    sqnr_db: float
    max_abs_error: float
    max_rel_error: float


def output_error(reference: np.ndarray, approx: np.ndarray) -> NumericError:
    """SQNR and maximum errors of ``approx`` against ``reference`` (same shape)."""
    reference = np.asarray(reference, dtype=np.float64)
    noise = reference - np.asarray(approx, dtype=np.float64)
    signal_power, noise_power = float(np.sum(reference**2)), float(np.sum(noise**2))
    if noise_power == 0.0:
        sqnr = float("inf")
    elif signal_power == 0.0:
        sqnr = float("-inf")
    else:
        sqnr = 10.0 * np.log10(signal_power / noise_power)
    max_abs = float(np.max(np.abs(noise))) if noise.size else 0.0
    peak = float(np.max(np.abs(reference))) if reference.size else 0.0
    max_rel = max_abs / peak if peak > 0 else (0.0 if max_abs == 0 else float("inf"))
    return NumericError(sqnr_db=float(sqnr), max_abs_error=max_abs, max_rel_error=max_rel)


def integer_gemm(a: np.ndarray, b: np.ndarray, accumulator_bits: int = 32,
                 overflow: Overflow = Overflow.WRAP) -> np.ndarray:
    """``A @ B`` on integers with a ``accumulator_bits`` two's complement accumulator.

    Each output accumulates its products in reduction order ``k = 0, 1, ...`` from 0, and after
    every addition wraps (modulo ``2^bits``) or saturates to ``[-2^(bits-1), 2^(bits-1) - 1]``.
    (Saturation depends on that order where partial sums cross a limit and come back; a wrap
    does not.) An independent numpy model of the ``pe`` array's accumulators.
    """
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    lo, hi = -(2 ** (accumulator_bits - 1)), 2 ** (accumulator_bits - 1) - 1
    acc = np.zeros((a.shape[0], b.shape[1]), dtype=object)  # Python ints: no int64 overflow
    for k in range(a.shape[1]):
        acc = acc + np.outer(a[:, k], b[k, :]).astype(object)
        if overflow is Overflow.SATURATE:
            acc = np.clip(acc, lo, hi)
        else:
            acc = (acc - lo) % (2**accumulator_bits) + lo
    return acc.astype(np.int64)


def numpy_gemm(mac: MacSpec) -> IntegerGemm:
    """:func:`integer_gemm` with ``mac``'s accumulator width and overflow behaviour."""
    return partial(integer_gemm, accumulator_bits=mac.accumulator_bits, overflow=mac.overflow)


@dataclass(frozen=True)
class QuantSpec:
    """How one GEMM operand is quantized.

    ``per_channel``: one scale per row of ``A`` (per token or pixel) or per column of ``B``
    (per output channel); a scale along the reduction could not be factored out of the sum.
    """

    bits: int
    symmetric: bool = True
    per_channel: bool = False


@dataclass(frozen=True)
class QuantizedGemm:
    """One quantized GEMM and what it cost in accuracy.

    Attributes
    ----------
    out : (M, N) float64
        Dequantized result.
    accumulators : (M, N) int64
        What the integer GEMM returned (raw codes' sums, after the accumulator's overflow).
    overflowed_outputs : int
        Outputs whose accumulator differs from the exact sum of their code products.
    error : NumericError
        ``out`` against float64 ``A @ B``.
    """

    out: np.ndarray
    accumulators: np.ndarray
    overflowed_outputs: int
    error: NumericError


def quantized_gemm(a: np.ndarray, b: np.ndarray, act: QuantSpec, weight: QuantSpec,
                   gemm: IntegerGemm) -> QuantizedGemm:
    """Quantize ``A[M, K]`` and ``B[K, N]``, multiply on ``gemm``, dequantize, measure the error.

    ``gemm`` is the integer hardware: ``numpy_gemm(arch.mac)``, or in ``pe`` fidelity
    ``lambda x, y: run_gemm(arch, x, y, fidelity="pe")[0]``.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise UnsupportedError(f"expected A[M, K] and B[K, N], got shapes {a.shape} and {b.shape}")
    pa = quant_params(a, act.bits, symmetric=act.symmetric, axis=0 if act.per_channel else None)
    pb = quant_params(b, weight.bits, symmetric=weight.symmetric, axis=1 if weight.per_channel else None)
    qa, qb = quantize(a, pa), quantize(b, pb)
    _check_exact_range(qa, qb)
    accumulators = np.asarray(gemm(qa, qb), dtype=np.int64)
    exact = exact_integer_product(qa, qb)
    za, zb = pa.zero_point, pb.zero_point           # (M or 1, 1) and (1, N or 1)
    k = a.shape[1]
    corrected = accumulators - zb * qa.sum(axis=1, keepdims=True) - za * qb.sum(axis=0, keepdims=True) + k * za * zb
    out = corrected * (pa.scale * pb.scale)
    return QuantizedGemm(out=out, accumulators=accumulators,
                         overflowed_outputs=int(np.count_nonzero(accumulators != exact)),
                         error=output_error(a @ b, out))


FLOAT64_EXACT_INTEGERS = 2**53
"""Integers of magnitude below this are exact in float64 (53-bit significand)."""


def exact_integer_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The exact int64 ``A @ B`` of two integer matrices, by float64 BLAS where that is exact.

    Proof of exactness: every product ``a[m, k] * b[k, n]`` and every partial sum of them, in
    whatever order and grouping BLAS adds them (fused multiply-adds included), has a magnitude of
    at most ``K * max|A| * max|B|``. When that bound is below 2**53 each of those values is an
    integer float64 holds exactly, so no operation rounds and the result is the exact integer.
    For signed codes of ``a`` and ``w`` bits (``max <= 2**(bits - 1)``) this holds whenever
    ``a - 1 + w - 1 + log2(K) < 53``: int8 x int8 up to K = 2**39, int16 x int16 up to K = 2**23.
    Beyond the bound the product is taken in int64 (no BLAS; exact below 2**63, which
    :func:`quantized_gemm` checks first).
    """
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    peak = _magnitude(a) * _magnitude(b) * a.shape[1]
    if peak < FLOAT64_EXACT_INTEGERS:
        return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)
    return a @ b


def _magnitude(values: np.ndarray) -> int:
    """Largest ``|value|`` as a Python int (no int64 wrap of ``abs(-2**63)``)."""
    return max(int(values.max(initial=0)), -int(values.min(initial=0)))


def _check_exact_range(qa: np.ndarray, qb: np.ndarray) -> None:
    """The exact int64 sums stay far from int64 overflow (codes of at most ~30 bits each)."""
    peak = int(np.abs(qa).max(initial=0)) * int(np.abs(qb).max(initial=0)) * max(qa.shape[1], 1)
    if peak >= 2**62:
        raise UnsupportedError(f"code products summed over K={qa.shape[1]} reach {peak}, beyond int64; "
                               "use fewer bits")
