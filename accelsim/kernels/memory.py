"""The native double-buffered DRAM timeline (``docs/timing_models.md``, "Native memory model").

Per fold, the words each traffic class moves over its DRAM channel take ``xfer[f, x]`` cycles
(precomputed from bytes and bandwidth); reads for fold ``f+1`` overlap fold ``f``'s compute when
the buffer is double buffered, and fold ``f``'s outputs drain while later folds compute.
SCALE-Sim's buffers are in ``scalesim_calc.py`` (CALC bandwidth mode) and ``scalesim_user.py``.
"""

import numpy as np

from accelsim.kernels._jit import kernel, leaf
from accelsim.kernels.codes import TRAFFIC_FILTER, TRAFFIC_IFMAP, TRAFFIC_OFMAP_READ, TRAFFIC_OFMAP_WRITE
from accelsim.kernels.fold_timing import fold_finish, fold_first, fold_spacing


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
        drained = end
        if xfer[f, TRAFFIC_OFMAP_WRITE] > 0:
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


@leaf
def fill_transfer(dram_bytes, rate_num, rate_den, count, xfer):
    """DRAM cycles of the first ``count`` folds' traffic, into ``xfer`` (int64[F, 4]):
    ``ceil(dram_bytes[f, x] * rate_den[x] / rate_num[x])``, 0 where ``rate_num[x]`` is 0 (an
    unlimited channel) or nothing moves (no division); ``rate_num / rate_den`` is each traffic
    class's bytes per cycle (``accelsim.lower.schedule.dram_rates``, ``transfer_cycles``)."""
    for f in range(count):
        for x in range(4):
            nbytes = dram_bytes[f, x]
            xfer[f, x] = -((-nbytes * rate_den[x]) // rate_num[x]) if nbytes > 0 and rate_num[x] > 0 else 0


# State of :func:`resume_native_timeline` between chunks of folds (int64 array).
(RESUME_STARTED, RESUME_START, RESUME_PREV_DRAINED, RESUME_FINISH, RESUME_FREE, RESUME_DSTART, RESUME_DPREV,
 RESUME_DFINISH, RESUME_COMPUTE) = 0, 1, 2, 3, 4, 8, 9, 10, 11
RESUME_STATE_SIZE = 12


@leaf
def resume_native_timeline(dataflow, array_rows, overlap, broadcast, rows_used, cols_used, stream_cycles, xfer,
                           channel, latency, prefetch_overlap, drain_overlap, count, last, state):
    """The native compute and memory timeline over the next ``count`` folds, from ``state``.

    The same recurrences as ``systolic.fold_durations`` followed by :func:`double_buffer_cycles`,
    fold by fold, so that a long fold sequence runs in chunks: the arrays hold the chunk's
    folds and, unless ``last`` (the chunk ends the sequence), one more, the next chunk's first
    (its reads are issued, and with ``overlap`` its rows start, during the chunk's last
    fold). ``state`` (``RESUME_*``, zeros before the first chunk) is updated in place: the
    double-buffered timeline's next start, the previous fold's drain, the finish so far and the
    four channels' free times; the compute timeline's next start, previous start, finish; and
    the compute cycles so far. After the last chunk ``state[RESUME_FINISH]`` is the total.
    """
    big_r = array_rows
    if state[RESUME_STARTED] == 0:
        state[RESUME_STARTED] = 1
        state[RESUME_DSTART] = fold_first(dataflow, rows_used[0])
        ready = np.int64(0)
        for x in (TRAFFIC_IFMAP, TRAFFIC_FILTER, TRAFFIC_OFMAP_READ):
            if xfer[0, x] > 0:
                state[RESUME_FREE + channel[x]] += xfer[0, x]
                ready = max(ready, state[RESUME_FREE + channel[x]] + latency)
        state[RESUME_START] = ready
    for f in range(count):
        has_next = f + 1 < count or not last
        own = fold_finish(dataflow, big_r, broadcast, rows_used[f], cols_used[f], stream_cycles[f])
        if not overlap:
            duration = fold_first(dataflow, rows_used[f]) + own
        else:
            dstart = state[RESUME_DSTART]
            state[RESUME_DFINISH] = max(state[RESUME_DFINISH], dstart + own)
            if has_next:
                following = dstart + fold_spacing(dataflow, overlap, own, stream_cycles[f], rows_used[f + 1],
                                                  stream_cycles[f + 1])
                duration = following - state[RESUME_DPREV]
                state[RESUME_DPREV] = following
                state[RESUME_DSTART] = following
            else:
                duration = state[RESUME_DFINISH] - state[RESUME_DPREV]
        state[RESUME_COMPUTE] += duration
        start = state[RESUME_START]
        end = start + duration
        ready = end
        if has_next:
            issue = start if prefetch_overlap else end
            for x in (TRAFFIC_IFMAP, TRAFFIC_FILTER):
                if xfer[f + 1, x] > 0:
                    ch = RESUME_FREE + channel[x]
                    state[ch] = max(state[ch], issue) + xfer[f + 1, x]
                    ready = max(ready, state[ch] + latency)
        drained = end
        if xfer[f, TRAFFIC_OFMAP_WRITE] > 0:
            ch = RESUME_FREE + channel[TRAFFIC_OFMAP_WRITE]
            drained = max(state[ch], end) + xfer[f, TRAFFIC_OFMAP_WRITE]
            state[ch] = drained
        if has_next:
            if xfer[f + 1, TRAFFIC_OFMAP_READ] > 0:
                ch = RESUME_FREE + channel[TRAFFIC_OFMAP_READ]
                state[ch] = max(state[ch], drained) + xfer[f + 1, TRAFFIC_OFMAP_READ]
                ready = max(ready, state[ch] + latency)
            state[RESUME_START] = max(ready, state[RESUME_PREV_DRAINED] if drain_overlap else drained)
        state[RESUME_FINISH] = max(state[RESUME_FINISH], max(end, drained))
        state[RESUME_PREV_DRAINED] = drained
