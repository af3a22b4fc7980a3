"""Quantized GEMM on the ``pe`` array: bit-exact against the numpy integer model.

Runs once ``accelsim.engine.functional.run_gemm`` (issue #4) exists. Wrapping is exact in any
accumulation order; saturation is compared on same-sign products, where any order gives the
clamped sum (the order-dependent case is pinned by ``test_quantize.py``).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.compress.quantize import QuantSpec, numpy_gemm, quantized_gemm
from accelsim.spec.arch import Dataflow, MacSpec, Overflow
from accelsim.spec.load import arch_from_dict

functional = pytest.importorskip("accelsim.engine.functional")


def _pe_available() -> bool:
    """run_gemm's pe path imports its engines on use; skip while one is still missing."""
    try:
        functional.run_gemm(small_arch(Dataflow.OS, 1, 1, 32, Overflow.WRAP), np.ones((1, 1), np.int64),
                            np.ones((1, 1), np.int64), fidelity="pe")
    except ImportError:
        return False
    return True


def small_arch(dataflow: Dataflow, rows: int, cols: int, accumulator_bits: int, overflow: Overflow):
    arch = arch_from_dict({"name": "pe", "array": {"rows": rows, "cols": cols, "dataflow": dataflow.value},
                           "buffers": {"unified": {"size": "1MiB"}}})
    return dataclasses.replace(arch, mac=MacSpec(accumulator_bits=accumulator_bits, overflow=overflow))


@settings(deadline=None, max_examples=25)
@given(dataflow=st.sampled_from(list(Dataflow)), rows=st.integers(1, 5), cols=st.integers(1, 5),
       m=st.integers(1, 7), k=st.integers(1, 12), n=st.integers(1, 7), bits=st.integers(2, 8),
       accumulator_bits=st.sampled_from([10, 16, 32]), overflow=st.sampled_from(list(Overflow)),
       seed=st.integers(0, 2**16))
def test_pe_quantized_gemm_matches_numpy_model(dataflow, rows, cols, m, k, n, bits, accumulator_bits,
                                                 overflow, seed):
    if not _pe_available():
        pytest.skip("run_gemm(fidelity='pe') cannot import its engine yet")
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(m, k)), rng.normal(size=(k, n))
    if overflow is Overflow.SATURATE:        # same-sign products: order-independent saturation
        a, b = np.abs(a), np.abs(b)
    arch = small_arch(dataflow, rows, cols, accumulator_bits, overflow)
    act, weight = QuantSpec(bits), QuantSpec(bits, per_channel=True)
    on_pe = quantized_gemm(a, b, act, weight, lambda x, y: functional.run_gemm(arch, x, y, fidelity="pe")[0])
    on_numpy = quantized_gemm(a, b, act, weight, numpy_gemm(arch.mac))
    np.testing.assert_array_equal(on_pe.accumulators, on_numpy.accumulators)
    assert on_pe.overflowed_outputs == on_numpy.overflowed_outputs
