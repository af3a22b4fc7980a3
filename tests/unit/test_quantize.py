"""Quantizers, the integer GEMM model and quantized-GEMM error (accelsim.compress.quantize).

Expected values are hand calculations written out here, float64 numpy computed along a
different path, or properties (round-trip error within half a step, exactness without
overflow, saturation at the accumulator limits).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from accelsim.compress.quantize import (
    QuantSpec,
    dequantize,
    exact_integer_product,
    integer_gemm,
    numpy_gemm,
    output_error,
    quant_params,
    quantize,
    quantized_gemm,
)
from accelsim.errors import UnsupportedError
from accelsim.spec.arch import MacSpec, Overflow

# ---------------------------------------------------------------- quantizers


def test_symmetric_per_tensor_by_hand():
    x = np.array([-1.0, 0.5, 0.25])
    p = quant_params(x, 8, symmetric=True)
    assert p.scale.item() == pytest.approx(1 / 127) and p.zero_point.item() == 0
    # 0.5 * 127 = 63.5 -> 64 (half to even), 0.25 * 127 = 31.75 -> 32
    assert quantize(x, p).tolist() == [-127, 64, 32]


def test_asymmetric_by_hand():
    x = np.array([-1.0, 0.0, 2.0])
    p = quant_params(x, 2, symmetric=False)
    # range [-1, 2] over 3 steps: scale 1, zero point 1; codes 0, 1, 3
    assert (p.scale.item(), p.zero_point.item()) == (1.0, 1)
    assert quantize(x, p).tolist() == [0, 1, 3]
    assert dequantize(quantize(x, p), p).tolist() == [-1.0, 0.0, 2.0]


def test_asymmetric_range_includes_zero():
    """All-positive data: the range starts at 0, so zero is exact and the zero point is 0."""
    p = quant_params(np.array([2.0, 4.0]), 4, symmetric=False)
    assert p.zero_point.item() == 0 and p.scale.item() == pytest.approx(4 / 15)


def test_per_channel_scales_each_column():
    x = np.array([[1.0, -10.0], [0.5, 5.0]])
    p = quant_params(x, 4, symmetric=True, axis=1)
    assert p.scale.shape == (1, 2)
    assert p.scale.ravel().tolist() == pytest.approx([1 / 7, 10 / 7])
    assert quantize(x, p).tolist() == [[7, -7], [4, 4]]  # 3.5 -> 4, 3.5 -> 4


def test_all_zero_tensor_quantizes_to_zero():
    p = quant_params(np.zeros((2, 3)), 8)
    assert p.scale.item() == 1.0 and not quantize(np.zeros((2, 3)), p).any()


def test_symmetric_one_bit_is_rejected():
    with pytest.raises(UnsupportedError, match="at least 2 bits"):
        quant_params(np.ones(3), 1, symmetric=True)


@given(
    x=hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)),
                 elements=st.floats(-100, 100, allow_nan=False)),
    bits=st.integers(2, 12),
    symmetric=st.booleans(),
    axis=st.sampled_from([None, 0, 1]),
)
def test_round_trip_error_is_at_most_half_a_step(x, bits, symmetric, axis):
    p = quant_params(x, bits, symmetric=symmetric, axis=axis)
    q = quantize(x, p)
    assert q.min() >= p.qmin and q.max() <= p.qmax
    assert np.all(np.abs(dequantize(q, p) - x) <= p.scale / 2 * (1 + 1e-9) + 1e-12)


# ---------------------------------------------------------------- integer GEMM model


@given(
    m=st.integers(1, 6), k=st.integers(1, 12), n=st.integers(1, 6), bits=st.integers(2, 8),
    overflow=st.sampled_from(list(Overflow)), data=st.data(),
)
def test_integer_gemm_is_exact_without_overflow(m, k, n, bits, overflow, data):
    lim = 2 ** (bits - 1)
    a = data.draw(hnp.arrays(np.int64, (m, k), elements=st.integers(-lim, lim - 1)))
    b = data.draw(hnp.arrays(np.int64, (k, n), elements=st.integers(-lim, lim - 1)))
    np.testing.assert_array_equal(integer_gemm(a, b, 32, overflow), a @ b)


@given(
    m=st.integers(1, 4), k=st.integers(1, 10), n=st.integers(1, 4), acc=st.integers(4, 16), data=st.data(),
)
@example(m=1, k=2, n=1, acc=8, data=None)
def test_wrap_equals_exact_sum_modulo(m, k, n, acc, data):
    """Two's complement wrap after every add = the exact sum reduced modulo 2^acc (by hand)."""
    if data is None:
        a, b = np.array([[100, 100]]), np.array([[1], [1]])
    else:
        a = data.draw(hnp.arrays(np.int64, (m, k), elements=st.integers(-128, 127)))
        b = data.draw(hnp.arrays(np.int64, (k, n), elements=st.integers(-128, 127)))
    exact = (a @ b).tolist()
    want = [[((v + 2 ** (acc - 1)) % 2**acc) - 2 ** (acc - 1) for v in row] for row in exact]
    assert integer_gemm(a, b, acc, Overflow.WRAP).tolist() == want


def test_saturation_at_accumulator_limits_by_hand():
    a = np.array([[100, 100], [-100, -100]])
    b = np.array([[1], [1]])
    # 8-bit accumulator: +200 saturates to 127, -200 to -128; wrapping gives -56 and 56
    assert integer_gemm(a, b, 8, Overflow.SATURATE).ravel().tolist() == [127, -128]
    assert integer_gemm(a, b, 8, Overflow.WRAP).ravel().tolist() == [-56, 56]


def test_saturation_happens_in_reduction_order():
    """100 + 100 saturates to 127, then -100 gives 27 (the exact sum would be 100)."""
    assert integer_gemm(np.array([[100, 100, -100]]), np.ones((3, 1), np.int64), 8,
                        Overflow.SATURATE).item() == 27


@given(k=st.integers(1, 40), sign=st.sampled_from([1, -1]), acc=st.integers(6, 12))
def test_same_sign_products_saturate_to_clamped_sum(k, sign, acc):
    """With every product of one sign, any order gives clamp(exact sum): a limit is final."""
    a = np.full((1, k), 7 * sign, np.int64)
    b = np.full((k, 1), 5, np.int64)
    lo, hi = -(2 ** (acc - 1)), 2 ** (acc - 1) - 1
    assert integer_gemm(a, b, acc, Overflow.SATURATE).item() == min(max(35 * sign * k, lo), hi)


def test_numpy_gemm_uses_the_mac_accumulator():
    gemm = numpy_gemm(MacSpec(accumulator_bits=8, overflow=Overflow.SATURATE))
    assert gemm(np.array([[100, 100]]), np.array([[1], [1]])).item() == 127


# ---------------------------------------------------------------- quantized GEMM and its error


def test_output_error_by_hand():
    err = output_error(np.array([3.0, 4.0]), np.array([3.0, 3.0]))
    # signal 25, noise 1 -> 10 log10 25 dB; max abs 1, relative to max |y| = 4
    assert err.sqnr_db == pytest.approx(10 * np.log10(25))
    assert (err.max_abs_error, err.max_rel_error) == (1.0, 0.25)
    assert output_error(np.ones(3), np.ones(3)).sqnr_db == float("inf")


@pytest.mark.parametrize("act_sym, w_sym, per_channel", [(True, True, False), (False, True, True), (False, False, True)])
def test_quantized_gemm_equals_float_product_of_dequantized_operands(rng, act_sym, w_sym, per_channel):
    """Zero-point correction after the integer GEMM = multiplying the dequantized operands."""
    a = np.maximum(rng.normal(size=(5, 16)), 0) + 0.1      # ReLU-like activations
    b = rng.normal(size=(16, 3)) * np.array([1.0, 10.0, 0.1])
    act, weight = QuantSpec(8, act_sym, per_channel), QuantSpec(6, w_sym, per_channel)
    res = quantized_gemm(a, b, act, weight, numpy_gemm(MacSpec()))
    pa = quant_params(a, 8, symmetric=act_sym, axis=0 if per_channel else None)
    pb = quant_params(b, 6, symmetric=w_sym, axis=1 if per_channel else None)
    want = dequantize(quantize(a, pa), pa) @ dequantize(quantize(b, pb), pb)
    np.testing.assert_allclose(res.out, want, rtol=1e-12, atol=1e-12)
    assert res.overflowed_outputs == 0


def test_integer_valued_data_quantizes_exactly():
    """Integers within +-7 with max |x| = 7 get scale 1 at 4 bits: no error at all."""
    a = np.array([[7.0, -3.0, 2.0], [1.0, 0.0, -7.0]])
    b = np.array([[1.0, -7.0], [7.0, 2.0], [-5.0, 3.0]])
    res = quantized_gemm(a, b, QuantSpec(4), QuantSpec(4), numpy_gemm(MacSpec()))
    np.testing.assert_array_equal(res.out, a @ b)
    assert res.error.sqnr_db == float("inf") and res.error.max_rel_error == 0.0


def test_sqnr_grows_about_6db_per_bit(rng):
    """Approximate: uniform quantization noise falls 4x (6.02 dB) per bit, so two more bits on
    both operands of a Gaussian GEMM give roughly 12 dB; accepted within 9 to 15 dB."""
    a, b = rng.normal(size=(32, 64)), rng.normal(size=(64, 16))
    sqnr = [quantized_gemm(a, b, QuantSpec(bits), QuantSpec(bits, per_channel=True),
                           numpy_gemm(MacSpec())).error.sqnr_db for bits in (4, 6, 8, 10)]
    steps = np.diff(sqnr)
    assert np.all((steps > 9) & (steps < 15)), sqnr


def test_narrow_accumulator_overflow_is_counted_and_costs_accuracy(rng):
    a, b = np.abs(rng.normal(size=(4, 64))), np.abs(rng.normal(size=(64, 4)))
    wide = quantized_gemm(a, b, QuantSpec(8), QuantSpec(8), numpy_gemm(MacSpec(accumulator_bits=32)))
    narrow = quantized_gemm(a, b, QuantSpec(8), QuantSpec(8),
                            numpy_gemm(MacSpec(accumulator_bits=16, overflow=Overflow.SATURATE)))
    # all codes positive, ~64 products of up to 127*127 each: every sum passes 2^15 - 1
    assert wide.overflowed_outputs == 0 and narrow.overflowed_outputs == 16
    assert np.all(narrow.accumulators == 2**15 - 1)
    assert narrow.error.sqnr_db < wide.error.sqnr_db


def test_reduction_axis_shapes_are_checked():
    with pytest.raises(UnsupportedError, match="A\\[M, K\\]"):
        quantized_gemm(np.ones((2, 3)), np.ones((4, 2)), QuantSpec(8), QuantSpec(8), numpy_gemm(MacSpec()))


@given(st.integers(1, 6), st.integers(1, 40), st.integers(1, 6), st.integers(1, 31), st.integers(1, 31),
       st.integers(0, 2**32 - 1))
def test_exact_integer_product_equals_python_integer_sums(m, k, n, a_bits, b_bits, seed):
    """Against sums of Python ints (no overflow, no rounding), on both sides of the float64 bound:
    codes of up to 31 bits make products up to 2**60, so larger cases take the int64 path."""
    gen = np.random.default_rng(seed)
    a = gen.integers(-(2 ** (a_bits - 1)), 2 ** (a_bits - 1), (m, k), dtype=np.int64)
    b = gen.integers(-(2 ** (b_bits - 1)), 2 ** (b_bits - 1), (k, n), dtype=np.int64)
    want = [[sum(int(a[i, j]) * int(b[j, c]) for j in range(k)) for c in range(n)] for i in range(m)]
    assert exact_integer_product(a, b).tolist() == want


def test_exact_integer_product_at_the_float64_limit():
    """Sums past 2**53 take the int64 path: in float64, 2**53 + 1 would round to 2**53."""
    a = np.array([[2**26, 2**26, 1]], dtype=np.int64)
    b = np.array([[2**26], [2**26], [1]], dtype=np.int64)
    assert exact_integer_product(a, b)[0, 0] == 2**53 + 1
