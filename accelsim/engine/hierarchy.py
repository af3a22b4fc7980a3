"""Counts per storage level and operand of a layer mapped onto a hierarchy, and its cycles
(``fold`` fidelity: an analytical model, docs/hierarchy.md).

Levels: 0 is DRAM, 1 the arch's ``buffers`` (the global buffer), then ``hierarchy.levels``.
Every access is a word of its operand (filter at the weight width, ifmap and ofmap at the
activation width). The MACs read their operands from the innermost level keeping each.

Latency is ``max(compute cycles, each level's words / its bandwidth)``: every level streams
under the others (double buffering is assumed, not checked against capacity), no fill or
drain time is added. ``cycle`` and ``pe`` fidelities are refused: stepping the loop nest
cycle by cycle would need a PE model of the row-stationary fabric, which accelsim does not
have (the systolic kernels model a different array).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelsim.lower.loopnest import TENSORS, ConvProblem, LoopNest, all_boundaries, compute_cycles
from accelsim.spec.arch import ArchSpec
from accelsim.spec.hierarchy import Delivery


@dataclass(frozen=True)
class LevelCounts:
    """Words read and written at one level, per operand (summed over its copies)."""

    name: str
    reads: dict[str, int]
    writes: dict[str, int]

@dataclass(frozen=True)
class HierarchyCounts:
    """One mapped layer: counts per level, array fabric traffic and cycles.

    ``noc_sends``: words the fabric sends between the level above the PEs and the PEs (a multicast
    send reaches several PEs; unicast: one per PE; reduced partial sums going up: one each);
    ``noc_deliveries``: words those sends write into a PE or, for partial sums going up, into the
    level above; ``noc_hops``: partial sums passed PE to PE to be added.
    """

    macs: int
    levels: tuple[LevelCounts, ...]
    noc_sends: int
    noc_deliveries: int
    noc_hops: int
    compute_cycles: int
    cycles: int
    utilization: float


def level_names(arch: ArchSpec) -> tuple[str, ...]:
    """Names of the levels, outermost first: ``dram``, ``global_buffer``, then the hierarchy's own."""
    assert arch.hierarchy is not None
    return ("dram", "global_buffer", *(level.name for level in arch.hierarchy.levels))


def pe_level_index(arch: ArchSpec) -> int | None:
    """Index of the level inside the PEs (None without one)."""
    assert arch.hierarchy is not None
    return len(arch.hierarchy.levels) + 1 if arch.hierarchy.pe_level is not None else None


def keeps(arch: ArchSpec) -> tuple[frozenset[str], ...]:
    """Tensors each level stores: DRAM all, the global buffer all but its bypassed ones, inner
    levels the operands their ``sizes`` list."""
    assert arch.hierarchy is not None
    glb = frozenset(TENSORS) - frozenset(arch.hierarchy.buffer_bypass)
    return (frozenset(TENSORS), glb, *(frozenset(level.sizes) for level in arch.hierarchy.levels))


def bandwidth_bits(arch: ArchSpec, level: int) -> float | None:
    """Bits per cycle level ``level`` moves (DRAM: its bandwidth; the global buffer: every port of
    every buffer); None: not a limit (levels inside the array, whose ports the mapping's one MAC
    per cycle does not exceed: an assumption, docs/hierarchy.md)."""
    if level == 0:
        per_cycle = arch.dram_bytes_per_cycle()
        return None if per_cycle is None else per_cycle * 8
    if level == 1:
        buffers = {id(b): b for b in (arch.buffers.for_operand(op) for op in TENSORS)}.values()
        return float(sum(b.port_width_bits * b.ports for b in buffers))
    return None


def count_layer(arch: ArchSpec, problem: ConvProblem, nest: LoopNest, bits: dict[str, int]) -> HierarchyCounts:
    """Counts and cycles of ``problem`` under ``nest`` on ``arch`` (``bits``: per tensor)."""
    names = level_names(arch)
    reads = [dict.fromkeys(TENSORS, 0) for _ in names]
    writes = [dict.fromkeys(TENSORS, 0) for _ in names]
    sends = deliveries = hops = 0
    pe = pe_level_index(arch)
    array_top = (pe if pe is not None else len(names)) - 1  # the level the PE array's fabric reads
    for b in all_boundaries(problem, nest):
        macs_side = b.child == len(names)
        reads[b.parent][b.tensor] += b.parent_reads
        writes[b.parent][b.tensor] += b.parent_writes
        if not macs_side:
            writes[b.child][b.tensor] += b.child_fills
            reads[b.child][b.tensor] += b.child_drains
        crosses = b.parent <= array_top < b.child
        if crosses:
            unicast = b.tensor != "ofmap" and getattr(arch.hierarchy.noc, b.tensor) is Delivery.UNICAST
            sends += b.child_fills if unicast else b.parent_reads
            deliveries += b.child_fills
            hops += b.reduction_hops
            if b.tensor == "ofmap":  # psums up to the parent after the reduction, and back down
                sends += b.parent_writes
                deliveries += b.parent_writes
    levels = tuple(LevelCounts(n, r, w) for n, r, w in zip(names, reads, writes))
    compute = compute_cycles(nest)
    cycles = compute
    for index, level in enumerate(levels):
        words_bits = sum((level.reads[t] + level.writes[t]) * bits[t] for t in TENSORS)
        if not words_bits:
            continue
        bandwidth = bandwidth_bits(arch, index)
        if bandwidth is not None:
            cycles = max(cycles, math.ceil(words_bits / bandwidth))
    return HierarchyCounts(macs=problem.macs, levels=levels, noc_sends=sends, noc_deliveries=deliveries,
                           noc_hops=hops, compute_cycles=compute, cycles=cycles,
                           utilization=problem.macs / (cycles * arch.pes) if cycles else 0.0)
