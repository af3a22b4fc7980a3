"""Memory-side kernels: the native double-buffered DRAM timeline and SCALE-Sim's CALC buffers.

Native model (``docs/timing_models.md``, "Native memory model"): per fold, the words each
traffic class moves over its DRAM channel take ``xfer[f, x]`` cycles (precomputed from bytes
and bandwidth); reads for fold ``f+1`` overlap fold ``f``'s compute when the buffer is double
buffered, and fold ``f``'s outputs drain while later folds compute.

SCALE-Sim CALC model (``docs/scalesim_memory_model.md`` sections 4 and 5): the group
algorithm for read operands and the line-level OFMAP drain, walked over the demand streams.
"""

import numpy as np

from accelsim.kernels._jit import kernel
from accelsim.kernels.codes import (
    DATAFLOW_IS, DATAFLOW_OS, DATAFLOW_WS, TRAFFIC_FILTER, TRAFFIC_IFMAP, TRAFFIC_OFMAP_READ,
    TRAFFIC_OFMAP_WRITE,
)


@kernel
def double_buffer_cycles(durations, xfer, channel, latency, prefetch_overlap, drain_overlap):
    """Total cycles of a fold sequence whose operands come from DRAM.

    Parameters
    ----------
    durations : int64[F]
        Compute cycles of each fold when nothing stalls (they add up to the compute time).
    xfer : int64[F, 4]
        DRAM transfer cycles of each traffic class (``TRAFFIC_*``) for each fold: reads must
        finish before the fold starts, writes leave after it ends.
    channel : int64[4]
        DRAM channel of each traffic class (0..3); classes sharing a channel queue in issue order.
    latency : int
        Cycles from the end of a read burst on the channel to its data being usable (requests
        are pipelined, so latency delays data but does not occupy the channel).
    prefetch_overlap : bool
        Inputs of fold ``f+1`` load while fold ``f`` computes (double-buffered input SRAM);
        otherwise they load after fold ``f`` ends.
    drain_overlap : bool
        Fold ``f+1`` may start before fold ``f``'s outputs have left (double-buffered output
        SRAM: it needs only fold ``f-1``'s to have left).

    Returns
    -------
    int64
        Cycle at which the last fold has finished and its outputs have reached DRAM.
    """
    folds = durations.shape[0]
    free = np.zeros(4, dtype=np.int64)
    ready = np.int64(0)
    for x in (TRAFFIC_IFMAP, TRAFFIC_FILTER, TRAFFIC_OFMAP_READ):
        if xfer[0, x] > 0:
            free[channel[x]] += xfer[0, x]
            ready = max(ready, free[channel[x]] + latency)
    start = ready
    previous_drained = np.int64(0)
    finish = np.int64(0)
    for f in range(folds):
        end = start + durations[f]
        ready = end
        if f + 1 < folds:
            issue = start if prefetch_overlap else end
            for x in (TRAFFIC_IFMAP, TRAFFIC_FILTER):
                if xfer[f + 1, x] > 0:
                    ch = channel[x]
                    free[ch] = max(free[ch], issue) + xfer[f + 1, x]
                    ready = max(ready, free[ch] + latency)
        ch = channel[TRAFFIC_OFMAP_WRITE]
        drained = max(free[ch], end) + xfer[f, TRAFFIC_OFMAP_WRITE]
        free[ch] = drained
        if f + 1 < folds:
            if xfer[f + 1, TRAFFIC_OFMAP_READ] > 0:  # partial sums come back after they were written
                ch = channel[TRAFFIC_OFMAP_READ]
                free[ch] = max(free[ch], drained) + xfer[f + 1, TRAFFIC_OFMAP_READ]
                ready = max(ready, free[ch] + latency)
            start = max(ready, previous_drained if drain_overlap else drained)
        finish = max(finish, max(end, drained))
        previous_drained = drained
    return finish


@kernel
def _ifmap_address(p, k, geom):
    """SCALE-Sim ifmap address of operand element ``A[p, k]``, or -1 outside the ifmap.

    ``geom`` = int64[9]: in_h, in_w, channels, kernel_h, kernel_w, stride_h, stride_w, out_h, out_w.
    """
    out_w = geom[8]
    channels = geom[2]
    oh = p // out_w
    ow = p - oh * out_w
    row_len = geom[4] * channels
    r = k // row_len
    rem = k - r * row_len
    s = rem // channels
    y = oh * geom[5] + r
    x = ow * geom[6] + s
    if y >= geom[0] or x >= geom[1]:
        return -1
    return (y * geom[1] + x) * channels + (rem - s * channels)


@kernel
def calc_read_walk(dataflow, is_filter, rows, cols, sr, sc, t, geom, group_words, stamp):
    """SCALE-Sim CALC-mode DRAM reads of one read operand: the group algorithm.

    Walks the operand's demand stream (``docs/scalesim_memory_model.md`` section 2: folds
    column-fold-major, each ``P`` rows; inside a row, left to right) once. An address counts as
    a DRAM read unless it was already read in the current group; a group closes when it holds
    ``group_words`` distinct addresses (a *trigger*), and the next starts empty.

    Parameters
    ----------
    dataflow : int
        ``DATAFLOW_*``.
    is_filter : bool
        The filter operand ``B[k, m]`` (address ``m*K + k``) instead of the ifmap ``A[p, k]``.
    rows, cols, sr, sc, t : int
        Array size and the mapped GEMM (``Sr``, ``Sc``, ``T``).
    geom : int64[9]
        Conv geometry (see :func:`_ifmap_address`).
    group_words : int
        ``50 * floor(SRAM words / 100)``.
    stamp : int64[address space]
        Zeros on entry; scratch (group number + 1 of each address's last read).

    Returns
    -------
    (reads, first_row, triggers, last_trigger_row, leftover) : int64 tuple
        ``first_row`` is the row of the first valid request (-1 if none); ``leftover`` is the
        number of distinct addresses in the last, unfinished group.
    """
    k_total = geom[2] * geom[3] * geom[4]
    per_fold = t + rows + cols - 2 if dataflow == DATAFLOW_OS else 2 * rows + cols + t - 2
    row_folds = (sr + rows - 1) // rows
    col_folds = (sc + cols - 1) // cols
    stationary = (dataflow == DATAFLOW_WS and is_filter) or (dataflow == DATAFLOW_IS and not is_filter)
    # lane index is the operand matrix's first index (p for A, k for B)?
    lane_first = (not is_filter and dataflow != DATAFLOW_WS) or (is_filter and dataflow == DATAFLOW_IS)
    lanes_on_cols = dataflow == DATAFLOW_OS and is_filter
    offset = 0 if dataflow == DATAFLOW_OS else rows
    reads = np.int64(0)
    first_row = np.int64(-1)
    triggers = np.int64(0)
    last_trigger = np.int64(-1)
    in_group = np.int64(0)
    group = np.int64(1)
    fold = 0
    for fc in range(col_folds):
        for fr in range(row_folds):
            base_row = fold * per_fold
            fold += 1
            if stationary:
                n_lanes = min(cols, sc - fc * cols)
                for i in range(rows):
                    y = fr * rows + rows - 1 - i
                    if y >= sr:
                        continue
                    for j in range(n_lanes):
                        x = fc * cols + j
                        if is_filter:
                            a = x * k_total + y  # ws: B[k=y, m=x]
                        else:
                            a = _ifmap_address(x, y, geom)
                        if a < 0:
                            continue
                        if first_row < 0:
                            first_row = base_row + i
                        if stamp[a] != group:
                            stamp[a] = group
                            reads += 1
                            in_group += 1
                            if in_group == group_words:
                                triggers += 1
                                last_trigger = base_row + i
                                group += 1
                                in_group = 0
            else:
                if lanes_on_cols:
                    lane0, n_lanes = fc * cols, min(cols, sc - fc * cols)
                else:
                    lane0, n_lanes = fr * rows, min(rows, sr - fr * rows)
                for i in range(offset, offset + t + n_lanes - 1):
                    t0 = i - offset
                    j_lo = max(0, t0 - t + 1)
                    j_hi = min(n_lanes - 1, t0)
                    for j in range(j_lo, j_hi + 1):
                        x = lane0 + j
                        y = t0 - j
                        if is_filter:
                            a = (y * k_total + x) if lane_first else (x * k_total + y)
                        elif lane_first:
                            a = _ifmap_address(x, y, geom)
                        else:
                            a = _ifmap_address(y, x, geom)
                        if a < 0:
                            continue
                        if first_row < 0:
                            first_row = base_row + i
                        if stamp[a] != group:
                            stamp[a] = group
                            reads += 1
                            in_group += 1
                            if in_group == group_words:
                                triggers += 1
                                last_trigger = base_row + i
                                group += 1
                                in_group = 0
    return reads, first_row, triggers, last_trigger, in_group


@kernel
def calc_ofmap_drain(dataflow, rows, cols, sr, sc, t, sram_words, ring):
    """SCALE-Sim CALC-mode OFMAP write buffer: DRAM writes and the first/last drain cycle.

    Words enter in demand order, packed into lines of ``cols`` words. When the buffer holds
    more than ``sram_words - ceil(sram_words/2)`` words and no drain is in progress, the open
    line is closed and up to ``ceil(drain/cols)`` lines drain, one per cycle; each drain counts
    its lines as full except for the padding of its last line. After the last demand row the
    rest drains back to back (``docs/scalesim_memory_model.md`` section 5).

    Parameters
    ----------
    ring : int64[sram_words + 2]
        Scratch: word counts of the closed, undrained lines.

    Returns
    -------
    (writes, first_drain_cycle, last_drain_cycle) : int64 tuple
    """
    per_fold = t + rows + cols - 2 if dataflow == DATAFLOW_OS else 2 * rows + cols + t - 2
    row_folds = (sr + rows - 1) // rows
    col_folds = (sc + cols - 1) // cols
    active = (sram_words + 1) // 2
    lines_per_drain = (sram_words - active + cols - 1) // cols
    cap = ring.shape[0]
    head = 0
    n_lines = 0
    cur = 0
    free = sram_words
    drain_end = 0
    writes = np.int64(0)
    first = np.int64(-1)
    last = np.int64(-1)
    fold = 0
    for fc in range(col_folds):
        n_lanes = min(cols, sc - fc * cols)
        for fr in range(row_folds):
            base_row = fold * per_fold
            fold += 1
            if dataflow == DATAFLOW_OS:
                used = min(rows, sr - fr * rows)
                a_lo = t - 1 + rows - used
                a_hi = t - 1 + rows - 1
            else:
                a_lo = 2 * rows - 1
                a_hi = 2 * rows - 1 + t - 1
            for i in range(a_lo, a_hi + n_lanes):
                n = min(n_lanes - 1, i - a_lo) - max(0, i - a_hi) + 1
                row = base_row + i
                while n > 0:
                    if row < drain_end or free - n >= active:
                        w = n
                    else:
                        w = max(1, free - active + 1)
                    free -= w
                    cur += w
                    n -= w
                    if cur >= cols:
                        ring[(head + n_lines) % cap] = cols
                        n_lines += 1
                        cur -= cols
                    if row >= drain_end and free < active:
                        if cur > 0:
                            ring[(head + n_lines) % cap] = cur
                            n_lines += 1
                            cur = 0
                        k = min(lines_per_drain, n_lines)
                        data = k * cols - (cols - ring[(head + k - 1) % cap])
                        writes += data
                        free += data
                        head = (head + k) % cap
                        n_lines -= k
                        drain_end = row + k - 1
                        if first < 0:
                            first = row
                        last = max(last, drain_end)
    if cur > 0:
        ring[(head + n_lines) % cap] = cur
        n_lines += 1
    cycle = fold * per_fold - 1
    while n_lines > 0:
        k = min(lines_per_drain, n_lines)
        writes += k * cols - (cols - ring[(head + k - 1) % cap])
        head = (head + k) % cap
        n_lines -= k
        if first < 0:
            first = cycle
        last = max(last, cycle + k - 1)
        cycle += k
    return writes, first, last
