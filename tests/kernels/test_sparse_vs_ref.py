"""The sparse PE array kernel against the naive per-PE makespan reference, exactly."""

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from accelsim.engine.sparse import run_sparse_array
from accelsim.spec.arch import Dataflow, SparsityMode, SyncGroup
from reference.sparse_ref import ref_sparse_array


@st.composite
def worlds(draw):
    dims = st.integers(1, 12)
    m, n, k = draw(dims), draw(dims), draw(dims)
    rows, cols = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    w_density, a_density = draw(st.sampled_from([0, 0.1, 0.5, 1])), draw(st.sampled_from([0, 0.1, 0.5, 1]))
    wmask = rng.random((k, n)) < w_density if draw(st.booleans()) else None
    amask = rng.random((m, k)) < a_density if draw(st.booleans()) else None
    return dict(rows=rows, cols=cols, m=m, n=n, k=k, wmask=wmask, amask=amask,
                dataflow=draw(st.sampled_from(list(Dataflow))),
                mode=draw(st.sampled_from(list(SparsityMode))),
                sync=draw(st.sampled_from([s for s in SyncGroup if s is not SyncGroup.AUTO])))


def _compare(w):
    got, fold_stream = run_sparse_array(w["rows"], w["cols"], w["dataflow"], w["mode"], w["sync"],
                                        w["m"], w["n"], w["k"], w["wmask"], w["amask"])
    want = ref_sparse_array(w["rows"], w["cols"], w["dataflow"].value, w["mode"].value, w["sync"].value,
                            w["m"], w["n"], w["k"], w["wmask"], w["amask"])
    assert got == want
    assert int(fold_stream.sum()) == want["stream_cycles"]


@settings(deadline=None, max_examples=60)
@given(worlds())
@example(dict(rows=2, cols=2, m=1, n=1, k=1, wmask=np.zeros((1, 1), bool), amask=None,
              dataflow=Dataflow.WS, mode=SparsityMode.SKIP, sync=SyncGroup.PE))
@example(dict(rows=3, cols=2, m=5, n=4, k=7, wmask=None, amask=np.ones((5, 7), bool),
              dataflow=Dataflow.OS, mode=SparsityMode.SKIP, sync=SyncGroup.FOLD))
def test_kernel_matches_reference(world):
    _compare(world)


def test_hand_built_os_imbalance():
    """2x2 os array, 2x2 outputs, k = 4, weights only. PE (i, j) does nnz of weight column j.

    Weight column 0 keeps all 4, column 1 keeps 1: per-PE work [4, 1; 4, 1], so the fold (one
    fold) streams 4 cycles with PE groups (the busiest PE), and 4 PE-cycles x 2 PEs = 6 idle.
    Cycles: r + c + R - 2 + 4 = 2 + 2 + 2 - 2 + 4 = 8.
    """
    wmask = np.array([[1, 1], [1, 0], [1, 0], [1, 0]], bool)
    got, _ = run_sparse_array(2, 2, Dataflow.OS, SparsityMode.SKIP, SyncGroup.PE, 2, 2, 4, wmask, None)
    assert got["stream_cycles"] == 4 and got["cycles"] == 8
    assert got["mac_ops"] == 2 * (4 + 1) and got["skipped_macs"] == 2 * 3 and got["idle_pe_cycles"] == 6
