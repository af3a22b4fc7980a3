"""Register-level systolic array: every PE register stepped every cycle, with real values.

Conventions are those of ``docs/timing_models.md`` (native timing): operands enter at the left
edge (one array row each) and the top edge (one array column each), move one PE per cycle,
and partial sums leave at the bottom edge. Two kernels, one per register structure:

* :func:`run_pe_stationary` (ws and is): a stationary operand ``w[Sr, Sc]`` loaded through
  the top edge into shadow registers, a streamed operand ``x[T, Sr]`` moving right, partial
  sums moving down; ``y[T, Sc] += x @ w``.
* :func:`run_pe_os` (os): ``l[Sr, T]`` moving right, ``u[T, Sc]`` moving down, an accumulator
  per PE; the outputs then shift down and out; ``y[Sr, Sc] = l @ u``.

The kernels run either on int64 values (exact products, additions that wrap modulo 2**64 or
saturate at ``[lo, hi]``) or on float64 values. Wrapping to fewer accumulator bits is applied
by the caller to the finished outputs, which is bit-exact: wrapping is a ring homomorphism.

A *wave* is the set of registers ``(i, j)`` holding the same data item: a value injected at
the left edge of row ``i`` at cycle ``g`` is in column ``j`` at cycle ``g + j``, so each edge
keeps a pointer to the fold whose interval of wave indices it is in.
"""

import numpy as np

from accelsim.kernels._jit import kernel
from accelsim.kernels.codes import (
    PE_STAT_BOTTOM_WORDS,
    PE_STAT_CYCLES,
    PE_STAT_DRAIN_CYCLES,
    PE_STAT_LEFT_WORDS,
    PE_STAT_PE_UPDATES,
    PE_STAT_SATURATIONS,
    PE_STAT_TOP_WORDS,
)


@kernel
def _add(a, b, saturate, lo, hi):
    """``a + b`` and 1 if it was clipped to ``[lo, hi]`` (saturating) or 0.

    ``a`` must lie in ``[lo, hi]``; the comparisons are arranged so that nothing overflows
    int64 even when ``lo``/``hi`` are the int64 limits (the compiler may assume that signed
    additions never overflow, so overflow cannot be detected after the fact).
    """
    if saturate:
        if b > 0 and a > hi - b:
            return hi, 1
        if b < 0 and a < lo - b:
            return lo, 1
    return a + b, 0


@kernel
def _wave_fold(u, start, length, known, p):
    """Advance fold pointer ``p`` past the intervals ``[start, start + length)`` that end at or
    before wave index ``u``; return the pointer and whether ``u`` lies in fold ``p``."""
    while p < known and u >= start[p] + length[p]:
        p += 1
    return p, p < known and u >= start[p]


@kernel
def run_pe_stationary(x, w, fold_row0, fold_col0, fold_rows, fold_cols, fold_load_rows, fold_time_cols,
                      rows, cols, overlap, saturate, lo, hi, y, stats):
    """Weight- or input-stationary array computing ``y += x @ w`` fold by fold.

    Parameters
    ----------
    x : (T, Sr) int64 or float64
        Streamed operand: row ``t`` enters array row ``i`` at cycle ``s_f + t + i``.
    w : (Sr, Sc) same dtype
        Stationary operand; fold ``f`` holds ``w[row0:row0+r, col0:col0+c]``.
    fold_row0, fold_col0, fold_rows, fold_cols : (F,) int64
        First row/column of each fold's block and the rows/columns holding data, in run order.
    fold_load_rows : (F,) int64
        Rows loaded through the top edge (cycles of the load): ``fold_rows`` in native timing,
        ``rows`` in SCALE-Sim timing (zeros fill the unused rows).
    fold_time_cols : (F,) int64
        Columns whose outputs the fold waits for: ``fold_cols`` (native) or ``cols`` (SCALE-Sim).
    rows, cols : int
        Array size ``R x C``.
    overlap : bool
        Load fold ``f+1`` into the shadow registers while fold ``f`` streams (``preload_overlap``).
    saturate : bool
        Clip every addition to ``[lo, hi]``; otherwise additions wrap modulo 2**64 (ints):
        a plain int64 add, whose result bits are the wrapped sum.
    lo, hi : scalar of the dtype of ``y``
        Accumulator range.
    y : (T, Sc) same dtype
        Output accumulators, added to in fold order (in/out).
    stats : (PE_STAT_COUNT,) int64
        Counters, indexed by ``PE_STAT_*`` (in/out, added to).
    """
    n_folds = fold_rows.shape[0]
    t_len = x.shape[0]
    zero = y.dtype.type(0)
    # PE registers
    w_active = np.zeros((rows, cols), y.dtype)
    w_shadow = np.zeros((rows, cols), y.dtype)
    load_val = np.zeros((rows, cols), y.dtype)
    load_tag = np.full((rows, cols), -1, np.int64)  # destination row of the value in transit
    x_reg = np.zeros((rows, cols), y.dtype)
    switch = np.zeros((rows, cols), np.bool_)  # travels with the first stream row of a fold
    psum = np.zeros((rows, cols), y.dtype)
    # edge inputs of one cycle
    load_in_val = np.zeros(cols, y.dtype)
    load_in_tag = np.full(cols, -1, np.int64)
    x_in = np.zeros(rows, y.dtype)
    switch_in = np.zeros(rows, np.bool_)
    # controller: fold schedule, decided no later than the cycle it takes effect
    load_start = np.zeros(n_folds, np.int64)
    stream_start = np.zeros(n_folds, np.int64)
    stream_len = np.full(n_folds, t_len, np.int64)
    end = np.full(n_folds, -1, np.int64)
    exits = np.zeros(n_folds, np.int64)
    p_load = np.zeros(cols, np.int64)
    p_stream = np.zeros(rows, np.int64)
    p_exit = np.zeros(cols, np.int64)
    stream_start[0] = fold_load_rows[0]
    known = 1  # folds whose load and stream start are scheduled
    p_live_load = 0
    p_live_switch = 0
    done = 0
    saturations = 0
    g = 0
    while done < n_folds:
        # schedule the next loads: behind the previous fold's stream start (overlap) or its end
        while known < n_folds:
            if overlap:
                begin = stream_start[known - 1]
            elif end[known - 1] >= 0:
                begin = end[known - 1]
            else:
                break
            load_start[known] = begin
            stream_start[known] = max(begin + fold_load_rows[known], stream_start[known - 1] + t_len)
            known += 1
        # top edge: stationary values, bottom row of the block first, tagged with their row
        for j in range(cols):
            p, active = _wave_fold(g - j, load_start, fold_load_rows, known, p_load[j])
            p_load[j] = p
            load_in_val[j] = zero
            load_in_tag[j] = -1
            if active and j < fold_time_cols[p]:
                i = fold_load_rows[p] - 1 - (g - j - load_start[p])
                load_in_tag[j] = i
                if i < fold_rows[p] and j < fold_cols[p]:
                    load_in_val[j] = w[fold_row0[p] + i, fold_col0[p] + j]
                    stats[PE_STAT_TOP_WORDS] += 1
        # left edge: stream rows, skewed by one cycle per array row
        for i in range(rows):
            p, active = _wave_fold(g - i, stream_start, stream_len, known, p_stream[i])
            p_stream[i] = p
            x_in[i] = zero
            switch_in[i] = False
            if active:
                t = g - i - stream_start[p]
                switch_in[i] = t == 0
                if i < fold_rows[p]:
                    x_in[i] = x[t, fold_row0[p] + i]
                    stats[PE_STAT_LEFT_WORDS] += 1
        # the load chain and the switch hold live values only for a while after each fold's
        # load and stream start; outside those windows they hold nothing and are not stepped
        while p_live_load < known and g > load_start[p_live_load] + cols + fold_load_rows[p_live_load] + rows:
            p_live_load += 1
        load_live = p_live_load < known and g >= load_start[p_live_load]
        while p_live_switch < known and g > stream_start[p_live_switch] + cols + rows:
            p_live_switch += 1
        switch_live = p_live_switch < known and g >= stream_start[p_live_switch]
        # every PE, bottom-right first so that neighbours are read before they are written
        for i in range(rows - 1, -1, -1):
            for j in range(cols - 1, -1, -1):
                if switch_live:
                    sw = switch_in[i] if j == 0 else switch[i, j - 1]
                    if sw:
                        w_active[i, j] = w_shadow[i, j]
                    switch[i, j] = sw
                if load_live:
                    if i == 0:
                        v = load_in_val[j]
                        tag = load_in_tag[j]
                    else:
                        v = load_val[i - 1, j]
                        tag = load_tag[i - 1, j]
                    if tag == i:
                        w_shadow[i, j] = v
                    load_val[i, j] = v
                    load_tag[i, j] = tag
                xv = x_in[i] if j == 0 else x_reg[i, j - 1]
                x_reg[i, j] = xv
                p_above = zero if i == 0 else psum[i - 1, j]
                s, clipped = _add(p_above, xv * w_active[i, j], saturate, lo, hi)
                psum[i, j] = s
                saturations += clipped
        # bottom edge: the partial sum of stream row t in column j leaves at s_f + t + j + R - 1
        for j in range(cols):
            p, active = _wave_fold(g - j - (rows - 1), stream_start, stream_len, known, p_exit[j])
            p_exit[j] = p
            if active and j < fold_time_cols[p]:
                if j < fold_cols[p]:
                    t = g - j - (rows - 1) - stream_start[p]
                    s, clipped = _add(y[t, fold_col0[p] + j], psum[rows - 1, j], saturate, lo, hi)
                    y[t, fold_col0[p] + j] = s
                    saturations += clipped
                    stats[PE_STAT_BOTTOM_WORDS] += 1
                exits[p] += 1
                if exits[p] == t_len * fold_time_cols[p]:
                    end[p] = g + 1
                    done += 1
        g += 1
    stats[PE_STAT_CYCLES] += end.max()
    stats[PE_STAT_PE_UPDATES] += g * rows * cols
    stats[PE_STAT_SATURATIONS] += saturations


@kernel
def run_pe_os(l, u, fold_row0, fold_col0, fold_rows, fold_cols, fold_time_rows, fold_time_cols,
              rows, cols, saturate, lo, hi, y, stats):
    """Output-stationary array computing ``y = l @ u`` fold by fold (no overlap between folds).

    Operand ``k`` of output ``(i, j)`` meets in PE ``(i, j)`` at fold cycle ``k + i + j``; after
    the last MAC (fold cycle ``T + rt + ct - 3``) the accumulators shift down and out of the
    bottom edge for ``rows`` cycles, then the next fold starts.

    Parameters
    ----------
    l : (Sr, T) int64 or float64
        Left operand; row ``i`` of the fold's block enters array row ``i``.
    u : (T, Sc) same dtype
        Top operand; column ``j`` of the fold's block enters array column ``j``.
    fold_row0, fold_col0, fold_rows, fold_cols : (F,) int64
        First row/column of each fold's output block and the rows/columns holding data.
    fold_time_rows, fold_time_cols : (F,) int64
        Rows/columns the fold's fill and drain are timed for: the data rows/columns (native)
        or the whole array (SCALE-Sim timing).
    rows, cols : int
        Array size ``R x C``.
    saturate, lo, hi
        As in :func:`run_pe_stationary`.
    y : (Sr, Sc) same dtype
        Outputs (out).
    stats : (PE_STAT_COUNT,) int64
        Counters, indexed by ``PE_STAT_*`` (in/out, added to).
    """
    n_folds = fold_rows.shape[0]
    t_len = l.shape[1]
    zero = y.dtype.type(0)
    a_reg = np.zeros((rows, cols), y.dtype)
    b_reg = np.zeros((rows, cols), y.dtype)
    acc = np.zeros((rows, cols), y.dtype)
    a_in = np.zeros(rows, y.dtype)
    b_in = np.zeros(cols, y.dtype)
    saturations = 0
    g = 0
    for f in range(n_folds):
        r0 = fold_row0[f]
        c0 = fold_col0[f]
        last_mac = t_len + fold_time_rows[f] + fold_time_cols[f] - 3
        c = 0  # cycle within the fold
        while c <= last_mac + rows:
            draining = c > last_mac
            for i in range(rows):
                k = c - i
                a_in[i] = zero
                if not draining and i < fold_rows[f] and 0 <= k < t_len:
                    a_in[i] = l[r0 + i, k]
                    stats[PE_STAT_LEFT_WORDS] += 1
            for j in range(cols):
                k = c - j
                b_in[j] = zero
                if not draining and j < fold_cols[f] and 0 <= k < t_len:
                    b_in[j] = u[k, c0 + j]
                    stats[PE_STAT_TOP_WORDS] += 1
            if draining:  # bottom row leaves: it held output row rows - 1 - (c - last_mac - 1)
                i_out = rows - (c - last_mac)
                if i_out < fold_rows[f]:
                    for j in range(fold_cols[f]):
                        y[r0 + i_out, c0 + j] = acc[rows - 1, j]
                        stats[PE_STAT_BOTTOM_WORDS] += 1
                stats[PE_STAT_DRAIN_CYCLES] += 1
            for i in range(rows - 1, -1, -1):
                for j in range(cols - 1, -1, -1):
                    av = a_in[i] if j == 0 else a_reg[i, j - 1]
                    bv = b_in[j] if i == 0 else b_reg[i - 1, j]
                    a_reg[i, j] = av
                    b_reg[i, j] = bv
                    if draining:
                        acc[i, j] = zero if i == 0 else acc[i - 1, j]
                    else:
                        s, clipped = _add(acc[i, j], av * bv, saturate, lo, hi)
                        acc[i, j] = s
                        saturations += clipped
            c += 1
        g += c
    stats[PE_STAT_CYCLES] += g
    stats[PE_STAT_PE_UPDATES] += g * rows * cols
    stats[PE_STAT_SATURATIONS] += saturations
