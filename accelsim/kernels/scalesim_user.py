"""SCALE-Sim 3.0.0 USER bandwidth mode: the read and write buffers walked row by row.

``run_fold_scalesim_user`` fills the same counters as ``systolic.run_fold_scalesim`` but with
the stalls, the DRAM counts and the DRAM cycles of ``docs/scalesim_memory_model.md`` section 7:
each read operand is fetched from DRAM in its *fetch order* (SCALE-Sim's prefetch matrix),
cut into sets; an active window of sets slides over it (circularly) whenever a demanded
address is not in it, and the row stalls when the DRAM lines run behind; the OFMAP buffer
drains half of itself at ``Bandwidth`` words a cycle and stalls the array when it is full.

Every request is identified by its fetch coordinates ``(x, u)``: lane ``x`` (the operand-matrix
index spread over the array's lanes) and depth ``u`` (the other index). The demand streams of
section 2 and the fetch orders are closed forms in them, so the walk keeps only per-line
prefix counts of the fetch order (O(fetch lines), no demand or fetch matrix).
"""

import numpy as np

from accelsim.kernels._jit import kernel
from accelsim.kernels.codes import (
    DATAFLOW_IS, DATAFLOW_OS, DATAFLOW_WS, STAT_CYCLES, STAT_CYCLES_INCL_PREFETCH, STAT_DRAM_READ_BYTES,
    STAT_DRAM_WRITE_BYTES, STAT_FILTER_DRAM_READS, STAT_IFMAP_DRAM_READS, STAT_OFMAP_DRAM_WRITES,
    STAT_STALL_CYCLES,
)
from accelsim.kernels.systolic import scalesim_compute_stats

# Read-operand description and state (int64 array ``op``).
_IS_A = 0          # 1: the ifmap A[p, k]; 0: the filter B[k, m]
_LANE_ROW = 1      # 1: the lane index x is the matrix row (p of A, k of B); 0: its column
_WIDTH = 2         # lanes per fetch block (R or C)
_DEPTH = 3         # depth extent h (rows of one fetch block)
_BOUND = 4         # lane extent (Npx, K or M)
_DIAG = 5          # 1: fetch matrix read along anti-diagonals; 0: row-major
_ROWS = 6          # fetch-matrix rows (blocks x depth)
_SET_WORDS = 7     # valid words per set, ceil(SRAM words / 100)
_SETS = 8          # sets in the whole fetch order
_ACTIVE = 9        # sets in the active window
_STEP = 10         # sets the window slides per prefetch
_WINDOW = 11       # first set of the active window
_LAST = 12         # cycle the last prefetched DRAM line arrived
_LINES = 13        # DRAM lines per prefetch
_BW = 14           # words per DRAM line
_DRAM = 15         # DRAM words read (lines x bw, padding included)
_START = 16        # first DRAM cycle (the active-half fill, before cycle 0)
_KIND = 17         # _STREAM (skewed, one depth step per row) or _STATIONARY (loaded once per fold)
_LANE_FOLD = 18    # which fold index picks a streamed operand's lane block: _ROW_FOLD or _COL_FOLD
_DELAY = 19        # row at which lane 0 of a streamed operand starts (0 for os, R for ws/is)
_PIXELS = 20       # Npx (ifmap validity table layout)
_TAPS = 21         # K
_IN_H = 22
_IN_W = 23
_ALL_VALID = 24    # 1: no -1 inside the operand matrix (the filter, or an ifmap without ceil windows)
_N_OP = 25
_STREAM, _STATIONARY = 0, 1
_ROW_FOLD, _COL_FOLD = 0, 1

# Write-buffer state (int64 array ``wb``)
_W_TOTAL, _W_ACTIVE, _W_BATCH, _W_BW, _W_FREE, _W_OPEN, _W_HEAD, _W_TAIL, _W_END, _W_DRAM, _W_FIRST, \
    _W_LAST = range(12)
_N_WB = 12


@kernel
def _ifmap_table(geom):
    """Window origins and tap offsets: ``[p_y (Npx), p_x (Npx), k_r (K), k_s (K)]``.

    Ifmap element ``A[p, k]`` reads ifmap row ``p_y[p] + k_r[k]`` and column ``p_x[p] + k_s[k]``
    (one flat array: a tuple of arrays costs reference counting on every call).
    """
    channels, kernel_w, out_w = geom[2], geom[4], geom[8]
    pixels, taps = geom[7] * out_w, geom[3] * kernel_w * channels
    tab = np.empty(2 * pixels + 2 * taps, dtype=np.int64)
    for p in range(pixels):
        tab[p] = (p // out_w) * geom[5]
        tab[pixels + p] = (p % out_w) * geom[6]
    for k in range(taps):
        tab[2 * pixels + k] = k // (kernel_w * channels)
        tab[2 * pixels + taps + k] = (k // channels) % kernel_w
    return tab


@kernel
def _element_valid(op, x, u, tab):
    """Whether fetch entry (lane x, depth u) is a real address (A's ceil windows can fall off)."""
    if op[_ALL_VALID] == 1:
        return True
    if op[_LANE_ROW] == 1:
        p, k = x, u
    else:
        p, k = u, x
    pixels, taps = op[_PIXELS], op[_TAPS]
    return (tab[p] + tab[2 * pixels + k] < op[_IN_H]
            and tab[pixels + p] + tab[2 * pixels + taps + k] < op[_IN_W])


@kernel
def _entry_valid(op, row, c, tab):
    """Whether fetch-matrix entry (row, column c) holds an address (not -1 padding)."""
    x = (row // op[_DEPTH]) * op[_WIDTH] + c
    if x >= op[_BOUND]:
        return False
    return _element_valid(op, x, row % op[_DEPTH], tab)


@kernel
def _line_first(op, line):
    """First column of fetch line ``line`` (an anti-diagonal, bottom-left first, or a row)."""
    return max(0, line - op[_ROWS] + 1) if op[_DIAG] == 1 else 0


@kernel
def _line_stop(op, line):
    return min(line, op[_WIDTH] - 1) + 1 if op[_DIAG] == 1 else op[_WIDTH]


@kernel
def _fetch_lines(op, tab):
    """Per fetch line: valid entries before it (column 0) and, in column 1, the set of all its
    entries, or -1 when a set boundary falls inside it (filled by ``_init_read``)."""
    lines = op[_ROWS] + op[_WIDTH] - 1 if op[_DIAG] == 1 else op[_ROWS]
    fetch = np.zeros((lines + 1, 2), dtype=np.int64)
    for line in range(lines):
        count = 0
        for c in range(_line_first(op, line), _line_stop(op, line)):
            if _entry_valid(op, line - c if op[_DIAG] == 1 else line, c, tab):
                count += 1
        fetch[line + 1, 0] = fetch[line, 0] + count
    return fetch


@kernel
def _set_of(op, fetch, row, c, tab):
    """Set holding fetch entry (row, c): its rank among the valid entries // set words."""
    line = row + c if op[_DIAG] == 1 else row
    if fetch[line, 1] >= 0:
        return fetch[line, 1]
    rank = fetch[line, 0]
    for c2 in range(_line_first(op, line), c):
        if _entry_valid(op, line - c2 if op[_DIAG] == 1 else line, c2, tab):
            rank += 1
    return rank // op[_SET_WORDS]


@kernel
def _in_window(op, s):
    ahead = s - op[_WINDOW]
    if ahead < 0:
        ahead += op[_SETS]
    return ahead < op[_ACTIVE]


@kernel
def _init_read(op, fetch, sram_words, bw):
    """Set sizes, windows and the active-half fill (DRAM cycles -lines .. -1)."""
    words = (sram_words + 99) // 100
    active = (sram_words + 1) // 2
    prefetch = sram_words - active
    lines = fetch.shape[0] - 1
    sets = fetch[lines, 0] // words + 1
    op[_SET_WORDS] = words
    op[_SETS] = sets
    op[_ACTIVE] = min((active + words - 1) // words, sets)
    op[_STEP] = min((prefetch + words - 1) // words, sets - op[_ACTIVE])
    op[_WINDOW] = 0
    op[_LAST] = -1
    op[_BW] = bw
    op[_LINES] = (prefetch + bw - 1) // bw
    fetch_rows = (op[_ROWS] * op[_WIDTH] + bw - 1) // bw
    fill = min((active + bw - 1) // bw, fetch_rows)
    op[_DRAM] = fill * bw
    op[_START] = -fill
    for line in range(lines):
        first, last = fetch[line, 0], fetch[line + 1, 0] - 1
        fetch[line, 1] = first // words if last < first or first // words == last // words else -1


@kernel
def _aliases(op, fetch, x, u, tab, geom, out):
    """Sets of every fetch entry holding the same ifmap address as (x, u); returns how many."""
    p, k = (x, u) if op[_LANE_ROW] == 1 else (u, x)
    channels, kernel_h, kernel_w = geom[2], geom[3], geom[4]
    stride_h, stride_w, out_h, out_w = geom[5], geom[6], geom[7], geom[8]
    pixels, taps = op[_PIXELS], op[_TAPS]
    y, xx, ch = tab[p] + tab[2 * pixels + k], tab[pixels + p] + tab[2 * pixels + taps + k], k % channels
    width, depth = op[_WIDTH], op[_DEPTH]
    n = 0
    for oh in range(max(0, (y - kernel_h + stride_h) // stride_h), min(out_h - 1, y // stride_h) + 1):
        for ow in range(max(0, (xx - kernel_w + stride_w) // stride_w), min(out_w - 1, xx // stride_w) + 1):
            p2 = oh * out_w + ow
            k2 = ((y - oh * stride_h) * kernel_w + xx - ow * stride_w) * channels + ch
            x2, u2 = (p2, k2) if op[_LANE_ROW] == 1 else (k2, p2)
            out[n] = _set_of(op, fetch, (x2 // width) * depth + u2, x2 % width, tab)
            n += 1
    return n


@kernel
def _prefetch(op):
    """Slide the active window by one prefetch; its DRAM lines follow the previous ones."""
    if op[_STEP] == 0:
        raise RuntimeError("scalesim USER read buffer: address missing from the fetch order")
    op[_WINDOW] = (op[_WINDOW] + op[_STEP]) % op[_SETS]
    op[_LAST] += op[_LINES] + 1   # lines issued at last+1 .. last+lines, each served a cycle later
    op[_DRAM] += op[_LINES] * op[_BW]


@kernel
def _read(op, fetch, block, c, u, tab, geom, scratch, cycle, offset):
    """Serve one valid request (lane ``block*W + c``, depth u); returns the row's offset.

    A miss slides the window until a set holding the address is in it; each slide adds the
    lateness of its DRAM lines to the offset, twice when positive (SCALE-Sim 3.0.0).
    """
    own = _set_of(op, fetch, block * op[_DEPTH] + u, c, tab)
    if _in_window(op, own):
        return offset
    if op[_IS_A] == 1:
        n = _aliases(op, fetch, block * op[_WIDTH] + c, u, tab, geom, scratch)
    else:
        scratch[0] = own
        n = 1
    while True:
        for i in range(n):
            if _in_window(op, scratch[i]):
                return offset
        _prefetch(op)
        behind = op[_LAST] - (cycle + offset)
        offset += behind
        if behind > 0:
            offset += behind


@kernel
def _read_row(op, fetch, array_rows, fr, fc, i, tab, geom, scratch, cycle):
    """Read stall of local row ``i`` of fold (fc, fr): served cycle - cycle - hit latency."""
    width, depth = op[_WIDTH], op[_DEPTH]
    offset = 1
    if op[_KIND] == _STATIONARY:   # rows 0..R-1 load depth fr*R + R-1-i across the lanes
        u = fr * array_rows + array_rows - 1 - i
        if i >= array_rows or u >= depth:
            return 0
        for j in range(min(width, op[_BOUND] - fc * width)):
            if _element_valid(op, fc * width + j, u, tab):
                offset = _read(op, fetch, fc, j, u, tab, geom, scratch, cycle, offset)
        return offset - 1
    block = fc if op[_LANE_FOLD] == _COL_FOLD else fr
    t0 = i - op[_DELAY]
    for j in range(max(0, t0 - depth + 1), min(min(width, op[_BOUND] - block * width) - 1, t0) + 1):
        if _element_valid(op, block * width + j, t0 - j, tab):
            offset = _read(op, fetch, block, j, t0 - j, tab, geom, scratch, cycle, offset)
    return offset - 1


@kernel
def _describe(op, geom, is_a, lane_row, width, depth, bound, diag, kind, lane_fold, delay):
    op[_IS_A], op[_LANE_ROW], op[_WIDTH], op[_DEPTH], op[_BOUND] = is_a, lane_row, width, depth, bound
    op[_DIAG], op[_KIND], op[_LANE_FOLD], op[_DELAY] = diag, kind, lane_fold, delay
    op[_ROWS] = (bound + width - 1) // width * depth
    op[_PIXELS], op[_TAPS], op[_IN_H], op[_IN_W] = geom[7] * geom[8], geom[2] * geom[3] * geom[4], geom[0], geom[1]
    inside = (geom[7] - 1) * geom[5] + geom[3] <= geom[0] and (geom[8] - 1) * geom[6] + geom[4] <= geom[1]
    op[_ALL_VALID] = 1 if is_a == 0 or inside else 0


@kernel
def _init_write(wb, sram_words, bw):
    wb[:] = 0
    wb[_W_TOTAL] = sram_words
    wb[_W_ACTIVE] = (sram_words + 1) // 2
    wb[_W_BATCH] = (sram_words - wb[_W_ACTIVE] + bw - 1) // bw
    wb[_W_BW] = bw
    wb[_W_FREE] = sram_words
    wb[_W_FIRST] = np.iinfo(np.int64).max
    wb[_W_LAST] = np.iinfo(np.int64).min


@kernel
def _close_line(wb, ring):
    """Queue the open line (if any) for draining; returns the queue, grown if it was full.

    The queue is not bounded by the SRAM: a drain frees a whole line's worth of words for a
    partial line that is not its batch's last, so the buffer's free count drifts up and lines
    can pile up beyond its size, as in SCALE-Sim.
    """
    if wb[_W_OPEN] == 0:
        return ring
    if wb[_W_TAIL] - wb[_W_HEAD] == ring.shape[0]:
        grown = np.empty(2 * ring.shape[0], dtype=np.int64)
        for index in range(wb[_W_HEAD], wb[_W_TAIL]):
            grown[index % grown.shape[0]] = ring[index % ring.shape[0]]
        ring = grown
    ring[wb[_W_TAIL] % ring.shape[0]] = wb[_W_OPEN]
    wb[_W_TAIL] += 1
    wb[_W_OPEN] = 0
    return ring


@kernel
def _drain(wb, ring, start):
    """Send up to half the SRAM's lines, one a cycle from ``start``; returns the last cycle.

    The data counted is the lines' words minus the padding of the batch's last line only.
    """
    n = min(wb[_W_BATCH], wb[_W_TAIL] - wb[_W_HEAD])
    bw = wb[_W_BW]
    data = n * bw - (bw - ring[(wb[_W_HEAD] + n - 1) % ring.shape[0]])
    wb[_W_HEAD] += n
    wb[_W_FREE] += data
    wb[_W_DRAM] += data
    wb[_W_FIRST] = min(wb[_W_FIRST], start)
    wb[_W_LAST] = max(wb[_W_LAST], start + n - 1)
    return start + n - 1


@kernel
def _write_row(wb, ring, words, cycle):
    """Store ``words`` outputs at ``cycle``; returns (cycle the row finished, the line queue)."""
    now = cycle
    for _ in range(words):
        wb[_W_OPEN] += 1
        wb[_W_FREE] -= 1
        if wb[_W_OPEN] == wb[_W_BW]:
            ring = _close_line(wb, ring)
        if now < wb[_W_END]:
            if wb[_W_FREE] <= 0:
                now = wb[_W_END]         # full while draining: wait for the drain
        elif wb[_W_FREE] < wb[_W_ACTIVE]:
            ring = _close_line(wb, ring)  # a partial line keeps its padding
            wb[_W_END] = _drain(wb, ring, now)
    return now, ring


@kernel
def _ofmap_words(dataflow, array_rows, array_cols, sr, sc, t, fr, fc, i):
    """Valid OFMAP writes in local row ``i`` of fold (fc, fr) (memory-model doc section 2)."""
    cols_used = min(array_cols, sc - fc * array_cols)
    if dataflow == DATAFLOW_OS:   # q = i - j - (T-1) in [R - rows_used, R)
        rows_used = min(array_rows, sr - fr * array_rows)
        first = max(0, i - t - array_rows + 2)
        last = min(cols_used - 1, i - t + 1 - array_rows + rows_used)
    else:                         # time i - j - (2R-1) in [0, T)
        first = max(0, i - 2 * array_rows - t + 2)
        last = min(cols_used - 1, i - 2 * array_rows + 1)
    return max(0, last - first + 1)


@kernel
def run_fold_scalesim_user(dataflow, array_rows, array_cols, sr, sc, t, geom, ifmap_sram_words,
                           filter_sram_words, ofmap_sram_words, ifmap_bw, filter_bw, ofmap_bw, stats):
    """SCALE-Sim 3.0.0 (USER bandwidth mode) numbers for one layer.

    Parameters
    ----------
    dataflow, array_rows, array_cols, sr, sc, t, geom
        As ``systolic.run_fold_scalesim``.
    ifmap_sram_words, filter_sram_words, ofmap_sram_words : int
        SRAM sizes in words (``kB * 1024``).
    ifmap_bw, filter_bw, ofmap_bw : int
        DRAM words per cycle: the ``[layout]`` ``IfmapSRAMBankBandwidth`` and
        ``FilterSRAMBankBandwidth``, and ``Bandwidth`` (the OFMAP drain).
    stats : int64[N_STATS]
        Output counters, overwritten.
    """
    big_r, big_c = array_rows, array_cols
    demand_rows = scalesim_compute_stats(dataflow, big_r, big_c, sr, sc, t, stats)
    npx, k_total = geom[7] * geom[8], geom[2] * geom[3] * geom[4]
    m_total = t if dataflow == DATAFLOW_IS else sc
    tab = _ifmap_table(geom)
    ifm = np.zeros(_N_OP, dtype=np.int64)
    fil = np.zeros(_N_OP, dtype=np.int64)
    if dataflow == DATAFLOW_OS:
        _describe(ifm, geom, 1, 1, big_r, k_total, npx, 1, _STREAM, _ROW_FOLD, 0)
        _describe(fil, geom, 0, 0, big_c, k_total, m_total, 1, _STREAM, _COL_FOLD, 0)
    elif dataflow == DATAFLOW_WS:
        _describe(ifm, geom, 1, 0, big_r, npx, k_total, 1, _STREAM, _ROW_FOLD, big_r)
        _describe(fil, geom, 0, 0, big_c, k_total, m_total, 0, _STATIONARY, _COL_FOLD, 0)
    else:
        _describe(ifm, geom, 1, 1, big_c, k_total, npx, 0, _STATIONARY, _COL_FOLD, 0)
        _describe(fil, geom, 0, 1, big_r, m_total, k_total, 1, _STREAM, _ROW_FOLD, big_r)
    ifm_fetch = _fetch_lines(ifm, tab)
    fil_fetch = _fetch_lines(fil, tab)
    _init_read(ifm, ifm_fetch, ifmap_sram_words, ifmap_bw)
    _init_read(fil, fil_fetch, filter_sram_words, filter_bw)
    scratch = np.empty(max(1, (geom[3] + geom[5] - 1) // geom[5] * ((geom[4] + geom[6] - 1) // geom[6])),
                       dtype=np.int64)
    wb = np.zeros(_N_WB, dtype=np.int64)
    _init_write(wb, ofmap_sram_words, ofmap_bw)
    ring = np.empty(ofmap_sram_words // ofmap_bw + 2, dtype=np.int64)   # undrained lines
    row_folds = (sr + big_r - 1) // big_r
    col_folds = (sc + big_c - 1) // big_c
    per_fold = demand_rows // (row_folds * col_folds)
    stalls = 0
    total = 0
    written = 0
    row = 0
    for fc in range(col_folds):
        for fr in range(row_folds):
            for i in range(per_fold):
                cycle = row + stalls
                ifm_stall = _read_row(ifm, ifm_fetch, big_r, fr, fc, i, tab, geom, scratch, cycle)
                fil_stall = _read_row(fil, fil_fetch, big_r, fr, fc, i, tab, geom, scratch, cycle)
                words = _ofmap_words(dataflow, big_r, big_c, sr, sc, t, fr, fc, i)
                written, ring = _write_row(wb, ring, words, cycle)
                total = max(total, written)
                stalls += max(ifm_stall, fil_stall, written - cycle)
                row += 1
    end = written   # SCALE-Sim flushes from the last row's write cycle
    ring = _close_line(wb, ring)
    while wb[_W_HEAD] < wb[_W_TAIL]:
        end = _drain(wb, ring, end) + 1
    stats[STAT_CYCLES] = total
    stats[STAT_STALL_CYCLES] = stalls
    stats[STAT_IFMAP_DRAM_READS] = ifm[_DRAM]
    stats[STAT_FILTER_DRAM_READS] = fil[_DRAM]
    stats[STAT_OFMAP_DRAM_WRITES] = wb[_W_DRAM]
    stats[STAT_CYCLES_INCL_PREFETCH] = wb[_W_LAST] - min(ifm[_START], fil[_START])
    stats[STAT_DRAM_READ_BYTES] = ifm[_DRAM] + fil[_DRAM]
    stats[STAT_DRAM_WRITE_BYTES] = wb[_W_DRAM]
