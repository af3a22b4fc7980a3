"""Vector unit: cycles, primitive-op counts and memory traffic of a program of passes over rows.

Mapping (the same for every program): a row of ``row_len`` elements spreads over the lanes,
one element per lane per wave; a row longer than the lanes takes ``ceil(row_len / lanes)``
waves, and rows no longer than the lanes are packed ``lanes // row_len`` to a group. Per
pass, a wave costs ``ceil(slots / ops_per_lane_per_cycle)`` cycles, where ``slots`` is the
issue slots of one element's ops; a reduction then folds the ``w = min(row_len, lanes)``
lane partials of each row in ``ceil(log2 w)`` tree steps (``w - 1`` ops per row); per-row
scalar ops follow, one lane per row. A group's row stays in the lanes' registers between
passes when it takes one wave, in the unit's scratchpad when the group fits there, and is
otherwise streamed from the shared SRAM again by every pass. Each pass of a group costs
``max(compute, SRAM read cycles, SRAM write cycles)`` (reads and writes overlap compute).
"""

from typing import NamedTuple

import numpy as np

from accelsim.kernels._jit import kernel
from accelsim.kernels.codes import (
    VECTOR_STAT_COMPUTE_CYCLES, VECTOR_STAT_COUNT, VECTOR_STAT_CYCLES, VECTOR_STAT_LANE_SLOTS, VECTOR_STAT_LOCAL_READS,
    VECTOR_STAT_LOCAL_WRITES, VECTOR_STAT_SRAM_READS, VECTOR_STAT_SRAM_WRITES,
)


class VectorProblem(NamedTuple):
    """One layer's program on one vector unit (all int64).

    elem_ops : int64[P, K]  ops of each kind per element, per pass
    row_ops : int64[P, K]   scalar ops of each kind per row after the pass's reduction
    reduce_op : int64[P]    kind of the cross-lane reduction of each pass, -1 for none
    writes_row : int64[P]   1 if the pass writes a row-sized result
    op_slots : int64[K]     issue slots one op of each kind occupies in a lane
    """

    elem_ops: np.ndarray
    row_ops: np.ndarray
    reduce_op: np.ndarray
    writes_row: np.ndarray
    op_slots: np.ndarray
    rows: int
    row_len: int
    inputs: int
    lanes: int
    ops_per_lane_per_cycle: int
    local_capacity_elements: int
    element_bits: int
    read_port_bits: int
    write_port_bits: int


@kernel
def _ceil_div(a, b):
    return (a + b - 1) // b


@kernel
def _ceil_log2(n):
    steps = 0
    span = 1
    while span < n:
        span *= 2
        steps += 1
    return steps


@kernel
def _run_vector(p):
    """Returns (stats int64[VECTOR_STAT_COUNT] indexed by VECTOR_STAT_*, op_counts int64[K] per op kind)."""
    n_passes, n_kinds = p.elem_ops.shape
    stats = np.zeros(VECTOR_STAT_COUNT, dtype=np.int64)
    op_counts = np.zeros(n_kinds, dtype=np.int64)
    opl = p.ops_per_lane_per_cycle
    if p.row_len <= p.lanes:
        rows_per_group = p.lanes // p.row_len
        waves = 1
        width = p.row_len
    else:
        rows_per_group = 1
        waves = _ceil_div(p.row_len, p.lanes)
        width = p.lanes
    tree_steps = _ceil_log2(width)
    elem_slots = np.zeros(n_passes, dtype=np.int64)
    row_slots = np.zeros(n_passes, dtype=np.int64)
    for q in range(n_passes):
        for k in range(n_kinds):
            elem_slots[q] += p.elem_ops[q, k] * p.op_slots[k]
            row_slots[q] += p.row_ops[q, k] * p.op_slots[k]
    # Every group of rows costs the same but the last, shorter one: run each kind once, add it up.
    for group in range(2):
        r = rows_per_group if group == 0 else p.rows % rows_per_group
        times = p.rows // rows_per_group if group == 0 else 1
        if r == 0 or times == 0:
            continue
        stats_before = stats.copy()
        ops_before = op_counts.copy()
        elements = r * p.row_len
        in_registers = waves == 1
        in_scratchpad = (not in_registers) and elements <= p.local_capacity_elements
        for q in range(n_passes):
            compute = waves * _ceil_div(elem_slots[q], opl)
            stats[VECTOR_STAT_LANE_SLOTS] += elem_slots[q] * elements
            for k in range(n_kinds):
                op_counts[k] += p.elem_ops[q, k] * elements + p.row_ops[q, k] * r
            kind = p.reduce_op[q]
            if kind >= 0:
                compute += tree_steps * _ceil_div(p.op_slots[kind], opl)
                op_counts[kind] += r * (width - 1)
                stats[VECTOR_STAT_LANE_SLOTS] += r * (width - 1) * p.op_slots[kind]
            if row_slots[q] > 0:
                compute += _ceil_div(row_slots[q], opl)
                stats[VECTOR_STAT_LANE_SLOTS] += row_slots[q] * r
            sram_reads = 0
            sram_writes = 0
            if q == 0:
                sram_reads = elements * p.inputs
            elif in_scratchpad:
                stats[VECTOR_STAT_LOCAL_READS] += elements
            elif not in_registers:
                sram_reads = elements
            last = q == n_passes - 1
            if p.writes_row[q] == 1:
                if last or not (in_registers or in_scratchpad):
                    sram_writes = elements
                elif in_scratchpad:
                    stats[VECTOR_STAT_LOCAL_WRITES] += elements
            elif last:
                sram_writes = r
            stats[VECTOR_STAT_SRAM_READS] += sram_reads
            stats[VECTOR_STAT_SRAM_WRITES] += sram_writes
            memory = max(_ceil_div(sram_reads * p.element_bits, p.read_port_bits),
                         _ceil_div(sram_writes * p.element_bits, p.write_port_bits))
            stats[VECTOR_STAT_COMPUTE_CYCLES] += compute
            stats[VECTOR_STAT_CYCLES] += max(compute, memory)
        stats += (times - 1) * (stats - stats_before)
        op_counts += (times - 1) * (op_counts - ops_before)
    return stats, op_counts


def run_vector(problem: VectorProblem) -> tuple[np.ndarray, np.ndarray]:
    """Stats (indexed by ``VECTOR_STAT_*``) and op counts (one per kind) of ``problem``."""
    return _run_vector(problem)
