"""I-BERT's integer kernels at 4 to 32 bits: wider inputs are never worse (issue 16).

The error of each kernel is measured against the exact function on the stated input sets of
:mod:`accelsim.vector.error`. The mean absolute error must not grow with the input width
(the max of a few samples moves with rounding coincidences below 16 bits, so it is checked
only where the kernels stop gaining: from 16 bits on it is the same as at 16); every result
is finite. i_sqrt of a negative value is refused instead of looping.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from accelsim.spec.workload import ImplKind, NonlinearImpl, Op
from accelsim.vector import approx
from accelsim.vector.error import measure_error

OPS = (Op.SOFTMAX, Op.GELU, Op.LAYERNORM, Op.RMSNORM, Op.SIGMOID, Op.TANH, Op.SILU, Op.RELU)


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.value)
def test_more_bits_never_worse(op):
    errors = [measure_error(op, NonlinearImpl(kind=ImplKind.IBERT, bits=bits)) for bits in range(4, 33)]
    means = [e.mean_abs_error for e in errors]
    assert all(math.isfinite(e.max_abs_error) for e in errors)
    for bits, (fewer, more) in enumerate(zip(means, means[1:]), start=4):
        assert more <= fewer * (1 + 1e-12), f"{op.value}: {bits + 1} bits mean error {more} > {bits} bits {fewer}"
    at16 = errors[16 - 4].max_abs_error
    assert all(e.max_abs_error <= at16 * (1 + 1e-12) for e in errors[16 - 4:])


def test_tiny_range_inputs_do_not_wrap():
    """A tiny input range makes the scale tiny and the integer constants huge: still exact."""
    x = np.linspace(-1e-6, 1e-6, 1001)
    for op in (Op.GELU, Op.SIGMOID, Op.SOFTMAX):
        error = measure_error(op, NonlinearImpl(kind=ImplKind.IBERT, bits=16), x[None, :] if op is Op.SOFTMAX else x)
        assert error.max_abs_error < 0.05, op  # GELU and sigmoid are near x/2 and 1/2 there


def test_i_sqrt_exact_and_refuses_negatives():
    values = np.array([0, 1, 2, 3, 4, 15, 16, 17, 2**62 - 1, 2**62], dtype=np.int64)
    roots, _ = approx.i_sqrt(values)
    assert [int(r) for r in roots] == [math.isqrt(int(v)) for v in values]
    huge = np.array([10**40, 10**40 - 1], dtype=object)
    assert [int(r) for r in approx.i_sqrt(huge)[0]] == [math.isqrt(v) for v in huge]
    with pytest.raises(ValueError, match="negative"):
        approx.i_sqrt(np.array([4, -1]))
