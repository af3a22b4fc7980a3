"""The ``pe`` kernels on float32 registers (fp32 accumulation) against the naive reference run on
numpy float32 scalars: every product and addition rounded to fp32 in the same order, so the
outputs are bit-identical. Operands are bf16 or fp8 values (exact in fp32, as the engine feeds
them), so only the accumulation rounds."""

from __future__ import annotations

import ml_dtypes
import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from accelsim.engine.pe import run_pe_gemm
from accelsim.lower.gemm import ArrayRate
from accelsim.spec.arch import ArchSpec, ArraySpec, BufferSpec, BuffersSpec, Dataflow, MacSpec
from reference.pe_ref import ref_gemm

FORMATS = {"bf16": ml_dtypes.bfloat16, "fp8_e4m3": ml_dtypes.float8_e4m3fn}


def make_arch(rows, cols, dataflow, overlap) -> ArchSpec:
    return ArchSpec(name="t", array=ArraySpec(rows=rows, cols=cols, dataflow=Dataflow(dataflow),
                                              preload_overlap=overlap, output_overlap=overlap),
                    mac=MacSpec(precisions=("bf16",)), buffers=BuffersSpec(unified=BufferSpec(size_bytes=1 << 20)))


def as_float32_lists(x: np.ndarray) -> list:
    """Rows of numpy float32 scalars (Python arithmetic on them stays in float32)."""
    return [list(row) for row in x]


@settings(deadline=None, max_examples=30)
@given(m=st.integers(1, 10), n=st.integers(1, 10), k=st.integers(1, 30), rows=st.integers(1, 6),
       cols=st.integers(1, 6), dataflow=st.sampled_from(["os", "ws", "is"]), overlap=st.booleans(),
       p=st.sampled_from([1, 2, 3]), fmt=st.sampled_from(list(FORMATS)), seed=st.integers(0, 2**16))
@example(m=2, n=3, k=30, rows=4, cols=2, dataflow="ws", overlap=True, p=1, fmt="bf16", seed=3)
@example(m=1, n=1, k=1, rows=1, cols=1, dataflow="os", overlap=False, p=1, fmt="fp8_e4m3", seed=0)
def test_float32_pe_matches_reference(m, n, k, rows, cols, dataflow, overlap, p, fmt, seed):
    rng = np.random.default_rng(seed)
    # wide dynamic range, so that fp32 additions really round
    a = (rng.standard_normal((m, k)) * 2.0 ** rng.integers(-20, 20, (m, k))).astype(FORMATS[fmt]).astype(np.float32)
    b = (rng.standard_normal((k, n)) * 2.0 ** rng.integers(-20, 20, (k, n))).astype(FORMATS[fmt]).astype(np.float32)
    a[~np.isfinite(a)], b[~np.isfinite(b)] = 1, 1
    out, stats = run_pe_gemm(make_arch(rows, cols, dataflow, overlap), a, b, ArrayRate(products_per_cycle=p))
    want, ref_stats = ref_gemm(as_float32_lists(a), as_float32_lists(b), rows, cols, dataflow, overlap=overlap, p=p)
    assert out.dtype == np.float32
    assert all(isinstance(v, np.float32) for row in want for v in row)
    np.testing.assert_array_equal(out, np.array(want, dtype=np.float32))
    assert stats["cycles"] == ref_stats["cycles"]


def test_fp32_accumulation_rounds_where_float64_does_not():
    """By hand: 1 + 2^-24 + 2^-24 in fp32, in order: 1 + 2^-24 is a tie, to even: 1; twice: 1.
    float64 keeps 1 + 2^-23. A 1x1 os array adds the three products in reduction order."""
    a = np.array([[1.0, 2.0**-24, 2.0**-24]], np.float32)
    b = np.ones((3, 1), np.float32)
    arch = make_arch(1, 1, "os", False)
    assert run_pe_gemm(arch, a, b)[0][0, 0] == np.float32(1.0)
    assert run_pe_gemm(arch, a.astype(np.float64), b.astype(np.float64))[0][0, 0] == 1.0 + 2.0**-23
