"""Naive per-cycle reference of the ``cycle`` fidelity (never imports accelsim.kernels).

Written differently from ``accelsim/kernels/cycle.py``: every cycle scans every fold and
every edge position with the wave formulas written out, DRAM channels are Python lists of
``[fold, class, bytes_left]`` served with exact ``Fraction`` bandwidth, and SRAM freezes are
counted one wall cycle at a time. Same rules (see the kernel's docstring): fold starts by the
timing rule and gated by arrived tiles and a drained output buffer; prefetch at the previous
fold's start (double-buffered inputs) or end; outputs drain at a fold's end; partial sums come
back after the previous fold drained; DRAM latency pipelined; SRAM port limits freeze the array.
"""

from __future__ import annotations

from fractions import Fraction

IFMAP, FILTER, OUT_W, OUT_R = 0, 1, 2, 3


def ref_cycle(dataflow, rows, cols, overlap, q, folds, sram, dram_bytes, channel, bandwidth, latency,
              prefetch, drain_overlap, buffer_of, read_words, write_words, broadcast=False):
    """Total cycles, SRAM-freeze cycles, SRAM edge words per class and DRAM bytes moved.

    ``overlap``: ws/is preload the next stationary block during a stream; os start a fold's
    stream while the previous fold's outputs drain, as soon as the edges are free and its first
    finished output (PE (0, 0), after ``T`` cycles) finds the output registers empty.
    ``broadcast`` (os): each row and column word reaches all its PEs at once (no skew).

    ``folds``: list of ``(r, c, T)``; ``sram``/``dram_bytes``: lists of 4-lists per fold;
    ``bandwidth``: per channel a ``Fraction`` bytes/cycle or ``None`` (unlimited).
    """
    n = len(folds)
    skew = 0 if broadcast else 1
    left_cls, top_cls = (FILTER, IFMAP) if dataflow == "is" else (IFMAP, FILTER)
    start = [None] * n    # load start (ws/is) or fold start (os), array time
    stream = [None] * n
    end = [None] * n      # array time after the last result
    arrived = [[None] * 4 for _ in range(n)]
    queues = [[] for _ in range(4)]
    credit = [Fraction(0)] * 4
    words = [0, 0, 0, 0]
    moved = [0, 0]  # read, write bytes

    def issue(f, x, g):
        ch = channel[x]
        if dram_bytes[f][x] == 0 or bandwidth[ch] is None:
            arrived[f][x] = g
        else:
            queues[ch].append([f, x, dram_bytes[f][x]])

    for f in range(n):
        if dram_bytes[f][OUT_R] == 0:
            arrived[f][OUT_R] = 0
    issue(0, IFMAP, 0)
    issue(0, FILTER, 0)
    psum_issued = [False] * n
    a = g = freeze_left = freezes = 0
    array_done = 0
    while any(e is None for e in end) or any(arrived[f][OUT_W] is None or arrived[f][OUT_W] > g for f in range(n)):
        for ch in range(4):
            if not queues[ch]:
                credit[ch] = Fraction(0)
                continue
            credit[ch] += bandwidth[ch]
            while queues[ch]:
                req = queues[ch][0]
                take = min(req[2], int(credit[ch]))
                req[2] -= take
                credit[ch] -= take
                moved[req[1] == OUT_W] += take
                if req[2]:
                    break
                arrived[req[0]][req[1]] = g + 1 + latency
                queues[ch].pop(0)
        for f in range(1, n):
            if not psum_issued[f] and arrived[f - 1][OUT_W] is not None and arrived[f - 1][OUT_W] <= g:
                psum_issued[f] = True
                if dram_bytes[f][OUT_R]:
                    issue(f, OUT_R, g)
        if freeze_left or all(e is not None for e in end):
            freeze_left = max(0, freeze_left - 1)
            g += 1
            continue
        # controller
        f = next((i for i in range(n) if start[i] is None), None)
        if f is not None:
            if f == 0:
                allowed = True
            elif dataflow == "os" and overlap:
                r0, c0, t0 = folds[f - 1]
                drain_over = start[f - 1] + t0 - 1 + skew * (r0 + c0 - 2) + rows  # last drain shift of f-1
                allowed = a >= start[f - 1] + t0 and a + folds[f][2] - 1 > drain_over
            elif dataflow != "os" and overlap:
                allowed = a >= stream[f - 1]
            else:
                allowed = end[f - 1] is not None and a >= end[f - 1]
            have = lambda i, x: arrived[i][x] is not None and arrived[i][x] <= g  # noqa: E731
            older = f - 2 if drain_overlap else f - 1
            if allowed and have(f, IFMAP) and have(f, FILTER) and have(f, OUT_R) and (older < 0 or end[older] is None or have(older, OUT_W)):
                start[f] = a
                r, c, t = folds[f]
                stream[f] = a if dataflow == "os" else max(a + r, stream[f - 1] + folds[f - 1][2] if f else 0)
                if prefetch and f + 1 < n:
                    issue(f + 1, IFMAP, g)
                    issue(f + 1, FILTER, g)
        # edges
        left = top = out = back = 0
        finished = []
        for f in range(n):
            if start[f] is None or end[f] is not None:
                continue
            r, c, t = folds[f]
            if dataflow == "os":
                x = a - start[f]
                last = t - 1 + skew * (r + c - 2)
                for i in range(r):
                    left += 0 <= x - skew * i < t and (x - skew * i) % q == 0
                for j in range(c):
                    top += 0 <= x - skew * j < t and (x - skew * j) % q == 0
                if last < x and rows - (x - last) < r:
                    out += c
                if x == last + rows:
                    finished.append(f)
                continue
            for i in range(r):
                left += stream[f] <= a - i < stream[f] + t and (a - i - stream[f]) % q == 0
            for j in range(c):
                top += start[f] <= a - j < start[f] + r
            for j in range(c):
                k = a - j - (rows - 1) - stream[f]
                if 0 <= k < t and k % q == q - 1:
                    out += sram[f][OUT_W] > 0
                    back += sram[f][OUT_R] > 0
            if a == stream[f] + t - 1 + c - 1 + rows - 1:
                finished.append(f)
        per_read = [0] * 4
        per_write = [0] * 4
        per_read[buffer_of[left_cls]] += left
        per_read[buffer_of[top_cls]] += top
        per_read[buffer_of[OUT_R]] += back
        per_write[buffer_of[OUT_W]] += out
        freeze = 0
        for b in range(4):
            while per_read[b] > (freeze + 1) * read_words[b] or per_write[b] > (freeze + 1) * write_words[b]:
                freeze += 1
        words[left_cls] += left
        words[top_cls] += top
        words[OUT_W] += out
        words[OUT_R] += back
        for f in finished:
            end[f] = a + 1
            issue(f, OUT_W, g + 1 + freeze)
            if not prefetch and f + 1 < n:
                issue(f + 1, IFMAP, g + 1 + freeze)
                issue(f + 1, FILTER, g + 1 + freeze)
        if finished:
            array_done = g + 1 + freeze
        freezes += freeze
        freeze_left = freeze
        a += 1
        g += 1
    total = max([array_done] + [arrived[f][OUT_W] for f in range(n)])
    return {"cycles": total, "freezes": freezes, "words": words, "dram_read_bytes": moved[0],
            "dram_write_bytes": moved[1]}
