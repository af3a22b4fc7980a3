"""Approximations of nonlinear functions: error bounds derived by hand, exact integer kernels,
and reported errors that hold on inputs the measurement never saw."""

import functools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.spec.workload import ImplKind, NonlinearImpl, Op
from accelsim.vector import approx
from accelsim.vector.error import measure_error
from accelsim.vector.functions import DOMAINS, evaluate, reference

LUT = NonlinearImpl(kind=ImplKind.LUT, entries=64)
LUT_I = NonlinearImpl(kind=ImplKind.LUT, entries=64, interpolate=True)
PWL = NonlinearImpl(kind=ImplKind.PWL, segments=16)
POLY = NonlinearImpl(kind=ImplKind.POLY, degree=4)
IBERT = NonlinearImpl(kind=ImplKind.IBERT, bits=16)
IMPLS = [NonlinearImpl(), LUT, LUT_I, PWL, POLY, IBERT]
ELEMENTWISE = [Op.GELU, Op.SILU, Op.SIGMOID, Op.TANH, Op.RELU]


@functools.cache
def reported_max(op, impl):
    return measure_error(op, impl).max_abs_error


def test_lut_errors_within_taylor_bounds():
    """exp on [0, 1]: nearest entry errs by at most f'max * h / 2, linear interpolation by f''max * h^2 / 8."""
    x = np.linspace(0.0, 1.0, 20001)
    h = 1.0 / 63
    nearest = approx.fit(np.exp, 0.0, 1.0, LUT)
    linear = approx.fit(np.exp, 0.0, 1.0, LUT_I)
    assert np.max(np.abs(nearest(x) - np.exp(x))) <= math.e * h / 2
    assert np.max(np.abs(linear(x) - np.exp(x))) <= math.e * h * h / 8
    # and the bounds are not loose by orders of magnitude: the worst case is near x = 1
    assert np.max(np.abs(linear(x) - np.exp(x))) > 0.5 * math.exp(1 - h) * h * h / 8


def test_pwl_and_poly_within_interpolation_bounds():
    """A least-squares line per segment does no worse than the chord (f''max w^2 / 8); a degree-d
    least-squares fit on Chebyshev nodes stays within twice the Chebyshev-interpolation bound
    f^(d+1)max / (2^d (d+1)!) ((b-a)/2)^(d+1) (approximate: the factor 2 covers the fit not being
    the interpolant)."""
    x = np.linspace(0.0, 1.0, 20001)
    w = 1.0 / 16
    pwl = approx.fit(np.exp, 0.0, 1.0, PWL)
    assert np.max(np.abs(pwl(x) - np.exp(x))) <= math.e * w * w / 8
    for degree in (2, 3, 4):
        poly = approx.fit(np.exp, 0.0, 1.0, NonlinearImpl(kind=ImplKind.POLY, degree=degree))
        bound = math.e / (2 ** degree * math.factorial(degree + 1)) * 0.5 ** (degree + 1)
        assert np.max(np.abs(poly(x) - np.exp(x))) <= 2 * bound


@pytest.mark.parametrize("impl", [LUT, LUT_I, PWL, POLY], ids=lambda i: i.kind.value + str(i.interpolate))
def test_more_entries_segments_or_degree_reduce_gelu_error(impl):
    finer = {ImplKind.LUT: dict(entries=4 * impl.entries), ImplKind.PWL: dict(segments=4 * impl.segments),
             ImplKind.POLY: dict(degree=impl.degree + 4)}[impl.kind]
    coarse = measure_error(Op.GELU, impl).max_abs_error
    fine = measure_error(Op.GELU, NonlinearImpl(**{**impl.__dict__, **finer})).max_abs_error
    assert fine < coarse


@settings(deadline=None, max_examples=40)
@given(st.lists(st.integers(0, 2**62 - 1), min_size=1, max_size=30))
def test_i_sqrt_is_floor_sqrt_within_the_costed_steps(values):
    roots, steps = approx.i_sqrt(np.array(values, dtype=np.int64))
    assert roots.tolist() == [math.isqrt(v) for v in values]
    assert steps <= approx.ISQRT_MAX_ITERATIONS


def test_i_sqrt_steps_bound_holds_for_every_bit_length():
    """The program charges ISQRT_MAX_ITERATIONS Newton steps: check the worst case per bit length."""
    worst = 0
    for bits in range(1, 63):
        lo, hi = 1 << (bits - 1), (1 << bits) - 1
        n = np.unique(np.array([lo, lo + 1, (lo + hi) // 2, hi - 1, hi, int(math.isqrt(hi)) ** 2], dtype=np.int64))
        worst = max(worst, approx.i_sqrt(n)[1])
    assert worst <= approx.ISQRT_MAX_ITERATIONS


def test_i_exp_matches_exp_to_the_polynomial_accuracy():
    """I-BERT's second-order fit of exp on (-ln 2, 0] errs by about 2e-3 at most (checked here
    against np.exp, not against the paper's figure); the 2^-z shift adds nothing beyond rounding."""
    scale = 1e-4
    x = np.linspace(-10.0, 0.0, 20001)
    q = np.rint(x / scale).astype(np.int64)
    value, s = approx.i_exp(q, scale)
    assert np.max(np.abs(value * s - np.exp(q * scale))) < 2.5e-3


def test_tails_are_exact_asymptotes():
    far = np.array([-50.0, -20.0, 20.0, 50.0])
    for op in (Op.GELU, Op.SILU, Op.SIGMOID, Op.TANH):
        lo, hi = DOMAINS[op]
        assert far.min() < lo and far.max() > hi
        for impl in (LUT, PWL, POLY):
            assert np.allclose(evaluate(op, impl, far), reference(op, far), atol=1e-7)


@pytest.mark.parametrize("impl", IMPLS, ids=lambda i: i.kind.value)
def test_softmax_rows_sum_to_one(impl, rng):
    x = rng.uniform(-8, 8, (16, 100))
    assert np.allclose(evaluate(Op.SOFTMAX, impl, x).sum(axis=-1), 1.0, atol=1e-2 if impl.kind is ImplKind.IBERT else 1e-3)


@pytest.mark.parametrize("op", ELEMENTWISE, ids=lambda o: o.value)
@pytest.mark.parametrize("impl", IMPLS, ids=lambda i: i.kind.value)
@settings(deadline=None, max_examples=15)
@given(points=st.lists(st.floats(-8.0, 8.0), min_size=1, max_size=200))
def test_reported_error_holds_on_unseen_inputs(op, impl, points):
    """The max error reported over the stated range bounds the error at random points of it.

    The measurement uses a grid of 100001 points, so a point between grid points may exceed it by
    a little (5% allowed). The range's ends are included so an I-BERT per-tensor scale is the same.
    """
    x = np.array([-8.0, 8.0, *points])
    error = np.max(np.abs(evaluate(op, impl, x) - reference(op, x)))
    assert error <= 1.05 * reported_max(op, impl) + 1e-12


@pytest.mark.parametrize("op", [Op.SOFTMAX, Op.LAYERNORM, Op.RMSNORM], ids=lambda o: o.value)
@pytest.mark.parametrize("impl", [NonlinearImpl(), LUT_I, PWL, POLY], ids=lambda i: i.kind.value)
def test_reduction_errors_on_fresh_rows(op, impl):
    """Fresh rows (another seed) of the stated distribution: the float implementations' error is a
    per-element property of exp or 1/sqrt, so it stays within twice the reported figure (approximate)."""
    reported = measure_error(op, impl)
    rng = np.random.default_rng(987)
    if op is Op.SOFTMAX:
        x = rng.uniform(-8, 8, (64, 128))
    else:
        x = rng.uniform(-2, 2, (64, 1)) + rng.uniform(0.1, 4, (64, 1)) * rng.standard_normal((64, 768))
    error = np.max(np.abs(evaluate(op, impl, x) - reference(op, x)))
    assert error <= 2 * reported.max_abs_error + 1e-12


def test_exact_gelu_is_the_tanh_form_and_reports_its_error():
    """Exact GELU uses the tanh form; its gap to the erf definition is known to be below 1e-3."""
    err = measure_error(Op.GELU, NonlinearImpl())
    assert 0 < err.max_abs_error < 1e-3
    assert measure_error(Op.SIGMOID, NonlinearImpl()).max_abs_error < 1e-12
