"""N:M structured sparsity: pattern compatibility, the shortened reduction, cycle ratios."""


import numpy as np
import pytest

from accelsim.engine.sparse import sparse_gemm_counts
from accelsim.errors import AccelsimError
from accelsim.hw.sparse.nm import check_nm_mask, native_pattern, nm_reduction_length, window_max_nonzeros
from accelsim.spec.arch import ArchSpec, ArraySpec, BuffersSpec, BufferSpec, Dataflow, SparsityMode, SparsitySpec


def arch(structured=("2:4",), mode=SparsityMode.NONE, dataflow=Dataflow.WS, rows=8, cols=8, **sparsity):
    return ArchSpec(name="t", array=ArraySpec(rows=rows, cols=cols, dataflow=dataflow),
                    buffers=BuffersSpec(unified=BufferSpec(size_bytes=1 << 20)),
                    sparsity=SparsitySpec(mode=mode, structured=tuple(structured), **sparsity))


@pytest.mark.parametrize("n, m, window, most", [
    (1, 4, 4, 1), (2, 8, 4, 2), (1, 2, 4, 2), (4, 8, 4, 4), (2, 4, 8, 4),
    (3, 6, 4, 4),   # the window 4..7 straddles two groups of 6: 2 + 2
])
def test_window_max_nonzeros(n, m, window, most):
    assert window_max_nonzeros(n, m, window) == most


@pytest.mark.parametrize("structured, layer, hw", [
    (["2:4"], (2, 4), (2, 4)),
    (["2:4"], (1, 4), (2, 4)),          # 1:4 runs as 2:4 (an explicit zero fills the second slot)
    (["2:4", "1:4"], (1, 4), (1, 4)),   # the fastest compatible pattern wins
    (["2:4"], (2, 8), (2, 4)),          # any 4 aligned values of a 2:8 tensor hold <= 2
    (["2:4"], (1, 2), (2, 4)),
    (["2:4"], (3, 4), None),
    (["2:4"], (4, 8), None),
    ([], (2, 4), None),
])
def test_native_pattern(structured, layer, hw):
    assert native_pattern(structured, *layer) == hw


@pytest.mark.parametrize("k, n, m, slots", [(8, 2, 4, 4), (6, 2, 4, 4), (5, 2, 4, 3), (1, 2, 4, 1), (9, 1, 4, 3)])
def test_reduction_length(k, n, m, slots):
    assert nm_reduction_length(k, n, m) == slots


def test_check_nm_mask():
    ok = np.array([[1, 0], [1, 1], [0, 1], [0, 0], [1, 1]], bool)  # K = 5: groups rows 0-3, row 4
    check_nm_mask(ok, 2, 4)
    with pytest.raises(AccelsimError, match="at most 1 non-zeros in every 4"):
        check_nm_mask(ok, 1, 4)


# Compute-bound GEMM on an 8 x 8 ws array: m = 1000 stream steps, k = 64, n = 8.
# Dense: 64/8 = 8 row folds, each r + c + R - 2 + T = 8 + 8 + 8 - 2 + 1000 = 1022 -> 8176 cycles.
M, N, K = 1000, 8, 64
DENSE_CYCLES = 8 * 1022


@pytest.mark.parametrize("structured, pattern, folds", [
    (["2:4"], "2:4", 4),          # K -> 32: 4 folds of 1022
    (["2:4"], "1:4", 4),          # runs as 2:4
    (["2:4", "1:4"], "1:4", 2),   # K -> 16
    (["2:4"], "2:8", 4),
    (["1:8"], "1:8", 1),          # K -> 8
    (["2:4"], "3:4", 8),          # not native: dense timing
])
def test_nm_cycles_against_dense(structured, pattern, folds):
    dense = sparse_gemm_counts(arch(structured), M, N, K)
    got = sparse_gemm_counts(arch(structured), M, N, K, weight_pattern=pattern)
    assert dense["cycles"] == DENSE_CYCLES
    assert got["cycles"] == folds * 1022
    assert got["mac_ops"] + got["gated_macs"] + got["skipped_macs"] == M * N * K


def test_nm_metadata_and_macs_hand_count():
    """2:4 weights, K = 64, N = 8: 32 x 8 = 256 slots, 256 bytes of int8 values and 256 x 2 bits
    = 64 bytes of indices; the array performs 1000 x 256 MACs and skips the other half."""
    got = sparse_gemm_counts(arch(), M, N, K, weight_pattern="2:4")
    assert (got["weight_format"], got["weight_data_bytes"], got["weight_metadata_bytes"]) == ("nm_index", 256, 64)
    assert got["effective_k"] == 32 and got["sparsity_model"] == "nm" and got["sparsity_pattern"] == "2:4"
    assert (got["mac_ops"], got["gated_macs"], got["skipped_macs"]) == (M * 256, 0, M * 256)


def test_nm_gates_zero_slots_and_zero_activations():
    """1:4 run as 2:4 with gating: half the slots hold explicit zeros -> gated. With activation
    gating, every zero activation met by a kept weight is gated too (hand count below)."""
    k, n, m = 8, 2, 3
    wmask = np.zeros((k, n), bool)
    wmask[[0, 5], 0] = True          # one kept weight per group of 4 in column 0
    wmask[[3, 4], 1] = True
    amask = np.ones((m, k), bool)
    amask[0, 0] = amask[1, 0] = amask[2, 4] = False   # k = 0 meets 1 kept weight, k = 4 meets 1
    a = arch(mode=SparsityMode.GATE, activations=True)
    got = sparse_gemm_counts(a, m, n, k, weight_mask=wmask, act_mask=amask, weight_pattern="1:4")
    slots = 4 * n                                    # k_eff = 4
    zero_slots = m * (slots - 4)                     # 3 rows x 4 empty slots
    zero_acts = 2 * 1 + 1 * 1                        # (m=0,1 at k=0) and (m=2 at k=4)
    assert got["gated_macs"] == zero_slots + zero_acts
    assert got["mac_ops"] == m * slots - zero_slots - zero_acts
    assert got["skipped_macs"] == m * n * (k - 4)


def test_nm_mask_that_breaks_the_pattern_is_an_error():
    wmask = np.ones((8, 2), bool)
    with pytest.raises(AccelsimError, match="weight mask"):
        sparse_gemm_counts(arch(), 4, 2, 8, weight_mask=wmask, weight_pattern="2:4")


def test_density_one_equals_dense_for_every_mode():
    for mode in SparsityMode:
        a = arch(mode=mode, activations=True)
        dense = sparse_gemm_counts(arch(), 37, 11, 29)
        ones = sparse_gemm_counts(a, 37, 11, 29, weight_mask=np.ones((29, 11)), act_mask=np.ones((37, 29)))
        stat = sparse_gemm_counts(a, 37, 11, 29, weight_density=1.0, act_density=1.0)
        keys = ("cycles", "mac_ops", "gated_macs", "skipped_macs", "weight_data_bytes", "weight_metadata_bytes")
        assert {x: ones[x] for x in keys} == {x: dense[x] for x in keys} == {x: stat[x] for x in keys}


def test_nm_density_only_gates_the_empty_slots():
    """1:4 weights (density 1/4 from the pattern) run as 2:4 with gating, no mask: m = 10,
    k = 64, n = 8 -> 32 x 8 = 256 slots of which 64 x 8 / 4 = 128 hold weights; the other
    128 slots x 10 rows are gated."""
    got = sparse_gemm_counts(arch(mode=SparsityMode.GATE), 10, 8, 64, weight_pattern="1:4")
    assert (got["mac_ops"], got["gated_macs"], got["skipped_macs"]) == (1280, 1280, 10 * 8 * 32)
