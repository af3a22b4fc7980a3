"""Naive reference models of the systolic ``fold`` kernels (never imports accelsim.kernels).

Written differently on purpose: cycle-by-cycle loops, explicit event times, Python sets and
lists, explicit demand matrices. Slow (O(cycles x PEs)); for small shapes only.
"""

from __future__ import annotations

import math


# ------------------------------------------------------------------------------------------
# Native compute timing (docs/timing_models.md), from PE event times
# ------------------------------------------------------------------------------------------
def ref_fold_cycles(dataflow: str, big_r: int, r: int, c: int, t: int, broadcast: bool = False) -> int:
    """Cycles of one fold: one past the last event (a MAC, a load or a value leaving the array).
    ``broadcast`` (os): operand ``k`` reaches every PE at cycle ``k``."""
    last = -1
    if dataflow == "os":
        for i in range(r):
            for j in range(c):
                for k in range(t):
                    last = max(last, k if broadcast else k + i + j)  # operand k meets in PE (i, j)
        # then every output shifts down one row per cycle and leaves at the bottom: R cycles
        return last + 1 + big_r
    for i in range(r):
        last = max(last, i)                               # stationary row loaded at cycle i
    for row in range(t):
        for j in range(c):
            last = max(last, r + row + j + big_r - 1)     # psum of stream row leaves column j
    return last + 1


def ref_overlapped_cycles(big_r: int, folds: list[tuple[int, int, int]]) -> int:
    """ws/is with preload_overlap, stepped cycle by cycle.

    The top edge loads one stationary row per cycle into shadow registers; the loader starts on
    fold f+1 as soon as fold f has switched in (its first stream row entered). A fold's stream
    starts when its stationary operand is loaded and the previous fold's stream rows have all
    entered. ``folds`` = [(r, c, T), ...].
    """
    cycle = 0
    loaded_rows = 0          # rows of the next fold's operand already in shadow registers
    loading = 0              # fold being loaded
    streaming = None         # (fold, start cycle)
    finish = 0
    started = []
    while len(started) < len(folds):
        # can the loaded fold start streaming this cycle?
        if loading < len(folds) and loaded_rows == folds[loading][0]:
            prev_done = streaming is None or cycle >= streaming[1] + folds[streaming[0]][2]
            if prev_done:
                streaming = (loading, cycle)
                started.append(cycle)
                r, c, t = folds[loading]
                finish = max(finish, cycle + t + big_r + c - 2)
                loading += 1
                loaded_rows = 0
        if loading < len(folds) and loaded_rows < folds[loading][0] and len(started) == loading:
            loaded_rows += 1      # one row per cycle through the top edge
        cycle += 1
    return finish


def ref_os_overlapped_cycles(big_r: int, folds: list[tuple[int, int, int]], broadcast: bool) -> int:
    """os with output registers of their own: a fold streams while the previous one drains.

    Each PE copies its finished sum into its output register at its last MAC; once a fold's
    last copy is made, the output registers shift down for ``R`` cycles. A fold's stream may
    start once the previous fold's stream has entered (the edges are free) and when none of
    its copies would land before the previous fold's last shift. Found by trying start cycles
    one by one.
    """
    return ref_os_overlapped_starts(big_r, folds, broadcast)[1]


def ref_os_overlapped_starts(big_r: int, folds: list[tuple[int, int, int]], broadcast: bool
                             ) -> tuple[list[int], int]:
    """``(starts, finish)`` of :func:`ref_os_overlapped_cycles`: each fold's first stream cycle, and
    one past the last shift."""
    def copies(start, r, c, t):
        return [start + t - 1 + (0 if broadcast else i + j) for i in range(r) for j in range(c)]

    start, finish, last_shift, prev_t, starts = 0, 0, -1, 0, []
    for f, (r, c, t) in enumerate(folds):
        if f:
            start += prev_t
            while min(copies(start, r, c, t)) <= last_shift:
                start += 1
        starts.append(start)
        last_shift = max(copies(start, r, c, t)) + big_r
        finish = max(finish, last_shift + 1)
        prev_t = t
    return starts, finish


# ------------------------------------------------------------------------------------------
# Native memory timeline, stepped cycle by cycle with FIFO channels
# ------------------------------------------------------------------------------------------
def ref_double_buffer(durations, xfer, channel, latency, prefetch_overlap, drain_overlap) -> int:
    """Cycle at which the last fold has ended and its outputs have left.

    ``xfer[f][x]`` for x in (ifmap, filter, ofmap write, ofmap read); every channel serves its
    requests one cycle at a time in the order they were made; a read is usable ``latency``
    cycles after its last cycle on the channel.
    """
    n = len(durations)
    queues: dict[int, list[list]] = {}

    def request(kind, fold, x, now):
        if xfer[fold][x] > 0:
            queues.setdefault(channel[x], []).append([now, xfer[fold][x], kind, fold])

    reads_left = [sum(1 for x in (0, 1, 3) if xfer[f][x] > 0) for f in range(n)]
    reads_ready = [0] * n
    written = [None] * n
    fold, start, end = 0, None, None
    for x in (0, 1, 3):
        request("read", 0, x, 0)
    t = 0
    while True:
        # finished folds issue their writes; the next fold's reads follow the buffer rules
        if start is not None and t == end:
            if not prefetch_overlap and fold + 1 < n:
                for x in (0, 1):
                    request("read", fold + 1, x, t)
            if xfer[fold][2] > 0:
                request("write", fold, 2, t)
            else:
                written[fold] = t
                if fold + 1 < n:
                    request("read", fold + 1, 3, t)
        # may the next fold start now?
        nxt = 0 if start is None else fold + 1
        if (start is None or t >= end) and nxt < n:
            gate = written[nxt - 1] if (nxt >= 1 and not drain_overlap) else (written[nxt - 2] if nxt >= 2 else 0)
            if reads_left[nxt] == 0 and reads_ready[nxt] <= t and gate is not None and gate <= t:
                fold, start, end = nxt, t, t + durations[nxt]
                if prefetch_overlap and fold + 1 < n:
                    for x in (0, 1):
                        request("read", fold + 1, x, t)
                continue                                   # re-check events at the same cycle
        if start is not None and fold == n - 1 and t >= end and all(w is not None and w <= t for w in written):
            return max(end, *written)
        # every channel works one cycle on its oldest issued request
        for q in queues.values():
            if q and q[0][0] <= t:
                q[0][1] -= 1
                if q[0][1] == 0:
                    _, _, kind, f = q.pop(0)
                    if kind == "read":
                        reads_left[f] -= 1
                        reads_ready[f] = max(reads_ready[f], t + 1 + latency)
                    else:
                        written[f] = t + 1
                        if f + 1 < n:
                            request("read", f + 1, 3, t + 1)
        t += 1


# ------------------------------------------------------------------------------------------
# SCALE-Sim CALC mode: explicit demand matrices, then the buffers (docs/scalesim_memory_model.md)
# ------------------------------------------------------------------------------------------
def ifmap_address(geom, p, k):
    in_h, in_w, ch, fh, fw, sh, sw, out_h, out_w = geom
    oh, ow = divmod(p, out_w)
    r, rest = divmod(k, fw * ch)
    s, c = divmod(rest, ch)
    y, x = oh * sh + r, ow * sw + s
    return (y * in_w + x) * ch + c if y < in_h and x < in_w else -1


def demand_matrices(dataflow, big_r, big_c, geom, n_filters):
    """(ifmap, filter, ofmap) demand matrices as lists of rows of addresses (-1: no request)."""
    in_h, in_w, ch, fh, fw, sh, sw, out_h, out_w = geom
    npx, k_total = out_h * out_w, fh * fw * ch

    def a(p, k):
        return ifmap_address(geom, p, k) if 0 <= p < npx and 0 <= k < k_total else -1

    def b(k, m):
        return m * k_total + k if 0 <= k < k_total and 0 <= m < n_filters else -1

    def o(p, m):
        return p * n_filters + m if 0 <= p < npx and 0 <= m < n_filters else -1

    sr, sc, t = {"os": (npx, n_filters, k_total), "ws": (k_total, n_filters, npx),
                 "is": (k_total, npx, n_filters)}[dataflow]
    per_fold = t + big_r + big_c - 2 if dataflow == "os" else 2 * big_r + big_c + t - 2
    ifm, fil, ofm = [], [], []
    for fc in range(math.ceil(sc / big_c)):
        for fr in range(math.ceil(sr / big_r)):
            for i in range(per_fold):
                if dataflow == "os":
                    ifm.append([a(fr * big_r + j, i - j) if fr * big_r + j < sr else -1 for j in range(big_r)])
                    fil.append([b(i - j, fc * big_c + j) if fc * big_c + j < sc else -1 for j in range(big_c)])
                    row = []
                    for j in range(big_c):
                        q = i - j - (t - 1)
                        p = fr * big_r + big_r - 1 - q
                        ok = 0 <= q < big_r and p < min(sr, fr * big_r + big_r) and fc * big_c + j < sc
                        row.append(o(p, fc * big_c + j) if ok else -1)
                    ofm.append(row)
                elif dataflow == "ws":
                    ifm.append([a(i - j - big_r, fr * big_r + j) if fr * big_r + j < sr and 0 <= i - j - big_r
                                else -1 for j in range(big_r)])
                    fil.append([b(fr * big_r + big_r - 1 - i, fc * big_c + j)
                                if i < big_r and fr * big_r + big_r - 1 - i < sr and fc * big_c + j < sc else -1
                                for j in range(big_c)])
                    ofm.append([o(i - j - (2 * big_r - 1), fc * big_c + j) if fc * big_c + j < sc
                                and i - j - (2 * big_r - 1) >= 0 else -1 for j in range(big_c)])
                else:
                    ifm.append([a(fc * big_c + j, fr * big_r + big_r - 1 - i)
                                if i < big_r and fr * big_r + big_r - 1 - i < sr and fc * big_c + j < sc else -1
                                for j in range(big_c)])
                    fil.append([b(fr * big_r + j, i - j - big_r) if fr * big_r + j < sr and i - j - big_r >= 0
                                else -1 for j in range(big_r)])
                    ofm.append([o(fc * big_c + j, i - j - (2 * big_r - 1)) if fc * big_c + j < sc
                                and i - j - (2 * big_r - 1) >= 0 else -1 for j in range(big_c)])
    return ifm, fil, ofm


def ref_calc_reads(matrix, group_words):
    """(reads, first_row, triggers, last_trigger_row, leftover) of the group algorithm."""
    seen: set[int] = set()
    reads, first, triggers, last = 0, -1, 0, -1
    for row, addrs in enumerate(matrix):
        for a in addrs:
            if a < 0:
                continue
            if first < 0:
                first = row
            if a not in seen:
                seen.add(a)
                reads += 1
                if len(seen) == group_words:
                    triggers, last, seen = triggers + 1, row, set()
    return reads, first, triggers, last, len(seen)


def ref_calc_drain(matrix, line_words, sram_words):
    """(writes, first_drain_cycle, last_drain_cycle) of the OFMAP write buffer, word by word."""
    active = math.ceil(sram_words / 2)
    per_drain = math.ceil((sram_words - active) / line_words)
    lines: list[int] = []       # words of each closed line not yet drained
    open_words, free, drain_end, writes, cycles = 0, sram_words, 0, 0, []

    def drain(at):
        nonlocal writes, free, lines
        batch, lines = lines[:per_drain], lines[per_drain:]
        data = len(batch) * line_words - (line_words - batch[-1])
        writes += data
        free += data
        cycles.extend(range(at, at + len(batch)))
        return at + len(batch) - 1

    for row, addrs in enumerate(matrix):
        for a in addrs:
            if a < 0:
                continue
            open_words += 1
            free -= 1
            if open_words == line_words:
                lines.append(open_words)
                open_words = 0
            if row < drain_end:
                continue
            if free < active:
                if open_words:
                    lines.append(open_words)
                    open_words = 0
                drain_end = drain(row)
    if open_words:
        lines.append(open_words)
    at = len(matrix) - 1
    while lines:
        at = drain(at) + 1
    return writes, min(cycles), max(cycles)
