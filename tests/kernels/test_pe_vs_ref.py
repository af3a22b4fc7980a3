"""The register-level kernel (``fidelity="pe"``) against numpy, the naive per-PE reference
(tests/reference/pe_ref.py) and the closed-form fold formulas of docs/timing_models.md."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from accelsim.engine.pe import run_pe_gemm
from accelsim.errors import AccelsimError
from accelsim.lower.gemm import ArrayRate
from accelsim.spec.arch import (
    ArchSpec, ArraySpec, BufferSpec, BuffersSpec, Dataflow, MacSpec, OperandDelivery, Overflow, TimingModel,
)
from reference.pe_ref import ref_gemm


def make_arch(rows, cols, dataflow, *, overlap=False, scalesim=False, bits=32, overflow="wrap",
              broadcast=False) -> ArchSpec:
    return ArchSpec(
        name="t",
        timing_model=TimingModel.SCALESIM if scalesim else TimingModel.NATIVE,
        array=ArraySpec(rows=rows, cols=cols, dataflow=Dataflow(dataflow), preload_overlap=overlap,
                        output_overlap=overlap,
                        operand_delivery=OperandDelivery.BROADCAST if broadcast else OperandDelivery.SYSTOLIC),
        mac=MacSpec(accumulator_bits=bits, overflow=Overflow(overflow)),
        buffers=BuffersSpec(unified=BufferSpec(size_bytes=1 << 20)),
    )


def doc_cycles(m, n, k, rows, cols, dataflow, *, overlap=False, scalesim=False, q=1, broadcast=False):
    """Total cycles written out from docs/timing_models.md, independently of the kernels
    (``k`` is the mapped reduction; ``q`` cycles per product stretch the stream: T -> q*T)."""
    sr, sc, t = {"os": (m, n, k), "ws": (k, n, m), "is": (k, m, n)}[dataflow]
    if not scalesim:
        t *= q
    folds = [(min(rows, sr - r0), min(cols, sc - c0)) for c0 in range(0, sc, cols) for r0 in range(0, sr, rows)]
    if scalesim:
        per_fold = t + rows + cols - 2 if dataflow == "os" else 2 * rows + cols + t - 2
        return len(folds) * per_fold - 1
    if dataflow == "os":  # the last MAC, counted from the fold's first stream step
        last_mac = [t - 1 + (0 if broadcast else r + c - 2) for r, c in folds]
        if not overlap:
            return sum(lm + 1 + rows for lm in last_mac)
        s = 0
        for f in range(1, len(folds)):  # edges free, and PE (0, 0)'s first output after the drain
            s = max(s + t, s + last_mac[f - 1] + rows + 2 - t)
        return s + last_mac[-1] + 1 + rows
    if not overlap:
        return sum(r + t + rows + c - 2 for r, c in folds)
    s = folds[0][0]
    total = 0
    for f, (r, c) in enumerate(folds):
        total = max(total, s + t + rows + c - 2)
        if f + 1 < len(folds):
            s += max(t, folds[f + 1][0])
    return total


dims = st.integers(1, 24)
edge = st.integers(1, 8)


@settings(deadline=None, max_examples=40)
@given(m=dims, n=dims, k=dims, rows=edge, cols=edge, dataflow=st.sampled_from(["os", "ws", "is"]),
       overlap=st.booleans(), scalesim=st.booleans(), seed=st.integers(0, 2**16), broadcast=st.booleans())
@example(m=1, n=1, k=1, rows=1, cols=1, dataflow="ws", overlap=False, scalesim=False, seed=0, broadcast=False)
@example(m=1, n=1, k=1, rows=1, cols=1, dataflow="os", overlap=False, scalesim=True, seed=0, broadcast=False)
@example(m=9, n=3, k=17, rows=8, cols=2, dataflow="is", overlap=True, scalesim=False, seed=1, broadcast=False)
@example(m=24, n=24, k=24, rows=8, cols=8, dataflow="ws", overlap=True, scalesim=False, seed=2, broadcast=False)
@example(m=5, n=7, k=3, rows=8, cols=8, dataflow="os", overlap=False, scalesim=False, seed=3, broadcast=False)
@example(m=11, n=9, k=3, rows=4, cols=3, dataflow="os", overlap=True, scalesim=False, seed=5, broadcast=False)
@example(m=11, n=9, k=6, rows=4, cols=3, dataflow="os", overlap=True, scalesim=False, seed=6, broadcast=True)
def test_pe_matches_numpy_reference_and_formula(m, n, k, rows, cols, dataflow, overlap, scalesim, seed, broadcast):
    """Every dataflow, overlapped or not, systolic or broadcast (os, native timing only)."""
    broadcast = broadcast and dataflow == "os" and not scalesim
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, (m, k))
    b = rng.integers(-128, 128, (k, n))
    arch = make_arch(rows, cols, dataflow, overlap=overlap, scalesim=scalesim, broadcast=broadcast)
    out, stats = run_pe_gemm(arch, a, b)
    np.testing.assert_array_equal(out, a @ b)
    want_out, want = ref_gemm(a.tolist(), b.tolist(), rows, cols, dataflow, overlap=overlap, scalesim=scalesim,
                              bits=32, broadcast=broadcast)
    assert out.tolist() == want_out
    expected_cycles = doc_cycles(m, n, k, rows, cols, dataflow, overlap=overlap, scalesim=scalesim,
                                 broadcast=broadcast)
    assert stats["cycles"] == want["cycles"] == expected_cycles
    assert stats["ifmap_words"] == want["ifmap"]
    assert stats["filter_words"] == want["filter"]
    assert stats["output_words"] == want["ofmap"]


def nm_weights(rng, k, n, nm, low=-128, high=128):
    """Random ``k x n`` integers with at most N non-zeros in every group of M along k (a random
    number of them, at random places), or dense random integers."""
    b = rng.integers(low, high, (k, n))
    if nm is None:
        return b
    keep, group = nm
    for col in range(n):
        for start in range(0, k, group):
            size = min(group, k - start)
            drop = rng.permutation(size)[rng.integers(0, keep + 1):]  # keep at most N at random
            b[start + drop, col] = 0
    return b


@settings(deadline=None, max_examples=40)
@given(m=st.integers(1, 12), n=st.integers(1, 12), k=st.integers(1, 20), rows=st.integers(1, 5),
       cols=st.integers(1, 5), dataflow=st.sampled_from(["os", "ws", "is"]), overlap=st.booleans(),
       p=st.integers(1, 4), q=st.integers(1, 3), nm=st.sampled_from([None, (1, 2), (2, 4), (1, 4), (3, 8)]),
       saturate=st.booleans(), seed=st.integers(0, 2**16), broadcast=st.booleans())
@example(m=3, n=2, k=7, rows=2, cols=2, dataflow="ws", overlap=True, p=2, q=1, nm=(2, 4), saturate=False, seed=0,
         broadcast=False)
@example(m=1, n=1, k=1, rows=1, cols=1, dataflow="os", overlap=False, p=4, q=3, nm=None, saturate=False, seed=0,
         broadcast=False)
@example(m=5, n=9, k=19, rows=3, cols=4, dataflow="is", overlap=True, p=3, q=2, nm=(3, 8), saturate=True, seed=4,
         broadcast=False)
@example(m=7, n=9, k=19, rows=3, cols=4, dataflow="os", overlap=True, p=2, q=3, nm=(2, 4), saturate=True, seed=5,
         broadcast=True)
def test_mac_rates_and_nm_match_reference_and_formula(m, n, k, rows, cols, dataflow, overlap, p, q, nm, saturate,
                                                       seed, broadcast):
    """p products per cycle (K -> ceil(K/p)), q cycles per product (T -> q*T) and N:M weights
    (K -> (K//M)*N + min(K%M, N) slots): the array computes A @ B (the weights as given, N:M
    sparse), the reference's index-mux PEs agree on every value, counter and cycle, and the
    cycles are the doc's formula with the reduction and stream written out here."""
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, (m, k))
    b = nm_weights(rng, k, n, nm)
    bits, overflow = (16, "saturate") if saturate else (32, "wrap")
    broadcast = broadcast and dataflow == "os"
    arch = make_arch(rows, cols, dataflow, overlap=overlap, bits=bits, overflow=overflow, broadcast=broadcast)
    out, stats = run_pe_gemm(arch, a, b, ArrayRate(p, q, nm))
    if not saturate:
        np.testing.assert_array_equal(out, a @ b)
    want_out, want = ref_gemm(a.tolist(), b.tolist(), rows, cols, dataflow, overlap=overlap, bits=bits,
                              overflow=overflow, p=p, q=q, nm=nm, broadcast=broadcast)
    assert out.tolist() == want_out
    slots = k if nm is None else (k // nm[1]) * nm[0] + min(k % nm[1], nm[0])
    expected = doc_cycles(m, n, math.ceil(slots / p), rows, cols, dataflow, overlap=overlap, q=q,
                          broadcast=broadcast)
    assert stats["cycles"] == want["cycles"] == expected
    assert (stats["ifmap_words"], stats["filter_words"], stats["output_words"], stats["saturations"]) == \
        (want["ifmap"], want["filter"], want["ofmap"], want["saturations"])


def test_nm_weights_must_conform():
    b = np.ones((8, 2), np.int64)
    b[1:4, 1] = 0  # column 0 has 4 non-zeros in its first group of 4
    with pytest.raises(AccelsimError, match="B .weights.*at most 2 non-zeros in every 4"):
        run_pe_gemm(make_arch(2, 2, "ws"), np.ones((3, 8), np.int64), b, ArrayRate(nm=(2, 4)))


@pytest.mark.parametrize("dataflow", ["os", "ws", "is"])
def test_edge_words_follow_the_mapping(dataflow):
    """Words crossing the edges, by hand: the stationary operand once, the streamed one once per
    column fold, outputs once per row fold (ws/is, accumulated) or once (os)."""
    m, n, k, rows, cols = 10, 7, 13, 4, 3
    a = np.ones((m, k), np.int64)
    b = np.ones((k, n), np.int64)
    _, stats = run_pe_gemm(make_arch(rows, cols, dataflow), a, b)
    if dataflow == "os":  # A streams once per column fold of N, B once per row fold of M
        assert stats["ifmap_words"] == m * k * math.ceil(n / cols)
        assert stats["filter_words"] == k * n * math.ceil(m / rows)
        assert stats["output_words"] == m * n
    elif dataflow == "ws":
        assert stats["filter_words"] == k * n
        assert stats["ifmap_words"] == m * k * math.ceil(n / cols)
        assert stats["output_words"] == m * n * math.ceil(k / rows)
    else:
        assert stats["ifmap_words"] == m * k
        assert stats["filter_words"] == k * n * math.ceil(m / cols)
        assert stats["output_words"] == m * n * math.ceil(k / rows)


def test_one_pe_takes_t_plus_one_cycles():
    """docs/timing_models.md sanity check: a 1x1 array takes T + 1 cycles per fold."""
    a = np.arange(6).reshape(2, 3)
    b = np.arange(12).reshape(3, 4)
    for dataflow, t, folds in (("os", 3, 2 * 4), ("ws", 2, 3 * 4), ("is", 4, 3 * 2)):
        _, stats = run_pe_gemm(make_arch(1, 1, dataflow), a, b)
        assert stats["cycles"] == folds * (t + 1), dataflow


def test_float_operands_accumulate_in_float64(rng):
    a = rng.standard_normal((9, 11))
    b = rng.standard_normal((11, 5))
    for dataflow in ("os", "ws", "is"):
        out, _ = run_pe_gemm(make_arch(3, 4, dataflow, overlap=True), a, b)
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, a @ b, rtol=1e-12, atol=1e-12)
        want, _ = ref_gemm(a.tolist(), b.tolist(), 3, 4, dataflow, overlap=True)
        assert out.tolist() == want  # same order of additions, so bit-identical


@settings(deadline=None, max_examples=30)
@given(m=st.integers(1, 12), n=st.integers(1, 12), k=st.integers(1, 24), rows=st.integers(1, 6),
       cols=st.integers(1, 6), dataflow=st.sampled_from(["os", "ws", "is"]), bits=st.integers(4, 20),
       overflow=st.sampled_from(["wrap", "saturate"]), seed=st.integers(0, 2**16))
@example(m=1, n=1, k=24, rows=1, cols=1, dataflow="os", bits=8, overflow="saturate", seed=0)
@example(m=3, n=2, k=24, rows=4, cols=2, dataflow="ws", bits=12, overflow="saturate", seed=5)
def test_accumulator_width_bit_exact(m, n, k, rows, cols, dataflow, bits, overflow, seed):
    """Wrap or saturate after every addition (in the array and in the output accumulators),
    bit-exactly as the reference's exact Python integers clipped one addition at a time."""
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, (m, k))
    b = rng.integers(-128, 128, (k, n))
    arch = make_arch(rows, cols, dataflow, bits=bits, overflow=overflow, overlap=True)
    out, stats = run_pe_gemm(arch, a, b)
    want, ref_stats = ref_gemm(a.tolist(), b.tolist(), rows, cols, dataflow, overlap=True, bits=bits,
                               overflow=overflow)
    assert out.tolist() == want
    assert stats["saturations"] == ref_stats["saturations"]
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    assert out.min() >= lo and out.max() <= hi


def test_saturation_at_the_accumulator_limit_by_hand():
    """int8 accumulator, saturating: 100 + 100 clips to 127 and stays there; the negative
    side clips to -128. Worked by hand: a 1x1 os PE adds the products in order of k."""
    a = np.array([[10, 10, 10, -10, -10, -10, -10, -10]])  # products with b = 10: +-100
    b = np.full((8, 1), 10)
    out, stats = run_pe_gemm(make_arch(1, 1, "os", bits=8, overflow="saturate"), a, b)
    # 100 -> 127 (clip) -> 127 (clip) -> 27 -> -73 -> -128 (clip) -> -128 (clip) -> -128 (clip)
    assert out.tolist() == [[-128]]
    assert stats["saturations"] == 5
    out, _ = run_pe_gemm(make_arch(1, 1, "os", bits=8, overflow="wrap"), a, b)
    assert out.tolist() == [[(300 - 500 + 128) % 256 - 128]]


def test_64_bit_saturation_catches_int64_overflow():
    big = 2**31
    a = np.full((1, 4), big, np.int64)
    b = np.full((4, 1), big, np.int64)  # each product is 2**62; the sum would be 2**64
    out, stats = run_pe_gemm(make_arch(2, 1, "ws", bits=64, overflow="saturate"), a, b)
    assert out.tolist() == [[2**63 - 1]]
    out, _ = run_pe_gemm(make_arch(2, 1, "ws", bits=64, overflow="wrap"), a, b)
    assert out.tolist() == [[0]]  # 2**64 wraps to 0


def test_scalesim_timing_pays_the_whole_array_per_fold():
    """SCALE-Sim 3.0.0 (peers/SCALESIM.md 6.3-6.4): F * per_fold - 1, whatever the fold uses."""
    a = np.ones((5, 3), np.int64)
    b = np.ones((3, 2), np.int64)
    _, stats = run_pe_gemm(dataclasses.replace(make_arch(8, 8, "ws"), timing_model=TimingModel.SCALESIM), a, b)
    assert stats["cycles"] == 1 * (2 * 8 + 8 + 5 - 2) - 1
    _, stats = run_pe_gemm(make_arch(8, 8, "os", scalesim=True), a, b)
    assert stats["cycles"] == 1 * (3 + 8 + 8 - 2) - 1
