"""Nonlinear ops, elementwise ops and pooling on a vector unit: values and programs.

For every op and implementation (:class:`~accelsim.spec.workload.NonlinearImpl`) this
module gives what the hardware would compute (:func:`evaluate`, numpy), the exact value
(:func:`reference`, float64 from numpy and :func:`math.erf` only) and what it costs
(:func:`layer_program`: the passes and primitive ops per element and per row).

Where a ``lut``/``pwl``/``poly`` implementation applies:

* softmax: exp, after range reduction ``exp(x) = 2^n * 2^f`` with ``f`` in [0, 1); the
  table or polynomial approximates ``2^f``;
* LayerNorm/RMSNorm: 1/sqrt, after range reduction ``v = m * 4^k`` with ``m`` in [1, 4);
* GELU, SiLU, sigmoid, tanh: the function itself on :data:`DOMAINS`, with exact tails
  outside (0 or x for GELU/SiLU, 0/1 for sigmoid, -1/1 for tanh).

``exact`` is floating point with a special-function unit for exp, divide and sqrt;
its GELU is the tanh form (Hendrycks and Gimpel 2016; PyTorch ``approximate="tanh"``), whose
difference from the erf definition is reported like any other error. ``ibert`` runs the
whole op on integers quantized per tensor to ``bits`` bits (scale = max|x| / (2^(bits-1)-1)):
I-BERT's i-exp softmax, i-GELU and i-sqrt LayerNorm, and sigmoid/SiLU/tanh built from i-exp
(an extension of I-BERT, which does not define them).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping

import numpy as np

from accelsim.spec.workload import (
    Eltwise, EltwiseKind, ImplKind, Layer, NonlinearImpl, Nonlinear, Op, Pool, PoolKind,
)
from accelsim.vector import approx
from accelsim.vector.program import Pass, Program, VectorOp, merge, ops, scaled

LAYERNORM_EPS = 1e-5
"""Added to the variance before 1/sqrt (PyTorch's LayerNorm default)."""

DOMAINS: Mapping[Op, tuple[float, float]] = {
    Op.GELU: (-4.0, 4.0), Op.SILU: (-8.0, 8.0), Op.SIGMOID: (-8.0, 8.0), Op.TANH: (-4.0, 4.0),
}
"""Interval a lut/pwl/poly activation covers; outside it the exact asymptote is used."""

REDUCTIONS = (Op.SOFTMAX, Op.LAYERNORM, Op.RMSNORM)

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


_EXACT: Mapping[Op, Callable[[np.ndarray], np.ndarray]] = {
    Op.GELU: lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))),
    Op.SILU: lambda x: x * _sigmoid(x),
    Op.SIGMOID: _sigmoid,
    Op.TANH: np.tanh,
    Op.RELU: lambda x: np.maximum(x, 0.0),
}

_TAILS: Mapping[Op, tuple[Callable, Callable]] = {
    Op.GELU: (np.zeros_like, lambda x: x),
    Op.SILU: (np.zeros_like, lambda x: x),
    Op.SIGMOID: (np.zeros_like, np.ones_like),
    Op.TANH: (lambda x: -np.ones_like(x), np.ones_like),
}


def _gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


# exact floating-point recipes: (function, ops per element)
_FLOAT: Mapping[Op, tuple[Callable, Mapping[VectorOp, int]]] = {
    # x^3 (2 mul), *0.044715, +x, *sqrt(2/pi); tanh(y) = 1 - 2/(exp(2y)+1): mul, exp, add, div, add;
    # 0.5 * x * (1 + t): add, 2 mul
    Op.GELU: (_gelu_tanh, ops(FMUL=6, FADD=4, FEXP=1, FDIV=1)),
    Op.SIGMOID: (_sigmoid, ops(FEXP=1, FADD=1, FDIV=1)),  # 1 / (1 + exp(-x))
    Op.SILU: (lambda x: x * _sigmoid(x), ops(FEXP=1, FADD=1, FDIV=1, FMUL=1)),
    Op.TANH: (np.tanh, ops(FMUL=1, FEXP=1, FADD=2, FDIV=1)),  # 1 - 2 / (exp(2x) + 1)
    Op.RELU: (lambda x: np.maximum(x, 0.0), ops(FCMP=1)),
}


def reference(op: Op, x: np.ndarray) -> np.ndarray:
    """Exact ``op`` of float64 ``x`` (reductions along the last axis; LayerNorm without affine)."""
    x = np.asarray(x, dtype=np.float64)
    if op is Op.SOFTMAX:
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    if op is Op.LAYERNORM:
        centred = x - x.mean(axis=-1, keepdims=True)
        return centred / np.sqrt((centred ** 2).mean(axis=-1, keepdims=True) + LAYERNORM_EPS)
    if op is Op.RMSNORM:
        return x / np.sqrt((x ** 2).mean(axis=-1, keepdims=True) + LAYERNORM_EPS)
    return _EXACT[op](x)


# ------------------------------------------------------------ float cores with range reduction

@functools.lru_cache(maxsize=256)
def _core(target: str, impl: NonlinearImpl):
    if target == "exp2":
        return approx.fit(np.exp2, 0.0, 1.0, impl)
    if target == "rsqrt":
        return approx.fit(lambda m: 1.0 / np.sqrt(m), 1.0, 4.0, impl)
    op = Op(target)
    return approx.fit(_EXACT[op], *DOMAINS[op], impl)


def _exp(x: np.ndarray, impl: NonlinearImpl) -> np.ndarray:
    """exp(x) for x <= 0."""
    if impl.kind is ImplKind.EXACT:
        return np.exp(x)
    t = x * math.log2(math.e)
    n = np.floor(t)
    return np.ldexp(_core("exp2", impl)(t - n), n.astype(np.int64))


def _exp_ops(impl: NonlinearImpl) -> Mapping[VectorOp, int]:
    if impl.kind is ImplKind.EXACT:
        return ops(FEXP=1)
    # t = x*log2(e), n = floor(t), f = t - n, core, add n to the exponent field
    return merge(_core("exp2", impl).ops, ops(FMUL=1, CVT=1, FADD=1, IADD=1))


def _rsqrt(v: np.ndarray, impl: NonlinearImpl) -> np.ndarray:
    if impl.kind is ImplKind.EXACT:
        return 1.0 / np.sqrt(v)
    _, exponent = np.frexp(v)  # v = fr * 2^exponent, fr in [0.5, 1)
    k = (exponent - 1) // 2
    return np.ldexp(_core("rsqrt", impl)(np.ldexp(v, -2 * k)), -k)


def _rsqrt_ops(impl: NonlinearImpl) -> Mapping[VectorOp, int]:
    if impl.kind is ImplKind.EXACT:
        return ops(FSQRT=1, FDIV=1)
    # extract and halve the exponent, rebuild the mantissa in [1, 4), core, set the exponent
    return merge(_core("rsqrt", impl).ops, ops(SHIFT=1, IADD=2))


def _activation(op: Op, x: np.ndarray, impl: NonlinearImpl) -> np.ndarray:
    if impl.kind is ImplKind.EXACT or op is Op.RELU:
        return _FLOAT[op][0](x)
    lo, hi = DOMAINS[op]
    below, above = _TAILS[op]
    return np.where(x < lo, below(x), np.where(x > hi, above(x), _core(op.value, impl)(x)))


def _activation_ops(op: Op, impl: NonlinearImpl) -> Mapping[VectorOp, int]:
    if impl.kind is ImplKind.EXACT or op is Op.RELU:
        return _FLOAT[op][1]
    return merge(_core(op.value, impl).ops, ops(FCMP=2))  # two compares pick core or tail


# ----------------------------------------------------------------------- integer (I-BERT)

def _quantize(x: np.ndarray, bits: int) -> tuple[np.ndarray, float]:
    bound = float(np.max(np.abs(x))) if x.size else 0.0
    scale = bound / (2 ** (bits - 1) - 1) if bound > 0 else 1.0
    return np.rint(x / scale).astype(np.int64), scale


def _i_sigmoid(q: np.ndarray, scale: float, frac_bits: int) -> np.ndarray:
    """sigmoid as an integer with ``frac_bits`` fraction bits, from i-exp of -|x|."""
    e, scale_e = approx.i_exp(-np.abs(q), scale)
    one = round(1 / scale_e)
    low = (e << frac_bits) // (e + one)  # sigmoid(-|x|) = e / (1 + e)
    return np.where(q > 0, (1 << frac_bits) - low, low)


_I_SIGMOID_OPS = merge(approx.I_EXP_OPS, ops(ICMP=2, IADD=2, SHIFT=1, IDIV=1))
"""|x|, i-exp, e + 1, << frac_bits, divide, select 1 - s for x > 0."""

_INTEGER_ELEMENTWISE_OPS: Mapping[Op, Mapping[VectorOp, int]] = {
    Op.GELU: approx.I_GELU_OPS,
    Op.SIGMOID: _I_SIGMOID_OPS,
    Op.SILU: merge(_I_SIGMOID_OPS, ops(IMUL=1)),
    Op.TANH: merge(_I_SIGMOID_OPS, ops(SHIFT=2, IADD=1)),  # 2 sigmoid(2x) - 1
    Op.RELU: ops(ICMP=1),
}

_SOFTMAX_OUT_SHIFT = 62
"""Softmax normalises with factor = 2^62 // sum (one divide per row) and e * factor >> (62 - bits).

I-BERT's code uses 2^32, which leaves the factor only a few significant bits when the sum of
16-bit exponentials is large (a 1% error); 2^62 needs a 64-bit multiply and keeps e * factor
below 2^62 because e <= sum."""


IBERT_MAX_INPUT_BITS = 16
"""Widest input the I-BERT kernels take. They square and multiply their inputs in 32-bit
integers (Kim et al., ICML 2021, section 3), so a 16-bit input is the widest whose square fits;
a wider one is rounded to 16 bits first, and more bits are never worse than fewer."""


def _integer(op: Op, x: np.ndarray, bits: int) -> np.ndarray:
    """I-BERT's integer kernels on ``x`` quantized to ``min(bits, IBERT_MAX_INPUT_BITS)`` bits.

    The integer steps run on Python integers (object arrays) so that no intermediate can wrap,
    whatever the input's range (int64 wraps for inputs of a tiny range, whose scale is tiny).
    """
    q, scale = _quantize(x, min(bits, IBERT_MAX_INPUT_BITS))
    return np.asarray(_integer_steps(op, x, q.astype(object), scale, min(bits, IBERT_MAX_INPUT_BITS)),
                      dtype=np.float64)


def _integer_steps(op: Op, x: np.ndarray, q: np.ndarray, scale: float, bits: int) -> np.ndarray:
    if op is Op.SOFTMAX:
        e, _ = approx.i_exp(q - q.max(axis=-1, keepdims=True), scale)
        factor = (1 << _SOFTMAX_OUT_SHIFT) // e.sum(axis=-1, keepdims=True)
        return ((e * factor) >> (_SOFTMAX_OUT_SHIFT - bits)) / 2.0 ** bits
    if op in (Op.LAYERNORM, Op.RMSNORM):
        n = x.shape[-1]
        centred = q - (q.sum(axis=-1, keepdims=True) + n // 2) // n if op is Op.LAYERNORM else q
        std, _ = approx.i_sqrt((centred ** 2).sum(axis=-1, keepdims=True) // n)
        factor = (1 << 31) // np.maximum(std, 1)
        return centred * factor / 2.0 ** 31
    if op is Op.GELU:
        value, scale_out = approx.i_gelu(q, scale)
        return value * scale_out
    if op is Op.SIGMOID:
        return _i_sigmoid(q, scale, bits) / 2.0 ** bits
    if op is Op.SILU:
        return q * _i_sigmoid(q, scale, bits) * (scale / 2.0 ** bits)
    if op is Op.TANH:
        return ((_i_sigmoid(2 * q, scale, bits) << 1) - (1 << bits)) / 2.0 ** bits
    return np.maximum(q, 0) * scale  # relu


def evaluate(op: Op, impl: NonlinearImpl, x: np.ndarray) -> np.ndarray:
    """What ``impl`` computes for ``op`` on float64 ``x`` (reductions along the last axis)."""
    x = np.asarray(x, dtype=np.float64)
    if impl.kind is ImplKind.IBERT:
        return _integer(op, x, impl.bits)
    if op is Op.SOFTMAX:
        e = _exp(x - x.max(axis=-1, keepdims=True), impl)
        return e * (1.0 / e.sum(axis=-1, keepdims=True))
    if op in (Op.LAYERNORM, Op.RMSNORM):
        centred = x - x.mean(axis=-1, keepdims=True) if op is Op.LAYERNORM else x
        return centred * _rsqrt((centred ** 2).mean(axis=-1, keepdims=True) + LAYERNORM_EPS, impl)
    return _activation(op, x, impl)


# ---------------------------------------------------------------------------------- programs

ELTWISE_OPS: Mapping[EltwiseKind, Mapping[str, int]] = {
    EltwiseKind.ADD: {"ADD": 1}, EltwiseKind.SUB: {"ADD": 1}, EltwiseKind.MUL: {"MUL": 1},
    EltwiseKind.DIV: {"DIV": 1}, EltwiseKind.MAX: {"CMP": 1}, EltwiseKind.MIN: {"CMP": 1},
    EltwiseKind.COMPARE: {"CMP": 1}, EltwiseKind.WHERE: {"CMP": 1}, EltwiseKind.NEG: {"ADD": 1},
    EltwiseKind.ABS: {"CMP": 1}, EltwiseKind.MOD: {"DIV": 1, "MUL": 1, "ADD": 1},  # a - floor(a / b) * b
    EltwiseKind.SQRT: {"SQRT": 1}, EltwiseKind.RECIPROCAL: {"DIV": 1}, EltwiseKind.EXP: {"EXP": 1},
    EltwiseKind.POW: {"EXP": 2, "MUL": 1},  # exp(y * ln x), ln counted as one more exp (an approximation)
    EltwiseKind.CAST: {"CVT": 1}, EltwiseKind.AFFINE: {"MUL": 1, "ADD": 1},
}
"""Lane ops per output value of each elementwise kind (per extra input for add ... min, pow, mod)."""


def _lane_op(name: str, integer: bool) -> VectorOp:
    """``F<name>``/``I<name>`` (integer when asked and the lane has it), or ``CVT``."""
    if name == "CVT":
        return VectorOp.CVT
    return VectorOp[f"I{name}"] if integer and f"I{name}" in VectorOp.__members__ else VectorOp[f"F{name}"]


def _nonlinear_program(op: Op, impl: NonlinearImpl) -> Program:
    integer = impl.kind is ImplKind.IBERT
    add, mul, cmp = (VectorOp.IADD, VectorOp.IMUL, VectorOp.ICMP) if integer else (VectorOp.FADD, VectorOp.FMUL, VectorOp.FCMP)
    if op is Op.SOFTMAX:
        exp_ops = approx.I_EXP_OPS if integer else _exp_ops(impl)
        normalise = ops(IMUL=1, SHIFT=1) if integer else ops(FMUL=1)
        return Program((
            Pass({cmp: 1}, reduce=cmp),                                       # row max
            Pass(merge({add: 2}, exp_ops), reduce=add,                         # x - max, exp, sum
                 per_row=ops(IDIV=1) if integer else ops(FDIV=1), writes_row=True),
            Pass(normalise, writes_row=True),                                  # e * (1 / sum)
        ))
    if op in (Op.LAYERNORM, Op.RMSNORM):
        if integer:
            inv_std = merge(scaled(approx.ISQRT_ITERATION_OPS, approx.ISQRT_MAX_ITERATIONS),
                            ops(IDIV=2))  # var // n, 2^31 // std
            scale_ops = ops(IMUL=2, SHIFT=1, IADD=1)  # * factor, >> , affine
        else:
            inv_std = merge(_rsqrt_ops(impl), ops(FMUL=1, FADD=1))  # var / n + eps, 1/sqrt
            scale_ops = ops(FMUL=2, FADD=1)  # * inv_std, * gamma, + beta
        if op is Op.RMSNORM:
            return Program((
                Pass({mul: 1, add: 1}, reduce=add, per_row=inv_std),           # sum of squares
                Pass(scale_ops, writes_row=True),
            ))
        return Program((
            Pass({add: 1}, reduce=add, per_row={mul: 1}),                      # mean
            Pass({add: 2, mul: 1}, reduce=add, per_row=inv_std),               # sum of (x - mean)^2
            Pass(merge({add: 1}, scale_ops), writes_row=True),                 # (x - mean) * inv_std
        ))
    per_element = _INTEGER_ELEMENTWISE_OPS[op] if integer else _activation_ops(op, impl)
    return Program((Pass(per_element, writes_row=True),))


def layer_program(layer: Layer, impl: NonlinearImpl | None = None) -> tuple[Program, int, int]:
    """The program of a vector layer and the ``(rows, row_len)`` it runs over.

    Reductions run along the last axis of a nonlinear layer's shape and over the window of a
    pooling layer (one row per output); elementwise work is one row of every element.
    ``impl`` defaults to the layer's ``compression.nonlinear_impl``.
    """
    impl = impl or layer.compression.nonlinear_impl
    integer = impl.kind is ImplKind.IBERT
    if isinstance(layer, Nonlinear):
        program = _nonlinear_program(layer.op, impl)
        if layer.op in REDUCTIONS:
            row_len = layer.shape[-1]
            return program, layer.input_elements // row_len, row_len
        return program, 1, layer.input_elements
    if isinstance(layer, Eltwise):
        repeats = layer.vector_elements // layer.output_elements if layer.output_elements else 1
        per_element = {_lane_op(name, integer): count * repeats for name, count in ELTWISE_OPS[layer.kind].items()}
        return Program((Pass(per_element, writes_row=True),), inputs=layer.inputs), 1, layer.output_elements
    if isinstance(layer, Pool):
        taps = layer.kernel[0] * layer.kernel[1]
        if layer.kind is PoolKind.MAX:
            reduce_op = VectorOp.ICMP if integer else VectorOp.FCMP
            window = Pass({reduce_op: 1}, reduce=reduce_op)
        else:  # sum the window, then one multiply by 1/taps
            reduce_op = VectorOp.IADD if integer else VectorOp.FADD
            window = Pass({reduce_op: 1}, reduce=reduce_op, per_row=ops(IMUL=1) if integer else ops(FMUL=1))
        return Program((window,)), layer.output_elements, taps
    raise TypeError(f"layer {layer.name!r} ({layer.op.value}) is not vector work")
