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

How it counts without visiting every MAC: the effectual test factors per dataflow into two
masks the engine lays out with the stream step contiguous (:func:`accelsim.engine.sparse`):

* os: ``eff(i, j, t) = x[i, t] & y[j, t]`` (``x = A``, ``y = B^T``), so a group's busy steps
  are ``(OR of its rows of x) & (OR of its columns of y)``;
* ws / is: ``eff(i, j, t) = s[i, j] & v[i, t]`` (ws: ``s = B``, ``v = A^T``; is: ``s = A^T``,
  ``v = B``), so a group's busy steps are the OR of ``v[i, :]`` over its rows ``i`` that hold a
  non-zero stationary operand (one such row: ``v``'s row sum).

Effectual MACs per fold are sums of products of per-step (os) or per-row (ws/is) counts.
"""

import numpy as np

from accelsim.kernels._jit import kernel
from accelsim.kernels.codes import (
    DATAFLOW_OS, DATAFLOW_WS, SPARSITY_NONE, SPARSITY_SKIP, SYNC_COLUMN, SYNC_PE, SYNC_ROW, SPARSE_STAT_COUNT, SPARSE_STAT_CYCLES, SPARSE_STAT_DENSE_STREAM_CYCLES, SPARSE_STAT_FOLDS, SPARSE_STAT_GATED_MACS, SPARSE_STAT_IDLE_PE_CYCLES, SPARSE_STAT_PERFORMED_MACS, SPARSE_STAT_SKIPPED_MACS, SPARSE_STAT_STREAM_CYCLES,
)



@kernel
def _or_rows(mask, lo, hi, use, t_len, out):
    """``out[t]`` = OR of ``mask[lo:hi, t]`` (all ones when the operand is not exploited)."""
    if not use:
        out[:] = 1
        return
    out[:] = mask[lo, :t_len]
    for i in range(lo + 1, hi):
        row = mask[i]
        for t in range(t_len):
            out[t] |= row[t]


@kernel
def _os_fold(x, y, use_x, use_y, r0, r, c0, c, t_len, group_h, group_w, skip, xo, yo):
    """``(effectual MACs, busiest group's steps, sum over groups of steps x group size)`` of an os fold."""
    performed = 0
    count_x = np.zeros(t_len, dtype=np.int64)
    count_y = np.zeros(t_len, dtype=np.int64)
    for i in range(r0, r0 + r):
        if use_x:
            row = x[i]
            for t in range(t_len):
                count_x[t] += row[t]
        else:
            count_x[:] += 1
    for j in range(c0, c0 + c):
        if use_y:
            row = y[j]
            for t in range(t_len):
                count_y[t] += row[t]
        else:
            count_y[:] += 1
    for t in range(t_len):
        performed += count_x[t] * count_y[t]
    busiest = 0
    run_pe_steps = 0
    if skip:
        for gi in range(r // group_h):
            _or_rows(x, r0 + gi * group_h, r0 + gi * group_h + group_h, use_x, t_len, xo[gi])
        for gj in range(c // group_w):
            _or_rows(y, c0 + gj * group_w, c0 + gj * group_w + group_w, use_y, t_len, yo[gj])
        for gi in range(r // group_h):
            xs = xo[gi]
            for gj in range(c // group_w):
                ys = yo[gj]
                steps = 0
                for t in range(t_len):
                    steps += xs[t] & ys[t]
                busiest = max(busiest, steps)
                run_pe_steps += steps * group_h * group_w
    return performed, busiest, run_pe_steps


@kernel
def _stationary_fold(s, v, use_s, use_v, row_sum, r0, r, c0, c, t_len, group_h, group_w, skip, buf):
    """The same for ws / is (``eff = s[i, j] & v[i, t]``)."""
    performed = 0
    for i in range(r0, r0 + r):
        if use_s:
            kept = 0
            row = s[i]
            for j in range(c0, c0 + c):
                kept += row[j]
        else:
            kept = c
        performed += kept * row_sum[i]
    busiest = 0
    run_pe_steps = 0
    if skip:
        for gi in range(r // group_h):
            for gj in range(c // group_w):
                flagged = 0
                last = -1
                for i in range(r0 + gi * group_h, r0 + gi * group_h + group_h):
                    held = 1
                    if use_s:
                        held = 0
                        for j in range(c0 + gj * group_w, c0 + gj * group_w + group_w):
                            if s[i, j]:
                                held = 1
                                break
                    if held:
                        if not use_v:
                            flagged = 1
                            break
                        if flagged == 0:
                            buf[:] = v[i, :t_len]
                        else:
                            vrow = v[i]
                            for t in range(t_len):
                                buf[t] |= vrow[t]
                        flagged += 1
                        last = i
                if flagged == 0:
                    steps = 0
                elif not use_v:
                    steps = t_len
                elif flagged == 1:
                    steps = row_sum[last]
                else:
                    steps = 0
                    for t in range(t_len):
                        steps += buf[t]
                busiest = max(busiest, steps)
                run_pe_steps += steps * group_h * group_w
    return performed, busiest, run_pe_steps


@kernel
def _run_sparse_array(first, second, m, n, k, rows, cols, dataflow, mode, sync, use_first, use_second):
    """Counters of a sparse GEMM on a ``rows`` x ``cols`` array.

    Parameters
    ----------
    first, second : uint8 2-D, the two factor masks of the module docstring, stream step last:
        os ``x = A`` [M, K] and ``y = B^T`` [N, K]; ws ``s = B`` [K, N] and ``v = A^T`` [K, M];
        is ``s = A^T`` [K, M] and ``v = B`` [K, N] (read only when ``use_*``).
    m, n, k : int, GEMM dimensions.
    rows, cols : int, array shape.
    dataflow : int, ``codes.DATAFLOW_*``.
    mode : int, ``codes.SPARSITY_*``.
    sync : int, ``codes.SYNC_*``: the lockstep group when skipping (AUTO resolved by the caller).
    use_first, use_second : int, 1 to exploit the zeros of that mask.

    Returns
    -------
    stats : int64[SPARSE_STAT_COUNT], indexed by ``SPARSE_STAT_*``.
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
    stats = np.zeros(SPARSE_STAT_COUNT, dtype=np.int64)
    fold_stream = np.zeros(row_folds * col_folds, dtype=np.int64)
    row_sum = np.full(sr, t_len, dtype=np.int64)
    if dataflow != DATAFLOW_OS and use_second:
        for i in range(sr):
            total = 0
            vrow = second[i]
            for t in range(t_len):
                total += vrow[t]
            row_sum[i] = total
    skip = mode == SPARSITY_SKIP
    xo = np.zeros((rows, t_len), dtype=np.uint8)
    yo = np.zeros((cols, t_len), dtype=np.uint8)
    fold = 0
    for cf in range(col_folds):
        c = min(cols, sc - cf * cols)
        for rf in range(row_folds):
            r = min(rows, sr - rf * rows)
            pes = r * c
            group_h = 1 if (sync == SYNC_PE or sync == SYNC_ROW) else r
            group_w = 1 if (sync == SYNC_PE or sync == SYNC_COLUMN) else c
            if mode == SPARSITY_NONE:
                performed, busiest, run_pe_steps = pes * t_len, t_len, pes * t_len
            elif dataflow == DATAFLOW_OS:
                performed, busiest, run_pe_steps = _os_fold(first, second, use_first, use_second, rf * rows, r,
                                                            cf * cols, c, t_len, group_h, group_w, skip, xo, yo)
            else:
                performed, busiest, run_pe_steps = _stationary_fold(first, second, use_first, use_second, row_sum,
                                                                    rf * rows, r, cf * cols, c, t_len, group_h,
                                                                    group_w, skip, xo[0])
            if not skip:   # none or gate: every step runs, every ineffectual MAC is gated
                busiest, run_pe_steps = t_len, pes * t_len
            t_eff = busiest
            fold_stream[fold] = t_eff
            fold += 1
            stats[SPARSE_STAT_PERFORMED_MACS] += performed
            stats[SPARSE_STAT_GATED_MACS] += run_pe_steps - performed
            stats[SPARSE_STAT_SKIPPED_MACS] += pes * t_len - run_pe_steps
            stats[SPARSE_STAT_IDLE_PE_CYCLES] += pes * t_eff - run_pe_steps
            stats[SPARSE_STAT_STREAM_CYCLES] += t_eff
            stats[SPARSE_STAT_DENSE_STREAM_CYCLES] += t_len
            if t_eff > 0:
                stats[SPARSE_STAT_CYCLES] += r + c + rows - 2 + t_eff
                stats[SPARSE_STAT_FOLDS] += 1
    return stats, fold_stream
