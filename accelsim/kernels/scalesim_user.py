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
prefix counts and set boundaries of the fetch order (O(fetch lines), no demand or fetch
matrix). One operand's requests in one row are consecutive entries of one fetch line, so a
row whose sets are all in the active window costs O(1); only the other rows are served
request by request (section 7.6).

The row loop calls only small inlined helpers (numba prunes their reference counts) and
leaves them for the request-by-request code only on rows that need it; no array is reassigned
inside it (numba would then count references on every row).
"""

import numpy as np

from accelsim.kernels._jit import kernel
from accelsim.kernels.codes import (
    DATAFLOW_IS, DATAFLOW_OS, DATAFLOW_WS, FOLD_STAT_CYCLES, FOLD_STAT_CYCLES_INCL_PREFETCH, FOLD_STAT_DRAM_READ_BYTES,
    FOLD_STAT_DRAM_WRITE_BYTES, FOLD_STAT_FILTER_DRAM_READS, FOLD_STAT_IFMAP_DRAM_READS, FOLD_STAT_OFMAP_DRAM_WRITES,
    FOLD_STAT_STALL_CYCLES,
)
from accelsim.kernels.systolic import scalesim_compute_stats

# Read-operand description and state (int64 array ``op``).
_IS_A = 0          # 1: the ifmap A[p, k]; 0: the filter B[k, m]
_LANE_ROW = 1      # 1: the lane index x is the matrix row (p of A, k of B); 0: its column
_WIDTH = 2         # lanes per fetch block (R or C)
_DEPTH = 3         # depth extent h (rows of one fetch block)
_BOUND = 4         # lane extent (Npx, K or M)
_KIND = 5          # _STREAM (skewed, one depth step per row; fetched along anti-diagonals) or
                   # _STATIONARY (loaded once per fold; fetched row by row): the demand order
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
_LANE_FOLD = 17    # which fold index picks a streamed operand's lane block: _ROW_FOLD or _COL_FOLD
_DELAY = 18        # row at which lane 0 of a streamed operand starts (0 for os, R for ws/is)
_PIXELS = 19       # Npx (ifmap validity table layout)
_TAPS = 20         # K
_IN_H = 21
_IN_W = 22
_ALL_VALID = 23    # 1: no -1 inside the operand matrix (the filter, or an ifmap without ceil windows)
_N_OP = 24
_STREAM, _STATIONARY = 0, 1
_ROW_FOLD, _COL_FOLD = 0, 1

# Write-buffer state (int64 array ``wb``). Closed lines are numbered 0, 1, ... (``_W_HEAD`` is
# the first not yet drained, ``_W_TAIL`` the next to close); all hold ``bw`` words except the
# partial ones, kept as (line number, words) pairs in a queue of their own.
_W_TOTAL, _W_ACTIVE, _W_BATCH, _W_BW, _W_FREE, _W_OPEN, _W_HEAD, _W_TAIL, _W_END, _W_DRAM, _W_FIRST, \
    _W_LAST, _W_PHEAD, _W_PTAIL = range(14)
_N_WB = 14

# Row-walk state (int64 array ``walk``)
_ROW, _STALLS, _TOTAL, _WRITTEN = range(4)
_N_WALK = 4


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


@kernel(inline="always")
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
    return max(0, line - op[_ROWS] + 1) if op[_KIND] == _STREAM else 0


@kernel
def _line_stop(op, line):
    return min(line, op[_WIDTH] - 1) + 1 if op[_KIND] == _STREAM else op[_WIDTH]


@kernel
def _line_of(op, x, u):
    """Fetch line of lane x, depth u."""
    width = op[_WIDTH]
    row = (x // width) * op[_DEPTH] + u
    return row + x % width if op[_KIND] == _STREAM else row


@kernel
def _fetch_lines(op, tab):
    """Per fetch line: valid entries before it (column 0); columns 1 and 2 (filled by
    ``_init_read``): the set of its first entry and the column from which its entries are in
    the next set (W if none), or -1 in column 1 when two set boundaries fall inside it.

    A line's entries, minus the padding lanes of the last block, minus the ifmap entries of
    the ceil windows that fall off the ifmap (only windows of the last output row or column).
    """
    width, depth, rows = op[_WIDTH], op[_DEPTH], op[_ROWS]
    diag = op[_KIND] == _STREAM
    lines = rows + width - 1 if diag else rows
    last_rows = rows - depth                   # first row of the last lane block
    last_width = op[_BOUND] - last_rows // depth * width   # its lanes that exist
    fetch = np.zeros((lines + 1, 3), dtype=np.int64)
    for line in range(lines):
        first, stop = _line_first(op, line), _line_stop(op, line)
        pad_first = max(first, last_width)
        pad_stop = min(stop, line - last_rows + 1) if diag else (stop if line >= last_rows else 0)
        fetch[line, 1] = stop - first - max(0, pad_stop - pad_first)
    if op[_ALL_VALID] == 0:
        in_h, in_w, pixels, taps = op[_IN_H], op[_IN_W], op[_PIXELS], op[_TAPS]
        for p in range(pixels):
            if tab[p] + tab[2 * pixels + taps - 1] < in_h and tab[pixels + p] + tab[2 * pixels + 2 * taps - 1] < in_w:
                continue   # the window's last tap (largest row and column offsets) is inside
            for k in range(taps):
                x, u = (p, k) if op[_LANE_ROW] == 1 else (k, p)
                if not _element_valid(op, x, u, tab):
                    fetch[_line_of(op, x, u), 1] -= 1
    for line in range(lines):
        fetch[line + 1, 0] = fetch[line, 0] + fetch[line, 1]
    return fetch


@kernel
def _rank_before(op, fetch, line, c, tab):
    """Valid entries of the fetch order before entry (line, column c)."""
    rank = fetch[line, 0]
    for c2 in range(_line_first(op, line), c):
        if _entry_valid(op, line - c2 if op[_KIND] == _STREAM else line, c2, tab):
            rank += 1
    return rank


@kernel(inline="always")
def _window_has(s, window, sets, active):
    """Whether set ``s`` is among the ``active`` sets from ``window`` on (circularly)."""
    ahead = s - window
    if ahead < 0:
        ahead += sets
    return ahead < active


@kernel(inline="always")
def _in_window(op, s):
    return _window_has(s, op[_WINDOW], op[_SETS], op[_ACTIVE])


@kernel(inline="always")
def _window_holds(op, first, last):
    """Whether the active window holds every set ``first .. last`` (``last >= first``)."""
    ahead = first - op[_WINDOW]
    if ahead < 0:
        ahead += op[_SETS]
    return ahead + last - first < op[_ACTIVE]


@kernel
def _init_read(op, fetch, sram_words, bw, tab):
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
        fetch[line, 1] = first // words
        fetch[line, 2] = op[_WIDTH]
        if last >= first and last // words == first // words + 1:
            rank = first
            for c in range(_line_first(op, line), _line_stop(op, line)):
                if _entry_valid(op, line - c if op[_KIND] == _STREAM else line, c, tab):
                    if rank == last // words * words:
                        fetch[line, 2] = c
                        break
                    rank += 1
        elif last >= first and last // words > first // words + 1:
            fetch[line, 1] = -1


@kernel
def _prefetch(op):
    """Slide the active window by one prefetch; its DRAM lines follow the previous ones."""
    if op[_STEP] == 0:
        raise RuntimeError("scalesim USER read buffer: address missing from the fetch order")
    op[_WINDOW] = (op[_WINDOW] + op[_STEP]) % op[_SETS]
    op[_LAST] += op[_LINES] + 1   # lines issued at last+1 .. last+lines, each served a cycle later
    op[_DRAM] += op[_LINES] * op[_BW]


@kernel
def _miss(op, sets, n, cycle, offset):
    """Slide the window until one of ``sets[:n]`` is in it; returns the row's new offset.

    Each slide adds the lateness of its DRAM lines to the offset, twice when positive
    (SCALE-Sim 3.0.0).
    """
    while True:
        _prefetch(op)
        behind = op[_LAST] - (cycle + offset)
        offset += behind
        if behind > 0:
            offset += behind
        for index in range(n):
            if _in_window(op, sets[index]):
                return offset


@kernel
def _read_run(op, fetch, line, block, u0, du, lo, hi, tab, geom, scratch, cycle):
    """Read stall of one demand row (``_row_requests``) whose line is not held as a whole.

    The requests are consecutive entries of fetch line ``line``, so their sets run from that of
    the first to that of the last: when the window holds that run, the row costs O(1).
    Otherwise each request is served in lane order.
    """
    width, depth, words = op[_WIDTH], op[_DEPTH], op[_SET_WORDS]
    pixels, taps, channels, kernel_h, kernel_w = op[_PIXELS], op[_TAPS], geom[2], geom[3], geom[4]
    stride_h, stride_w, out_h, out_w = geom[5], geom[6], geom[7], geom[8]
    base, split = fetch[line, 1], fetch[line, 2]   # sets base (c < split) and base + 1, or -1
    own = base
    rank = 0
    last = base + (1 if hi >= split else 0)
    if base >= 0:
        if _window_holds(op, base + (1 if lo >= split else 0), last):
            return 0
    else:
        rank = _rank_before(op, fetch, line, lo, tab)
        valid = hi - lo + 1
        if op[_ALL_VALID] == 0:
            for c in range(lo, hi + 1):
                if not _element_valid(op, block * width + c, u0 + du * c, tab):
                    valid -= 1
        if valid == 0:
            return 0
        last = (rank + valid - 1) // words
        if _window_holds(op, rank // words, last):
            return 0
    offset = 1
    window, sets, active, all_valid = op[_WINDOW], op[_SETS], op[_ACTIVE], op[_ALL_VALID]
    for c in range(lo, hi + 1):
        x, u = block * width + c, u0 + du * c
        if all_valid == 0 and not _element_valid(op, x, u, tab):
            continue
        if base >= 0:
            own = base + (1 if c >= split else 0)
        else:
            own = rank // words
            rank += 1
        if _window_has(own, window, sets, active):
            continue
        scratch[0] = own
        n = 1
        if op[_IS_A] == 1:   # the sets of every fetch entry holding the same ifmap address
            p, k = (x, u) if op[_LANE_ROW] == 1 else (u, x)
            y, xx = tab[p] + tab[2 * pixels + k], tab[pixels + p] + tab[2 * pixels + taps + k]
            n = 0
            for oh in range(max(0, (y - kernel_h + stride_h) // stride_h), min(out_h - 1, y // stride_h) + 1):
                for ow in range(max(0, (xx - kernel_w + stride_w) // stride_w), min(out_w - 1, xx // stride_w) + 1):
                    p2 = oh * out_w + ow
                    k2 = ((y - oh * stride_h) * kernel_w + xx - ow * stride_w) * channels + k % channels
                    x2, u2 = (p2, k2) if op[_LANE_ROW] == 1 else (k2, p2)
                    c2 = x2 % width
                    line2 = (x2 // width) * depth + u2 + c2 if op[_KIND] == _STREAM else (x2 // width) * depth + u2
                    s = fetch[line2, 1]
                    if s >= 0:
                        s += 1 if c2 >= fetch[line2, 2] else 0
                    else:
                        s = _rank_before(op, fetch, line2, c2, tab) // words
                    if _window_has(s, window, sets, active):
                        n = 0
                        break
                    scratch[n] = s
                    n += 1
                if n == 0:
                    break
            if n == 0:
                continue   # held by another set
        offset = _miss(op, scratch, n, cycle, offset)
        window = op[_WINDOW]
        if _window_holds(op, own, last):
            break
    return offset - 1


@kernel(inline="always")
def _row_requests(op, array_rows, fr, fc, i):
    """Requests of local row ``i`` of fold (fc, fr): ``(line, block, u0, du, lo, hi)``.

    Lanes ``block*W + c`` at depths ``u0 + du*c`` for c = lo .. hi (none if lo > hi), all on fetch
    line ``line``: a streamed operand's lane c is at depth ``i - delay - c``, on the anti-diagonal
    ``block*h + i - delay``; a stationary one loads depth ``fr*R + R-1-i`` on every lane of
    fetch row ``fc*h + depth`` in rows ``i < R``.
    """
    width, depth = op[_WIDTH], op[_DEPTH]
    if op[_KIND] == _STATIONARY:
        u = fr * array_rows + array_rows - 1 - i
        hi = min(width, op[_BOUND] - fc * width) - 1 if i < array_rows and u < depth else -1
        return fc * depth + u, fc, u, 0, 0, hi
    block = fc if op[_LANE_FOLD] == _COL_FOLD else fr
    t0 = i - op[_DELAY]
    return (block * depth + t0, block, t0, -1, max(0, t0 - depth + 1),
            min(width, op[_BOUND] - block * width, t0 + 1) - 1)


@kernel(inline="always")
def _line_held(op, fetch, line, lo, hi):
    """Whether the active window holds the sets of entries lo .. hi of a fetch line with at
    most one set boundary (``_fetch_lines``)."""
    base, split = fetch[line, 1], fetch[line, 2]
    return base >= 0 and _window_holds(op, base + (1 if lo >= split else 0), base + (1 if hi >= split else 0))


@kernel
def _describe(op, geom, is_a, lane_row, width, depth, bound, kind, lane_fold, delay):
    op[_IS_A], op[_LANE_ROW], op[_WIDTH], op[_DEPTH], op[_BOUND] = is_a, lane_row, width, depth, bound
    op[_KIND], op[_LANE_FOLD], op[_DELAY] = kind, lane_fold, delay
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
def _grown(partial, wb):
    """The partial-line queue with twice the room (it is not bounded by the SRAM: a drain frees
    a whole line's worth of words for a partial line that is not its batch's last, so the
    buffer's free count drifts up and lines can pile up beyond its size, as in SCALE-Sim)."""
    grown = np.empty((2 * partial.shape[0], 2), dtype=np.int64)
    for index in range(wb[_W_PHEAD], wb[_W_PTAIL]):
        grown[index % grown.shape[0]] = partial[index % partial.shape[0]]
    return grown


@kernel
def _close_line(wb, partial):
    """Queue the open line (if any) for draining; the partial-line queue must have room."""
    words = wb[_W_OPEN]
    if words == 0:
        return
    if words < wb[_W_BW]:
        slot = wb[_W_PTAIL] % partial.shape[0]
        partial[slot, 0] = wb[_W_TAIL]
        partial[slot, 1] = words
        wb[_W_PTAIL] += 1
    wb[_W_TAIL] += 1
    wb[_W_OPEN] = 0


@kernel(inline="always")
def _store(wb, words):
    """``words`` outputs enter the buffer; every line they fill is closed."""
    wb[_W_FREE] -= words
    filled = wb[_W_OPEN] + words
    wb[_W_TAIL] += filled // wb[_W_BW]
    wb[_W_OPEN] = filled % wb[_W_BW]


@kernel
def _drain(wb, partial, start):
    """Send up to half the SRAM's lines, one a cycle from ``start``; returns the last cycle.

    The data counted is the lines' words minus the padding of the batch's last line only.
    """
    n = min(wb[_W_BATCH], wb[_W_TAIL] - wb[_W_HEAD])
    bw = wb[_W_BW]
    last = wb[_W_HEAD] + n - 1
    words = bw
    while wb[_W_PHEAD] < wb[_W_PTAIL] and partial[wb[_W_PHEAD] % partial.shape[0], 0] <= last:
        if partial[wb[_W_PHEAD] % partial.shape[0], 0] == last:
            words = partial[wb[_W_PHEAD] % partial.shape[0], 1]
        wb[_W_PHEAD] += 1
    data = n * bw - (bw - words)
    wb[_W_HEAD] += n
    wb[_W_FREE] += data
    wb[_W_DRAM] += data
    wb[_W_FIRST] = min(wb[_W_FIRST], start)
    wb[_W_LAST] = max(wb[_W_LAST], start + n - 1)
    return start + n - 1


@kernel(inline="always")
def _event_word(wb, draining):
    """Which word from now on (1, 2, ...) makes the buffer wait (full while ``draining``) or
    start a drain (more than half used while not draining)."""
    if draining:
        return max(1, wb[_W_FREE])
    return max(1, wb[_W_FREE] - wb[_W_ACTIVE] + 1)


@kernel
def _write_row(wb, partial, words, cycle):
    """Store ``words`` outputs at ``cycle``; returns the cycle the row finished.

    Word by word, the buffer waits for a drain in progress once it is full (``free <= 0``),
    and starts a drain once more than half is used (``free < active``) and none is in
    progress; the words between two such events are stored at once. Each drain queues at most
    one partial line: the queue must have room for ``words`` more.
    """
    now = cycle
    left = words
    while left > 0:
        draining = now < wb[_W_END]
        upto = _event_word(wb, draining)
        if left < upto:
            _store(wb, left)
            break
        _store(wb, upto)
        left -= upto
        if draining:
            now = wb[_W_END]              # full while draining: wait for the drain
        else:
            _close_line(wb, partial)   # a partial line keeps its padding
            wb[_W_END] = _drain(wb, partial, now)
    return now


@kernel(inline="always")
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
def _walk(dataflow, big_r, big_c, sr, sc, t, demand_rows, ifm, ifm_fetch, fil, fil_fetch, tab, geom, scratch, wb,
          partial, walk):
    """Walk the demand rows from ``walk[_ROW]`` on; returns False, with ``walk`` saved, when the
    next row could overflow the partial-line queue (the caller grows it and calls again).

    (Growing the queue here would reassign an array inside the row loop, which costs numba
    reference counting on every row.)
    """
    row_folds = (sr + big_r - 1) // big_r
    per_fold = demand_rows // (row_folds * ((sc + big_c - 1) // big_c))
    row, stalls, total, written = walk[_ROW], walk[_STALLS], walk[_TOTAL], walk[_WRITTEN]
    fold, i = row // per_fold, row % per_fold
    fc, fr = fold // row_folds, fold % row_folds
    finished = True
    while row < demand_rows:
        words = _ofmap_words(dataflow, big_r, big_c, sr, sc, t, fr, fc, i)
        if wb[_W_PTAIL] - wb[_W_PHEAD] + words > partial.shape[0]:
            finished = False
            break
        cycle = row + stalls
        line, block, u0, du, lo, hi = _row_requests(ifm, big_r, fr, fc, i)
        ifm_stall = 0 if lo > hi or _line_held(ifm, ifm_fetch, line, lo, hi) else \
            _read_run(ifm, ifm_fetch, line, block, u0, du, lo, hi, tab, geom, scratch, cycle)
        line, block, u0, du, lo, hi = _row_requests(fil, big_r, fr, fc, i)
        fil_stall = 0 if lo > hi or _line_held(fil, fil_fetch, line, lo, hi) else \
            _read_run(fil, fil_fetch, line, block, u0, du, lo, hi, tab, geom, scratch, cycle)
        if words < _event_word(wb, cycle < wb[_W_END]):
            _store(wb, words)
            written = cycle
        else:
            written = _write_row(wb, partial, words, cycle)
        total = max(total, written)
        stalls += max(ifm_stall, fil_stall, written - cycle)
        row += 1
        i += 1
        if i == per_fold:   # folds in column-fold-major order
            i = 0
            fr += 1
            if fr == row_folds:
                fr = 0
                fc += 1
    walk[_ROW], walk[_STALLS], walk[_TOTAL], walk[_WRITTEN] = row, stalls, total, written
    return finished


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
    stats : int64[FOLD_STAT_COUNT]
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
        _describe(ifm, geom, 1, 1, big_r, k_total, npx, _STREAM, _ROW_FOLD, 0)
        _describe(fil, geom, 0, 0, big_c, k_total, m_total, _STREAM, _COL_FOLD, 0)
    elif dataflow == DATAFLOW_WS:
        _describe(ifm, geom, 1, 0, big_r, npx, k_total, _STREAM, _ROW_FOLD, big_r)
        _describe(fil, geom, 0, 0, big_c, k_total, m_total, _STATIONARY, _COL_FOLD, 0)
    else:
        _describe(ifm, geom, 1, 1, big_c, k_total, npx, _STATIONARY, _COL_FOLD, 0)
        _describe(fil, geom, 0, 1, big_r, m_total, k_total, _STREAM, _ROW_FOLD, big_r)
    ifm_fetch = _fetch_lines(ifm, tab)
    fil_fetch = _fetch_lines(fil, tab)
    _init_read(ifm, ifm_fetch, ifmap_sram_words, ifmap_bw, tab)
    _init_read(fil, fil_fetch, filter_sram_words, filter_bw, tab)
    scratch = np.empty(max(1, (geom[3] + geom[5] - 1) // geom[5] * ((geom[4] + geom[6] - 1) // geom[6])),
                       dtype=np.int64)
    wb = np.zeros(_N_WB, dtype=np.int64)
    _init_write(wb, ofmap_sram_words, ofmap_bw)
    partial = np.empty((2, 2), dtype=np.int64)   # undrained partial lines (grown as rows need)
    walk = np.zeros(_N_WALK, dtype=np.int64)
    while not _walk(dataflow, big_r, big_c, sr, sc, t, demand_rows, ifm, ifm_fetch, fil, fil_fetch, tab, geom,
                    scratch, wb, partial, walk):
        partial = _grown(partial, wb)
    if wb[_W_PTAIL] - wb[_W_PHEAD] == partial.shape[0]:
        partial = _grown(partial, wb)
    _close_line(wb, partial)
    end = walk[_WRITTEN]   # SCALE-Sim flushes from the last row's write cycle
    while wb[_W_HEAD] < wb[_W_TAIL]:
        end = _drain(wb, partial, end) + 1
    stats[FOLD_STAT_CYCLES] = walk[_TOTAL]
    stats[FOLD_STAT_STALL_CYCLES] = walk[_STALLS]
    stats[FOLD_STAT_IFMAP_DRAM_READS] = ifm[_DRAM]
    stats[FOLD_STAT_FILTER_DRAM_READS] = fil[_DRAM]
    stats[FOLD_STAT_OFMAP_DRAM_WRITES] = wb[_W_DRAM]
    stats[FOLD_STAT_CYCLES_INCL_PREFETCH] = wb[_W_LAST] - min(ifm[_START], fil[_START])
    stats[FOLD_STAT_DRAM_READ_BYTES] = ifm[_DRAM] + fil[_DRAM]
    stats[FOLD_STAT_DRAM_WRITE_BYTES] = wb[_W_DRAM]
