"""Vector unit: cycles, primitive-op counts and memory traffic of a program of passes over rows.

A row occupies ``lanes_per_row`` lanes; two mappings of rows to lanes
(:class:`accelsim.vector.program.RowMapping`), both there on any SIMD unit, set it, and the
engine runs a layer with the one that costs fewer cycles (``accelsim.engine.vector``):

* ``ACROSS_LANES`` (``lanes_per_row = min(row_len, lanes)``): a row of ``row_len`` elements
  spreads over the lanes, one element per lane per wave; a row longer than the lanes takes
  ``ceil(row_len / lanes)`` waves, and rows no longer than the lanes are packed
  ``lanes // row_len`` to a group. A reduction ends with a tree over the
  ``w = min(row_len, lanes)`` lanes holding a partial of the row: ``ceil(log2 w)`` steps,
  ``w - 1`` ops per row.
* ``IN_TIME`` (``lanes_per_row = 1``): each lane holds one row, rows packed ``lanes`` to a
  group, and a row's elements stream through its lane in ``row_len`` waves (a pooling unit's
  channel-parallel mapping). The lane's one accumulator holds the whole row's partial, so a
  reduction needs no tree.

Both run the program's per-element ops on every element: they include the in-lane accumulation
of a reduction (the sum's add, the max's compare), which carries a row's partial from wave to
wave. Per pass, a wave costs ``ceil(slots / ops_per_lane_per_cycle)`` cycles, where ``slots``
is the issue slots of one element's ops; the tree follows, then per-row scalar ops, one lane per
row. A group's rows stay in the lanes' registers between passes when they take one wave (a
lane's registers hold its elements of one wave and an accumulator, not a row streamed in time),
in the unit's scratchpad when the group fits there, and are otherwise streamed from the shared
SRAM again by every pass. Each pass of a group costs ``max(compute, SRAM read cycles, SRAM write
cycles)`` (reads and writes overlap compute).
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
    reduce_op : int64[P]    kind of the reduction of each pass (its tree's ops), -1 for none
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
def _run_vector(p, lanes_per_row):
    """Stats (int64[VECTOR_STAT_COUNT] indexed by VECTOR_STAT_*) and op counts (int64[K] per op kind)
    of ``p`` with each row on ``lanes_per_row`` lanes (1 <= lanes_per_row <= min(row_len, lanes))."""
    n_passes, n_kinds = p.elem_ops.shape
    stats = np.zeros(VECTOR_STAT_COUNT, dtype=np.int64)
    op_counts = np.zeros(n_kinds, dtype=np.int64)
    opl = p.ops_per_lane_per_cycle
    width = lanes_per_row
    rows_per_group = p.lanes // width
    waves = _ceil_div(p.row_len, width)
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


def run_vector(problem: VectorProblem, lanes_per_row: int) -> tuple[np.ndarray, np.ndarray]:
    """Stats (indexed by ``VECTOR_STAT_*``) and op counts (one per kind) of ``problem`` with each row
    on ``lanes_per_row`` lanes (``RowMapping.lanes_per_row``)."""
    if not 1 <= lanes_per_row <= min(problem.row_len, problem.lanes):
        raise ValueError(f"lanes_per_row {lanes_per_row} outside 1..min(row_len {problem.row_len}, "
                         f"lanes {problem.lanes})")
    return _run_vector(problem, np.int64(lanes_per_row))
