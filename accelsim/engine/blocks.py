"""The native ``fold`` model of a long fold sequence, in blocks: memory O(block), time O(distinct blocks).

A block is one pass of the mapping's innermost loop (its folds in execution order). Blocks are
built one at a time (:func:`accelsim.engine.lowering.schedule` with ``folds=``) and their
timeline continues from the previous block's state
(:func:`accelsim.kernels.memory.resume_native_timeline`). Blocks at the same position class
of the two outer loops (first, middle, last index) hold the same folds whenever the tensor
shares along those loops divide exactly (a GEMM's always do; a conv's input along ``m`` may
not). When two consecutive such blocks leave the timeline in the same state relative to its
start (times at or before the next start count as equal: nothing later can depend on them),
every further block of the run repeats that step, and the run is added up at once. The
counts are exact: ``tests/properties/test_fold_blocks.py`` compares them with the one-piece run.
"""

from __future__ import annotations

import numpy as np

from accelsim.engine import lowering
from accelsim.errors import UnsupportedError
from accelsim.kernels import codes
from accelsim.kernels.memory import (
    RESUME_COMPUTE, RESUME_DFINISH, RESUME_DPREV, RESUME_DSTART, RESUME_FINISH, RESUME_FREE, RESUME_PREV_DRAINED,
    RESUME_START, RESUME_STATE_SIZE, resume_native_timeline,
)
from accelsim.lower.gemm import ArrayRate, GemmProblem
from accelsim.lower.schedule import FILTER, IFMAP, OFMAP_READ, OFMAP_WRITE, TileSchedule
from accelsim.lower.tiling import Mapping, spatial_mapping
from accelsim.spec.arch import ArchSpec, Dataflow

# A layer with more folds than this runs in blocks (below it, in one piece as before); a block
# longer than CHUNK folds runs in chunks of CHUNK.
BLOCK_THRESHOLD = 2**16
CHUNK = 2**14
# Units (blocks or chunks) one layer may step through one by one, about 10 s: past it the layer
# is refused (its blocks do not repeat, or its timeline never settles into a repeating step).
MAX_UNITS = 2**12
_DIMS = {Dataflow.OS: {"r": "m", "c": "n", "t": "k"}, Dataflow.WS: {"r": "k", "c": "n", "t": "m"},
         Dataflow.IS: {"r": "k", "c": "m", "t": "n"}}
_SUMS = (codes.FOLD_STAT_MAPPED_PES, codes.FOLD_STAT_BUSY_PE_CYCLES, codes.FOLD_STAT_IFMAP_SRAM_READS, codes.FOLD_STAT_FILTER_SRAM_READS,
         codes.FOLD_STAT_OFMAP_SRAM_WRITES, codes.FOLD_STAT_OFMAP_SRAM_READS, codes.FOLD_STAT_IFMAP_DRAM_READS,
         codes.FOLD_STAT_FILTER_DRAM_READS, codes.FOLD_STAT_OFMAP_DRAM_WRITES, codes.FOLD_STAT_OFMAP_DRAM_READS,
         codes.FOLD_STAT_DRAM_READ_BYTES, codes.FOLD_STAT_DRAM_WRITE_BYTES)


def loop_counts(problem: GemmProblem, arch: ArchSpec, mapping: Mapping, rate: ArrayRate) -> list[int]:
    """Iterations of the mapping's three loops, outermost first."""
    sr, sc, t = spatial_mapping(mapping.dataflow, problem.m, problem.n, rate.reduction(problem.k))
    tile = t if mapping.t_tile is None else max(1, min(mapping.t_tile, t))
    count = {"r": -(-sr // arch.array.rows), "c": -(-sc // arch.array.cols), "t": -(-t // tile)}
    return [count[name] for name in mapping.order.value]


def _repeating(problem: GemmProblem, mapping: Mapping, rate: ArrayRate, counts: list[int], loops: int) -> bool:
    """Whether folds at the same position class (first, middle, last index) of the ``loops``
    outermost loops hold the same numbers: the tensor shares along them divide exactly, and no
    input footprint is prefetched a period ahead (a joint unified-buffer allocation,
    ``lower.tiling.buffer_rooms``: the period before the last brings the last, maybe smaller, one)."""
    if mapping.joint_buffer:
        return False
    k_map = rate.reduction(problem.k)
    for name, count in zip(mapping.order.value[:loops], counts[:loops]):
        dim = _DIMS[mapping.dataflow][name]
        if count <= 2 or dim == "n":
            continue
        if problem.ifmap_words % (problem.m * k_map):
            return False
        if dim == "k" and rate.stored_reduction(problem.k) % k_map:
            return False
    return True


class BlocksDoNotRepeat(UnsupportedError):
    """A long layer's blocks do not repeat: it would be stepped one by one past :data:`MAX_UNITS`."""


def too_long(problem: GemmProblem, folds: int) -> str:
    """The message for a layer whose folds would be stepped one by one past :data:`MAX_UNITS`."""
    return (f"{folds:,} folds that do not repeat (a conv's input shares along a loop of the mapping do "
            f"not divide evenly) would take too long to step one by one; use a larger array, another "
            "dataflow, or split the layer")


def repeats(problem: GemmProblem, arch: ArchSpec, mapping: Mapping, rate: ArrayRate) -> bool:
    """Whether :func:`run_blocks` adds up repeating blocks (else it steps every block)."""
    counts = loop_counts(problem, arch, mapping, rate)
    return _repeating(problem, mapping, rate, counts, 2 if counts[2] <= CHUNK else 3)


def _position(index: int, count: int) -> int:
    return 0 if index == 0 else 2 if index == count - 1 else 1


def _relative(state: np.ndarray) -> tuple[int, ...]:
    """The timeline state as it matters to later folds (see the module docstring)."""
    start = state[RESUME_START]
    later = [max(0, int(state[i] - start)) for i in
             (RESUME_PREV_DRAINED, RESUME_FINISH, *range(RESUME_FREE, RESUME_FREE + 4))]
    dstart = state[RESUME_DSTART]
    return (*later, int(state[RESUME_DPREV] - dstart), max(0, int(state[RESUME_DFINISH] - dstart)))


def run_blocks(problem: GemmProblem, arch: ArchSpec, mapping: Mapping, rate: ArrayRate, *, weight_bits: int,
               act_bits: int, transfer, adjust=None, max_units: int | None = None) -> np.ndarray:
    """``codes.FOLD_STAT_*`` counters of one repeat of ``problem`` (native timing), block by block.

    ``transfer(schedule) -> (xfer, channel)`` gives the DRAM cycles of a schedule's traffic
    (:func:`accelsim.engine.fold.transfer_table`); ``adjust(schedule, first_fold) -> schedule``,
    if given, rewrites each block's schedule first (the memory plan's DRAM traffic).
    ``max_units``: blocks (or chunks) stepped before giving up with :class:`BlocksDoNotRepeat`
    (``None``: :data:`MAX_UNITS`).
    """
    counts = loop_counts(problem, arch, mapping, rate)
    block, blocks = counts[2], counts[0] * counts[1]
    size = min(block, CHUNK)  # folds run at a time: a block, or chunks of a long one
    chunks = -(-block // size)
    repeating = _repeating(problem, mapping, rate, counts, 2 if chunks == 1 else 3)
    units = blocks * chunks
    state = np.zeros(RESUME_STATE_SIZE, dtype=np.int64)
    sums = np.zeros(codes.FOLD_STAT_COUNT, dtype=np.int64)
    previous = None  # (position class, relative state, state, sums) after the previous unit
    last_block = None  # the same after the previous block (when blocks run in chunks)
    u = stepped = 0
    while u < units:
        stepped += 1
        if stepped > (MAX_UNITS if max_units is None else max_units):
            raise BlocksDoNotRepeat(too_long(problem, block * blocks))
        b, c = divmod(u, chunks)
        last = u == units - 1
        first_fold = b * block + c * size
        count = min(size, block - c * size)
        schedule = lowering.schedule(problem, arch, mapping, rate=rate, weight_bits=weight_bits, act_bits=act_bits,
                                   folds=(first_fold, first_fold + count + (0 if last else 1)))
        if adjust is not None:
            schedule = adjust(schedule, first_fold)
        xfer, channel = transfer(schedule)
        resume_native_timeline(schedule.dataflow, schedule.array_rows, schedule.preload_overlap,
                               schedule.broadcast, schedule.rows_used, schedule.cols_used,
                               schedule.stream_cycles, xfer, channel, arch.dram.latency_cycles,
                               schedule.prefetch_overlap, schedule.drain_overlap, count, last, state)
        _add_block_sums(schedule, count, sums)
        outer, inner = divmod(b, counts[1])
        position = None
        if repeating:
            position = (_position(outer, counts[0]), _position(inner, counts[1]), _position(c, chunks))
        relative = _relative(state)
        run_end = _run_end(u, outer, inner, c, counts, chunks, position)
        if (previous is not None and position is not None and previous[0] == position
                and previous[1] == relative and run_end - u > 1):
            skipped = run_end - u - 1  # the run's units but its last (whose next unit differs)
            _advance(state, previous[2], skipped)
            sums += skipped * (sums - previous[3])
            u += skipped
        previous = (position, relative, state.copy(), sums.copy())
        if chunks > 1 and c == chunks - 1 and position is not None:  # a block ends: whole blocks may repeat
            key = position[:2]
            block_end = _run_end(b, outer, inner, 0, counts, 1, key)
            if (last_block is not None and last_block[0] == key and last_block[1] == relative
                    and block_end - b > 1):
                skipped = block_end - b - 1
                _advance(state, last_block[2], skipped)
                sums += skipped * (sums - last_block[3])
                u += skipped * chunks
                previous = None
            last_block = (key, relative, state.copy(), sums.copy())
        u += 1
    stats = sums
    total, compute = int(state[RESUME_FINISH]), int(state[RESUME_COMPUTE])
    stats[codes.FOLD_STAT_CYCLES] = total
    stats[codes.FOLD_STAT_COMPUTE_CYCLES] = compute
    stats[codes.FOLD_STAT_STALL_CYCLES] = total - compute
    stats[codes.FOLD_STAT_CYCLES_INCL_PREFETCH] = total
    stats[codes.FOLD_STAT_FOLDS] = block * blocks
    stats[codes.FOLD_STAT_UTIL_PE_CYCLES] = compute * arch.array.rows * arch.array.cols
    return stats


def _advance(state: np.ndarray, before: np.ndarray, blocks_skipped: int) -> None:
    """Move ``state`` on by ``blocks_skipped`` repeats of the step from ``before`` to it.

    Each timeline moves by its start's step: a time that matters keeps its distance to the
    start, and one at or before the start (which nothing later reads) stays there.
    """
    step = state[RESUME_START] - before[RESUME_START]
    for index in (RESUME_START, RESUME_PREV_DRAINED, RESUME_FINISH, *range(RESUME_FREE, RESUME_FREE + 4)):
        state[index] += blocks_skipped * step
    step = state[RESUME_DSTART] - before[RESUME_DSTART]
    for index in (RESUME_DSTART, RESUME_DPREV, RESUME_DFINISH):
        state[index] += blocks_skipped * step
    state[RESUME_COMPUTE] += blocks_skipped * (state[RESUME_COMPUTE] - before[RESUME_COMPUTE])


def _run_end(u: int, outer: int, inner: int, chunk: int, counts: list[int], chunks: int, position) -> int:
    """Index of the last unit of the run of same-position units that unit ``u`` is in."""
    if position is None:
        return u
    if chunks > 1:  # middle chunks of one block
        return u - chunk + chunks - 2 if position[2] == 1 else u
    if counts[1] > 1:
        return outer * counts[1] + (counts[1] - 2 if position[1] == 1 else inner)
    return counts[0] - 2 if position[0] == 1 else outer


def _add_block_sums(schedule: TileSchedule, block: int, sums: np.ndarray) -> None:
    """Add the first ``block`` folds' PE and traffic counts (as ``run_fold_native`` sums them)."""
    rows, cols, stream = schedule.rows_used[:block], schedule.cols_used[:block], schedule.stream_cycles[:block]
    sram, dram, nbytes = schedule.sram_words[:block], schedule.dram_words[:block], schedule.dram_bytes[:block]
    pes = rows * cols
    column_sums = (pes.sum(), (pes * stream).sum(), sram[:, IFMAP].sum(), sram[:, FILTER].sum(),
                   sram[:, OFMAP_WRITE].sum(), sram[:, OFMAP_READ].sum(), dram[:, IFMAP].sum(), dram[:, FILTER].sum(),
                   dram[:, OFMAP_WRITE].sum(), dram[:, OFMAP_READ].sum(),
                   nbytes[:, IFMAP].sum() + nbytes[:, FILTER].sum() + nbytes[:, OFMAP_READ].sum(),
                   nbytes[:, OFMAP_WRITE].sum())
    for index, value in zip(_SUMS, column_sums):
        sums[index] += value
