"""Vector layers (nonlinear ops, elementwise ops, pooling) on the arch's vector unit.

Pure functions: :func:`vector_layer_counts` (arch + layer + implementation -> named integer
counters, backed by :func:`accelsim.kernels.vector.run_vector`) and :func:`add_vector_layers`
(fills the vector layers' rows of a network's fold counter matrix, with the overlap a
pipelined unit gets).

Memory model, the same per-layer convention as the array layers: without a memory plan every
layer reads its input from DRAM and writes its output back; under the network's memory plan
(:mod:`accelsim.lower.memory_plan`) only what spills moves, and a layer fused on the array's
output path reads its path operand from the array and stores nothing (its issue cycles only).
DRAM traffic streams alongside compute, so a layer takes ``max(vector unit cycles, DRAM transfer cycles)``
plus the DRAM latency once when bandwidth is limited. Inside the unit, the kernel charges
SRAM port cycles and reuse of rows between passes, and each layer runs with the cheaper of the
two row mappings, across the lanes or one row per lane in time (``docs/transformers.md``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from accelsim.kernels import codes
from accelsim.kernels.codes import (
    VECTOR_STAT_COMPUTE_CYCLES, VECTOR_STAT_CYCLES, VECTOR_STAT_LANE_SLOTS, VECTOR_STAT_LOCAL_READS,
    VECTOR_STAT_LOCAL_WRITES, VECTOR_STAT_SRAM_READS, VECTOR_STAT_SRAM_WRITES,
)
from accelsim.kernels.vector import VectorProblem, run_vector
from accelsim.lower.memory_plan import LayerTraffic
from accelsim.lower.schedule import transfer_cycles
from accelsim.spec.arch import ArchSpec, precision_bits
from accelsim.spec.memo import KeyedMemo
from accelsim.spec.workload import Eltwise, ImplKind, Layer, Network, Nonlinear, NonlinearImpl, Pool, work_ids
from accelsim.vector.functions import layer_program
from accelsim.vector.program import VECTOR_OPS, RowMapping, op_slots

INTEGER_BITS = 32
"""Width of I-BERT's integer intermediates (int32), as held in the unit's scratchpad."""

VECTOR_LAYERS = (Nonlinear, Eltwise, Pool)
"""Layer kinds the vector unit runs."""

OP_COLUMNS = {op: f"vector_{op.value}_ops" for op in VECTOR_OPS}
"""Counter name of each primitive op kind."""


def vector_problem(arch: ArchSpec, layer: Layer, impl: NonlinearImpl | None = None) -> VectorProblem:
    """The kernel's view of ``layer`` on ``arch``'s vector unit (``impl``: the layer's by default)."""
    unit = arch.vector_unit
    impl = impl or layer.compression.nonlinear_impl
    program, rows, row_len = layer_program(layer, impl)
    column = {op: i for i, op in enumerate(VECTOR_OPS)}
    elem_ops = np.zeros((len(program.passes), len(VECTOR_OPS)), dtype=np.int64)
    row_ops = np.zeros_like(elem_ops)
    for i, step in enumerate(program.passes):
        for op, count in step.per_element.items():
            elem_ops[i, column[op]] = count
        for op, count in step.per_row.items():
            row_ops[i, column[op]] = count
    reduce_op = np.array([column[p.reduce] if p.reduce is not None else -1 for p in program.passes], dtype=np.int64)
    writes_row = np.array([int(p.writes_row) for p in program.passes], dtype=np.int64)
    slots = op_slots(arch)
    scratch_bits = INTEGER_BITS if impl.kind is ImplKind.IBERT else precision_bits(unit.float_precision)
    return VectorProblem(
        elem_ops=elem_ops, row_ops=row_ops, reduce_op=reduce_op, writes_row=writes_row,
        op_slots=np.array([slots[op] for op in VECTOR_OPS], dtype=np.int64),
        rows=rows, row_len=row_len, inputs=program.inputs, lanes=unit.lanes,
        ops_per_lane_per_cycle=unit.ops_per_lane_per_cycle,
        local_capacity_elements=unit.buffer_bytes * 8 // scratch_bits,
        element_bits=layer.compression.act_precision.bits,
        read_port_bits=arch.buffers.for_operand("ifmap").port_width_bits,
        write_port_bits=arch.buffers.for_operand("ofmap").port_width_bits,
    )


def row_mappings(layer: Layer) -> tuple[RowMapping, ...]:
    """The row mappings the unit can run ``layer`` with: one row per lane in time only where the
    rows lie side by side in memory. Activations are stored channel-minor, as the array writes
    them (one output channel per column), so the windows of a pooling layer at consecutive
    channels take their taps from one contiguous vector: a lane per channel walks its window in
    time (a pooling unit's channel-parallel mapping). The rows of a nonlinear layer run along its
    last, contiguous axis: one row per lane would gather an element from each of ``lanes`` rows
    per wave, a transposed layout whose cost is not modelled, so they stay across the lanes."""
    return tuple(RowMapping) if isinstance(layer, Pool) else (RowMapping.ACROSS_LANES,)


UnitRun = tuple[np.ndarray, np.ndarray]
"""``run_vector``'s (stats, op counts) of one mapping."""

_UNIT_RUNS = KeyedMemo(4096)


def _unit_runs(arch: ArchSpec, layer: Layer, impl: NonlinearImpl | None) -> tuple[dict[RowMapping, UnitRun], int]:
    """``run_vector(vector_problem(arch, layer, impl), ...)`` for each :func:`row_mappings` and the
    problem's elements, memoized on what the problem reads of ``arch``: its vector unit and the
    ifmap/ofmap port widths (a sweep's designs that differ in array or buffer sizes share the runs).
    Read-only arrays."""
    buffers = arch.buffers

    def compute() -> tuple[dict[RowMapping, UnitRun], int]:
        problem = vector_problem(arch, layer, impl)
        runs = {mapping: run_vector(problem, mapping.lanes_per_row(problem.row_len, problem.lanes))
                for mapping in row_mappings(layer)}
        for stats, op_counts in runs.values():
            stats.flags.writeable = op_counts.flags.writeable = False
        return runs, problem.rows * problem.row_len

    return _UNIT_RUNS.get((arch.vector_unit, buffers.for_operand("ifmap").port_width_bits,
                           buffers.for_operand("ofmap").port_width_bits, layer, impl), compute)


def _dram_cycles(arch: ArchSpec, read_bytes: int, write_bytes: int) -> int:
    """Cycles DRAM needs for a layer's reads (ifmap channel) and writes (ofmap channel)."""
    read_bw, write_bw = arch.dram_bytes_per_cycle("ifmap"), arch.dram_bytes_per_cycle("ofmap")
    if (read_bw is None and write_bw is None) or read_bytes + write_bytes == 0:
        return 0
    reads = int(transfer_cycles(np.int64(read_bytes), read_bw)) if read_bw else 0
    writes = int(transfer_cycles(np.int64(write_bytes), write_bw)) if write_bw else 0
    busy = max(reads, writes) if arch.dram.per_operand else reads + writes
    return busy + arch.dram.latency_cycles


def vector_layer_counts(arch: ArchSpec, layer: Layer, impl: NonlinearImpl | None = None,
                        traffic: LayerTraffic | None = None) -> dict[str, int]:
    """Integer counters of ``layer`` (nonlinear, eltwise or pool) on ``arch``'s vector unit.

    ``traffic``: the layer's part of the memory plan (``None``: every input from DRAM, the output
    to DRAM). A fused layer costs its issue cycles (and its DRAM operands, if any spilled); it
    reads only its non-path operands from SRAM and writes nothing there.

    The unit maps the layer's rows the way (:class:`accelsim.vector.program.RowMapping`) that
    costs it fewer cycles: its unit cycles, or its issue cycles when fused (a tie keeps the rows
    across the lanes).

    Keys: ``cycles`` (the layer alone: max of unit and DRAM cycles), ``vector_cycles`` (unit,
    including SRAM port limits), ``vector_compute_cycles`` (issue only), ``dram_cycles``,
    ``vector_sram_reads``/``vector_sram_writes`` and ``vector_local_reads``/``_writes``
    (elements), ``vector_lane_slots`` (busy lane issue slots), ``vector_<kind>_ops`` per
    primitive op, ``dram_read_bytes``, ``dram_write_bytes``, ``vector_elements``,
    ``vector_rows_in_time`` (1: one row per lane, its elements in time; 0: rows across the lanes).
    """
    if arch.vector_unit is None:
        raise ValueError(f"{arch.name} has no vector_unit to run layer {layer.name!r}")
    runs, elements = _unit_runs(arch, layer, impl)
    fused = traffic is not None and traffic.fused
    charged = VECTOR_STAT_COMPUTE_CYCLES if fused else VECTOR_STAT_CYCLES
    mapping = min(runs, key=lambda m: runs[m][0][charged])  # a tie keeps ACROSS_LANES, listed first
    stats, op_counts = runs[mapping]
    bits = layer.compression.act_precision.bits
    read_bytes = -(-layer.input_elements * bits // 8)
    write_bytes = -(-layer.output_elements * bits // 8)
    unit_cycles, sram_reads, sram_writes = (int(stats[i]) for i in (VECTOR_STAT_CYCLES, VECTOR_STAT_SRAM_READS,
                                                                      VECTOR_STAT_SRAM_WRITES))
    if traffic is not None:
        read_bytes, write_bytes = sum(traffic.operand_dram_bytes), traffic.output_dram_bytes
    if fused:
        unit_cycles = int(stats[VECTOR_STAT_COMPUTE_CYCLES])
        sram_reads = sum(n for n, path in zip(layer.operand_elements, traffic.operand_path) if not path)
        sram_writes = 0
    dram = _dram_cycles(arch, read_bytes, write_bytes)
    counts = {
        "cycles": max(unit_cycles, dram),
        "vector_cycles": unit_cycles,
        "vector_compute_cycles": int(stats[VECTOR_STAT_COMPUTE_CYCLES]),
        "dram_cycles": dram,
        "vector_sram_reads": sram_reads,
        "vector_sram_writes": sram_writes,
        "vector_local_reads": int(stats[VECTOR_STAT_LOCAL_READS]),
        "vector_local_writes": int(stats[VECTOR_STAT_LOCAL_WRITES]),
        "vector_lane_slots": int(stats[VECTOR_STAT_LANE_SLOTS]),
        "vector_elements": elements,
        "vector_rows_in_time": int(mapping is RowMapping.IN_TIME),
        "dram_read_bytes": read_bytes,
        "dram_write_bytes": write_bytes,
    }
    counts.update({OP_COLUMNS[op]: int(n) for op, n in zip(VECTOR_OPS, op_counts)})
    return counts


def exposed_cycles(cycles: np.ndarray, is_vector: np.ndarray, pipelined: bool) -> np.ndarray:
    """Cycles each layer adds to the network's total.

    Array layers add all their cycles. A vector layer on a unit ``pipelined`` with the array
    runs while the array layer that produced its input is still running: it hides up to that
    layer's cycles, which consecutive vector layers share in order (GEMM -> add -> LayerNorm).
    Without pipelining every layer adds all its cycles.
    """
    exposed = np.asarray(cycles, dtype=np.int64).copy()
    if not pipelined:
        return exposed
    slack = 0
    for i, vector in enumerate(is_vector):
        if not vector:
            slack = int(cycles[i])
            continue
        hidden = min(slack, int(cycles[i]))
        exposed[i] = cycles[i] - hidden
        slack -= hidden
    return exposed


@dataclasses.dataclass(frozen=True)
class VectorWork:
    """A network's vector layers on an arch's vector unit, counted (:func:`vector_work`): per
    vector layer (``rows``, int64 layer indices) its fold counters at :data:`_VECTOR_STATS` before
    any overlap with the array (``stats``), its ``vector_<kind>_ops`` (``op_counts``, in
    :data:`OP_COLUMNS` order) and ``vector_rows_in_time``. Read-only arrays."""

    rows: np.ndarray
    stats: np.ndarray
    op_counts: np.ndarray
    in_time: np.ndarray


_VECTOR_WORK = KeyedMemo(256)


def vector_work(arch: ArchSpec, net: Network, plan: Sequence[LayerTraffic] | None = None) -> VectorWork:
    """The vector layers of ``net`` counted once per group (:func:`vector_layer_counts`): layers that
    differ only in name and producers (:func:`accelsim.spec.workload.work_ids`) and whose traffic
    under ``plan`` gives the same counts (:func:`_counted_traffic`). No rows without a vector unit.

    Memoized on what the counts read of ``arch``: the vector unit, the ifmap/ofmap port widths
    (:func:`_unit_runs`), the DRAM and the clock (:func:`_dram_cycles`), so a sweep's designs that
    differ in array size and share a memory plan (the same buffers) share one count."""
    buffers = arch.buffers
    key = (arch.vector_unit, buffers.for_operand("ifmap").port_width_bits, buffers.for_operand("ofmap").port_width_bits,
           arch.dram, arch.clock_hz, net, None if plan is None else tuple(plan))
    return _VECTOR_WORK.get(key, lambda: _count_vector_work(arch, net, plan))


def _count_vector_work(arch: ArchSpec, net: Network, plan: Sequence[LayerTraffic] | None) -> VectorWork:
    """:func:`vector_work`, computed."""
    op_names = list(OP_COLUMNS.values())
    groups: dict[tuple, list[int]] = {}
    if arch.vector_unit is not None:
        for index, (layer, work) in enumerate(zip(net.layers, work_ids(net))):
            if isinstance(layer, VECTOR_LAYERS):
                groups.setdefault((work, None if plan is None else _counted_traffic(plan[index])), []).append(index)
    rows = np.array([index for group in groups.values() for index in group], dtype=np.int64)
    stats = np.zeros((rows.size, _VECTOR_STATS.size), dtype=np.int64)
    op_counts = np.zeros((rows.size, len(op_names)), dtype=np.int64)
    in_time = np.zeros(rows.size, dtype=np.int64)
    done = 0
    for group in groups.values():
        layer = net.layers[group[0]]
        counts = vector_layer_counts(arch, layer, traffic=plan[group[0]] if plan is not None else None)
        bits = layer.compression.act_precision.bits
        taken = slice(done, done + len(group))
        stats[taken] = [
            counts["cycles"], counts["cycles"], counts["vector_compute_cycles"],
            counts["cycles"] - counts["vector_compute_cycles"], counts["vector_sram_reads"],
            counts["vector_sram_writes"], min(layer.input_elements, counts["dram_read_bytes"] * 8 // bits),
            min(layer.output_elements, counts["dram_write_bytes"] * 8 // bits), counts["dram_read_bytes"],
            counts["dram_write_bytes"]]
        op_counts[taken] = [counts[name] for name in op_names]
        in_time[taken] = counts["vector_rows_in_time"]
        done += len(group)
    for array in (rows, stats, op_counts, in_time):
        array.flags.writeable = False
    return VectorWork(rows, stats, op_counts, in_time)


def _counted_traffic(traffic: LayerTraffic) -> tuple:
    """What :func:`vector_layer_counts` reads of a layer's ``traffic``: whether it is fused, its DRAM
    bytes read and written, and a fused layer's operands on the array's path."""
    return traffic.fused, sum(traffic.operand_dram_bytes), traffic.output_dram_bytes, \
        traffic.operand_path if traffic.fused else ()


_VECTOR_STATS = np.array([codes.FOLD_STAT_CYCLES, codes.FOLD_STAT_CYCLES_INCL_PREFETCH, codes.FOLD_STAT_COMPUTE_CYCLES,
                          codes.FOLD_STAT_STALL_CYCLES, codes.FOLD_STAT_IFMAP_SRAM_READS,
                          codes.FOLD_STAT_OFMAP_SRAM_WRITES, codes.FOLD_STAT_IFMAP_DRAM_READS,
                          codes.FOLD_STAT_OFMAP_DRAM_WRITES, codes.FOLD_STAT_DRAM_READ_BYTES,
                          codes.FOLD_STAT_DRAM_WRITE_BYTES])
"""Fold counters a vector layer's row sets, in the order of :attr:`VectorWork.stats`."""


def add_vector_layers(arch: ArchSpec, net: Network, stats: np.ndarray, costed: np.ndarray,
                      plan: list[LayerTraffic] | None = None, counted: VectorWork | None = None
                      ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The fold counter matrix with every vector layer's row filled in (if the arch has a vector unit),
    the costed flags, and extra per-layer columns (int64, 0 for array layers; none without a vector
    unit): the primitive op counts ``vector_<kind>_ops`` for pricing (``accelsim.cost.layer_energy``),
    ``hidden_cycles``, the part of a vector layer's time hidden under the array, and
    ``vector_rows_in_time``, 1 where the unit ran the layer one row per lane (:func:`vector_layer_counts`).

    Rows of layers that are neither costed yet nor vector work stay uncosted.

    In a vector row, ``cycles`` is what the layer adds to the total (:func:`exposed_cycles`) and
    ``cycles == compute_cycles + stall_cycles`` (:func:`split_exposed`: the layer's own time is
    the unit's issue cycles plus its waits on SRAM ports or DRAM; the part hidden under the array
    comes off the waits first); ``ifmap_*``/``ofmap_*`` count its input and output traffic.
    ``plan``: the network's memory plan, one entry per layer (``None``: everything through DRAM);
    ``counted``: :func:`vector_work` of ``net`` under ``plan`` (computed if None).
    """
    stats, costed = stats.copy(), costed.copy()
    if arch.vector_unit is None:
        return stats, costed, {}
    work = vector_work(arch, net, plan) if counted is None else counted
    op_names = list(OP_COLUMNS.values())
    op_counts = np.zeros((len(net.layers), len(op_names)), dtype=np.int64)
    in_time = np.zeros(len(net.layers), dtype=np.int64)
    kept = ~costed[work.rows]
    rows = work.rows[kept]
    op_counts[rows] = work.op_counts[kept]
    in_time[rows] = work.in_time[kept]
    stats[np.ix_(rows, _VECTOR_STATS)] = work.stats[kept]
    is_vector = np.zeros(len(net.layers), dtype=bool)
    is_vector[rows] = True
    costed |= is_vector
    busy = stats[:, codes.FOLD_STAT_CYCLES].copy()
    exposed = exposed_cycles(busy, is_vector, arch.vector_unit.pipelined_with_array)
    hidden = busy - exposed
    compute, stall = split_exposed(stats[:, codes.FOLD_STAT_COMPUTE_CYCLES], stats[:, codes.FOLD_STAT_STALL_CYCLES], hidden)
    stats[:, codes.FOLD_STAT_CYCLES] = exposed
    stats[:, codes.FOLD_STAT_CYCLES_INCL_PREFETCH] -= hidden
    stats[:, codes.FOLD_STAT_COMPUTE_CYCLES] = compute
    stats[:, codes.FOLD_STAT_STALL_CYCLES] = stall
    return stats, costed, {**dict(zip(op_names, op_counts.T.copy())), "hidden_cycles": hidden,
                           "vector_rows_in_time": in_time}


def split_exposed(compute: np.ndarray, stall: np.ndarray, hidden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(compute_cycles, stall_cycles)`` of the exposed part of each layer whose own time is
    ``compute + stall`` and of which ``hidden`` cycles (at most that time) run under the array.

    Convention: the hidden cycles come off the stalls first (a pipelined unit waits for the
    array's outputs while the array runs), then off the compute cycles, so both results are
    >= 0 and add up to the exposed ``compute + stall - hidden``.
    """
    stall_hidden = np.minimum(stall, hidden)
    return compute - (hidden - stall_hidden), stall - stall_hidden
