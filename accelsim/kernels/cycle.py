"""Cycle-by-cycle systolic array with its memory system: the ``cycle`` fidelity.

Every cycle the kernel steps the array's edges (how many rows and columns take an operand
word, how many columns emit a result, in the wave conventions of :mod:`.pe`: each fold in
flight covers an interval of rows/columns, counted in O(1)), the SRAM ports that supply them,
and the DRAM channels that fill and drain the SRAM. Time O(cycles x folds in flight), memory
O(folds); a trace is written only when asked for.

Memory system (the native model of ``docs/timing_models.md`` stepped per cycle):

* DRAM: each channel moves ``bw_num / bw_den`` bytes per cycle from the request at the head
  of its FIFO (left-over bytes of a cycle go to the next request); a request's data arrive
  ``latency`` cycles after its last byte moved (pipelined). ``bw_num = 0``: unlimited (data
  arrive at once, no latency).
* Fold ``f+1``'s operand tiles are requested when fold ``f`` starts loading (double-buffered
  input SRAM) or when fold ``f`` ends; fold ``f``'s outputs are requested when it ends; a
  partial-sum read-back is requested once the previous fold's outputs have drained.
* A fold starts loading (ws/is) or computing (os) at the cycle its timing rule allows *and*
  its tiles have arrived *and* the output buffer it will write has drained: the buffer of fold
  ``f-2`` (double-buffered output SRAM) or ``f-1`` (single), if that fold has finished (a fold
  still computing is not waiting for DRAM). Until then the controller waits while the array
  keeps computing and draining earlier folds.
* SRAM ports: each buffer reads ``read_words`` and writes ``write_words`` words per cycle;
  a cycle whose edge words exceed them freezes the whole array for the extra cycles (DRAM
  keeps moving). Banks only set the port width: no bank conflicts are modelled.
"""

from typing import NamedTuple

import numpy as np

from accelsim.kernels._jit import kernel
from accelsim.kernels.fold_timing import fold_finish, fold_spacing
from accelsim.kernels.codes import (
    CYC_TRACE_DRAM_READ_BYTES, CYC_TRACE_DRAM_WRITE_BYTES, CYC_TRACE_FILTER_SRAM_READS,
    CYC_TRACE_IFMAP_SRAM_READS, CYC_TRACE_OFMAP_SRAM_READS, CYC_TRACE_OFMAP_SRAM_WRITES, DATAFLOW_IS,
    DATAFLOW_OS, FOLD_STAT_DRAM_READ_BYTES, FOLD_STAT_DRAM_WRITE_BYTES, FOLD_STAT_FILTER_SRAM_READS, FOLD_STAT_IFMAP_SRAM_READS,
    FOLD_STAT_OFMAP_SRAM_READS, FOLD_STAT_OFMAP_SRAM_WRITES, TRAFFIC_FILTER, TRAFFIC_IFMAP, TRAFFIC_OFMAP_READ,
    TRAFFIC_OFMAP_WRITE,
)

_NEVER = np.int64(2**62)
_ISSUED = np.int64(2**62 - 1)  # arrival of a request on a channel FIFO, not yet known


@kernel
def _issue(f, x, g, nbytes, channel, bw_num, queue, tail, remaining, arrival):
    """Request traffic ``(f, x)`` at cycle ``g``: onto its channel's FIFO, or there at once."""
    ch = channel[x]
    if nbytes[f, x] == 0 or bw_num[ch] == 0:
        arrival[f, x] = g
        return
    remaining[f, x] = nbytes[f, x]
    arrival[f, x] = _ISSUED
    queue[ch, tail[ch]] = f * 4 + x
    tail[ch] += 1


@kernel
def _serve(ch, g, bw_num, bw_den, latency, queue, head, tail, credit, remaining, arrival, moved):
    """One cycle of DRAM channel ``ch``: bytes moved per traffic class are added to ``moved``."""
    if head[ch] == tail[ch]:
        credit[ch] = 0  # an idle channel saves nothing up
        return
    credit[ch] += bw_num[ch]  # in 1/bw_den bytes
    while head[ch] < tail[ch]:
        req = queue[ch, head[ch]]
        f = req // 4
        x = req % 4
        n = min(remaining[f, x], credit[ch] // bw_den[ch])
        remaining[f, x] -= n
        credit[ch] -= n * bw_den[ch]
        moved[x] += n
        if remaining[f, x] > 0:
            return
        arrival[f, x] = g + 1 + latency
        head[ch] += 1


@kernel
def _count(lo, hi, q, phase):
    """How many integers ``x`` in ``[lo, hi]`` have ``x % q == phase`` (0 if ``hi < lo``)."""
    if hi < lo:
        return 0
    return (hi - phase) // q - (lo - 1 - phase) // q


class CycleMemory(NamedTuple):
    """The memory system the ``cycle`` kernel steps.

    channel : int64[4]              DRAM channel (0..3) of each traffic class (``TRAFFIC_*``)
    bw_num, bw_den : int64[4]       each channel's bytes per cycle, ``bw_num / bw_den`` (0: unlimited)
    latency : int                   DRAM latency in cycles
    buffer_of : int64[4]            SRAM buffer (0..3) of each traffic class
    read_words, write_words : int64[4]  words per cycle each buffer's read and write ports move
    """

    channel: np.ndarray
    bw_num: np.ndarray
    bw_den: np.ndarray
    latency: int
    buffer_of: np.ndarray
    read_words: np.ndarray
    write_words: np.ndarray


@kernel
def run_cycle_native(s, memory, cycles_per_product, trace, stats):
    """Step one schedule cycle by cycle; returns ``(cycles, sram_freeze_cycles)``.

    Parameters
    ----------
    s : :class:`~accelsim.kernels.systolic.FoldSchedule`
        The folds. A fold writes (reads back) its outputs through the SRAM only where its
        ``sram_words`` ``OFMAP_WRITE`` (``OFMAP_READ``) entry is non-zero; ``dram_bytes`` are the
        bytes it moves over DRAM; ``preload_overlap``: folds overlap (ws/is: the next stationary
        operand loads while this fold streams; os: a fold streams while the previous one's
        outputs drain); ``broadcast`` (os): every PE of a row (column) takes the row's
        (column's) word in the same cycle, no skew.
    memory : :class:`CycleMemory`
    cycles_per_product : int
        Cycles per stream step (a word enters a row once every that many cycles).
    trace : int64[n, CYC_TRACE_COLUMNS]
        Per-cycle trace, written for the first ``n`` cycles (``n = 0``: no trace).
    stats : int64[FOLD_STAT_COUNT]
        Counters, added to: SRAM words at the edges, DRAM bytes moved.
    """
    dataflow, rows, cols, overlap = s.dataflow, s.array_rows, s.array_cols, s.preload_overlap
    skew = 0 if s.broadcast else 1
    rows_used, cols_used, stream_cycles = s.rows_used, s.cols_used, s.stream_cycles
    sram_words, dram_bytes = s.sram_words, s.dram_bytes
    prefetch_overlap, drain_overlap = s.prefetch_overlap, s.drain_overlap
    channel, bw_num, bw_den, latency = memory.channel, memory.bw_num, memory.bw_den, memory.latency
    buffer_of, read_words, write_words = memory.buffer_of, memory.read_words, memory.write_words
    n_folds = rows_used.shape[0]
    q = cycles_per_product
    is_os = dataflow == DATAFLOW_OS
    left_class = TRAFFIC_FILTER if dataflow == DATAFLOW_IS else TRAFFIC_IFMAP
    top_class = TRAFFIC_IFMAP if dataflow == DATAFLOW_IS else TRAFFIC_FILTER
    # controller, in array time a (the wall clock g also counts the SRAM freezes)
    load_start = np.zeros(n_folds, np.int64)  # ws/is: load start; os: fold start
    stream_start = np.zeros(n_folds, np.int64)
    end = np.full(n_folds, -1, np.int64)
    exits = np.zeros(n_folds, np.int64)
    ended = np.zeros(n_folds, np.int64)  # folds that ended this cycle
    oldest = 0  # first fold not ended
    # DRAM: one FIFO per channel, at most 4 requests per fold
    remaining = np.zeros((n_folds, 4), np.int64)
    arrival = np.full((n_folds, 4), _NEVER, np.int64)
    queue = np.zeros((4, 4 * n_folds), np.int64)
    head = np.zeros(4, np.int64)
    tail = np.zeros(4, np.int64)
    credit = np.zeros(4, np.int64)
    moved = np.zeros(4, np.int64)
    reads = np.zeros(4, np.int64)  # per buffer, words this cycle
    writes = np.zeros(4, np.int64)
    for x in (TRAFFIC_IFMAP, TRAFFIC_FILTER):
        _issue(0, x, 0, dram_bytes, channel, bw_num, queue, tail, remaining, arrival)
    for f in range(n_folds):
        if dram_bytes[f, TRAFFIC_OFMAP_READ] == 0:
            arrival[f, TRAFFIC_OFMAP_READ] = 0
    psum_next = 1  # next fold whose partial sums may need reading back
    scheduled = 0
    done = 0
    drained = 0  # folds whose outputs have reached DRAM, in order
    a = 0
    g = 0
    frozen_until = 0
    freezes = 0
    array_done = 0  # wall cycle after the last result left the array
    while done < n_folds or drained < n_folds:
        # 1. DRAM channels
        moved[:] = 0
        for ch in range(4):
            _serve(ch, g, bw_num, bw_den, latency, queue, head, tail, credit, remaining, arrival, moved)
        while drained < n_folds and arrival[drained, TRAFFIC_OFMAP_WRITE] <= g:
            drained += 1
        while psum_next < n_folds and arrival[psum_next - 1, TRAFFIC_OFMAP_WRITE] <= g:
            if dram_bytes[psum_next, TRAFFIC_OFMAP_READ] > 0:
                _issue(psum_next, TRAFFIC_OFMAP_READ, g, dram_bytes, channel, bw_num, queue, tail, remaining,
                       arrival)
            psum_next += 1
        read_bytes = moved[TRAFFIC_IFMAP] + moved[TRAFFIC_FILTER] + moved[TRAFFIC_OFMAP_READ]
        write_bytes = moved[TRAFFIC_OFMAP_WRITE]
        stats[FOLD_STAT_DRAM_READ_BYTES] += read_bytes
        stats[FOLD_STAT_DRAM_WRITE_BYTES] += write_bytes
        if g < trace.shape[0]:
            trace[g, CYC_TRACE_DRAM_READ_BYTES] = read_bytes
            trace[g, CYC_TRACE_DRAM_WRITE_BYTES] = write_bytes
        if g < frozen_until or done == n_folds:
            g += 1
            continue
        # 2. controller: the next fold starts when its rule allows, its tiles are in, and the
        #    output buffer it will write has drained
        if scheduled < n_folds:
            f = scheduled
            if f == 0:
                allowed = True
            elif is_os and overlap:  # fold_timing.fold_spacing
                finish = fold_finish(dataflow, rows, s.broadcast, rows_used[f - 1], cols_used[f - 1],
                                     stream_cycles[f - 1])
                allowed = a >= load_start[f - 1] + fold_spacing(dataflow, overlap, finish, stream_cycles[f - 1],
                                                                 rows_used[f], stream_cycles[f])
            elif overlap:
                allowed = a >= stream_start[f - 1]
            else:
                allowed = end[f - 1] >= 0 and a >= end[f - 1]
            older = f - 2 if drain_overlap else f - 1
            ready = arrival[f, TRAFFIC_IFMAP] <= g and arrival[f, TRAFFIC_FILTER] <= g \
                and arrival[f, TRAFFIC_OFMAP_READ] <= g \
                and (older < 0 or end[older] < 0 or arrival[older, TRAFFIC_OFMAP_WRITE] <= g)
            if allowed and ready:
                load_start[f] = a
                if is_os:
                    stream_start[f] = a
                elif f == 0:
                    stream_start[f] = a + rows_used[f]
                else:
                    stream_start[f] = max(a + rows_used[f], stream_start[f - 1] + stream_cycles[f - 1])
                scheduled += 1
                if prefetch_overlap and f + 1 < n_folds:
                    for x in (TRAFFIC_IFMAP, TRAFFIC_FILTER):
                        _issue(f + 1, x, g, dram_bytes, channel, bw_num, queue, tail, remaining, arrival)
        # 3. words crossing the array edges in array cycle a
        left_words = 0
        top_words = 0
        out_words = 0
        back_words = 0
        n_ended = 0
        if is_os:
            for f in range(oldest, scheduled):  # the folds in flight: one streams, earlier ones drain
                if end[f] >= 0:
                    continue
                c = a - load_start[f]
                t_len = stream_cycles[f]
                last_mac = t_len - 1 + skew * (rows_used[f] + cols_used[f] - 2)
                if c <= last_mac:  # stream step t = c - skew*i enters row i, t = c - skew*j column j
                    if skew:
                        left_words += _count(max(0, c - rows_used[f] + 1), min(t_len - 1, c), q, 0)
                        top_words += _count(max(0, c - cols_used[f] + 1), min(t_len - 1, c), q, 0)
                    else:
                        step = _count(c, min(t_len - 1, c), q, 0)
                        left_words += rows_used[f] * step
                        top_words += cols_used[f] * step
                else:
                    if rows - (c - last_mac) < rows_used[f]:
                        out_words += cols_used[f]
                    if c == last_mac + rows:
                        end[f] = a + 1
                        ended[n_ended] = f
                        n_ended += 1
                        done += 1
        else:
            for f in range(oldest, scheduled):  # the folds in flight
                if end[f] >= 0:
                    continue
                s_f = stream_start[f]
                t_len = stream_cycles[f]
                # stream row t = a - i - s_f enters row i < r
                t_hi = min(a - s_f, t_len - 1)
                t_lo = max(a - s_f - rows_used[f] + 1, 0)
                left_words += _count(t_lo, t_hi, q, 0)
                # the stationary value of row r - 1 - x enters column j < c at L_f + j + x
                top_words += _count(max(0, a - load_start[f] - rows_used[f] + 1),
                                    min(cols_used[f] - 1, a - load_start[f]), 1, 0)
                # column j < c emits the result of stream row t = a - j - (R - 1) - s_f
                t_hi = min(a - (rows - 1) - s_f, t_len - 1)
                t_lo = max(a - (rows - 1) - s_f - cols_used[f] + 1, 0)
                n_exit = _count(t_lo, t_hi, 1, 0)
                if n_exit:
                    n_out = _count(t_lo, t_hi, q, q - 1)
                    out_words += n_out * (sram_words[f, TRAFFIC_OFMAP_WRITE] > 0)
                    back_words += n_out * (sram_words[f, TRAFFIC_OFMAP_READ] > 0)
                    exits[f] += n_exit
                    if exits[f] == t_len * cols_used[f]:
                        end[f] = a + 1
                        ended[n_ended] = f
                        n_ended += 1
                        done += 1
        while oldest < scheduled and end[oldest] >= 0:
            oldest += 1
        # 4. SRAM ports: the array waits until every buffer has moved this cycle's words
        reads[:] = 0
        writes[:] = 0
        reads[buffer_of[left_class]] += left_words
        reads[buffer_of[top_class]] += top_words
        reads[buffer_of[TRAFFIC_OFMAP_READ]] += back_words
        writes[buffer_of[TRAFFIC_OFMAP_WRITE]] += out_words
        freeze = 0
        for b in range(4):
            freeze = max(freeze, (reads[b] + read_words[b] - 1) // read_words[b] - 1,
                         (writes[b] + write_words[b] - 1) // write_words[b] - 1)
        ifmap_words = left_words if left_class == TRAFFIC_IFMAP else top_words
        filter_words = top_words if left_class == TRAFFIC_IFMAP else left_words
        stats[FOLD_STAT_IFMAP_SRAM_READS] += ifmap_words
        stats[FOLD_STAT_FILTER_SRAM_READS] += filter_words
        stats[FOLD_STAT_OFMAP_SRAM_WRITES] += out_words
        stats[FOLD_STAT_OFMAP_SRAM_READS] += back_words
        if g < trace.shape[0]:
            trace[g, CYC_TRACE_IFMAP_SRAM_READS] = ifmap_words
            trace[g, CYC_TRACE_FILTER_SRAM_READS] = filter_words
            trace[g, CYC_TRACE_OFMAP_SRAM_WRITES] = out_words
            trace[g, CYC_TRACE_OFMAP_SRAM_READS] = back_words
        # 5. folds that ended send their outputs to DRAM and, without prefetch, fetch the next
        g_next = g + 1 + freeze
        for e in range(n_ended):
            f = ended[e]
            _issue(f, TRAFFIC_OFMAP_WRITE, g_next, dram_bytes, channel, bw_num, queue, tail, remaining, arrival)
            if not prefetch_overlap and f + 1 < n_folds:
                for x in (TRAFFIC_IFMAP, TRAFFIC_FILTER):
                    _issue(f + 1, x, g_next, dram_bytes, channel, bw_num, queue, tail, remaining, arrival)
        if n_ended:
            array_done = g_next
        frozen_until = g_next
        freezes += freeze
        a += 1
        g += 1
    # overlapped folds may end out of order (a narrower fold after a wider one): the last write
    return max(array_done, arrival[:, TRAFFIC_OFMAP_WRITE].max()), freezes
