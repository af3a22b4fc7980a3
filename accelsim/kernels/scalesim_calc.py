"""SCALE-Sim 3.0.0's CALC-bandwidth-mode buffers (``docs/scalesim_memory_model.md`` sections 4-5).

The group algorithm for the ifmap and filter read streams (DRAM reads and the trigger rows
behind the DRAM start/stop cycles) and the line-level OFMAP drain, evaluated exactly over the
demand streams without building them.
"""

import numpy as np

from accelsim.kernels._jit import kernel
from accelsim.kernels.codes import DATAFLOW_IS, DATAFLOW_OS, DATAFLOW_WS


@kernel
def ifmap_tables(geom):
    """Per-axis parts of SCALE-Sim's ifmap address ``A[p, k]`` (so a lookup needs no division).

    ``geom`` = int64[9]: in_h, in_w, channels, kernel_h, kernel_w, stride_h, stride_w, out_h,
    out_w. Returns ``(p_base, p_y, p_x)`` over output pixels ``p`` and ``(k_base, k_r, k_s)`` over
    reduction indices ``k``: ``A[p, k] = p_base[p] + k_base[k]``, valid when
    ``p_y[p] + k_r[k] < in_h`` and ``p_x[p] + k_s[k] < in_w``.
    """
    in_w, channels, kernel_w = geom[1], geom[2], geom[4]
    pixels = geom[7] * geom[8]
    taps = geom[3] * kernel_w * channels
    p_y = np.empty(pixels, dtype=np.int64)
    p_x = np.empty(pixels, dtype=np.int64)
    p_base = np.empty(pixels, dtype=np.int64)
    for p in range(pixels):
        p_y[p] = (p // geom[8]) * geom[5]
        p_x[p] = (p % geom[8]) * geom[6]
        p_base[p] = (p_y[p] * in_w + p_x[p]) * channels
    k_r = np.empty(taps, dtype=np.int64)
    k_s = np.empty(taps, dtype=np.int64)
    k_base = np.empty(taps, dtype=np.int64)
    for k in range(taps):
        k_r[k] = k // (kernel_w * channels)
        k_s[k] = (k // channels) % kernel_w
        k_base[k] = (k_r[k] * in_w + k_s[k]) * channels + k % channels
    return p_base, p_y, p_x, k_base, k_r, k_s


# State of a read walk (int64 array): counters and the group bookkeeping.
_READS, _FIRST_ROW, _TRIGGERS, _LAST_TRIGGER, _IN_GROUP, _GROUP, _PASS_ELEMS, _PASS_FIRST = 0, 1, 2, 3, 4, 5, 6, 7
# The segment walk keeps its pass's first row instead of a request count.
_PASS_ROW = _PASS_ELEMS


_TOP_GROUP = np.int32(2**31 - 2)  # last group number an int32 stamp can hold; then the stamps restart


@kernel
def _insert(a, row, stamp, state, group_words):
    """Request of address ``a`` in stream row ``row``: a DRAM read unless ``a`` is in the current
    group. Returns True when the read fills the group (a trigger; the next group starts empty)."""
    if state[_FIRST_ROW] < 0:
        state[_FIRST_ROW] = row
    if stamp[a] == state[_GROUP]:
        return False
    stamp[a] = state[_GROUP]
    state[_READS] += 1
    state[_IN_GROUP] += 1
    if state[_IN_GROUP] < group_words:
        return False
    state[_TRIGGERS] += 1
    state[_LAST_TRIGGER] = row
    state[_IN_GROUP] = 0
    if state[_GROUP] == _TOP_GROUP:
        stamp[:] = 0
        state[_GROUP] = 0
    state[_GROUP] += 1
    return True


@kernel
def _visit(a, row, stamp, state, group_words):
    """One request of the demand stream (``a < 0``: none), counted in the pass (``_PASS_FIRST``:
    the pass's request count at its first trigger)."""
    state[_PASS_ELEMS] += 1
    if a >= 0 and _insert(a, row, stamp, state, group_words) and state[_PASS_FIRST] < 0:
        state[_PASS_FIRST] = state[_PASS_ELEMS]


@kernel
def _walk_fold(dataflow, is_filter, rows, cols, sr, sc, t, k_total, fc, fr, base_row, tables,
               stamp, state, group_words):
    """Visit one fold's requests of a read operand in demand order (row by row, left to right)."""
    p_base, p_y, p_x, k_base, k_r, k_s, in_h, in_w = tables
    stationary = (dataflow == DATAFLOW_WS and is_filter) or (dataflow == DATAFLOW_IS and not is_filter)
    if stationary:  # row i loads matrix row y = fr*R + R-1-i across the lanes (columns)
        n_lanes = min(cols, sc - fc * cols)
        for i in range(rows):
            y = fr * rows + rows - 1 - i
            if y >= sr:
                continue
            for j in range(n_lanes):
                x = fc * cols + j
                if is_filter:  # ws: B[k=y, m=x]
                    a = x * k_total + y
                elif p_y[x] + k_r[y] < in_h and p_x[x] + k_s[y] < in_w:  # is: A[p=x, k=y]
                    a = p_base[x] + k_base[y]
                else:
                    a = -1
                _visit(a, base_row + i, stamp, state, group_words)
        return
    # skewed stream: lane j at row i carries element (lane0 + j, time i - offset - j)
    lane_first = (not is_filter) or dataflow == DATAFLOW_IS  # lane indexes p of A / k of B
    if dataflow == DATAFLOW_OS and is_filter:
        lane0, n_lanes = fc * cols, min(cols, sc - fc * cols)
    else:
        lane0, n_lanes = fr * rows, min(rows, sr - fr * rows)
    offset = 0 if dataflow == DATAFLOW_OS else rows
    for i in range(offset, offset + t + n_lanes - 1):
        t0 = i - offset
        for j in range(max(0, t0 - t + 1), min(n_lanes - 1, t0) + 1):
            x = lane0 + j
            y = t0 - j
            if is_filter:
                a = (y * k_total + x) if lane_first else (x * k_total + y)
            else:
                p, k = (x, y) if dataflow == DATAFLOW_OS else (y, x)
                if p_y[p] + k_r[k] < in_h and p_x[p] + k_s[k] < in_w:
                    a = p_base[p] + k_base[k]
                else:
                    a = -1
            _visit(a, base_row + i, stamp, state, group_words)


@kernel
def calc_read_walk(dataflow, is_filter, rows, cols, sr, sc, t, geom, group_words, stamp):
    """SCALE-Sim CALC-mode DRAM reads of one read operand: the group algorithm.

    Walks the operand's demand stream (``docs/scalesim_memory_model.md`` section 2: folds
    column-fold-major, each ``P`` rows; inside a row, left to right). An address counts as a
    DRAM read unless it was already read in the current group; a group closes when it holds
    ``group_words`` distinct addresses (a *trigger*), and the next starts empty.

    Repetition is skipped exactly: the stream is a sequence of identical *passes* (os ifmap,
    ws ifmap, is filter: one pass per column fold; os filter: each fold repeats its column
    fold's first; the is ifmap never repeats). After a pass without a trigger every later repetition is all hits; when two
    consecutive passes have their first trigger at the same request, every later pass repeats
    the last one (same state after that trigger, hence the same end state), so its counts are
    multiplied out. The ws filter (every address exactly once) is counted arithmetically.

    Parameters
    ----------
    dataflow : int
        ``DATAFLOW_*``.
    is_filter : bool
        The filter operand ``B[k, m]`` (address ``m*K + k``) instead of the ifmap ``A[p, k]``.
    rows, cols, sr, sc, t : int
        Array size and the mapped GEMM (``Sr``, ``Sc``, ``T``).
    geom : int64[9]
        Conv geometry (see :func:`ifmap_tables`).
    group_words : int
        ``50 * floor(SRAM words / 100)``.
    stamp : int64[address space]
        Zeros on entry; scratch (the group number of each address's last read).

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
    state = np.zeros(8, dtype=np.int64)
    state[_FIRST_ROW] = -1
    state[_LAST_TRIGGER] = -1
    state[_GROUP] = 1
    if dataflow == DATAFLOW_WS and is_filter:
        _distinct_stationary(rows, cols, sr, sc, per_fold, group_words, state)
        return state[_READS], state[_FIRST_ROW], state[_TRIGGERS], state[_LAST_TRIGGER], state[_IN_GROUP]
    p_base, p_y, p_x, k_base, k_r, k_s = ifmap_tables(geom)
    tables = (p_base, p_y, p_x, k_base, k_r, k_s, geom[0], geom[1])
    per_fold_passes = dataflow == DATAFLOW_OS and is_filter
    if dataflow == DATAFLOW_IS and not is_filter:  # every fold loads another block: no repetition
        for fold in range(row_folds * col_folds):
            _walk_fold(dataflow, is_filter, rows, cols, sr, sc, t, k_total, fold // row_folds,
                       fold % row_folds, fold * per_fold, tables, stamp, state, group_words)
        return state[_READS], state[_FIRST_ROW], state[_TRIGGERS], state[_LAST_TRIGGER], state[_IN_GROUP]
    for fc in range(col_folds):
        previous_first = np.int64(-2)
        fr = 0
        while fr < row_folds:
            if per_fold_passes or fr == 0:
                reads0, triggers0 = state[_READS], state[_TRIGGERS]
                state[_PASS_ELEMS] = 0
                state[_PASS_FIRST] = -1
            _walk_fold(dataflow, is_filter, rows, cols, sr, sc, t, k_total, fc, fr,
                       (fc * row_folds + fr) * per_fold, tables, stamp, state, group_words)
            fr += 1
            if per_fold_passes:
                remaining, pass_rows = row_folds - fr, per_fold
            elif fr == row_folds:
                remaining, pass_rows = col_folds - fc - 1, row_folds * per_fold
            else:
                continue
            triggers = state[_TRIGGERS] - triggers0
            if triggers == 0:  # the pass is now all in the current group: repeats are hits
                remaining = -1
            elif state[_PASS_FIRST] == previous_first:  # steady state: repeats copy this pass
                state[_READS] += remaining * (state[_READS] - reads0)
                state[_TRIGGERS] += remaining * triggers
                state[_LAST_TRIGGER] += remaining * pass_rows
                remaining = -1
            previous_first = state[_PASS_FIRST]
            if remaining < 0:
                if per_fold_passes:
                    break
                return state[_READS], state[_FIRST_ROW], state[_TRIGGERS], state[_LAST_TRIGGER], state[_IN_GROUP]
    return state[_READS], state[_FIRST_ROW], state[_TRIGGERS], state[_LAST_TRIGGER], state[_IN_GROUP]


@kernel
def _distinct_stationary(rows, cols, sr, sc, per_fold, group_words, state):
    """The ws filter stream, whose every address occurs once, counted fold by fold.

    Fold ``(fc, fr)`` requests ``r*c`` words in rows ``R-r .. R-1`` (``c`` per row).
    """
    row_folds = (sr + rows - 1) // rows
    col_folds = (sc + cols - 1) // cols
    for fc in range(col_folds):
        c = min(cols, sc - fc * cols)
        for fr in range(row_folds):
            r = min(rows, sr - fr * rows)
            first = (fc * row_folds + fr) * per_fold + rows - r
            if state[_FIRST_ROW] < 0:
                state[_FIRST_ROW] = first
            words = r * c
            state[_READS] += words
            filled = state[_IN_GROUP] + words
            if filled >= group_words:
                last = words - filled % group_words  # 1-based index of the fold's last trigger
                state[_TRIGGERS] += filled // group_words
                state[_LAST_TRIGGER] = first + (last - 1) // c
            state[_IN_GROUP] = filled % group_words


@kernel
def _drain_batch(head_line, next_line, part_head, part_tail, part_line, part_words, cols, lines_per_drain):
    """One drain of up to ``lines_per_drain`` lines from ``head_line``; each counts ``cols``
    words except for the padding of the batch's last line. Partial lines (closed early) are
    ``part_line/part_words[part_head .. part_tail-1]`` (a ring). Returns ``(lines, words,
    part_head)``."""
    n = min(lines_per_drain, next_line - head_line)
    last_line = head_line + n - 1
    cap = part_line.shape[0]
    last_words = cols
    while part_head < part_tail and part_line[part_head % cap] <= last_line:
        if part_line[part_head % cap] == last_line:
            last_words = part_words[part_head % cap]
        part_head += 1
    return n, n * cols - (cols - last_words), part_head


@kernel
def calc_ofmap_drain(dataflow, rows, cols, sr, sc, t, sram_words, ring):
    """SCALE-Sim CALC-mode OFMAP write buffer: DRAM writes and the first/last drain cycle.

    Words enter in demand order, packed into lines of ``cols`` words. When the buffer holds
    more than ``sram_words - ceil(sram_words/2)`` words and no drain is in progress, the open
    line is closed and up to ``ceil(drain/cols)`` lines drain, one per cycle; each drain counts
    its lines as full except for the padding of its last line. After the last demand row the
    rest drains back to back (``docs/scalesim_memory_model.md`` section 5). The rows of a
    fold's plateau (all lanes writing) are added at once up to the next drain, and lines are
    counted, not stored (only the partial ones are), so the cost is O(folds x array size +
    drains).

    Parameters
    ----------
    ring : int64[sram_words + 2]
        Scratch: word counts of the closed, undrained partial lines.

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
    part_line = np.empty(cap, dtype=np.int64)  # numbers of the partial lines (ring: their words)
    part_head = part_tail = 0
    head_line = next_line = 0  # lines are numbered in closing order; head_line is the oldest undrained
    open_words = 0
    free = np.int64(sram_words)
    drain_end = np.int64(0)
    writes = np.int64(0)
    first = np.int64(-1)
    last = np.int64(-1)
    fold = 0
    for fc in range(col_folds):
        n_lanes = min(cols, sc - fc * cols)
        for fr in range(row_folds):
            base_row = fold * per_fold
            fold += 1
            if dataflow == DATAFLOW_OS:  # output rows of the fold leave one per cycle, skewed over lanes
                steps = min(rows, sr - fr * rows)
                first_row = base_row + t - 1 + rows - steps
            else:
                steps = t
                first_row = base_row + 2 * rows - 1
            # row first_row + x writes min(x + 1, lanes, steps, steps + lanes - 1 - x) words:
            # a plateau of `plateau` words in rows plateau-1 .. wide-1
            plateau, wide = min(n_lanes, steps), max(n_lanes, steps)
            for part in range(3):  # the rising rows, the plateau, the falling rows
                x0, x1 = (0, plateau - 1) if part == 0 else ((plateau - 1, wide) if part == 1
                                                             else (wide, steps + n_lanes - 1))
                total = plateau * (wide - plateau + 1) if part == 1 else (plateau - 1) * plateau // 2
                if x1 > x0 and (first_row + x1 - 1 < drain_end or free - total >= active):  # no drain starts
                    free -= total
                    open_words += total
                    next_line += open_words // cols
                    open_words %= cols
                    x0 = x1
                while x0 < x1:
                    words = min(x0 + 1, plateau, steps + n_lanes - 1 - x0)
                    row = first_row + x0
                    end = first_row + (x1 if part == 1 else x0 + 1)
                    x0 = end - first_row
                    while row < end:
                        # rows before the drain in progress ends, then rows leaving at least `active` free
                        bulk = min(end - row, max(drain_end - row, (free - active) // words))
                        if bulk > 0:
                            free -= bulk * words
                            open_words += bulk * words
                            next_line += open_words // cols
                            open_words %= cols
                            row += bulk
                            continue
                        left = words  # this row starts a drain: word by word as SCALE-Sim adds them
                        while left > 0:
                            w = left if row < drain_end or free - left >= active else max(1, free - active + 1)
                            free -= w
                            open_words += w
                            left -= w
                            if open_words >= cols:
                                next_line += 1
                                open_words -= cols
                            if row >= drain_end and free < active:
                                if open_words > 0:  # closed early: it keeps its padding
                                    part_line[part_tail % cap] = next_line
                                    ring[part_tail % cap] = open_words
                                    part_tail += 1
                                    next_line += 1
                                    open_words = 0
                                n, data, part_head = _drain_batch(head_line, next_line, part_head, part_tail, part_line,
                                                                  ring, cols, lines_per_drain)
                                head_line += n
                                writes += data
                                free += data
                                drain_end = row + n - 1
                                if first < 0:
                                    first = row
                                last = max(last, drain_end)
                        row += 1
    if open_words > 0:
        part_line[part_tail % cap] = next_line
        ring[part_tail % cap] = open_words
        part_tail += 1
        next_line += 1
    cycle = fold * per_fold - 1
    while next_line > head_line:
        n, data, part_head = _drain_batch(head_line, next_line, part_head, part_tail, part_line, ring, cols,
                                          lines_per_drain)
        head_line += n
        writes += data
        if first < 0:
            first = cycle
        last = max(last, cycle + n - 1)
        cycle += n
    return writes, first, last


# ------------------------------------------------------------------------------------------
# The ifmap (and os filter) read stream in trigger-free segments (memory-model doc 4.3, rule 2)
# ------------------------------------------------------------------------------------------


@kernel
def _stamp_new(stamp, lo, hi, group):
    """Addresses ``lo .. hi-1`` not yet stamped ``group``, counted and stamped (branch-free)."""
    new = np.int64(0)
    for a in range(np.uint64(lo), np.uint64(hi)):  # unsigned: no negative-index test, so it vectorizes
        new += stamp[a] != group
        stamp[a] = group
    return new


@kernel
def _lane_taps(dataflow, rows, cols, sr, t, fc, fr, n_lanes, i0, i1, item):
    """Pixel and tap range ``(p, k_lo, k_hi)`` of the ``item``-th window of fold ``(fc, fr)``'s
    ifmap requests in rows ``i0 .. i1-1``: a lane (os, is) or a pixel (ws, from pixel
    ``max(0, i0 - R - lanes + 1)``), in increasing pixel order."""
    if dataflow == DATAFLOW_OS:  # lane j: pixel fr*R + j, tap i - j
        return fr * rows + item, max(0, i0 - item), min(t, i1 - item)
    if dataflow == DATAFLOW_WS:  # lane j: tap fr*R + j, pixel i - R - j
        p = max(0, i0 - rows - n_lanes + 1) + item
        return p, fr * rows + max(0, i0 - rows - p), fr * rows + min(n_lanes, i1 - rows - p)
    # is, stationary: row i loads tap fr*R + R-1-i into lane j (pixel fc*C + j)
    return fc * cols + item, fr * rows + rows - min(i1, rows), min(sr, fr * rows + rows - i0)


@kernel
def _first_item(dataflow, rows, cols, sr, t, fc, fr, n_lanes, i0, i1, items, upper, bound):
    """First item (of :func:`_lane_taps`) whose tap range ends at or before ``bound`` (``upper``)
    or starts before ``bound`` (otherwise); ``items`` if none. Both ends do not increase with
    the item, so this is a binary search."""
    lo, hi = 0, items
    while lo < hi:
        mid = (lo + hi) // 2
        _, k_lo, k_hi = _lane_taps(dataflow, rows, cols, sr, t, fc, fr, n_lanes, i0, i1, mid)
        if (k_hi <= bound) if upper else (k_lo < bound):
            hi = mid
        else:
            lo = mid + 1
    return lo


@kernel
def _new_in_rows(dataflow, rows, cols, sr, t, fc, fr, n_lanes, i0, i1, geom, p_base, p_y, p_x, stamp, group):
    """Addresses requested by fold ``(fc, fr)``'s ifmap stream in its rows ``i0 .. i1-1`` and not
    yet in ``group``, counted and stamped, in no particular order (right only when no group
    can fill in these rows).

    Tap row by tap row, the windows' valid taps are runs of consecutive addresses that start
    in increasing order; overlapping runs are merged before they are stamped, so an address
    is touched about once per tap row that covers it rather than once per request. Windows
    that request all of the tap row's taps and lie in one output row form one run when the
    stride does not skip taps (``S*C`` at most those taps), found without visiting them.
    """
    in_h, in_w, ch, fw, stride, out_w = geom[0], geom[1], geom[2], geom[4], geom[6], geom[8]
    row_len = fw * ch
    if dataflow == DATAFLOW_WS:
        items, p0 = min(t, i1 - rows) - max(0, i0 - rows - n_lanes + 1), max(0, i0 - rows - n_lanes + 1)
    else:
        items, p0 = n_lanes, (fr * rows if dataflow == DATAFLOW_OS else fc * cols)
    if items <= 0:
        return np.int64(0)
    _, k_first, _ = _lane_taps(dataflow, rows, cols, sr, t, fc, fr, n_lanes, i0, i1, items - 1)  # lowest tap
    _, _, k_end = _lane_taps(dataflow, rows, cols, sr, t, fc, fr, n_lanes, i0, i1, 0)  # past the highest
    new = np.int64(0)
    for r in range(k_first // row_len, (k_end + row_len - 1) // row_len):
        lo_r, hi_r = r * row_len, (r + 1) * row_len
        a_r, b_r = max(lo_r, k_first), min(hi_r, k_end)  # the taps of row r any window requests
        shift = r * (in_w * ch - row_len)  # A[p, k] = p_base[p] + shift + k in tap row r
        run_lo, run_hi = np.int64(0), np.int64(0)
        # windows (items = consecutive pixels from p0) meeting tap row r, and those requesting all
        # of a_r .. b_r-1 (k_lo and k_hi do not increase with the item)
        item_lo = _first_item(dataflow, rows, cols, sr, t, fc, fr, n_lanes, i0, i1, items, False, hi_r)
        item_hi = _first_item(dataflow, rows, cols, sr, t, fc, fr, n_lanes, i0, i1, items, True, lo_r)
        full_lo = _first_item(dataflow, rows, cols, sr, t, fc, fr, n_lanes, i0, i1, items, False, a_r + 1)
        full_hi = _first_item(dataflow, rows, cols, sr, t, fc, fr, n_lanes, i0, i1, items, True, b_r - 1)
        if stride * ch > b_r - a_r:  # the windows' runs in an output row have gaps
            full_hi = full_lo
        item = item_lo
        while item < item_hi:
            p = p0 + item
            if full_lo <= item < full_hi:  # full windows up to the end of the output row, as one run
                last = min(p0 + full_hi, (p // out_w + 1) * out_w) - 1
                item += last - p + 1
                if p_y[p] + r >= in_h:
                    continue
                lo = p_base[p] + shift + a_r
                hi = min(p_base[last] + shift + b_r, p_base[p] + shift + lo_r + max(0, in_w - p_x[p]) * ch)
            else:
                _, k_lo, k_hi = _lane_taps(dataflow, rows, cols, sr, t, fc, fr, n_lanes, i0, i1, item)
                item += 1
                if p_y[p] + r >= in_h:
                    continue
                lo = p_base[p] + shift + max(k_lo, lo_r)
                hi = p_base[p] + shift + min(k_hi, hi_r, lo_r + max(0, min(fw, in_w - p_x[p])) * ch)
            if lo >= hi:
                continue
            if run_lo <= lo <= run_hi:
                run_hi = max(run_hi, hi)
            else:
                new += _stamp_new(stamp, run_lo, run_hi, group)
                run_lo, run_hi = lo, hi
        new += _stamp_new(stamp, run_lo, run_hi, group)
    return new


@kernel
def _exact_row(dataflow, rows, cols, sr, t, fc, fr, n_lanes, i, row, width, tables, stamp, state, group_words):
    """Fold ``(fc, fr)``'s ifmap requests of its row ``i`` (stream row ``row``) in lane order, as
    the group algorithm visits them (``state`` as in ``_visit``; ``_GROUP`` is the int32 stamp of
    the current group, ``_PASS_FIRST`` the first trigger's ``row*width + lane`` from the pass start)."""
    p_base, p_y, p_x, k_base, k_r, k_s, in_h, in_w = tables
    if dataflow == DATAFLOW_OS:
        j_lo, j_hi = max(0, i - t + 1), min(n_lanes, i + 1)
    elif dataflow == DATAFLOW_WS:
        j_lo, j_hi = max(0, i - rows - t + 1), min(n_lanes, i - rows + 1)
    else:
        j_lo, j_hi = 0, n_lanes if i < rows and fr * rows + rows - 1 - i < sr else 0
    for j in range(j_lo, j_hi):
        if dataflow == DATAFLOW_OS:
            p, k = fr * rows + j, i - j
        elif dataflow == DATAFLOW_WS:
            p, k = i - rows - j, fr * rows + j
        else:
            p, k = fc * cols + j, fr * rows + rows - 1 - i
        if p_y[p] + k_r[k] >= in_h or p_x[p] + k_s[k] >= in_w:
            continue
        if _insert(p_base[p] + k_base[k], row, stamp, state, group_words) and state[_PASS_FIRST] < 0:
            state[_PASS_FIRST] = (row - state[_PASS_ROW]) * width + j


@kernel
def calc_segment_reads(dataflow, is_filter, rows, cols, sr, sc, t, geom, group_words):
    """SCALE-Sim CALC-mode DRAM reads of the ifmap (or the os filter): :func:`calc_read_walk`'s
    result, in trigger-free segments.

    While a group cannot fill, the order of requests does not matter: the reads are the
    addresses not yet in the group. So each fold's rows are taken in segments that hold fewer
    requests (``rows * lanes``) than the group still lacks, and a segment's windows are visited
    tap row by tap row as merged runs of consecutive addresses (:func:`_new_in_rows`). Only a
    row in which the group may fill is visited in demand order (:func:`_exact_row`). Repeated
    passes are skipped as in :func:`calc_read_walk`.

    The os filter stream is, per column fold, the os ifmap stream of a ``1 x c`` image of
    ``T`` channels under a 1x1 kernel (``B[k, fc*C + j] = fc*C*T + j*T + k`` is pixel ``j``'s
    channel ``k``) on the transposed array, lanes being columns: each fold repeats its column
    fold's block, and the blocks are disjoint, so the stamps restart with each block.
    """
    per_fold = t + rows + cols - 2 if dataflow == DATAFLOW_OS else 2 * rows + cols + t - 2
    row_folds = (sr + rows - 1) // rows
    col_folds = (sc + cols - 1) // cols
    width = rows + cols
    # The stream is groups of identical passes: os/ws ifmap, one pass per column fold; os filter,
    # one group per column fold of a pass per fold; is ifmap, one pass.
    if is_filter:
        geom = np.array([1, cols, t, 1, 1, 1, 1, 1, cols], dtype=np.int64)
        lane_rows, lane_cols, lane_sr = cols, rows, cols
        n_groups, n_reps, pass_folds = col_folds, row_folds, 1
    else:
        lane_rows, lane_cols, lane_sr = rows, cols, sr
        if dataflow == DATAFLOW_IS:
            n_groups, n_reps, pass_folds = 1, 1, row_folds * col_folds
        else:
            n_groups, n_reps, pass_folds = 1, col_folds, row_folds
    p_base, p_y, p_x, k_base, k_r, k_s = ifmap_tables(geom)
    tables = (p_base, p_y, p_x, k_base, k_r, k_s, geom[0], geom[1])
    stamp = np.zeros(geom[0] * geom[1] * geom[2], dtype=np.int32)
    state = np.zeros(8, dtype=np.int64)
    state[_FIRST_ROW] = -1
    state[_LAST_TRIGGER] = -1
    state[_GROUP] = 1
    for g in range(n_groups):
        previous_first = np.int64(-2)
        if is_filter and g > 0:  # a new block: none of its words has been read
            stamp[:] = 0
        for rep in range(n_reps):
            reads0, triggers0 = state[_READS], state[_TRIGGERS]
            first_fold = (g * n_reps + rep) * pass_folds
            state[_PASS_ROW] = first_fold * per_fold
            state[_PASS_FIRST] = -1
            for fold in range(first_fold, first_fold + pass_folds):
                fc, fr = fold // row_folds, fold % row_folds
                base_row = fold * per_fold
                if is_filter:  # lanes are the columns of column fold fc, counted from its first
                    n_lanes, i, end, fr = min(cols, sc - fc * cols), 0, t + min(cols, sc - fc * cols) - 1, 0
                elif dataflow == DATAFLOW_IS:
                    n_lanes, i, end = min(cols, sc - fc * cols), 0, rows
                else:
                    n_lanes = min(lane_rows, lane_sr - fr * lane_rows)
                    i = 0 if dataflow == DATAFLOW_OS else rows
                    end = i + t + n_lanes - 1
                while i < end:
                    seg = (group_words - state[_IN_GROUP] - 1) // n_lanes
                    if seg > 0 and state[_FIRST_ROW] >= 0:
                        i1 = min(end, i + seg)
                        new = _new_in_rows(dataflow, lane_rows, lane_cols, lane_sr, t, fc, fr, n_lanes, i, i1, geom,
                                           p_base, p_y, p_x, stamp, np.int32(state[_GROUP]))
                        state[_READS] += new
                        state[_IN_GROUP] += new
                        i = i1
                    else:
                        _exact_row(dataflow, lane_rows, lane_cols, lane_sr, t, fc, fr, n_lanes, i, base_row + i,
                                   width, tables, stamp, state, group_words)
                        i += 1
            triggers = state[_TRIGGERS] - triggers0
            if triggers == 0:  # the pass is now all in the current group: repeats are hits
                break
            if state[_PASS_FIRST] == previous_first:  # steady state: repeats copy this pass
                remaining = n_reps - rep - 1
                state[_READS] += remaining * (state[_READS] - reads0)
                state[_TRIGGERS] += remaining * triggers
                state[_LAST_TRIGGER] += remaining * per_fold * pass_folds
                break
            previous_first = state[_PASS_FIRST]
    return state[_READS], state[_FIRST_ROW], state[_TRIGGERS], state[_LAST_TRIGGER], state[_IN_GROUP]


@kernel
def _chunks_apart(rows, sr, channels, fold_valid, group_words):
    """Whether no ws ifmap request can hit although windows overlap.

    Row fold ``f`` streams the ``k`` chunk ``[f*R, f*R + r)``, a run of channels (mod
    ``channels``; the chunks continue round the channels from one pass to the next). With every
    chunk at most ``channels`` long, a fold requests each address once, two folds share
    addresses only if their channel runs meet, and the folds between a fold and the next one
    meeting it cover disjoint channels, hence ``sum(fold_valid)`` distinct addresses. If that is
    at least ``group_words - 1`` for every fold, the group holding a request fills before the
    address comes back.
    """
    folds = fold_valid.shape[0]
    if rows > channels:
        return False
    for f in range(folds):
        lo, n = (f * rows) % channels, min(rows, sr - f * rows)
        between = np.int64(0)
        for d in range(1, folds + 1):
            g = (f + d) % folds
            g_lo, g_n = (g * rows) % channels, min(rows, sr - g * rows)
            if g == f or (g_lo - lo) % channels < n or (lo - g_lo) % channels < g_n:
                break
            between += fold_valid[g]
        if between < group_words - 1:
            return False
    return True


@kernel
def _all_miss_reads(dataflow, rows, cols, sr, sc, t, geom, group_words):
    """:func:`calc_read_walk`'s result for an os or ws ifmap no request of which can hit, or
    ``reads = -1`` when that is not proven.

    Proven when windows do not overlap: every valid request of a pass (one per column fold)
    is then a different address, so a pass of fewer than ``group_words`` requests reads only
    once, and otherwise an address comes back after all the others of its pass. Also for ws
    when :func:`_chunks_apart` holds. Then every request is a read and trigger ``k`` is the
    ``k*group_words``-th valid request.
    """
    _, p_y, p_x, _, k_r, k_s = ifmap_tables(geom)
    in_h, in_w, out_h, out_w = geom[0], geom[1], geom[7], geom[8]
    os = dataflow == DATAFLOW_OS
    row_folds = (sr + rows - 1) // rows
    col_folds = (sc + cols - 1) // cols
    per_fold = t + rows + cols - 2 if os else 2 * rows + cols + t - 2
    offset = 0 if os else rows
    fold_valid = np.zeros(row_folds, dtype=np.int64)
    for fr in range(row_folds):
        for lane in range(fr * rows, fr * rows + min(rows, sr - fr * rows)):
            if os:  # pixel p = lane: its window's rows and columns inside the ifmap
                fold_valid[fr] += (max(0, min(geom[3], in_h - p_y[lane])) * max(0, min(geom[4], in_w - p_x[lane]))
                                   * geom[2])
            else:  # tap k = lane: the output rows and columns whose window has it inside
                fold_valid[fr] += (min(out_h, max(0, (in_h - k_r[lane] + geom[5] - 1) // geom[5]))
                                   * min(out_w, max(0, (in_w - k_s[lane] + geom[6] - 1) // geom[6])))
    per_pass = fold_valid.sum()
    disjoint = (geom[3] <= geom[5] or out_h == 1) and (geom[4] <= geom[6] or out_w == 1)
    if not disjoint and (os or not _chunks_apart(rows, sr, geom[2], fold_valid, group_words)):
        return np.int64(-1), np.int64(-1), np.int64(0), np.int64(-1), np.int64(0)
    if per_pass < group_words:  # (disjoint windows only: a ws fold has >= group_words - 1 here)
        return per_pass, np.int64(offset), np.int64(0), np.int64(-1), per_pass
    total = per_pass * col_folds
    triggers = total // group_words
    nth = triggers * group_words
    n_pass = (nth - 1) // per_pass
    nth -= n_pass * per_pass
    fr = 0
    while nth > fold_valid[fr]:
        nth -= fold_valid[fr]
        fr += 1
    lanes = min(rows, sr - fr * rows)
    i = 0
    while nth > 0:  # the fold's rows, request by request
        for j in range(max(0, i - t + 1), min(lanes, i + 1)):
            p, k = (fr * rows + j, i - j) if os else (i - j, fr * rows + j)
            if p_y[p] + k_r[k] < in_h and p_x[p] + k_s[k] < in_w:
                nth -= 1
        i += 1
    last = (n_pass * row_folds + fr) * per_fold + offset + i - 1
    return total, np.int64(offset), triggers, last, total - triggers * group_words


@kernel
def calc_ifmap_reads(dataflow, rows, cols, sr, sc, t, geom, group_words):
    """SCALE-Sim CALC-mode DRAM reads of the ifmap: :func:`calc_read_walk`'s result.

    Counted per fold when no request can hit (:func:`_all_miss_reads`), otherwise walked in
    trigger-free segments (:func:`calc_segment_reads`).
    """
    if dataflow != DATAFLOW_IS:
        counted = _all_miss_reads(dataflow, rows, cols, sr, sc, t, geom, group_words)
        if counted[0] >= 0:
            return counted
    return calc_segment_reads(dataflow, False, rows, cols, sr, sc, t, geom, group_words)


@kernel
def _skewed_row(nth, lanes, t):
    """Row (from the block's first) of the ``nth`` (1-based) request of a skewed block of
    ``lanes`` lanes x ``t`` steps, lane ``j`` requesting in rows ``j .. j+t-1``."""
    row = 0
    while True:
        nth -= min(row, lanes - 1) - max(0, row - t + 1) + 1
        if nth <= 0:
            return row
        row += 1


@kernel
def calc_filter_reads(dataflow, rows, cols, sr, sc, t, geom, group_words):
    """SCALE-Sim CALC-mode DRAM reads of the filter: :func:`calc_read_walk`'s result, counted.

    A filter stream requests every word of a block once per fold (ws: once in all; os: the
    ``K x c`` block of a column fold, every row fold; is: all of ``B`` once per column fold). When a block has
    at least ``group_words`` words, the group that holds a request fills before the block
    comes round again, so every request is a read and trigger ``k`` is at request
    ``k*group_words``; so is it when no block comes round again (os with one row fold); when
    the whole stream repeats one block smaller than a group, only its first pass reads. Other
    cases (os with several blocks, some smaller than a group, each repeated) are walked in
    segments (:func:`calc_segment_reads`).
    """
    row_folds = (sr + rows - 1) // rows
    col_folds = (sc + cols - 1) // cols
    small = 0
    if dataflow == DATAFLOW_OS:
        small = t * min(cols, sc - (col_folds - 1) * cols)  # the last column fold's block, the smallest
        if small < group_words and col_folds > 1:
            if row_folds > 1:
                return calc_segment_reads(dataflow, True, rows, cols, sr, sc, t, geom, group_words)
            small = group_words  # every word is requested once: all are reads
        per_fold, offset = t + rows + cols - 2, 0
    elif dataflow == DATAFLOW_IS:
        small = sr * t
        per_fold, offset = 2 * rows + cols + t - 2, rows
    else:
        state = np.zeros(8, dtype=np.int64)
        state[_FIRST_ROW] = -1
        state[_LAST_TRIGGER] = -1
        _distinct_stationary(rows, cols, sr, sc, 2 * rows + cols + t - 2, group_words, state)
        return state[_READS], state[_FIRST_ROW], state[_TRIGGERS], state[_LAST_TRIGGER], state[_IN_GROUP]
    if small < group_words:  # one block, re-requested whole: only its first pass reads
        return np.int64(small), np.int64(offset), np.int64(0), np.int64(-1), np.int64(small)
    total = np.int64(0)
    for fold in range(row_folds * col_folds):
        total += t * (min(cols, sc - (fold // row_folds) * cols) if dataflow == DATAFLOW_OS
                      else min(rows, sr - (fold % row_folds) * rows))
    triggers = total // group_words
    if triggers == 0:
        return total, np.int64(offset), triggers, np.int64(-1), total
    nth = triggers * group_words
    fold = 0
    while True:
        lanes = (min(cols, sc - (fold // row_folds) * cols) if dataflow == DATAFLOW_OS
                 else min(rows, sr - (fold % row_folds) * rows))
        if nth <= lanes * t:
            break
        nth -= lanes * t
        fold += 1
    last = fold * per_fold + offset + _skewed_row(nth, lanes, t)
    return total, np.int64(offset), triggers, last, total - triggers * group_words
