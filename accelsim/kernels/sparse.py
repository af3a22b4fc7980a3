"""Sparse-aware PE array: zero skipping and gating measured from real masks.

The GEMM ``A[M, K] @ B[K, N]`` is mapped as in ``docs/timing_models.md``: a fold's PE
``(i, j)`` owns one (row, column) pair of the spatial dimensions and walks ``T`` stream
steps. The PE's MAC at step ``t`` is *effectual* when every exploited operand is non-zero.

* ``gate``: an ineffectual MAC idles the multiplier (gated) but its cycle passes.
* ``skip``: PEs are grouped into lockstep groups (a PE, a row, a column or the whole fold of
  ``r x c`` PEs); a group spends a cycle on a step only if one of its PEs has an effectual
  MAC there. Its other PEs' MACs at that step are gated; the MACs of a step the group skips
  are skipped. Groups run decoupled within a fold; the fold streams for as long as its
  busiest group (``T_eff``) and a fold with no effectual MAC is not run at all.

Fold cycles follow the native model without overlap: ``r + c + R - 2 + T_eff``.
"""

import numpy as np

from accelsim.kernels._jit import kernel
from accelsim.kernels.codes import (
    DATAFLOW_OS, DATAFLOW_WS, SPARSITY_GATE, SPARSITY_NONE, SPARSITY_SKIP, SYNC_COLUMN, SYNC_PE, SYNC_ROW,
)

STAT_CYCLES = 0
STAT_STREAM_CYCLES = 1
STAT_DENSE_STREAM_CYCLES = 2
STAT_PERFORMED_MACS = 3
STAT_GATED_MACS = 4
STAT_SKIPPED_MACS = 5
STAT_IDLE_PE_CYCLES = 6
STAT_FOLDS = 7
N_STATS = 8


@kernel
def _effectual(wmask, amask, use_w, use_a, dataflow, row, col, step):
    """Whether the MAC of array coordinate (``row``, ``col``) at ``step`` has non-zero operands."""
    if dataflow == DATAFLOW_OS:
        m, n, k = row, col, step
    elif dataflow == DATAFLOW_WS:
        k, n, m = row, col, step
    else:
        k, m, n = row, col, step
    if use_w and wmask[k, n] == 0:
        return False
    if use_a and amask[m, k] == 0:
        return False
    return True


@kernel
def _run_sparse_array(wmask, amask, m, n, k, rows, cols, dataflow, mode, sync, use_w, use_a):
    """Counters of a sparse GEMM on a ``rows`` x ``cols`` array.

    Parameters
    ----------
    wmask : uint8[K, N], non-zero weights (read only when ``use_w``).
    amask : uint8[M, K], non-zero activations (read only when ``use_a``).
    m, n, k : int, GEMM dimensions.
    rows, cols : int, array shape.
    dataflow : int, ``codes.DATAFLOW_*``.
    mode : int, ``codes.SPARSITY_*``.
    sync : int, ``codes.SYNC_*`` (not ``SYNC_AUTO``): the lockstep group when skipping.
    use_w, use_a : int, 1 to exploit zeros of that operand.

    Returns
    -------
    stats : int64[N_STATS], indexed by ``STAT_*``.
    fold_stream : int64[folds], ``T_eff`` of each fold, column-fold-major order.
    """
    if dataflow == DATAFLOW_OS:
        sr, sc, t_len = m, n, k
    elif dataflow == DATAFLOW_WS:
        sr, sc, t_len = k, n, m
    else:
        sr, sc, t_len = k, m, n
    row_folds = (sr + rows - 1) // rows
    col_folds = (sc + cols - 1) // cols
    stats = np.zeros(N_STATS, dtype=np.int64)
    fold_stream = np.zeros(row_folds * col_folds, dtype=np.int64)
    fold = 0
    for cf in range(col_folds):
        c = min(cols, sc - cf * cols)
        for rf in range(row_folds):
            r = min(rows, sr - rf * rows)
            pes = r * c
            performed = 0
            gated = 0
            t_eff = t_len
            if mode == SPARSITY_NONE:
                performed = pes * t_len
            else:
                group_h = 1 if (sync == SYNC_PE or sync == SYNC_ROW) else r
                group_w = 1 if (sync == SYNC_PE or sync == SYNC_COLUMN) else c
                busiest = 0
                for gi in range(r // group_h):
                    for gj in range(c // group_w):
                        steps = 0
                        for t in range(t_len):
                            hits = 0
                            for ii in range(gi * group_h, gi * group_h + group_h):
                                for jj in range(gj * group_w, gj * group_w + group_w):
                                    if _effectual(wmask, amask, use_w, use_a, dataflow,
                                                  rf * rows + ii, cf * cols + jj, t):
                                        hits += 1
                            performed += hits
                            if hits > 0 or mode == SPARSITY_GATE:
                                steps += 1
                                gated += group_h * group_w - hits
                            else:
                                stats[STAT_SKIPPED_MACS] += group_h * group_w
                        busiest = max(busiest, steps)
                if mode == SPARSITY_SKIP:
                    t_eff = busiest
            fold_stream[fold] = t_eff
            fold += 1
            stats[STAT_PERFORMED_MACS] += performed
            stats[STAT_GATED_MACS] += gated
            stats[STAT_IDLE_PE_CYCLES] += pes * t_eff - performed - gated
            stats[STAT_STREAM_CYCLES] += t_eff
            stats[STAT_DENSE_STREAM_CYCLES] += t_len
            if t_eff > 0:
                stats[STAT_CYCLES] += r + c + rows - 2 + t_eff
                stats[STAT_FOLDS] += 1
    return stats, fold_stream
