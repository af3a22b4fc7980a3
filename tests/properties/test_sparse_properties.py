"""Properties of sparse GEMM counters: MAC conservation, bounds, gating vs skipping, modes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.engine.sparse import run_sparse_array, sparse_gemm_counts
from accelsim.spec.arch import (
    ArchSpec, ArraySpec, BuffersSpec, BufferSpec, Dataflow, SparsityMode, SparsitySpec, SyncGroup,
)


def arch(mode, dataflow, rows=4, cols=4, weights=True, activations=True, sync=SyncGroup.AUTO):
    return ArchSpec(name="t", array=ArraySpec(rows=rows, cols=cols, dataflow=dataflow),
                    buffers=BuffersSpec(unified=BufferSpec(size_bytes=1 << 20)),
                    sparsity=SparsitySpec(mode=mode, weights=weights, activations=activations, sync_group=sync))


@st.composite
def cases(draw):
    dims = st.integers(1, 20)
    m, n, k = draw(dims), draw(dims), draw(dims)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    w_density, a_density = draw(st.sampled_from([0, 0.1, 0.5, 1])), draw(st.sampled_from([0, 0.1, 0.5, 1]))
    use_masks = draw(st.booleans())
    return dict(
        arch=arch(draw(st.sampled_from(list(SparsityMode))), draw(st.sampled_from(list(Dataflow))),
                  draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(st.booleans()), draw(st.booleans()),
                  draw(st.sampled_from(list(SyncGroup)))),
        m=m, n=n, k=k,
        weight_mask=rng.random((k, n)) < w_density if use_masks else None,
        act_mask=rng.random((m, k)) < a_density if use_masks else None,
        weight_density=w_density, act_density=a_density, weight_pattern="unstructured",
    )


@settings(deadline=None, max_examples=60)
@given(cases())
def test_conservation_and_bounds(case):
    """performed + gated + skipped = dense MACs; skipping lies between dense and the ideal."""
    a = case["arch"]
    got = sparse_gemm_counts(**case)
    dense = sparse_gemm_counts(a, case["m"], case["n"], case["k"])
    macs = case["m"] * case["n"] * case["k"]
    assert got["mac_ops"] + got["gated_macs"] + got["skipped_macs"] == macs == got["macs"]
    assert min(got["mac_ops"], got["gated_macs"], got["skipped_macs"], got["idle_pe_cycles"]) >= 0
    assert got["cycles"] <= dense["cycles"]
    assert got["stream_cycles"] <= got["dense_stream_cycles"] == dense["stream_cycles"]
    if got["sparsity_model"] == "mask":
        # ideal: every PE busy every stream cycle with an effectual MAC
        assert got["stream_cycles"] * a.pes >= got["mac_ops"]
    if a.sparsity.mode is not SparsityMode.SKIP:
        assert got["cycles"] == dense["cycles"] and got["skipped_macs"] == 0


@pytest.mark.parametrize("dataflow", list(Dataflow))
def test_gating_keeps_cycles_and_saves_macs_skipping_saves_cycles(dataflow, rng):
    m, n, k = 24, 20, 32
    wmask = rng.random((k, n)) < 0.3
    amask = rng.random((m, k)) < 0.3
    run = {mode: run_sparse_array(4, 4, dataflow, mode, SyncGroup.PE, m, n, k, wmask, amask)[0] for mode in SparsityMode}
    none, gate, skip = run[SparsityMode.NONE], run[SparsityMode.GATE], run[SparsityMode.SKIP]
    effectual = int((amask.astype(int) @ wmask.astype(int)).sum())   # MACs with both operands non-zero
    assert gate["cycles"] == none["cycles"]
    assert gate["mac_ops"] == skip["mac_ops"] == effectual < none["mac_ops"] == m * n * k
    assert gate["gated_macs"] == m * n * k - effectual
    assert skip["cycles"] < none["cycles"]


def test_density_zero_does_nothing():
    """All weights zero with skipping: no MAC, no fold is run (ws and os alike)."""
    for dataflow in Dataflow:
        a = arch(SparsityMode.SKIP, dataflow, activations=False)
        got = sparse_gemm_counts(a, 9, 7, 5, weight_mask=np.zeros((5, 7), bool))
        assert (got["mac_ops"], got["cycles"], got["skipped_macs"]) == (0, 0, 9 * 7 * 5)


def test_ws_weight_skipping_needs_whole_zero_columns():
    """ws, column lockstep: a column of a fold can skip a step only if none of its weights is
    non-zero, so scattered zero weights save no cycle; a zero column in every fold does."""
    a = arch(SparsityMode.SKIP, Dataflow.WS, rows=4, cols=4, activations=False)
    scattered = np.ones((8, 4), bool)
    scattered[np.arange(4), np.arange(4)] = False     # one zero per column
    assert sparse_gemm_counts(a, 10, 4, 8, weight_mask=scattered)["cycles"] == sparse_gemm_counts(a, 10, 4, 8)["cycles"]
    single = np.zeros((8, 1), bool)
    single[0, 0] = True
    got = sparse_gemm_counts(a, 10, 1, 8, weight_mask=single)
    # only the first row fold (k = 0..3) has a non-zero weight: one fold of r + c + R - 2 + T = 4 + 1 + 4 - 2 + 10
    assert got["cycles"] == 17 and got["folds"] == 1


@pytest.mark.parametrize("dataflow, acts", [(Dataflow.OS, False), (Dataflow.OS, True), (Dataflow.WS, True),
                                            (Dataflow.IS, True), (Dataflow.IS, False)])
@pytest.mark.parametrize("density", [0.05, 0.3, 0.7])
def test_statistical_mode_approximates_masks(dataflow, acts, density):
    """The binomial model is approximate: its stream cycles lie within 8% of the mean over
    random masks of the same density (16 x 16 array, 128 x 64 x 256 GEMM)."""
    a = arch(SparsityMode.SKIP, dataflow, rows=16, cols=16, activations=acts)
    m, n, k = 128, 64, 256
    rng = np.random.default_rng(7)
    sampled = np.mean([sparse_gemm_counts(a, m, n, k, weight_mask=rng.random((k, n)) < density,
                                          act_mask=rng.random((m, k)) < density)["stream_cycles"]
                       for _ in range(4)])
    stat = sparse_gemm_counts(a, m, n, k, weight_density=density, act_density=density)
    assert stat["sparsity_model"] == "statistical"
    assert stat["stream_cycles"] == pytest.approx(sampled, rel=0.08)
    assert stat["mac_ops"] + stat["gated_macs"] + stat["skipped_macs"] == m * n * k
