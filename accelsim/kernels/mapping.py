"""Kernels of the mapper: closed-form lower bounds and exact native counters of candidate mappings.

A candidate is one row of an int64 table (``CAND_*`` columns): dataflow, the three loops
outermost first (``LOOP_R``, ``LOOP_C``, ``LOOP_T``), the stream tile (0: the whole stream) and
the double buffering of the three operand buffers. The GEMM and the arch come as an int64
parameter vector (``P_*``). :func:`candidate_counts` builds a candidate's fold tables by the
traffic rules of ``accelsim.lower.tiling.mapped_schedule`` and runs them through the native
timeline of ``systolic.run_fold_native`` (:func:`.memory.resume_native_timeline`: the
recurrences of ``systolic.fold_durations`` and ``memory.double_buffer_cycles``, ``FOLD_CHUNK``
folds at a time); :func:`search_candidates` is the branch and bound of
``accelsim.mapper.gemm.search`` over candidates sorted by bound. Every product that could pass
int64 is checked by the caller (``accelsim.engine.candidates``) before these run.
"""

import numpy as np

from accelsim.kernels._jit import kernel
from accelsim.kernels.codes import DATAFLOW_OS, DATAFLOW_WS
from accelsim.kernels.memory import RESUME_COMPUTE, RESUME_FINISH, RESUME_STATE_SIZE, resume_native_timeline
from accelsim.kernels.schedule import part_of

# Loops of a mapping (accelsim.lower.tiling.LoopOrder letters r, c, t).
LOOP_R, LOOP_C, LOOP_T = 0, 1, 2
# GEMM dimensions.
DIM_M, DIM_N, DIM_K = 0, 1, 2

# Columns of the candidate table (CAND_JOINT: the unified buffer is allocated jointly,
# accelsim.lower.tiling.buffer_rooms).
(CAND_DATAFLOW, CAND_LOOP0, CAND_LOOP1, CAND_LOOP2, CAND_TILE, CAND_DB_IFMAP, CAND_DB_FILTER, CAND_DB_OFMAP,
 CAND_JOINT) = range(9)
CAND_COLUMNS = 9

# The parameter vector: the GEMM (mapped reduction KMAP, stored weight slots KW), the array, the
# operand widths, the words each buffer holds for one fold (single / double buffered), the DRAM
# (bandwidth of each traffic class as NUM/DEN bytes per cycle, 0: unlimited; its channel; latency).
(P_M, P_N, P_KMAP, P_IFMAP_WORDS, P_KW, P_ROWS, P_COLS, P_CYCLES_PER_PRODUCT, P_ACT_BITS, P_WEIGHT_BITS,
 P_PSUM_BITS, P_ACC_WORDS, P_ROOM_IFMAP, P_ROOM_FILTER, P_ROOM_OFMAP_PSUM, P_ROOM_OFMAP_ACT, P_PRELOAD_OVERLAP,
 P_LATENCY, P_BW_NUM, P_BW_DEN, P_CHANNEL, P_OUTPUT_OVERLAP, P_BROADCAST) = (
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 18, 20, 21, 22, 26, 30, 34, 35)
# P_ROOM_*: two entries each, [single, double buffered]; P_BW_NUM, P_BW_DEN, P_CHANNEL: one per traffic class.
# P_PRELOAD_OVERLAP (ws/is) and P_OUTPUT_OVERLAP (os): folds overlap; P_BROADCAST: os operands broadcast
# (accelsim.lower.tiling.array_wiring). P_UNIFIED_BITS: the unified buffer's bits; P_SHARED: three
# flags, the operands (ifmap, filter, ofmap) that live in it (accelsim.lower.tiling.unified_operands).
P_UNIFIED_BITS, P_SHARED = 36, 37
P_SIZE = 40

# Counters of one candidate (:func:`candidate_counts`), and what :func:`candidate_bounds` bounds.
OUT_CYCLES, OUT_COMPUTE, OUT_IFMAP_SRAM, OUT_FILTER_SRAM, OUT_OFMAP_SRAM_WRITES, OUT_OFMAP_SRAM_READS = range(6)
OUT_DRAM_READ_BYTES, OUT_DRAM_WRITE_BYTES, OUT_FITS = 6, 7, 8
OUT_SIZE = 9
FOLD_CHUNK = 4096
"""Folds of a candidate timed per call of the resumable timeline (:func:`candidate_counts`): its
tables stay in cache whatever the layer's fold count."""
# Energy coefficients per dataflow (accelsim.mapper.gemm._energy_model): pJ per MAC, then pJ per unit
# of ifmap / filter SRAM reads, ofmap SRAM writes / reads, DRAM read / write bytes, cycles.
ENERGY_SIZE = 8
OBJECTIVE_CYCLES, OBJECTIVE_ENERGY, OBJECTIVE_EDP = 0, 1, 2

# Rows of a candidate's int64 scratch (:func:`_workspace`; entries 0-2 per loop or dimension,
# ``W_ROOMS`` all 7 of :func:`_rooms`): one allocation per kernel call, not a dozen per candidate.
(W_STEP, W_EXTENT, W_COUNT, W_DIM_LOOP, W_DIM_EXTENT, W_POSITION, W_LARGEST, W_SMALLEST, W_ROOMS, W_STREAM, W_KEEP,
 W_SAVED, W_DOUBLE, W_CHOSEN) = range(14)
W_ROWS, W_WIDTH = 14, 7
# Rows of :func:`candidate_bound`'s float64 scratch, one entry per traffic class or channel.
F_DRAM, F_NBYTES, F_BUSY, F_READS, F_TIME = range(5)
F_ROWS, F_WIDTH = 5, 4


@kernel
def _loop_dims(dataflow):
    """GEMM dimension on the row, column and stream loops (``lower.tiling._LOOP_DIMS``)."""
    if dataflow == DATAFLOW_OS:
        return DIM_M, DIM_N, DIM_K
    if dataflow == DATAFLOW_WS:
        return DIM_K, DIM_N, DIM_M
    return DIM_K, DIM_M, DIM_N


@kernel
def _workspace():
    """A candidate kernel's int64 scratch (``W_*`` rows)."""
    return np.empty((W_ROWS, W_WIDTH), np.int64)


@kernel
def _bound_workspace():
    """:func:`candidate_bound`'s scratch: ``(int64 W_* rows, float64 F_* rows)``."""
    return _workspace(), np.empty((F_ROWS, F_WIDTH), np.float64)


@kernel
def _geometry(p, cand, step, extent, count, dim_loop, dim_extent, position):
    """Fill the loop steps, extents and counts, each dimension's loop and extent, and each loop's
    position in the order (0 outermost) of candidate ``cand``."""
    dims = _loop_dims(cand[CAND_DATAFLOW])
    dim_extent[DIM_M], dim_extent[DIM_N], dim_extent[DIM_K] = p[P_M], p[P_N], p[P_KMAP]
    for loop in range(3):
        dim_loop[dims[loop]] = loop
        extent[loop] = dim_extent[dims[loop]]
    tile = extent[LOOP_T] if cand[CAND_TILE] == 0 else max(1, min(cand[CAND_TILE], extent[LOOP_T]))
    step[LOOP_R], step[LOOP_C], step[LOOP_T] = p[P_ROWS], p[P_COLS], tile
    for loop in range(3):
        count[loop] = (extent[loop] + step[loop] - 1) // step[loop]
        position[cand[CAND_LOOP0 + loop]] = loop


@kernel
def _split(total, lo, hi, extent):
    """Exact integer share of ``total`` for the block ``[lo, hi)`` of ``extent`` (``lower.tiling._split``)."""
    return total * hi // extent - total * lo // extent


@kernel
def _bytes(words, bits):
    """Bytes of ``words`` of ``bits`` each, rounded up (``lower.tiling._bytes``)."""
    return words // 8 * bits + (words % 8 * bits + 7) // 8


@kernel
def _range(dim, i, full, step, extent, dim_loop):
    """``(lo, hi)`` of ``dim`` in block ``i`` of its loop, or its whole extent when ``full``."""
    loop = dim_loop[dim]
    if full:
        return 0, extent[loop]
    lo = i * step[loop]
    return lo, min(lo + step[loop], extent[loop])


@kernel
def _ceil_div(a, b):
    return (a + b - 1) // b


@kernel
def _block(dim, reuse, step, extent, dim_loop, position):
    """Largest block of ``dim``: its whole extent when its loop is inside the loop ``reuse`` (-1: none)."""
    loop = dim_loop[dim]
    if reuse >= 0 and position[loop] > position[reuse]:
        return extent[loop]
    return min(step[loop], extent[loop])


@kernel
def _rooms(p, cand, step, extent, count, dim_loop, position, rooms, work):
    """Words one fold may keep per operand into ``rooms`` (ifmap, filter, output partial sums,
    final outputs, then 1 where the ifmap, the filter footprint is prefetched a period ahead, and
    where finished output tiles drain over the next tile's folds);
    returns whether the allocation fits. ``accelsim.lower.tiling.buffer_rooms``: the arch's
    fixed rooms, or for ``CAND_JOINT`` the joint allocation of the unified buffer. ``work``: the
    int64 scratch (:func:`_workspace`)."""
    db_in, db_filter, db_out = cand[CAND_DB_IFMAP], cand[CAND_DB_FILTER], cand[CAND_DB_OFMAP]
    rooms[0], rooms[1] = p[P_ROOM_IFMAP + db_in], p[P_ROOM_FILTER + db_filter]
    rooms[2], rooms[3] = p[P_ROOM_OFMAP_PSUM + db_out], p[P_ROOM_OFMAP_ACT + db_out]
    rooms[4], rooms[5], rooms[6] = 0, 0, 0
    if cand[CAND_JOINT] == 0:
        return True
    m, n, kmap, words, kw = p[P_M], p[P_N], p[P_KMAP], p[P_IFMAP_WORDS], p[P_KW]
    act, weight, psum_bits = p[P_ACT_BITS], p[P_WEIGHT_BITS], p[P_PSUM_BITS]
    m_loop, n_loop, k_loop = dim_loop[DIM_M], dim_loop[DIM_N], dim_loop[DIM_K]
    stream, keep, saved = work[W_STREAM], work[W_KEEP], work[W_SAVED]
    saved[:] = 0
    for kept, reuse in ((False, -1), (True, n_loop)):
        bm, bk = _block(DIM_M, reuse, step, extent, dim_loop, position), _block(DIM_K, reuse, step, extent,
                                                                                 dim_loop, position)
        value = _ceil_div(_ceil_div(words * bm, m) * bk, kmap) * act
        if kept:
            keep[0] = value
        else:
            stream[0] = value
    for kept, reuse in ((False, -1), (True, m_loop)):
        bk, bn = _block(DIM_K, reuse, step, extent, dim_loop, position), _block(DIM_N, reuse, step, extent,
                                                                                 dim_loop, position)
        value = _ceil_div(kw * bk, kmap) * bn * weight
        if kept:
            keep[1] = value
        else:
            stream[1] = value
    out_tile = _block(DIM_M, -1, step, extent, dim_loop, position) * _block(DIM_N, -1, step, extent, dim_loop,
                                                                             position)
    footprint = (_block(DIM_M, k_loop, step, extent, dim_loop, position)
                 * _block(DIM_N, k_loop, step, extent, dim_loop, position))
    psums = footprint > p[P_ACC_WORDS] and count[k_loop] > 1
    stream[2] = out_tile * max(act, psum_bits) if psums else out_tile * act
    keep[2] = max(stream[2], footprint * psum_bits) if psums else stream[2]
    saved[0] = (count[n_loop] - 1) * words * act
    saved[1] = (count[m_loop] - 1) * kw * n * weight
    if psums:
        saved[2] = 2 * (count[k_loop] - 1) * m * n * psum_bits
    double = work[W_DOUBLE]
    double[0], double[1], double[2] = db_in + 1, db_filter + 1, db_out + 1
    best, best_saved = -1, -1
    for kept in range(8):  # bit i: operand i kept
        need, gain, allowed = 0, 0, True
        for i in range(3):
            on = (kept >> i) & 1
            if on and p[P_SHARED + i] == 0:
                allowed = False
            if p[P_SHARED + i] != 0:
                need += (keep[i] if on else stream[i]) * double[i]
            if on:
                gain += saved[i]
        if allowed and need <= p[P_UNIFIED_BITS] and gain > best_saved:
            best, best_saved = kept, gain
    chosen = work[W_CHOSEN]
    for i in range(3):
        chosen[i] = keep[i] if best >= 0 and (best >> i) & 1 else stream[i]
    if p[P_SHARED + 0] != 0:
        rooms[0] = chosen[0] // act
    if p[P_SHARED + 1] != 0:
        rooms[1] = chosen[1] // weight
    if p[P_SHARED + 2] != 0:
        rooms[2], rooms[3] = chosen[2] // psum_bits, chosen[2] // act
    if best >= 0:
        rooms[4] = (best & 1) * db_in
        rooms[5] = ((best >> 1) & 1) * db_filter
    if db_out != 0 and not psums and cand[CAND_LOOP2] == k_loop and count[k_loop] > 1:
        rooms[6] = 1
    return best >= 0


@kernel
def _periods(cand, count, pos_u):
    """``(periods, folds per period)``: iterations of the loops outside position ``pos_u``, and of the rest."""
    periods, per_period = 1, 1
    for position in range(3):
        if position < pos_u:
            periods *= count[cand[CAND_LOOP0 + position]]
        else:
            per_period *= count[cand[CAND_LOOP0 + position]]
    return periods, per_period


@kernel
def _tile_period(cand, count, pos_u, loop_a, index_a, index_b):
    """The period (one iteration of the loops at positions ``< pos_u``, numbered in execution
    order) of the tile at ``index_a`` of ``loop_a`` and ``index_b`` of the tensor's other loop."""
    period = 0
    for position in range(pos_u):
        loop = cand[CAND_LOOP0 + position]
        period = period * count[loop] + (index_a if loop == loop_a else index_b)
    return period


@kernel
def _out_tile(cand, count, step, extent, tile):
    """Words of output tile ``tile`` (numbered in execution order) when the reduction loop is innermost."""
    loop0, loop1 = cand[CAND_LOOP0], cand[CAND_LOOP1]
    i0, i1 = tile // count[loop1], tile % count[loop1]
    return min(step[loop0], extent[loop0] - i0 * step[loop0]) * min(step[loop1], extent[loop1] - i1 * step[loop1])


@kernel
def _transfer(nbytes, num, den):
    """Cycles to move ``nbytes`` at ``num / den`` bytes per cycle, rounded up (0 without a limit)."""
    return (nbytes * den + num - 1) // num if num > 0 else 0


@kernel
def _prefetched(first_tile, fetch_first, next_words, f, per, bits):
    """Bytes fold ``f`` fetches of a prefetched footprint: its period's first tile when
    ``fetch_first`` (period 0), plus its equal share of the next period's footprint."""
    words = first_tile if fetch_first and f < per else 0
    return _bytes(words + part_of(next_words[f // per], f % per, per), bits)


@kernel
def candidate_counts(p, cand, out):
    """Exact native counters of one repeat of candidate ``cand`` into ``out`` (``OUT_*``).

    ``out[OUT_FITS]`` is 1 if every fold's tiles fit their buffers; the other entries are filled
    only then. The same numbers as ``accelsim.engine.fold.schedule_counts`` on
    ``accelsim.lower.tiling.mapped_schedule``'s schedule (``tests/kernels/test_mapping_vs_ref.py``).
    Each tensor's tile words, whether its reuse footprint stays in its buffer and its transfer
    cycles depend only on the indices of its two loops: they are tabulated once, and the folds
    then look them up in execution order.
    """
    work = _workspace()
    step, extent, count = work[W_STEP], work[W_EXTENT], work[W_COUNT]
    dim_loop, dim_extent, position = work[W_DIM_LOOP], work[W_DIM_EXTENT], work[W_POSITION]
    _geometry(p, cand, step, extent, count, dim_loop, dim_extent, position)
    out[:] = 0
    db_in, db_filter, db_out = cand[CAND_DB_IFMAP], cand[CAND_DB_FILTER], cand[CAND_DB_OFMAP]
    rooms = work[W_ROOMS]
    if not _rooms(p, cand, step, extent, count, dim_loop, position, rooms, work):
        return
    room_ifmap, room_filter, room_psum, room_act = rooms[0], rooms[1], rooms[2], rooms[3]
    m, kmap, ifmap_words, kw = p[P_M], p[P_KMAP], p[P_IFMAP_WORDS], p[P_KW]
    m_loop, n_loop, k_loop = dim_loop[DIM_M], dim_loop[DIM_N], dim_loop[DIM_K]
    cm, cn, ck = count[m_loop], count[n_loop], count[k_loop]
    # bytes -> DRAM cycles per traffic class (lower.schedule.transfer_cycles); 0: unlimited
    num, den = p[P_BW_NUM:P_BW_NUM + 4], p[P_BW_DEN:P_BW_DEN + 4]
    sram = np.zeros(4, np.int64)
    dram_bytes = np.zeros(4, np.int64)
    # ifmap A[m, k], reused across the n loop: (words kept in the buffer?, cycles) per (m, k) tile
    full_m, full_k = position[m_loop] > position[n_loop], position[k_loop] > position[n_loop]
    ifmap_kept = np.empty((cm, ck), np.bool_)
    ifmap_xfer = np.empty((cm, ck), np.int64)
    ifmap_tile = np.empty((cm, ck), np.int64)
    # a prefetched footprint (lower.tiling.mapped_schedule's ``prefetched``): per period, its words
    pf_in = rooms[4] != 0 and position[n_loop] > 0
    periods_in, per_in = _periods(cand, count, position[n_loop])
    next_in = np.zeros(periods_in + 1, np.int64)  # [q - 1]: the words of period q's tiles
    for a in range(cm):
        m_lo, m_hi = _range(DIM_M, a, False, step, extent, dim_loop)
        fm_lo, fm_hi = _range(DIM_M, a, full_m, step, extent, dim_loop)
        rows_share = _split(ifmap_words, m_lo, m_hi, m)
        full_rows_share = _split(ifmap_words, fm_lo, fm_hi, m)
        for b in range(ck):
            k_lo, k_hi = _range(DIM_K, b, False, step, extent, dim_loop)
            fk_lo, fk_hi = _range(DIM_K, b, full_k, step, extent, dim_loop)
            words = _split(rows_share, k_lo, k_hi, kmap)
            if words > room_ifmap:
                return
            ifmap_kept[a, b] = _split(full_rows_share, fk_lo, fk_hi, kmap) <= room_ifmap
            ifmap_tile[a, b] = words
            if pf_in:
                period = _tile_period(cand, count, position[n_loop], m_loop, a, b)
                if period > 0:
                    next_in[period - 1] += words
            nbytes = _bytes(words, p[P_ACT_BITS])
            if not pf_in:
                dram_bytes[0] += nbytes * (1 if ifmap_kept[a, b] else cn)
            ifmap_xfer[a, b] = _transfer(nbytes, num[0], den[0])
    sram[0] = m * kmap * cn
    # filter B[k, n], reused across the m loop
    full_k, full_n = position[k_loop] > position[m_loop], position[n_loop] > position[m_loop]
    filter_kept = np.empty((ck, cn), np.bool_)
    filter_xfer = np.empty((ck, cn), np.int64)
    filter_tile = np.empty((ck, cn), np.int64)
    pf_filter = rooms[5] != 0 and position[m_loop] > 0
    periods_filter, per_filter = _periods(cand, count, position[m_loop])
    next_filter = np.zeros(periods_filter + 1, np.int64)
    for a in range(ck):
        k_lo, k_hi = _range(DIM_K, a, False, step, extent, dim_loop)
        fk_lo, fk_hi = _range(DIM_K, a, full_k, step, extent, dim_loop)
        for b in range(cn):
            n_lo, n_hi = _range(DIM_N, b, False, step, extent, dim_loop)
            fn_lo, fn_hi = _range(DIM_N, b, full_n, step, extent, dim_loop)
            words = _split(kw, k_lo, k_hi, kmap) * (n_hi - n_lo)
            if words > room_filter:
                return
            filter_kept[a, b] = _split(kw, fk_lo, fk_hi, kmap) * (fn_hi - fn_lo) <= room_filter
            filter_tile[a, b] = words
            if pf_filter:
                period = _tile_period(cand, count, position[m_loop], k_loop, a, b)
                if period > 0:
                    next_filter[period - 1] += words
            nbytes = _bytes(words, p[P_WEIGHT_BITS])
            if not pf_filter:
                dram_bytes[1] += nbytes * (1 if filter_kept[a, b] else cm)
            filter_xfer[a, b] = _transfer(nbytes, num[1], den[1])
    sram[1] = kmap * p[P_N] * cm
    # output C[m, n], reduced across the k loop: partial sums accumulate, go to the buffer or spill
    full_m, full_n = position[m_loop] > position[k_loop], position[n_loop] > position[k_loop]
    accumulate = np.empty((cm, cn), np.bool_)
    last_xfer = np.empty((cm, cn), np.int64)  # the last reduction step's writes
    psum_xfer = np.empty((cm, cn), np.int64)  # an earlier step's writes (and the next step's reads) when spilled
    write_num, write_den, read_num, read_den = num[2], den[2], num[3], den[3]
    for a in range(cm):
        m_lo, m_hi = _range(DIM_M, a, False, step, extent, dim_loop)
        fm_lo, fm_hi = _range(DIM_M, a, full_m, step, extent, dim_loop)
        for b in range(cn):
            n_lo, n_hi = _range(DIM_N, b, False, step, extent, dim_loop)
            fn_lo, fn_hi = _range(DIM_N, b, full_n, step, extent, dim_loop)
            out_words = (m_hi - m_lo) * (n_hi - n_lo)
            footprint = (fm_hi - fm_lo) * (fn_hi - fn_lo)
            accumulate[a, b] = footprint <= p[P_ACC_WORDS]
            spill = not accumulate[a, b] and footprint > room_psum
            if out_words > room_act or not accumulate[a, b] and ck > 1 and out_words > room_psum:
                return
            steps = 1 if accumulate[a, b] else ck  # folds that write the tile to the buffer
            sram[2] += out_words * steps
            sram[3] += out_words * (steps - 1)
            nbytes = _bytes(out_words, p[P_ACT_BITS])
            if rooms[6] == 0:
                dram_bytes[2] += nbytes
            last_xfer[a, b] = _transfer(nbytes, write_num, write_den)
            psum_xfer[a, b] = -1
            if spill:
                nbytes = _bytes(out_words, p[P_PSUM_BITS])
                dram_bytes[2] += nbytes * (ck - 1)
                dram_bytes[3] += nbytes * (ck - 1)
                psum_xfer[a, b] = nbytes
    # folds in execution order, timed FOLD_CHUNK at a time (the tables hold a chunk and the next
    # chunk's first fold, whose reads are issued during the chunk's last)
    loop0, loop1, loop2 = cand[CAND_LOOP0], cand[CAND_LOOP1], cand[CAND_LOOP2]
    folds = count[0] * count[1] * count[2]
    size = min(folds, FOLD_CHUNK) + 1
    rows_used = np.empty(size, np.int64)
    cols_used = np.empty(size, np.int64)
    stream = np.empty(size, np.int64)
    xfer = np.empty((size, 4), np.int64)
    index = np.zeros(3, np.int64)
    channel = p[P_CHANNEL:P_CHANNEL + 4]
    os = cand[CAND_DATAFLOW] == DATAFLOW_OS
    overlap = p[P_OUTPUT_OVERLAP] != 0 if os else p[P_PRELOAD_OVERLAP] != 0
    state = np.zeros(RESUME_STATE_SIZE, np.int64)
    j = 0
    for f in range(folds):
        if j == size:  # a full chunk and the next one's first fold: time the chunk, carry that fold
            resume_native_timeline(cand[CAND_DATAFLOW], p[P_ROWS], overlap, os and p[P_BROADCAST] != 0, rows_used,
                                   cols_used, stream, xfer, channel, p[P_LATENCY], db_in != 0 and db_filter != 0,
                                   db_out != 0, j - 1, False, state)
            rows_used[0], cols_used[0], stream[0] = rows_used[j - 1], cols_used[j - 1], stream[j - 1]
            xfer[0, :] = xfer[j - 1, :]
            j = 1
        rows_used[j] = min(step[LOOP_R], extent[LOOP_R] - index[LOOP_R] * step[LOOP_R])
        cols_used[j] = min(step[LOOP_C], extent[LOOP_C] - index[LOOP_C] * step[LOOP_C])
        stream[j] = min(step[LOOP_T], extent[LOOP_T] - index[LOOP_T] * step[LOOP_T]) * p[P_CYCLES_PER_PRODUCT]
        xfer[j, :] = 0
        i_m, i_n, i_k = index[m_loop], index[n_loop], index[k_loop]
        if pf_in:  # period 0 fetches its tiles, every period the next footprint (next_in[period])
            nbytes = _prefetched(ifmap_tile[i_m, i_k], i_n == 0, next_in, f, per_in, p[P_ACT_BITS])
            dram_bytes[0] += nbytes
            xfer[j, 0] = _transfer(nbytes, num[0], den[0])
        elif i_n == 0 or not ifmap_kept[i_m, i_k]:
            xfer[j, 0] = ifmap_xfer[i_m, i_k]
        if pf_filter:
            nbytes = _prefetched(filter_tile[i_k, i_n], i_m == 0, next_filter, f, per_filter, p[P_WEIGHT_BITS])
            dram_bytes[1] += nbytes
            xfer[j, 1] = _transfer(nbytes, num[1], den[1])
        elif i_m == 0 or not filter_kept[i_k, i_n]:
            xfer[j, 1] = filter_xfer[i_k, i_n]
        psum = psum_xfer[i_m, i_n]
        if rooms[6] != 0:  # lower.tiling.mapped_schedule's ``drained``: the previous tile in ck shares
            tile = f // ck
            words = 0
            if tile > 0:
                words = part_of(_out_tile(cand, count, step, extent, tile - 1), f % ck, ck)
            if f == folds - 1:
                words += (min(step[m_loop], extent[m_loop] - i_m * step[m_loop])
                          * min(step[n_loop], extent[n_loop] - i_n * step[n_loop]))
            nbytes = _bytes(words, p[P_ACT_BITS])
            dram_bytes[2] += nbytes
            xfer[j, 2] = _transfer(nbytes, write_num, write_den)
        elif i_k == ck - 1:
            xfer[j, 2] = last_xfer[i_m, i_n]
        elif psum >= 0:
            xfer[j, 2] = _transfer(psum, write_num, write_den)
        if psum >= 0 and i_k > 0:
            xfer[j, 3] = _transfer(psum, read_num, read_den)
        j += 1
        index[loop2] += 1
        if index[loop2] == count[loop2]:
            index[loop2] = 0
            index[loop1] += 1
            if index[loop1] == count[loop1]:
                index[loop1] = 0
                index[loop0] += 1
    resume_native_timeline(cand[CAND_DATAFLOW], p[P_ROWS], overlap, os and p[P_BROADCAST] != 0, rows_used, cols_used,
                           stream, xfer, channel, p[P_LATENCY], db_in != 0 and db_filter != 0, db_out != 0, j, True,
                           state)
    out[OUT_CYCLES] = state[RESUME_FINISH]
    out[OUT_COMPUTE] = state[RESUME_COMPUTE]
    out[OUT_IFMAP_SRAM], out[OUT_FILTER_SRAM] = sram[0], sram[1]
    out[OUT_OFMAP_SRAM_WRITES], out[OUT_OFMAP_SRAM_READS] = sram[2], sram[3]
    out[OUT_DRAM_READ_BYTES] = dram_bytes[0] + dram_bytes[1] + dram_bytes[3]
    out[OUT_DRAM_WRITE_BYTES] = dram_bytes[2]
    out[OUT_FITS] = 1


@kernel
def _lower_share(total, dim_a, dim_b, sizes, full_inside, dim_loop, dim_extent, position):
    """A lower bound of ``total``'s exact share (nested ``_split``) in blocks of ``sizes`` along
    ``dim_a`` then ``dim_b`` (the whole extent for loops nested inside ``full_inside``, -1: none)."""
    for dim in (dim_a, dim_b):
        loop = dim_loop[dim]
        inner = full_inside >= 0 and position[loop] > position[full_inside]
        total = total * (dim_extent[dim] if inner else sizes[loop]) // dim_extent[dim]
    return total


@kernel
def candidate_bound(p, cand, out, work, fwork):
    """Closed-form lower bounds of candidate ``cand``'s counters (one repeat) into ``out``
    (float64[OUT_SIZE], ``OUT_*``): cycles, SRAM words, DRAM bytes. ``out[OUT_FITS]`` is 0 when a
    tile surely exceeds its buffer (the candidate is out of the space), else 1.

    Traffic: a tensor whose smallest reuse footprint exceeds its buffer is fetched again at every
    iteration of its reuse loop (exactly), otherwise at least once; partial sums whose smallest
    footprint fits neither the accumulators nor the output buffer go out and back at every
    reduction step but the last. Cycles: the compute time without stalls (exact without preload
    overlap), every channel's transfer time, and what the timeline serialises (``docs/mapper.md``):
    a fold that fetches an input starts at least its reads plus the DRAM latency after the
    previous fold's start (prefetch) or end (no prefetch); without a double-buffered output, each
    fold's writes leave before the next fold starts. ``work``, ``fwork``: scratch (:func:`_bound_workspace`).
    """
    step, extent, count = work[W_STEP], work[W_EXTENT], work[W_COUNT]
    dim_loop, dim_extent, position = work[W_DIM_LOOP], work[W_DIM_EXTENT], work[W_POSITION]
    _geometry(p, cand, step, extent, count, dim_loop, dim_extent, position)
    largest, smallest = work[W_LARGEST], work[W_SMALLEST]
    for loop in range(3):
        largest[loop] = min(step[loop], extent[loop])
        smallest[loop] = extent[loop] - (count[loop] - 1) * step[loop]
    m, n, kmap, ifmap_words, kw = p[P_M], p[P_N], p[P_KMAP], p[P_IFMAP_WORDS], p[P_KW]
    db_in, db_filter, db_out = cand[CAND_DB_IFMAP], cand[CAND_DB_FILTER], cand[CAND_DB_OFMAP]
    rooms = work[W_ROOMS]
    joint_fits = _rooms(p, cand, step, extent, count, dim_loop, position, rooms, work)
    room_ifmap, room_filter, room_psum, room_act = rooms[0], rooms[1], rooms[2], rooms[3]
    out[:] = 0.0
    dram = fwork[F_DRAM]  # words per traffic class
    dram[:] = 0.0
    # ifmap A[m, k], reused across n
    reuse = dim_loop[DIM_N]
    largest_words = _lower_share(ifmap_words, DIM_M, DIM_K, largest, -1, dim_loop, dim_extent, position)
    fits = joint_fits and largest_words <= room_ifmap
    refetched = count[reuse] > 1 and _lower_share(ifmap_words, DIM_M, DIM_K, smallest, reuse, dim_loop, dim_extent,
                                                  position) > room_ifmap
    dram[0] = ifmap_words * (count[reuse] if refetched else 1)
    out[OUT_IFMAP_SRAM] = m * kmap * count[reuse]
    m_loop, k_loop, n_loop = dim_loop[DIM_M], dim_loop[DIM_K], dim_loop[DIM_N]
    # folds that fetch ifmap: each tile at its reuse loop's first iteration (or at every one when
    # refetched), if every tile holds a word (the smallest tile's nested shares are >= 1)
    ifmap_fetches = 0
    if ifmap_words * smallest[m_loop] // m * smallest[k_loop] >= kmap:
        ifmap_fetches = count[m_loop] * count[k_loop] * (count[reuse] if refetched else 1)
    if rooms[4] != 0:  # a prefetched footprint: its fetches spread over folds; only fold 0's is sure
        ifmap_fetches = min(ifmap_fetches, 1)
    # filter B[k, n], reused across m (whole weight rows split along k; n multiplies exactly)
    reuse = dim_loop[DIM_M]
    largest_words = kw * largest[k_loop] // kmap * largest[n_loop]
    fits = fits and largest_words <= room_filter
    inner_k = position[k_loop] > position[reuse]
    inner_n = position[n_loop] > position[reuse]
    footprint = (kw * (kmap if inner_k else smallest[k_loop]) // kmap) * (n if inner_n else smallest[n_loop])
    refetched = count[reuse] > 1 and footprint > room_filter
    dram[1] = kw * n * (count[reuse] if refetched else 1)
    out[OUT_FILTER_SRAM] = kmap * n * count[reuse]
    filter_fetches = count[k_loop] * count[n_loop] * (count[reuse] if refetched else 1)  # every tile holds a word
    if rooms[5] != 0:
        filter_fetches = min(filter_fetches, 1)
    # output C[m, n], reduced across k
    reduce = dim_loop[DIM_K]
    footprint = ((m if position[m_loop] > position[reduce] else smallest[m_loop])
                 * (n if position[n_loop] > position[reduce] else smallest[n_loop]))
    outputs = m * n
    spread = footprint > p[P_ACC_WORDS]
    spill = spread and footprint > room_psum
    psums = outputs * (count[reduce] - 1) if spread else 0
    psum_dram = psums if spill else 0
    out[OUT_OFMAP_SRAM_WRITES], out[OUT_OFMAP_SRAM_READS] = outputs + psums, psums
    dram[2], dram[3] = outputs + psum_dram, psum_dram
    fits = fits and largest[m_loop] * largest[n_loop] <= room_act
    out[OUT_FITS] = 1.0 if fits else 0.0
    # bytes (not rounded up) and each channel's busy time
    act, psum = p[P_ACT_BITS] / 8.0, p[P_PSUM_BITS] / 8.0
    nbytes = fwork[F_NBYTES]
    nbytes[0], nbytes[1] = dram[0] * act, dram[1] * p[P_WEIGHT_BITS] / 8.0
    nbytes[2] = (dram[2] - psum_dram) * act + psum_dram * psum
    nbytes[3] = dram[3] * psum
    out[OUT_DRAM_READ_BYTES] = nbytes[0] + nbytes[1] + nbytes[3]
    out[OUT_DRAM_WRITE_BYTES] = nbytes[2]
    busy, reads, time = fwork[F_BUSY], fwork[F_READS], fwork[F_TIME]  # per channel: all traffic, ifmap and
    busy[:] = 0.0  # filter reads; per traffic class
    reads[:] = 0.0
    time[:] = 0.0
    for x in range(4):
        if p[P_BW_NUM + x] > 0:
            time[x] = nbytes[x] * p[P_BW_DEN + x] / p[P_BW_NUM + x]
        busy[p[P_CHANNEL + x]] += time[x]
        if x < 2:
            reads[p[P_CHANNEL + x]] += time[x]
    # compute without stalls
    rows = p[P_ROWS]
    sr, sc, t, tile = extent[LOOP_R], extent[LOOP_C], extent[LOOP_T], step[LOOP_T]
    nr, nc, nt = count[LOOP_R], count[LOOP_C], count[LOOP_T]
    stream = nr * nc * t * p[P_CYCLES_PER_PRODUCT]
    os = cand[CAND_DATAFLOW] == DATAFLOW_OS
    if p[P_PRELOAD_OVERLAP] != 0 and not os:
        last_tile = (t - (nt - 1) * tile) * p[P_CYCLES_PER_PRODUCT]
        compute = max(min(rows, sr) + stream, nc * nt * sr + last_tile) + rows - 1
    elif os and p[P_OUTPUT_OVERLAP] != 0:  # every stream, then one drain (docs/timing_models.md)
        compute = stream + rows
    elif os and p[P_BROADCAST] != 0:  # no skew: T + R per fold
        compute = stream + nr * nc * nt * rows
    else:
        compute = nc * nt * sr + nr * nt * sc + stream + nr * nc * nt * (rows - 2)
    # a fold that fetches starts after its reads and their latency, issued no earlier than the
    # previous fold's start (prefetch) or end (no prefetch); any other fold at least one fold
    # duration (d_min, the shortest) after the previous one. Fold 0 always fetches; with fewer
    # fetches known than happen, the bound takes the count that minimises it.
    fetches = max(ifmap_fetches if p[P_BW_NUM + 0] > 0 else 0, filter_fetches if p[P_BW_NUM + 1] > 0 else 0)
    cycles = max(float(compute), busy.max())
    if fetches > 0:
        folds, latency = nr * nc * nt, p[P_LATENCY]
        if p[P_PRELOAD_OVERLAP] != 0 and not os:
            d_min = max(smallest[LOOP_T] * p[P_CYCLES_PER_PRODUCT], smallest[LOOP_R])
        elif os and (p[P_OUTPUT_OVERLAP] != 0 or p[P_BROADCAST] != 0):  # a fold's start follows its stream
            d_min = smallest[LOOP_T] * p[P_CYCLES_PER_PRODUCT]
        else:
            d_min = smallest[LOOP_R] + smallest[LOOP_T] * p[P_CYCLES_PER_PRODUCT] + rows + smallest[LOOP_C] - 2
        if latency >= d_min:
            chain = latency * fetches + (folds - fetches + 1) * d_min
        else:
            chain = latency * folds + d_min
        cycles = max(cycles, reads.max() + chain)
    if not (db_in != 0 and db_filter != 0):
        cycles = max(cycles, compute + reads.max() + p[P_LATENCY] * fetches)
    if db_out == 0:  # each fold's writes (and later partial-sum reads) leave before the next fold starts
        cycles = max(cycles, compute + time[2])
        if not (db_in != 0 and db_filter != 0):
            cycles = max(cycles, compute + reads[p[P_CHANNEL + 2]] + time[2] + time[3])
    out[OUT_CYCLES] = cycles
    out[OUT_COMPUTE] = compute


@kernel
def candidate_bounds(p, cands, out):
    """:func:`candidate_bound` of every row of ``cands`` into the rows of ``out``."""
    work, fwork = _bound_workspace()
    for i in range(cands.shape[0]):
        candidate_bound(p, cands[i], out[i], work, fwork)


@kernel
def _energy(coef, macs, counts):
    """pJ of ``macs`` MACs and ``counts`` (``OUT_*``) at ``coef`` (pJ per MAC, then per unit of ifmap /
    filter SRAM reads, ofmap SRAM writes / reads, DRAM read / write bytes, cycles), summed in the
    order of ``accelsim.mapper.gemm._energy`` so that both give the same float."""
    total = 0.0
    for unit, column in enumerate((OUT_IFMAP_SRAM, OUT_FILTER_SRAM, OUT_OFMAP_SRAM_WRITES, OUT_OFMAP_SRAM_READS,
                                   OUT_DRAM_READ_BYTES, OUT_DRAM_WRITE_BYTES, OUT_CYCLES)):
        total += coef[1 + unit] * counts[column]
    return macs * coef[0] + total


@kernel
def _score(objective, cycles, energy):
    if objective == OBJECTIVE_CYCLES:
        return float(cycles)
    if objective == OBJECTIVE_ENERGY:
        return energy
    return float(cycles) * energy


@kernel
def search_candidates(p, cands, ranked, bound_scores, energy, macs, objective, best_counts):
    """Branch and bound: candidates in ``ranked`` order (by lower bound of the objective, then
    position), each evaluated exactly (:func:`candidate_counts`) until the next bound exceeds
    the best score; ties go to the lower position.

    ``bound_scores[i]``: the lower bound of candidate ``i`` (``inf``: out of the space);
    ``energy[dataflow]``: the energy coefficients (``ENERGY_SIZE``). Fills ``best_counts``
    (``OUT_*``) and returns ``(best position or -1, candidates evaluated, best energy in pJ)``.
    Scores are equal bit for bit to the Python evaluation's (:func:`_energy`).
    """
    counts = np.empty(OUT_SIZE, np.int64)
    best_score, best_position, best_energy = np.inf, -1, 0.0
    evaluated = 0
    for i in ranked:
        bound = bound_scores[i]
        if bound == np.inf:
            break
        if best_position >= 0 and (bound > best_score or bound == best_score and i > best_position):
            break
        candidate_counts(p, cands[i], counts)
        if counts[OUT_FITS] == 0:
            continue
        evaluated += 1
        pj = _energy(energy[cands[i, CAND_DATAFLOW]], macs, counts)
        score = _score(objective, counts[OUT_CYCLES], pj)
        if score < best_score or score == best_score and i < best_position:
            best_score, best_position, best_energy = score, i, pj
            best_counts[:] = counts
    return best_position, evaluated, best_energy


@kernel
def bound_scores(p, cands, energy, macs, objective, scores):
    """Each candidate's lower bound of the objective (:func:`candidate_bound`, its energy priced
    with ``energy[dataflow]``) into ``scores``: ``inf`` when it surely does not fit. Lowered by a
    relative 1e-12 so that float rounding never lifts a bound above the exact score it bounds."""
    bound = np.empty(OUT_SIZE)
    work, fwork = _bound_workspace()
    for i in range(cands.shape[0]):
        candidate_bound(p, cands[i], bound, work, fwork)
        if bound[OUT_FITS] == 0:
            scores[i] = np.inf
            continue
        pj = _energy(energy[cands[i, CAND_DATAFLOW]], macs, bound)
        scores[i] = _score(objective, bound[OUT_CYCLES], pj) * (1 - 1e-12)
