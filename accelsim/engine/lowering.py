"""A layer's fold schedule with its word tables built by a kernel (:mod:`accelsim.kernels.schedule`).

:func:`layer_schedule` returns what :func:`accelsim.lower.tiling.layer_schedule` returns, field for
field (tests/kernels/test_schedule_vs_ref.py), at a fraction of its per-layer Python cost: the
numpy lowering makes ~60 array operations per layer, the kernel one pass over the folds. Where
an exact share could pass int64 (``_split``'s Python-integer path), the numpy lowering runs.
:func:`scaled_schedule` is :func:`accelsim.lower.memory_plan.scaled_schedule` the same way.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from accelsim.kernels.schedule import ScheduleProblem, build_schedule, scale_dram_rows
from accelsim.lower import memory_plan
from accelsim.lower.gemm import DENSE_RATE, ArrayRate, GemmProblem
from accelsim.lower.memory_plan import NO_SCALE, TrafficScale
from accelsim.lower.schedule import TileSchedule, dataflow_code
from accelsim.lower.tiling import (
    BufferRooms, Mapping, array_wiring, buffer_rooms, fixed_mapping, mapped_schedule, spatial_mapping,
)
from accelsim.spec.arch import ArchSpec, Dataflow
from accelsim.spec.memo import spec_memo
from accelsim.spec.workload import Layer

LOOPS = "rct"
LOOP_OF = {Dataflow.OS: ("r", "t", "c"), Dataflow.WS: ("t", "r", "c"), Dataflow.IS: ("c", "r", "t")}
"""The loop along each GEMM dimension (m, k, n) per dataflow (:mod:`accelsim.lower.tiling`)."""


def layer_schedule(problem: GemmProblem, layer: Layer, arch: ArchSpec, *, rate: ArrayRate = DENSE_RATE,
                   mapping: Mapping | None = None) -> TileSchedule:
    """:func:`accelsim.lower.tiling.layer_schedule`, its tables from :func:`schedule`."""
    bits = layer.compression
    return schedule(problem, arch, mapping or fixed_mapping(arch), rate=rate,
                    weight_bits=bits.weight_precision.bits, act_bits=bits.act_precision.bits)


def schedule(problem: GemmProblem, arch: ArchSpec, mapping: Mapping, *, rate: ArrayRate = DENSE_RATE,
             weight_bits: int = 8, act_bits: int = 8, folds: tuple[int, int] | None = None) -> TileSchedule:
    """:func:`accelsim.lower.tiling.mapped_schedule` (``folds``: only the folds ``[first, stop)``
    of the execution order), its tables built by the kernel."""
    built = schedule_problem(problem, arch, mapping, rate=rate, weight_bits=weight_bits, act_bits=act_bits, folds=folds)
    if built is None:
        return mapped_schedule(problem, arch, mapping, rate=rate, weight_bits=weight_bits, act_bits=act_bits,
                               folds=folds)
    p, rooms = built
    folds_built = p.stop - p.first
    rows_used, cols_used, stream_cycles = (np.empty(folds_built, dtype=np.int64) for _ in range(3))
    sram, dram, dram_bytes = (np.empty((folds_built, 4), dtype=np.int64) for _ in range(3))
    fits = build_schedule(tuple(p), rows_used, cols_used, stream_cycles, sram, dram, dram_bytes)
    dataflow, array_rows, array_cols, overlap, broadcast, prefetch_overlap, drain_overlap = native_wiring(arch, mapping)
    sr, sc, t = (int(extent) for extent in p.extent)
    return TileSchedule(
        dataflow=dataflow, array_rows=array_rows, array_cols=array_cols, preload_overlap=overlap, broadcast=broadcast,
        repeats=problem.repeats, sr=sr, sc=sc, t=t, row_folds=int(p.count[0]), col_folds=int(p.count[1]),
        rows_used=rows_used, cols_used=cols_used, stream_cycles=stream_cycles,
        sram_words=sram, dram_words=dram, dram_bytes=dram_bytes,
        prefetch_overlap=prefetch_overlap, drain_overlap=drain_overlap, t_tiles=int(p.count[2]),
        fits_buffers=bool(fits) and rooms.fits, spread_drain=rooms.drain,
    )


@spec_memo(1024)
def native_wiring(arch: ArchSpec, mapping: Mapping) -> tuple[int, int, int, bool, bool, bool, bool]:
    """``(dataflow code, array rows, array columns, overlap, broadcast, prefetch overlap, drain
    overlap)`` of a schedule of ``mapping`` on ``arch``: the :class:`TileSchedule` fields the native
    timeline kernels take as arguments, memoized."""
    overlap, broadcast = array_wiring(arch, mapping.dataflow)
    db_ifmap, db_filter, db_ofmap = mapping.double_buffered
    return (dataflow_code(mapping.dataflow), arch.array.rows, arch.array.cols, overlap, broadcast,
            db_ifmap and db_filter, db_ofmap)


def schedule_problem(problem: GemmProblem, arch: ArchSpec, mapping: Mapping, *, rate: ArrayRate = DENSE_RATE,
                     weight_bits: int = 8, act_bits: int = 8, folds: tuple[int, int] | None = None
                     ) -> tuple[ScheduleProblem, BufferRooms] | None:
    """The kernel's view of :func:`schedule`'s problem (all folds, or ``folds``) and the buffer rooms;
    ``None`` where an exact share could pass int64 (the numpy lowering's Python integers). The
    kernels only read its arrays (shared between calls: :func:`_whole_problem`)."""
    built = _whole_problem(problem, arch, mapping, rate, weight_bits, act_bits)
    if built is None or folds is None:
        return built
    p, rooms = built
    return p._replace(first=folds[0], stop=folds[1]), rooms


@spec_memo(1024)
def _whole_problem(problem: GemmProblem, arch: ArchSpec, mapping: Mapping, rate: ArrayRate, weight_bits: int,
                   act_bits: int) -> tuple[ScheduleProblem, BufferRooms] | None:
    """:func:`schedule_problem` over all the folds, memoized (a pure function of frozen specs): a
    layer's schedule is built again by the fixed mapping's checks, the periodic path and its
    fallback, and by every repeated run."""
    k_map = rate.reduction(problem.k)
    k_weights = rate.stored_reduction(problem.k)
    if problem.ifmap_words * max(problem.m, k_map) >= 2**63 or k_weights * k_map >= 2**63:
        return None
    dataflow = mapping.dataflow
    sr, sc, t = spatial_mapping(dataflow, problem.m, problem.n, k_map)
    tile = t if mapping.t_tile is None else max(1, min(mapping.t_tile, t))
    step = np.array([arch.array.rows, arch.array.cols, tile], dtype=np.int64)
    extent = np.array([sr, sc, t], dtype=np.int64)
    count = -(-extent // step)
    psum_bits = arch.mac.accumulator_bits
    rooms = buffer_rooms(problem, arch, mapping, rate=rate, weight_bits=weight_bits, act_bits=act_bits)
    p = ScheduleProblem(
        order=tuple(LOOPS.index(loop) for loop in mapping.order.value),
        loop_of=tuple(LOOPS.index(loop) for loop in LOOP_OF[dataflow]),
        step=tuple(step.tolist()), extent=tuple(extent.tolist()), count=tuple(count.tolist()),
        dim_extent=(problem.m, k_map, problem.n),
        ifmap_words=problem.ifmap_words, k_weights=k_weights,
        ifmap_room=rooms.ifmap, filter_room=rooms.filter,
        ifmap_prefetch=rooms.prefetch[0], filter_prefetch=rooms.prefetch[1], drain=rooms.drain,
        accumulator_words=arch.array.accumulators_bytes * 8 // psum_bits,
        psum_room=rooms.psum, out_room=rooms.out,
        act_bits=act_bits, weight_bits=weight_bits, psum_bits=psum_bits,
        cycles_per_product=rate.cycles_per_product, first=0, stop=int(count.prod()),
    )
    return p, rooms


def scaled_schedule(schedule: TileSchedule, scale: TrafficScale, mapping: Mapping,
                    first_fold: int = 0) -> TileSchedule:
    """:func:`accelsim.lower.memory_plan.scaled_schedule` (``schedule``'s DRAM traffic scaled by
    the memory plan's ``scale``), the tables scaled by a kernel; by the numpy function where a
    running total times its fraction could pass int64."""
    if scale == NO_SCALE:
        return schedule
    fractions = traffic_fractions(scale)
    if fractions is None:
        return memory_plan.scaled_schedule(schedule, scale, mapping, first_fold)
    count = {"r": schedule.row_folds, "c": schedule.col_folds, "t": schedule.t_tiles}
    words, nbytes = schedule.dram_words.copy(), schedule.dram_bytes.copy()
    if not scale_dram_rows(words, nbytes, *fractions, 0, np.array([count[loop] for loop in mapping.order.value],
                                                                dtype=np.int64), reduction_position(mapping),
                           first_fold, schedule.spread_drain, schedule.folds, schedule.folds,
                           np.zeros((2, 3, 2), dtype=np.int64)):
        return memory_plan.scaled_schedule(schedule, scale, mapping, first_fold)
    return replace(schedule, dram_words=words, dram_bytes=nbytes)


@spec_memo(256)
def traffic_fractions(scale: TrafficScale) -> tuple[np.ndarray, np.ndarray] | None:
    """``(numerator, denominator)``, int64[3] each: the memory plan's fractions of the ifmap, the
    filter and the output writes (:func:`accelsim.kernels.schedule.scale_dram_rows`'s); ``None``
    where a numerator passes int64. Memoized: callers must not change the arrays."""
    fractions = (scale.ifmap, scale.filter, scale.output)
    if max(fraction.numerator for fraction in fractions) >= 2**63:
        return None
    return (np.array([fraction.numerator for fraction in fractions], dtype=np.int64),
            np.array([fraction.denominator for fraction in fractions], dtype=np.int64))


def reduction_position(mapping: Mapping) -> int:
    """Position of the loop over the reduction ``k`` in ``mapping``'s loop order (0: outermost)."""
    return mapping.order.value.index(LOOP_OF[mapping.dataflow][1])
