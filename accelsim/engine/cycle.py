"""The ``cycle`` fidelity: a layer's schedule stepped cycle by cycle with its memory system.

:func:`run_layer` returns the same ``codes.FOLD_STAT_*`` counters as :func:`accelsim.engine.fold.run_layer`
(so ``simulate`` names them the same way); :func:`trace_layer` returns the per-cycle SRAM and
DRAM traffic (SCALE-Sim's trace files, only when asked for: a counting pass sizes the array).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd

from accelsim.engine import lowering
from accelsim.engine.compression import LayerSparsity, repeat_schedules
from accelsim.engine.fold import kernel_schedule
from accelsim.errors import UnsupportedError
from accelsim.kernels import codes
from accelsim.kernels.cycle import CycleMemory, run_cycle_native
from accelsim.kernels.systolic import fold_durations
from accelsim.lower.gemm import DENSE_RATE, ArrayRate, lower_layer
from accelsim.lower.memory_plan import NO_SCALE, TrafficScale, scaled_schedule
from accelsim.lower.schedule import TRAFFIC, TileSchedule
from accelsim.lower.tiling import Mapping, fixed_mapping, n_blocks
from accelsim.spec.arch import OPERANDS, ArchSpec, TimingModel
from accelsim.spec.workload import Layer

_UNLIMITED_WORDS = 2**40
TRACE_COLUMNS = ("ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes", "ofmap_sram_reads",
                 "dram_read_bytes", "dram_write_bytes")


def _memory(arch: ArchSpec) -> CycleMemory:
    """DRAM channels, bandwidths and latency, SRAM buffers and port widths, for the kernel.

    A buffer has one write port and ``ports - 1`` read ports (one shared port counts as one of
    each), each ``width_bits`` wide; a buffer without ``width_bits`` never limits the array.
    """
    channel = np.zeros(4, np.int64)
    bw_num = np.zeros(4, np.int64)
    bw_den = np.ones(4, np.int64)
    buffer_of = np.zeros(4, np.int64)
    read_words = np.ones(4, np.int64)
    write_words = np.ones(4, np.int64)
    separate = bool(arch.dram.per_operand)
    for column, traffic in enumerate(TRAFFIC):
        operand = traffic.split("_")[0]
        ch = OPERANDS.index(operand) if separate else 0
        channel[column] = ch
        bandwidth = arch.dram_bytes_per_cycle(operand)
        if bandwidth is not None:  # nearest fraction, denominator <= 1000 (as the fold model)
            ratio = Fraction(bandwidth).limit_denominator(1000)
            bw_num[ch], bw_den[ch] = ratio.numerator, ratio.denominator
        own = getattr(arch.buffers, operand) is not None
        buffer = OPERANDS.index(operand) if own else 3
        buffer_of[column] = buffer
        spec = arch.buffers.for_operand(operand)
        # ports limit the array only where their width is given; unset: as wide as the array needs
        width = max(1, spec.port_width_bits // spec.word_bits) if spec.width_bits else _UNLIMITED_WORDS
        read_words[buffer] = width * max(1, spec.ports - 1)
        write_words[buffer] = width
    return CycleMemory(channel, bw_num, bw_den, arch.dram.latency_cycles, buffer_of, read_words, write_words)


def run_schedule(schedule: TileSchedule, arch: ArchSpec, cycles_per_product: int = 1,
                 trace: np.ndarray | None = None) -> np.ndarray:
    """``codes.FOLD_STAT_*`` counters of one repeat of ``schedule``, stepped cycle by cycle."""
    memory = _memory(arch)
    stats = np.zeros(codes.FOLD_STAT_COUNT, np.int64)
    if trace is None:
        trace = np.zeros((0, codes.CYC_TRACE_COLUMNS), np.int64)
    cycles, _ = run_cycle_native(kernel_schedule(schedule), memory, cycles_per_product, trace, stats)
    durations = np.empty(schedule.folds, np.int64)
    compute = fold_durations(schedule.dataflow, schedule.array_rows, schedule.preload_overlap, schedule.broadcast,
                             schedule.rows_used, schedule.cols_used, schedule.stream_cycles, durations)
    pes = schedule.rows_used * schedule.cols_used
    dram = schedule.dram_words.sum(axis=0)
    stats[codes.FOLD_STAT_CYCLES] = cycles
    stats[codes.FOLD_STAT_COMPUTE_CYCLES] = compute
    stats[codes.FOLD_STAT_STALL_CYCLES] = cycles - compute
    stats[codes.FOLD_STAT_CYCLES_INCL_PREFETCH] = cycles
    stats[codes.FOLD_STAT_FOLDS] = schedule.folds
    stats[codes.FOLD_STAT_MAPPED_PES] = pes.sum()
    stats[codes.FOLD_STAT_BUSY_PE_CYCLES] = (pes * schedule.stream_cycles).sum()
    stats[codes.FOLD_STAT_UTIL_PE_CYCLES] = compute * schedule.array_rows * schedule.array_cols
    stats[codes.FOLD_STAT_IFMAP_DRAM_READS] = dram[codes.TRAFFIC_IFMAP]
    stats[codes.FOLD_STAT_FILTER_DRAM_READS] = dram[codes.TRAFFIC_FILTER]
    stats[codes.FOLD_STAT_OFMAP_DRAM_WRITES] = dram[codes.TRAFFIC_OFMAP_WRITE]
    stats[codes.FOLD_STAT_OFMAP_DRAM_READS] = dram[codes.TRAFFIC_OFMAP_READ]
    return stats


def _schedules(layer: Layer, arch: ArchSpec, rate: ArrayRate, mapping: Mapping | None = None,
               traffic: TrafficScale = NO_SCALE) -> list[tuple[TileSchedule, int]] | None:
    """``(schedule of one repeat of a block, repeats x blocks like it)`` per block of ``layer``
    under ``mapping`` (one block unless it has ``n_block``), or ``None`` for vector work."""
    if arch.timing_model is TimingModel.SCALESIM:
        raise UnsupportedError(f"layer {layer.name}: the cycle fidelity steps the native timing and memory "
                               "model; use fidelity 'fold' or 'pe' for SCALE-Sim timing")
    problem = lower_layer(layer, arch.timing_model)
    if problem is None:
        return None
    mapping = mapping or fixed_mapping(arch)
    inner = mapping.within_block
    return [(scaled_schedule(lowering.layer_schedule(block, layer, arch, rate=rate, mapping=inner), traffic, inner),
             block.repeats * count) for block, count in n_blocks(problem, mapping)]


def run_layer(layer: Layer, arch: ArchSpec, rate: ArrayRate = DENSE_RATE,
              sparsity: LayerSparsity | None = None, mapping: Mapping | None = None,
              traffic: TrafficScale = NO_SCALE) -> np.ndarray | None:
    """int64 ``codes.FOLD_STAT_*`` counters of ``layer`` on ``arch``, or ``None`` for vector work.

    ``traffic``: the DRAM traffic the memory plan leaves (as in :func:`accelsim.engine.fold.run_layer`).

    Repeats (conv groups, attention heads) are identical schedules run back to back: one is
    stepped and its counters multiplied. ``sparsity`` scales the weight traffic to the stored
    format; zero skipping is modelled in the ``fold`` fidelity only.
    """
    lowered = _schedules(layer, arch, rate, mapping, traffic)
    if lowered is None:
        return None
    if sparsity is not None and sparsity.fold_streams:
        raise UnsupportedError(f"layer {layer.name}: zero skipping is modelled in the fold fidelity only; "
                               "use fidelity 'fold' or sparsity.mode gate")
    # a mapping with blocks along n: the blocks one after the other (accelsim.lower.tiling.n_blocks)
    return sum(run_schedule(repeat_schedules(schedule, sparsity)[0], arch, rate.cycles_per_product) * count
               for schedule, count in lowered)


def trace_layer(layer: Layer, arch: ArchSpec, rate: ArrayRate = DENSE_RATE) -> pd.DataFrame:
    """Per-cycle SRAM words and DRAM bytes of one repeat of ``layer`` (one row per cycle).

    A counting pass finds the number of cycles, then a second pass fills the trace.
    """
    lowered = _schedules(layer, arch, rate)  # the fixed mapping: one block
    if lowered is None:
        return pd.DataFrame(columns=["cycle", *TRACE_COLUMNS])
    ((schedule, _),) = lowered
    cycles = int(run_schedule(schedule, arch, rate.cycles_per_product)[codes.FOLD_STAT_CYCLES])
    trace = np.zeros((cycles, codes.CYC_TRACE_COLUMNS), np.int64)
    run_schedule(schedule, arch, rate.cycles_per_product, trace)
    frame = pd.DataFrame(trace, columns=list(TRACE_COLUMNS))
    frame.insert(0, "cycle", np.arange(cycles, dtype=np.int64))
    return frame
