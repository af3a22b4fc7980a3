"""Candidate mappings of one GEMM, priced in bulk by the mapper's kernels (:mod:`accelsim.kernels.mapping`).

:func:`gemm_params` packs a GEMM, the arch and the operand widths for the kernels (``None`` when
a product could pass int64: the caller then builds schedules one by one);
:func:`candidate_table` packs mappings; :func:`bounds` gives every candidate's closed-form lower
bounds of its counters and :func:`bound_scores` of an objective, :func:`counts` one candidate's
exact native counters (``engine.fold.schedule_counts``' numbers) and :func:`branch_and_bound`
the best candidate in one kernel call.
"""

from __future__ import annotations

import functools
from fractions import Fraction

import numpy as np

from accelsim.kernels import mapping as km
from accelsim.lower.gemm import ArrayRate, GemmProblem
from accelsim.lower.schedule import dataflow_code
from accelsim.lower.tiling import LoopOrder, unified_operands, usable_words
from accelsim.spec.arch import OPERANDS, ArchSpec, OperandDelivery

LOOPS = {"r": km.LOOP_R, "c": km.LOOP_C, "t": km.LOOP_T}
ORDER_LOOPS = {order: tuple(LOOPS[name] for name in order.value) for order in LoopOrder}
# Counter names of the kernels' OUT_* entries (engine.fold.COUNT_COLUMNS names).
COUNT_NAMES = {"cycles": km.OUT_CYCLES, "compute_cycles": km.OUT_COMPUTE, "ifmap_sram_reads": km.OUT_IFMAP_SRAM,
               "filter_sram_reads": km.OUT_FILTER_SRAM, "ofmap_sram_writes": km.OUT_OFMAP_SRAM_WRITES,
               "ofmap_sram_reads": km.OUT_OFMAP_SRAM_READS, "dram_read_bytes": km.OUT_DRAM_READ_BYTES,
               "dram_write_bytes": km.OUT_DRAM_WRITE_BYTES}
OBJECTIVES = {"cycles": km.OBJECTIVE_CYCLES, "energy": km.OBJECTIVE_ENERGY, "edp": km.OBJECTIVE_EDP}
_SAFE = 2**62


def in_range(problem: GemmProblem, arch: ArchSpec, rate: ArrayRate) -> bool:
    """Whether every count the kernels form for ``problem`` on ``arch`` stays within int64, each
    bounded over every candidate mapping, and their sum below 2^62:

    * the nested shares: a tensor's words times a dimension (``kernels.mapping._split``);
    * the traffic: each tensor fetched at most once per iteration of the loop it is reused across
      (the input per column tile, the weights per tile of ``m``, partial sums out and back per
      reduction tile; a loop has at most as many iterations as its dimension has elements), in
      bits at up to 64 a word and in DRAM cycles at up to 1,000 a byte
      (``lower.schedule.dram_rates``' denominators);
    * the timeline: every fold's stream, fill, drain and DRAM latency, with at most ``m x n x k``
      folds (the streams' sum is at most the MACs' cycles, ``m x n x k`` times the cycles a product).
    """
    k_map, k_weights = rate.reduction(problem.k), rate.stored_reduction(problem.k)
    m, n, words = problem.m, problem.n, problem.ifmap_words
    shares = words * max(m, k_map) + k_weights * k_map
    moved = words * n + k_weights * n * m + m * n * (2 * k_map + 1)
    per_fold = rate.cycles_per_product + arch.array.rows + arch.array.cols + arch.dram.latency_cycles
    return shares + moved * 64 + moved * 8 * 1000 + m * n * k_map * per_fold < _SAFE


def gemm_params(problem: GemmProblem, arch: ArchSpec, rate: ArrayRate, weight_bits: int,
                act_bits: int) -> np.ndarray | None:
    """The kernels' parameter vector (``km.P_*``), or ``None`` if some count could pass int64."""
    if not in_range(problem, arch, rate):
        return None
    k_map, k_weights = rate.reduction(problem.k), rate.stored_reduction(problem.k)
    m, n = problem.m, problem.n
    p = _arch_params(arch, weight_bits, act_bits).copy()
    p[[km.P_M, km.P_N, km.P_KMAP, km.P_IFMAP_WORDS, km.P_KW]] = m, n, k_map, problem.ifmap_words, k_weights
    p[km.P_CYCLES_PER_PRODUCT] = rate.cycles_per_product
    return p


@functools.lru_cache(maxsize=64)
def _arch_params(arch: ArchSpec, weight_bits: int, act_bits: int) -> np.ndarray:
    """The arch's entries of the parameter vector at these operand widths."""
    p = np.zeros(km.P_SIZE, dtype=np.int64)
    p[[km.P_ROWS, km.P_COLS]] = arch.array.rows, arch.array.cols
    psum_bits = arch.mac.accumulator_bits
    p[[km.P_ACT_BITS, km.P_WEIGHT_BITS, km.P_PSUM_BITS]] = act_bits, weight_bits, psum_bits
    p[km.P_ACC_WORDS] = arch.array.accumulators_bytes * 8 // psum_bits
    for index, (operand, bits) in ((km.P_ROOM_IFMAP, ("ifmap", act_bits)), (km.P_ROOM_FILTER, ("filter", weight_bits)),
                                   (km.P_ROOM_OFMAP_PSUM, ("ofmap", psum_bits)),
                                   (km.P_ROOM_OFMAP_ACT, ("ofmap", act_bits))):
        p[index:index + 2] = [usable_words(arch, operand, bits, double) for double in (False, True)]
    if arch.buffers.unified is not None:  # the joint allocation's capacity and tenants (lower.tiling.buffer_rooms)
        p[km.P_UNIFIED_BITS] = arch.buffers.unified.size_bytes * 8
        p[km.P_SHARED:km.P_SHARED + 3] = unified_operands(arch)
    p[km.P_PRELOAD_OVERLAP] = bool(arch.array.preload_overlap)
    p[km.P_OUTPUT_OVERLAP] = bool(arch.array.output_overlap)
    p[km.P_BROADCAST] = arch.array.operand_delivery is OperandDelivery.BROADCAST
    p[km.P_LATENCY] = arch.dram.latency_cycles
    separate = bool(arch.dram.per_operand)
    for column, operand in enumerate(("ifmap", "filter", "ofmap", "ofmap")):  # engine.fold.transfer_table
        p[km.P_CHANNEL + column] = OPERANDS.index(operand) if separate else 0
        bandwidth = arch.dram_bytes_per_cycle(operand)
        if bandwidth is not None:  # the rational bandwidth of lower.schedule.transfer_cycles
            ratio = Fraction(bandwidth).limit_denominator(1000)
            p[km.P_BW_NUM + column], p[km.P_BW_DEN + column] = ratio.numerator, ratio.denominator
    p.flags.writeable = False
    return p


def candidate_table(mappings: list[tuple]) -> np.ndarray:
    """The kernels' candidate table (``km.CAND_*`` columns), one row per mapping given by its fields
    (:class:`~accelsim.lower.tiling.Mapping` ``(dataflow, order, t_tile, double_buffered, joint_buffer)``)."""
    return np.array([(dataflow_code(dataflow), *ORDER_LOOPS[order], t_tile or 0, *double_buffered, joint)
                     for dataflow, order, t_tile, double_buffered, joint in mappings],
                    dtype=np.int64).reshape(-1, km.CAND_COLUMNS)


def bounds(params: np.ndarray, table: np.ndarray) -> np.ndarray:
    """float64 ``[candidates, km.OUT_SIZE]``: each candidate's lower bounds (``km.candidate_bound``)."""
    out = np.empty((table.shape[0], km.OUT_SIZE), dtype=np.float64)
    km.candidate_bounds(params, table, out)
    return out


def bound_scores(params: np.ndarray, table: np.ndarray, energy: np.ndarray, macs: int, objective: str) -> np.ndarray:
    """float64 lower bound of ``objective`` per candidate (``inf``: surely does not fit;
    ``km.bound_scores``), the energy priced with ``energy[dataflow code]`` (``km.ENERGY_SIZE`` entries)."""
    scores = np.empty(table.shape[0], dtype=np.float64)
    km.bound_scores(params, table, energy, np.int64(macs), OBJECTIVES[objective], scores)
    return scores


def counts(params: np.ndarray, row: np.ndarray) -> dict[str, int] | None:
    """Exact native counters of one candidate by name, ``None`` if its tiles do not fit the buffers."""
    out = np.empty(km.OUT_SIZE, dtype=np.int64)
    km.candidate_counts(params, row, out)
    return {name: int(out[index]) for name, index in COUNT_NAMES.items()} if out[km.OUT_FITS] else None


def branch_and_bound(params: np.ndarray, table: np.ndarray, ranked: np.ndarray, bound_scores: np.ndarray,
                     energy: np.ndarray, macs: int, objective: str) -> tuple[int, dict[str, int], int, float]:
    """``(position or -1, its counters by name, candidates evaluated, its energy in pJ)`` of the best
    candidate (``km.search_candidates``)."""
    best = np.zeros(km.OUT_SIZE, dtype=np.int64)
    position, evaluated, energy_pj = km.search_candidates(params, table, ranked, bound_scores, energy, np.int64(macs),
                                                          OBJECTIVES[objective], best)
    counts = {name: int(best[index]) for name, index in COUNT_NAMES.items()}
    return int(position), counts, int(evaluated), float(energy_pj)
