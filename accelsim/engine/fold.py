"""The ``fold`` fidelity: lower a layer, run the systolic kernels, name their counters.

Pure functions: :func:`run_layer` (layer + arch -> int64 counters, or ``None`` for work the
array does not do) and :func:`counter_columns` (counters of every layer -> named columns), the
one place where ``FOLD_STAT_*`` indices become column names.
"""

from __future__ import annotations

import numpy as np

from accelsim.engine import blocks, lowering, periodic, work
from accelsim.engine.compression import LayerSparsity, repeat_schedules
from accelsim.errors import UnsupportedError
from accelsim.kernels import codes
from accelsim.kernels.memory import fill_transfer
from accelsim.kernels.scalesim_user import run_fold_scalesim_user
from accelsim.kernels.systolic import FoldDram, FoldSchedule, run_fold_native, run_fold_scalesim, run_native_problem
from accelsim.lower.gemm import DENSE_RATE, ArrayRate, GemmProblem, lower_layer
from accelsim.lower.memory_plan import NO_SCALE, TrafficScale
from accelsim.lower.schedule import TileSchedule, dataflow_code, dram_rates
from accelsim.lower.tiling import Mapping, fixed_mapping, n_blocks, spatial_mapping
from accelsim.spec.arch import ArchSpec, BandwidthMode, TimingModel
from accelsim.spec.workload import Layer

FOLD_STAT_COUNT = codes.FOLD_STAT_COUNT
RUN_CHUNK = 2048
"""Folds a whole-schedule run holds at a time (:func:`_run_built`): their tables stay in the CPU
cache (tables of a whole long layer, fresh memory each time, cost more per fold than the arithmetic)."""

# Integer counters reported per layer, in column order: column name -> STAT index.
COUNT_COLUMNS = {
    "cycles": codes.FOLD_STAT_CYCLES,
    "compute_cycles": codes.FOLD_STAT_COMPUTE_CYCLES,
    "stall_cycles": codes.FOLD_STAT_STALL_CYCLES,
    "ifmap_sram_reads": codes.FOLD_STAT_IFMAP_SRAM_READS,
    "filter_sram_reads": codes.FOLD_STAT_FILTER_SRAM_READS,
    "ofmap_sram_writes": codes.FOLD_STAT_OFMAP_SRAM_WRITES,
    "ofmap_sram_reads": codes.FOLD_STAT_OFMAP_SRAM_READS,
    "ifmap_dram_reads": codes.FOLD_STAT_IFMAP_DRAM_READS,
    "filter_dram_reads": codes.FOLD_STAT_FILTER_DRAM_READS,
    "ofmap_dram_writes": codes.FOLD_STAT_OFMAP_DRAM_WRITES,
    "ofmap_dram_reads": codes.FOLD_STAT_OFMAP_DRAM_READS,
    "dram_read_bytes": codes.FOLD_STAT_DRAM_READ_BYTES,
    "dram_write_bytes": codes.FOLD_STAT_DRAM_WRITE_BYTES,
    "cycles_incl_prefetch": codes.FOLD_STAT_CYCLES_INCL_PREFETCH,
    "folds": codes.FOLD_STAT_FOLDS,
}


def run_layer(layer: Layer, arch: ArchSpec, rate: ArrayRate = DENSE_RATE,
              mapping: Mapping | None = None,
              sparsity: LayerSparsity | None = None, traffic: TrafficScale = NO_SCALE) -> np.ndarray | None:
    """int64 counters (``codes.FOLD_STAT_*``) of ``layer`` on ``arch``, or ``None`` if it is vector work.

    ``sparsity`` (:func:`accelsim.engine.compression.layer_sparsity`): each fold's stream becomes
    the sparse array's ``T_eff`` when it skips zeros, and the weight traffic the stored format's;
    the memory timeline is the same.

    ``mapping``: how the GEMM runs (native timing; ``None``: the fixed mapping).

    ``traffic``: the part of the DRAM traffic that remains under the network's memory plan
    (:func:`accelsim.lower.memory_plan.traffic_scale`); the memory timeline sees only that.
    """
    problem = lower_layer(layer, arch.timing_model)
    if problem is None:
        return None
    return run_problem(problem, layer, arch, rate, mapping, sparsity, traffic)


def run_problem(problem: GemmProblem, layer: Layer, arch: ArchSpec, rate: ArrayRate = DENSE_RATE,
                mapping: Mapping | None = None, sparsity: LayerSparsity | None = None,
                traffic: TrafficScale = NO_SCALE) -> np.ndarray:
    """:func:`run_layer`'s counters for ``problem``: ``layer`` lowered, or one array's part of it
    (:mod:`accelsim.engine.arrays`); ``layer`` gives the operand formats and the name in messages."""
    if arch.timing_model is TimingModel.SCALESIM:
        if rate != DENSE_RATE:
            raise UnsupportedError(f"layer {layer.name}: SCALE-Sim timing models dense 1-product MACs only")
        return run_scalesim(problem, arch) * problem.repeats
    if mapping is not None and mapping.n_block is not None:
        return _run_n_blocks(problem, layer, arch, rate, mapping, sparsity, traffic)
    whole = mapping or fixed_mapping(arch)
    bits = layer.compression
    counts = blocks.loop_counts(problem, arch, whole, rate)
    if _unchanged_folds(sparsity):  # folds repeating along m: O(1) in the batch
        stats = periodic.run_periodic(problem, arch, whole, rate, weight_bits=bits.weight_precision.bits,
                                      act_bits=bits.act_precision.bits, traffic=traffic, counts=counts)
        if stats is not None:
            return stats * problem.repeats
    folds = counts[0] * counts[1] * counts[2]
    if folds > blocks.BLOCK_THRESHOLD and _unchanged_folds(sparsity):
        fits = work.whole_schedule_fits(folds)
        if fits and not blocks.repeats(problem, arch, whole, rate):
            return _run_whole(problem, layer, arch, rate, mapping, sparsity, traffic)
        try:
            return blocks.run_blocks(problem, arch, whole, rate, weight_bits=bits.weight_precision.bits,
                                     act_bits=bits.act_precision.bits, transfer=lambda s: transfer_table(s, arch),
                                     adjust=lambda s, first: lowering.scaled_schedule(s, traffic, whole, first),
                                     max_units=min(blocks.MAX_UNITS, _unit_budget(folds)) if fits else None
                                     ) * problem.repeats
        except blocks.BlocksDoNotRepeat:  # the same counters from the whole schedule, where it fits memory
            if not fits:
                raise
    return _run_whole(problem, layer, arch, rate, mapping, sparsity, traffic)


def _run_n_blocks(problem: GemmProblem, layer: Layer, arch: ArchSpec, rate: ArrayRate, mapping: Mapping,
                  sparsity: LayerSparsity | None, traffic: TrafficScale) -> np.ndarray:
    """:func:`run_problem`'s counters of a mapping with blocks along ``n``: its blocks' counters
    added up (:func:`accelsim.lower.tiling.n_blocks`, an approximation at block boundaries), the
    memory plan's ``traffic`` fractions applied to each block alike."""
    if sparsity is not None and sparsity.fold_streams:
        raise UnsupportedError(f"layer {layer.name}: zero skipping is measured on the whole layer's folds; "
                               f"mapping {mapping.describe()} runs it in blocks (use one without nb=)")
    return sum(count * run_problem(block, layer, arch, rate, mapping.within_block, sparsity, traffic)
               for block, count in n_blocks(problem, mapping))


def _run_whole(problem: GemmProblem, layer: Layer, arch: ArchSpec, rate: ArrayRate, mapping: Mapping | None,
               sparsity: LayerSparsity | None, traffic: TrafficScale) -> np.ndarray:
    """:func:`run_problem`'s counters (native timing) from the whole fold schedule at once."""
    whole = mapping or fixed_mapping(arch)
    if _unchanged_folds(sparsity):
        stats = _run_built(problem, layer, arch, rate, whole, traffic)
        if stats is not None:
            return stats * problem.repeats
    schedule = lowering.scaled_schedule(lowering.layer_schedule(problem, layer, arch, rate=rate, mapping=whole),
                                        traffic, whole)
    schedules = repeat_schedules(schedule, sparsity, rate.cycles_per_product, layer.name)
    return sum(run_schedule(each, arch) for each in schedules) * (problem.repeats // len(schedules))


def _run_built(problem: GemmProblem, layer: Layer, arch: ArchSpec, rate: ArrayRate, mapping: Mapping,
               traffic: TrafficScale, chunk: int = RUN_CHUNK) -> np.ndarray | None:
    """:func:`run_schedule` of ``problem``'s scaled schedule (one repeat) from one kernel call that
    builds the tables, scales the traffic and runs the timeline, ``chunk`` folds at a time
    (:func:`accelsim.kernels.systolic.run_native_problem`), or ``None`` where a share or a scaled
    total needs Python integers."""
    bits = layer.compression
    built = lowering.schedule_problem(problem, arch, mapping, rate=rate, weight_bits=bits.weight_precision.bits,
                                      act_bits=bits.act_precision.bits)
    fractions = lowering.traffic_fractions(traffic)
    if built is None or fractions is None:
        return None
    stats = np.empty(FOLD_STAT_COUNT, dtype=np.int64)
    done = run_native_problem(tuple(built[0]), *lowering.native_wiring(arch, mapping), *fractions, *dram_rates(arch),
                              arch.dram.latency_cycles, chunk, stats)
    return stats if done else None


def transfer_table(schedule: TileSchedule, arch: ArchSpec) -> tuple[np.ndarray, np.ndarray]:
    """``(xfer, channels)``: DRAM cycles of each fold's traffic per class
    (:func:`accelsim.lower.schedule.transfer_cycles`; 0 on an unlimited channel), and each class's channel."""
    numerator, denominator, channels = dram_rates(arch)
    xfer = np.empty_like(schedule.dram_bytes)
    fill_transfer(schedule.dram_bytes, numerator, denominator, schedule.folds, xfer)
    return xfer, channels


def run_schedule(schedule: TileSchedule, arch: ArchSpec) -> np.ndarray:
    """Native timing of one repeat of ``schedule`` (memory model with ``arch``'s DRAM)."""
    xfer, channels = transfer_table(schedule, arch)
    stats = np.empty(FOLD_STAT_COUNT, dtype=np.int64)
    run_fold_native(kernel_schedule(schedule), FoldDram(xfer, channels, arch.dram.latency_cycles), stats)
    return stats


def kernel_schedule(schedule: TileSchedule) -> FoldSchedule:
    """The kernels' view of ``schedule`` (the same arrays, by name)."""
    return FoldSchedule(*(getattr(schedule, name) for name in FoldSchedule._fields))


def _unit_budget(folds: int) -> int:
    """Blocks worth stepping, in search of a repeat, before a schedule of ``folds`` folds that fits
    memory runs whole instead: a stepped block costs about as much as a few thousand folds run
    whole (~0.2 ms against 0.05-0.2 us per fold, ``benchmarks/bench_fold_blocks.py``; a cost estimate, not a
    bound: both ways give the same counters)."""
    return max(16, folds // 4096)


def _unchanged_folds(sparsity: LayerSparsity | None) -> bool:
    """Whether the sparsity plan changes no fold on its own (no zero skipping, no rescaled weight
    traffic): a long layer may then run in blocks (:mod:`accelsim.engine.blocks`)."""
    return sparsity is None or not (sparsity.fold_streams or sparsity.weight_traffic != 1)


def schedule_counts(schedule: TileSchedule, arch: ArchSpec) -> dict[str, int]:
    """:func:`run_schedule`'s counters by column name (the mapper's exact evaluator)."""
    stats = run_schedule(schedule, arch)
    return {name: int(stats[index]) for name, index in COUNT_COLUMNS.items()}


def run_scalesim(problem: GemmProblem, arch: ArchSpec) -> np.ndarray:
    """SCALE-Sim 3.0.0's numbers for one repeat of ``problem``, in the arch's bandwidth mode.

    CALC: no read stalls, DRAM counts from the estimate-bandwidth buffers. USER
    (``scalesim.bandwidth_mode: user``): the per-operand DRAM channels are SCALE-Sim's
    ifmap/filter bank bandwidths and OFMAP ``Bandwidth``, in words (bytes) per cycle, and the
    layer stalls on them (``docs/scalesim_memory_model.md`` section 7).
    """
    geom = problem.geometry
    sr, sc, t = spatial_mapping(arch.array.dataflow, problem.m, problem.n, problem.k)
    sizes = [arch.buffers.for_operand(op).size_bytes for op in ("ifmap", "filter", "ofmap")]
    if min(sizes[:2]) < 100:
        raise UnsupportedError(f"{arch.name}: SCALE-Sim needs ifmap and filter SRAMs of at least 100 words "
                               "(it divides them into 100 sets)")
    stats = np.empty(FOLD_STAT_COUNT, dtype=np.int64)
    args = (dataflow_code(arch.array.dataflow), arch.array.rows, arch.array.cols, sr, sc, t,
            np.array([geom.in_h, geom.in_w, geom.channels, geom.kernel_h, geom.kernel_w,
                      geom.stride_h, geom.stride_w, geom.out_h, geom.out_w], dtype=np.int64),
            sizes[0], sizes[1], sizes[2])
    if arch.scalesim.bandwidth_mode is BandwidthMode.USER:
        run_fold_scalesim_user(*args, *_user_bandwidths(arch), stats)
    else:
        run_fold_scalesim(*args, stats)
    return stats


def _user_bandwidths(arch: ArchSpec) -> tuple[int, int, int]:
    """(ifmap, filter, ofmap) DRAM words per cycle of a USER-mode SCALE-Sim arch (whole numbers)."""
    words = []
    for operand in ("ifmap", "filter", "ofmap"):
        bandwidth = arch.dram_bytes_per_cycle(operand)
        if bandwidth is None or bandwidth < 1 or bandwidth != int(bandwidth):
            raise UnsupportedError(
                f"{arch.name}: scalesim.bandwidth_mode user needs dram.per_operand.{operand} (or "
                f"dram.bandwidth) as a whole number of B/cycle >= 1, got {bandwidth}")
        words.append(int(bandwidth))
    return words[0], words[1], words[2]


def counter_columns(stats: np.ndarray, pes: int, arrays: int = 1) -> dict[str, np.ndarray]:
    """Named per-layer columns from a ``[layers, FOLD_STAT_COUNT]`` counter matrix.

    Counts are int64; the three utilizations are fractions: ``utilization`` = busy PE-cycles /
    (PEs x cycles), ``pes`` being the chip's (every one of its ``arrays``),
    ``mapping_efficiency`` = mean over folds (of every array) of the PEs used / one array's PEs,
    ``compute_utilization`` = busy PE-cycles / the timing model's compute PE-cycles; each is 0
    where its denominator is (a layer without folds, or all of whose time is hidden).
    """
    columns = {name: stats[:, index] for name, index in COUNT_COLUMNS.items()}
    busy = stats[:, codes.FOLD_STAT_BUSY_PE_CYCLES].astype(np.float64)
    columns["utilization"] = _ratio(busy, pes * stats[:, codes.FOLD_STAT_CYCLES].astype(np.float64))
    columns["mapping_efficiency"] = _ratio(stats[:, codes.FOLD_STAT_MAPPED_PES].astype(np.float64),
                                           pes // arrays * stats[:, codes.FOLD_STAT_FOLDS].astype(np.float64))
    columns["compute_utilization"] = _ratio(busy, stats[:, codes.FOLD_STAT_UTIL_PE_CYCLES].astype(np.float64))
    return columns


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator``, 0 where the denominator is 0."""
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator != 0)
