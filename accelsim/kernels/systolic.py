"""Systolic-array kernels of the ``fold`` fidelity: one call per GEMM schedule, O(folds).

``run_fold_native`` implements ``docs/timing_models.md`` ("native" compute timing and the
native memory model); ``run_fold_scalesim`` reproduces SCALE-Sim 3.0.0's reported numbers
(closed forms for cycles and SRAM counts, the CALC-mode walks of :mod:`.scalesim_calc` for DRAM).
Both fill an int64 counter array indexed by ``codes.FOLD_STAT_*``.
"""

from typing import NamedTuple

import numpy as np

from accelsim.kernels._jit import kernel, leaf
from accelsim.kernels.codes import (
    DATAFLOW_OS, DATAFLOW_WS, FOLD_STAT_BUSY_PE_CYCLES, FOLD_STAT_COUNT, FOLD_STAT_COMPUTE_CYCLES, FOLD_STAT_CYCLES,
    FOLD_STAT_CYCLES_INCL_PREFETCH, FOLD_STAT_DRAM_READ_BYTES, FOLD_STAT_DRAM_WRITE_BYTES, FOLD_STAT_FILTER_DRAM_READS,
    FOLD_STAT_FILTER_SRAM_READS, FOLD_STAT_FOLDS, FOLD_STAT_IFMAP_DRAM_READS, FOLD_STAT_IFMAP_SRAM_READS, FOLD_STAT_MAPPED_PES,
    FOLD_STAT_OFMAP_DRAM_READS, FOLD_STAT_OFMAP_DRAM_WRITES, FOLD_STAT_OFMAP_SRAM_READS, FOLD_STAT_OFMAP_SRAM_WRITES,
    FOLD_STAT_STALL_CYCLES, FOLD_STAT_UTIL_PE_CYCLES, TRAFFIC_FILTER, TRAFFIC_IFMAP, TRAFFIC_OFMAP_READ,
    TRAFFIC_OFMAP_WRITE,
)
from accelsim.kernels.fold_timing import fold_finish, fold_first, fold_spacing
from accelsim.kernels.memory import (
    RESUME_COMPUTE, RESUME_FINISH, RESUME_STATE_SIZE, double_buffer_cycles, fill_transfer, resume_native_timeline,
)
from accelsim.kernels.scalesim_calc import calc_filter_reads, calc_ifmap_reads, calc_ofmap_drain
from accelsim.kernels.schedule import DIM_K, ScheduleProblem, fill_folds, prefetch_words, scale_dram_rows


@kernel
def fold_durations(dataflow, array_rows, overlap, broadcast, rows_used, cols_used, stream_cycles, durations):
    """Native compute cycles of each fold; returns their sum (the compute time).

    Without overlap fold ``f`` takes ``first + finish`` (:func:`fold_first`, :func:`fold_finish`).
    With ``overlap`` fold ``f+1``'s first stream row enters at ``s_{f+1} = s_f + spacing_f``
    (:func:`fold_spacing`; ``s_0 = first_0``) and the total is ``max_f (s_f + finish_f)``;
    ``durations[f]`` is then the spacing between consecutive starts (the first also holds
    ``first_0``, the last runs to the end), so that the durations still add up to the total.

    Parameters
    ----------
    rows_used, cols_used, stream_cycles : int64[F]
        ``r``, ``c`` and ``T`` of each fold.
    durations : int64[F]
        Output.
    """
    folds = rows_used.shape[0]
    if not overlap:
        total = np.int64(0)
        for f in range(folds):
            durations[f] = fold_first(dataflow, rows_used[f]) + fold_finish(
                dataflow, array_rows, broadcast, rows_used[f], cols_used[f], stream_cycles[f])
            total += durations[f]
        return total
    start = np.int64(fold_first(dataflow, rows_used[0]))
    previous = np.int64(0)
    finish = np.int64(0)
    for f in range(folds):
        own = fold_finish(dataflow, array_rows, broadcast, rows_used[f], cols_used[f], stream_cycles[f])
        finish = max(finish, start + own)
        if f + 1 < folds:
            following = start + fold_spacing(dataflow, overlap, own, stream_cycles[f], rows_used[f + 1],
                                             stream_cycles[f + 1])
            durations[f] = following - previous
            previous = following
            start = following
    durations[folds - 1] = finish - previous
    return finish


class FoldSchedule(NamedTuple):
    """One repeat of a GEMM's folds as the ``fold`` and ``cycle`` kernels see it (the arrays of
    ``accelsim.lower.schedule.TileSchedule``).

    dataflow : int                   ``DATAFLOW_*``
    array_rows, array_cols : int     array size
    preload_overlap : bool           folds overlap (ws/is: stationary preload; os: output drain)
    broadcast : bool                 operands reach the PEs on a bus (no skew; os only)
    rows_used, cols_used : int64[F]  PE rows and columns each fold uses
    stream_cycles : int64[F]         each fold's stream length in cycles
    sram_words, dram_words : int64[F, 4]  words per fold and traffic class (``TRAFFIC_*``)
    dram_bytes : int64[F, 4]         the DRAM words in bytes
    prefetch_overlap : bool          the next fold's reads overlap this fold (double-buffered inputs)
    drain_overlap : bool             a fold's writes overlap the next fold (double-buffered output)
    """

    dataflow: int
    array_rows: int
    array_cols: int
    preload_overlap: bool
    broadcast: bool
    rows_used: np.ndarray
    cols_used: np.ndarray
    stream_cycles: np.ndarray
    sram_words: np.ndarray
    dram_words: np.ndarray
    dram_bytes: np.ndarray
    prefetch_overlap: bool
    drain_overlap: bool


class FoldDram(NamedTuple):
    """The native fold model's DRAM: each fold's transfer time and the channels.

    xfer : int64[F, 4]   DRAM cycles of each fold's traffic per class (0 everywhere: unlimited)
    channel : int64[4]   DRAM channel of each traffic class
    latency : int        DRAM read latency in cycles
    """

    xfer: np.ndarray
    channel: np.ndarray
    latency: int


@kernel
def run_fold_native(s, dram, stats):
    """Native timing of one schedule ``s`` (:class:`FoldSchedule`) with ``dram``
    (:class:`FoldDram`): compute, memory stalls and traffic, into ``stats``
    (int64[FOLD_STAT_COUNT], overwritten). Double buffering: :func:`.memory.double_buffer_cycles`.
    """
    dataflow, array_rows, array_cols, preload_overlap = s.dataflow, s.array_rows, s.array_cols, s.preload_overlap
    rows_used, cols_used, stream_cycles = s.rows_used, s.cols_used, s.stream_cycles
    sram_words, dram_words, dram_bytes = s.sram_words, s.dram_words, s.dram_bytes
    prefetch_overlap, drain_overlap = s.prefetch_overlap, s.drain_overlap
    xfer, channel, latency = dram.xfer, dram.channel, dram.latency
    folds = rows_used.shape[0]
    durations = np.empty(folds, dtype=np.int64)
    compute = fold_durations(dataflow, array_rows, preload_overlap, s.broadcast, rows_used, cols_used,
                             stream_cycles, durations)
    total = double_buffer_cycles(durations, xfer, channel, latency, prefetch_overlap, drain_overlap)
    stats[:] = 0
    set_timeline_stats(total, compute, folds, array_rows * array_cols, stats)
    add_fold_sums(rows_used, cols_used, stream_cycles, sram_words, dram_words, dram_bytes, folds, stats)


@kernel
def run_native_problem(problem, dataflow, array_rows, array_cols, overlap, broadcast, prefetch_overlap, drain_overlap,
                       scale_num, scale_den, rate_num, rate_den, channel, latency, chunk, stats):
    """:func:`run_fold_native`'s counters of the folds of
    :class:`~accelsim.kernels.schedule.ScheduleProblem` ``problem`` (its fields as a plain tuple) in
    one call, ``chunk`` folds at a time: their tables (:func:`.schedule.fill_folds`), the DRAM traffic
    scaled by the memory plan's ``scale_num / scale_den`` (:func:`.schedule.scale_dram_rows`), each
    fold's transfer cycles at the DRAM's ``rate_num / rate_den`` bytes per cycle
    (:func:`.memory.fill_transfer`), the timeline continued from chunk to chunk
    (:func:`.memory.resume_native_timeline`). Returns False, ``stats`` unfinished, where a scaled
    running total would pass int64."""
    p = ScheduleProblem(*problem)
    total = p.stop - p.first
    size = min(total, chunk) + 1  # a chunk and the next one's first fold
    rows_used, cols_used, stream_cycles = np.empty(size, np.int64), np.empty(size, np.int64), np.empty(size, np.int64)
    sram, dram = np.empty((size, 4), np.int64), np.empty((size, 4), np.int64)
    dram_bytes, xfer = np.empty((size, 4), np.int64), np.empty((size, 4), np.int64)
    next_in, next_filter = prefetch_words(p, False), prefetch_words(p, True)
    count, reduce_position = loop_counts(p)
    totals = np.zeros((2, 3, 2), np.int64)
    state = np.zeros(RESUME_STATE_SIZE, np.int64)
    sums = np.zeros(FOLD_STAT_COUNT, np.int64)
    for first in range(p.first, p.stop, chunk):
        folds = min(chunk, p.stop - first)
        last = first + folds == p.stop
        built = folds + (0 if last else 1)
        fill_folds(p, first, first + built, next_in, next_filter, rows_used, cols_used, stream_cycles, sram, dram,
                   dram_bytes)
        if not scale_dram_rows(dram, dram_bytes, scale_num, scale_den, 0, count, reduce_position, first, p.drain, built,
                               folds, totals):
            return False
        fill_transfer(dram_bytes, rate_num, rate_den, built, xfer)
        resume_native_timeline(dataflow, array_rows, overlap, broadcast, rows_used, cols_used, stream_cycles, xfer,
                               channel, latency, prefetch_overlap, drain_overlap, folds, last, state)
        add_fold_sums(rows_used, cols_used, stream_cycles, sram, dram, dram_bytes, folds, sums)
    stats[:] = sums
    set_timeline_stats(state[RESUME_FINISH], state[RESUME_COMPUTE], total, array_rows * array_cols, stats)
    return True


@kernel
def loop_counts(p):
    """``(count, reduce_position)`` of :class:`~accelsim.kernels.schedule.ScheduleProblem` ``p``: the
    folds along each loop in its order (int64[3], outermost first) and the position of the loop
    over k (:func:`.schedule.scale_dram_rows`'s arguments)."""
    count = np.empty(3, np.int64)
    reduce_position = 0
    for position in range(3):
        count[position] = p.count[p.order[position]]
        if p.order[position] == p.loop_of[DIM_K]:
            reduce_position = position
    return count, reduce_position


@leaf
def set_timeline_stats(total, compute, folds, pes, stats):
    """Set a native timeline's cycle counters in ``stats``: ``total`` cycles of which ``compute``
    busy, over ``folds`` folds of an array of ``pes`` PEs (stalls = total - compute)."""
    stats[FOLD_STAT_CYCLES] = total
    stats[FOLD_STAT_COMPUTE_CYCLES] = compute
    stats[FOLD_STAT_STALL_CYCLES] = total - compute
    stats[FOLD_STAT_CYCLES_INCL_PREFETCH] = total
    stats[FOLD_STAT_FOLDS] = folds
    stats[FOLD_STAT_UTIL_PE_CYCLES] = compute * pes


@leaf
def add_fold_sums(rows_used, cols_used, stream_cycles, sram, dram, dram_bytes, count, sums):
    """Add the first ``count`` folds' PE and traffic counts to ``sums`` (PEs mapped and busy, SRAM and DRAM words, DRAM bytes)."""
    for f in range(count):
        pes = rows_used[f] * cols_used[f]
        sums[FOLD_STAT_MAPPED_PES] += pes
        sums[FOLD_STAT_BUSY_PE_CYCLES] += pes * stream_cycles[f]
        sums[FOLD_STAT_IFMAP_SRAM_READS] += sram[f, TRAFFIC_IFMAP]
        sums[FOLD_STAT_FILTER_SRAM_READS] += sram[f, TRAFFIC_FILTER]
        sums[FOLD_STAT_OFMAP_SRAM_WRITES] += sram[f, TRAFFIC_OFMAP_WRITE]
        sums[FOLD_STAT_OFMAP_SRAM_READS] += sram[f, TRAFFIC_OFMAP_READ]
        sums[FOLD_STAT_IFMAP_DRAM_READS] += dram[f, TRAFFIC_IFMAP]
        sums[FOLD_STAT_FILTER_DRAM_READS] += dram[f, TRAFFIC_FILTER]
        sums[FOLD_STAT_OFMAP_DRAM_WRITES] += dram[f, TRAFFIC_OFMAP_WRITE]
        sums[FOLD_STAT_OFMAP_DRAM_READS] += dram[f, TRAFFIC_OFMAP_READ]
        sums[FOLD_STAT_DRAM_READ_BYTES] += (dram_bytes[f, TRAFFIC_IFMAP] + dram_bytes[f, TRAFFIC_FILTER]
                                            + dram_bytes[f, TRAFFIC_OFMAP_READ])
        sums[FOLD_STAT_DRAM_WRITE_BYTES] += dram_bytes[f, TRAFFIC_OFMAP_WRITE]


@kernel
def _read_dram_start(first_row, triggers, leftover, words_per_set):
    """SCALE-Sim CALC DRAM start cycle of a read operand (memory-model doc 4.2)."""
    if triggers == 0:
        sets = (leftover + words_per_set - 1) // words_per_set
        return -((sets * words_per_set + 9) // 10)
    return first_row - 5 * words_per_set


@kernel
def scalesim_compute_stats(dataflow, array_rows, array_cols, sr, sc, t, stats):
    """SCALE-Sim 3.0.0's compute-side counters (no stalls, no DRAM); returns the demand rows.

    Zeroes ``stats`` and fills cycles = compute cycles = demand rows - 1, folds, the PE counts of
    the three utilizations and the SRAM counts (shape-based in both bandwidth modes).
    """
    big_r, big_c = array_rows, array_cols
    row_folds = (sr + big_r - 1) // big_r
    col_folds = (sc + big_c - 1) // big_c
    folds = row_folds * col_folds
    if dataflow == DATAFLOW_OS:
        per_fold = t + big_r + big_c - 2
        util_fold = per_fold
    else:
        per_fold = 2 * big_r + big_c + t - 2
        util_fold = 2 * big_r + 2 * big_c + t - 3  # SCALE-Sim's compute-util quirk
    demand_rows = folds * per_fold
    stats[:] = 0
    stats[FOLD_STAT_CYCLES] = demand_rows - 1
    stats[FOLD_STAT_COMPUTE_CYCLES] = demand_rows - 1
    stats[FOLD_STAT_FOLDS] = folds
    stats[FOLD_STAT_MAPPED_PES] = sr * sc
    stats[FOLD_STAT_BUSY_PE_CYCLES] = sr * sc * t
    stats[FOLD_STAT_UTIL_PE_CYCLES] = folds * big_r * big_c * util_fold
    streamed = t * sr * col_folds
    if dataflow == DATAFLOW_OS:
        stats[FOLD_STAT_IFMAP_SRAM_READS] = streamed
        stats[FOLD_STAT_FILTER_SRAM_READS] = t * sc * row_folds
        stats[FOLD_STAT_OFMAP_SRAM_WRITES] = sr * sc + folds * (big_r + big_c)
    elif dataflow == DATAFLOW_WS:
        stats[FOLD_STAT_IFMAP_SRAM_READS] = streamed
        stats[FOLD_STAT_FILTER_SRAM_READS] = sr * sc
        stats[FOLD_STAT_OFMAP_SRAM_WRITES] = t * sc * row_folds
    else:
        stats[FOLD_STAT_IFMAP_SRAM_READS] = sr * sc
        stats[FOLD_STAT_FILTER_SRAM_READS] = streamed
        stats[FOLD_STAT_OFMAP_SRAM_WRITES] = t * sc * row_folds
    return demand_rows


@kernel
def run_fold_scalesim(dataflow, array_rows, array_cols, sr, sc, t, geom, ifmap_sram_words,
                      filter_sram_words, ofmap_sram_words, stats):
    """SCALE-Sim 3.0.0 (CALC bandwidth mode) numbers for one layer.

    Parameters
    ----------
    sr, sc, t : int
        Mapped GEMM (rows, columns, time) with SCALE-Sim's ceil output dims.
    geom : int64[9]
        Ifmap geometry (see :func:`.scalesim_calc.ifmap_tables`).
    ifmap_sram_words, filter_sram_words, ofmap_sram_words : int
        SRAM sizes in words (``kB * 1024``).
    stats : int64[FOLD_STAT_COUNT]
        Output counters, overwritten.
    """
    big_r, big_c = array_rows, array_cols
    scalesim_compute_stats(dataflow, big_r, big_c, sr, sc, t, stats)
    starts = np.empty(2, dtype=np.int64)
    ifmap_sets, filter_sets = ifmap_sram_words // 100, filter_sram_words // 100
    reads, first_row, triggers, _, leftover = calc_ifmap_reads(dataflow, big_r, big_c, sr, sc, t, geom,
                                                               50 * ifmap_sets)
    starts[0] = _read_dram_start(first_row, triggers, leftover, ifmap_sets)
    stats[FOLD_STAT_IFMAP_DRAM_READS] = reads
    reads, first_row, triggers, _, leftover = calc_filter_reads(dataflow, big_r, big_c, sr, sc, t, geom,
                                                                50 * filter_sets)
    starts[1] = _read_dram_start(first_row, triggers, leftover, filter_sets)
    stats[FOLD_STAT_FILTER_DRAM_READS] = reads
    ring = np.empty(ofmap_sram_words + 2, dtype=np.int64)
    writes, _, last_drain = calc_ofmap_drain(dataflow, big_r, big_c, sr, sc, t, ofmap_sram_words, ring)
    stats[FOLD_STAT_OFMAP_DRAM_WRITES] = writes
    stats[FOLD_STAT_CYCLES_INCL_PREFETCH] = last_drain - min(starts[0], starts[1])
    stats[FOLD_STAT_DRAM_READ_BYTES] = stats[FOLD_STAT_IFMAP_DRAM_READS] + stats[FOLD_STAT_FILTER_DRAM_READS]
    stats[FOLD_STAT_DRAM_WRITE_BYTES] = writes
