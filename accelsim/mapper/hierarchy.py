"""Mappings of a layer onto a hierarchy from a dataflow template, searched over tile sizes per level.

A :class:`Template` says where each dimension's factors may sit in a loop nest over DRAM (0), the
global buffer (1) and the PE storage (2); :data:`TEMPLATES` holds row-stationary (Chen et al.,
ISCA 2016, section V) and output-stationary with local input reuse (docs/hierarchy.md):

* row-stationary: filter rows ``R`` x a replication of input channels down the PE rows (partial
  sums add up a column), output rows ``P`` x a replication of filters across the PE columns (an
  input row reaches a diagonal of PEs); in each PE ``Kt`` filters x ``Ct`` channels x the filter
  row's ``S`` taps (filter rows, an input window and ``Kt`` partial sums stay in the scratchpads);
  every output column ``Q`` innermost at the buffer, so the window slides by the stride;
* output-stationary: output rows down the rows, output columns and filters across the columns; in
  each PE ``Kt`` filters x ``Ct`` channels x the whole filter window, its partial sums staying put.

The buffer's loops take any split of what is left (groups stay at DRAM), DRAM's the rest. Every
candidate must fit every level's capacity (each operand's words at its width); among those the
best found for the objective (ties broken by the other quantity) wins. The search: the
``SPATIAL_CANDIDATES`` PE and array factorisations that use the most PEs among those that fit; for
each, the buffer/DRAM split by coordinate descent in canonical loop orders; then the loop orders of
the buffer and then of DRAM for the ``ORDER_SEARCH`` best. A search, not a proof of optimality.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from accelsim.cost.hierarchy import hierarchy_energy
from accelsim.engine.hierarchy import HierarchyCounts, count_layer, keeps
from accelsim.errors import UnsupportedError
from accelsim.lower.loopnest import DIMS, TENSORS, ConvProblem, Loop, LoopNest, conv_problem, tile_words
from accelsim.spec.arch import ArchSpec
from accelsim.spec.hierarchy import HierarchyDataflow
from accelsim.spec.options import Objective
from accelsim.spec.workload import Layer

@dataclass(frozen=True)
class Template:
    """Where each dimension's factors may sit: in each PE (``pe``, outer to inner), down the PE rows
    (``rows``), across the PE columns (``cols``); a ``whole`` dimension takes all of its bound at
    the one place that lists it; ``buffer_inner`` dimensions are the buffer's innermost loops, whole."""

    pe: tuple[str, ...]
    rows: tuple[str, ...]
    cols: tuple[str, ...]
    whole: frozenset[str]
    buffer_inner: tuple[str, ...] = ()


TEMPLATES = {
    # Chen et al., ISCA 2016: filter rows down the rows, output rows across the columns (an input row
    # on a diagonal), each replicated over channels and filters; a filter row and a sliding input
    # window in each PE; output columns innermost at the buffer.
    HierarchyDataflow.ROW_STATIONARY: Template(pe=("K", "C", "S"), rows=("R", "C"), cols=("P", "K"),
                                               whole=frozenset("RSQ"), buffer_inner=("Q",)),
    # each PE keeps its outputs' partial sums while the whole filter window and a channel tile pass
    # through it; neighbouring PEs share overlapping input windows (one multicast), and a PE keeps
    # the overlap of its window when the buffer's loops slide it.
    HierarchyDataflow.OUTPUT_STATIONARY: Template(pe=("K", "C", "R", "S"), rows=("P",), cols=("Q", "K"),
                                                  whole=frozenset("RS")),
}
SPATIAL_CANDIDATES = 4  # array choices searched (most PEs first) among those the buffer can hold
ORDER_SEARCH = 3  # best tile splits whose loop orders are all tried
SPLIT_ROUNDS = 3  # rounds of coordinate descent over the buffer/DRAM split


@dataclass(frozen=True)
class MappedLayer:
    """The chosen loop nest of a layer with its counts and energy by component (pJ)."""

    nest: LoopNest
    counts: HierarchyCounts
    energy_pj: dict[str, float]

    @property
    def total_energy_pj(self) -> float:
        return sum(self.energy_pj.values())


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _capacity_words(arch: ArchSpec, level: int) -> dict[str, int] | int:
    """Words per operand a level can hold (a dict), or bits shared by all (an int: the unified buffer)."""
    if level == 1:
        if arch.buffers.unified is not None and all(getattr(arch.buffers, t) is None for t in TENSORS):
            return arch.buffers.unified.size_bytes * 8
        return {t: arch.buffers.for_operand(t).size_bytes * 8 for t in TENSORS}
    inner = arch.hierarchy.levels[level - 2]
    return {t: size * 8 for t, size in inner.sizes.items()}


def _level_fits(arch: ArchSpec, problem: ConvProblem, nest: LoopNest, bits: dict[str, int], level: int) -> bool:
    held = {t: tile_words(problem, nest, t, level) * bits[t] for t in nest.keeps[level]}
    capacity = _capacity_words(arch, level)
    if isinstance(capacity, int):
        return sum(held.values()) <= capacity
    return all(held[t] <= capacity.get(t, 0) for t in held)


def fits(arch: ArchSpec, problem: ConvProblem, nest: LoopNest, bits: dict[str, int]) -> bool:
    """Every level but DRAM holds its tiles (each operand's words x its bits) in its capacity."""
    return all(_level_fits(arch, problem, nest, bits, level) for level in range(1, len(nest.levels)))


def _score(mapped: MappedLayer, objective: Objective) -> tuple[float, float]:
    cycles, energy = float(mapped.counts.cycles), mapped.total_energy_pj
    if objective is Objective.CYCLES:
        return cycles, energy
    if objective is Objective.ENERGY:
        return energy, cycles
    return cycles * energy, cycles


def evaluate(arch: ArchSpec, problem: ConvProblem, nest: LoopNest, bits: dict[str, int]) -> MappedLayer:
    counts = count_layer(arch, problem, nest, bits)
    return MappedLayer(nest, counts, hierarchy_energy(arch, counts, bits))


def _factors(slots: tuple[str, ...], left: dict[str, int], whole: frozenset[str]):
    """Every ``(factors, what is left)`` for ``slots``: a whole dimension takes all that is left of it,
    any other a divisor of it."""
    if not slots:
        yield (), left
        return
    dim, rest = slots[0], slots[1:]
    for factor in ([left[dim]] if dim in whole else divisors(left[dim])):
        for tail, remaining in _factors(rest, {**left, dim: left[dim] // factor}, whole):
            yield (factor, *tail), remaining


def _array_choices(arch: ArchSpec, problem: ConvProblem, bits: dict[str, int], template: Template):
    """``(PE factors, row factors, column factors, what is left)`` that fit the PE storage and the
    array, the most PEs used first (then the largest PE tiles)."""
    start = {d: problem.bound(d) for d in DIMS}
    choices = []
    pe_level = len(arch.hierarchy.levels) + 1
    for pe, left in _factors(template.pe, start, template.whole):
        probe = LoopNest(((), (), tuple(Loop(d, n) for d, n in zip(template.pe, pe))), keeps(arch))
        if not _level_fits(arch, problem, probe, bits, pe_level):
            continue
        for rows, left_rows in _factors(template.rows, left, template.whole):
            if math.prod(rows) > arch.array.rows:
                continue
            for cols, rest in _factors(template.cols, left_rows, template.whole):
                if math.prod(cols) <= arch.array.cols:
                    choices.append((-math.prod(rows) * math.prod(cols), -math.prod(pe), len(choices),
                                    (pe, rows, cols, rest)))
    choices.sort()
    return [c[-1] for c in choices]


def _nest(arch: ArchSpec, template: Template, choice, glb: tuple[tuple[str, int], ...],
          dram: tuple[tuple[str, int], ...]) -> LoopNest:
    pe, rows, cols, rest = choice
    spatial = tuple(Loop(d, n, True) for d, n in zip(template.rows + template.cols, rows + cols))
    inner = tuple(Loop(d, rest[d]) for d in template.buffer_inner)
    levels = (tuple(Loop(d, n) for d, n in dram if n > 1),
              tuple(Loop(d, n) for d, n in glb if n > 1) + inner + spatial,
              tuple(Loop(d, n) for d, n in zip(template.pe, pe)))
    return LoopNest(levels, keeps(arch))


def _array_candidates(arch: ArchSpec, problem: ConvProblem, bits: dict[str, int], template: Template):
    """The ``SPATIAL_CANDIDATES`` array choices that use the most PEs among those whose smallest
    buffer tile (everything the PEs and the array leave at DRAM) fits."""
    kept = 0
    for choice in _array_choices(arch, problem, bits, template):
        if fits(arch, problem, _split_nest(arch, template, choice, {}), bits):
            yield choice
            kept += 1
            if kept == SPATIAL_CANDIDATES:
                return


def _split_dims(template: Template, choice) -> list[str]:
    """Dimensions whose remaining factor the buffer and DRAM share (groups stay at DRAM)."""
    return [d for d in DIMS if d != "G" and d not in template.buffer_inner and choice[3][d] > 1]


def _split_nest(arch: ArchSpec, template: Template, choice, at_buffer: dict[str, int]) -> LoopNest:
    """The nest with ``at_buffer[d]`` of each shared dimension at the buffer, the rest at DRAM, in
    canonical orders."""
    rest = choice[3]
    dims = _split_dims(template, choice)
    glb = tuple((d, at_buffer.get(d, 1)) for d in dims)
    dram = (("G", rest["G"]),) + tuple((d, rest[d] // at_buffer.get(d, 1)) for d in dims)
    return _nest(arch, template, choice, glb, dram)


def _best_split(arch: ArchSpec, problem: ConvProblem, bits: dict[str, int], template: Template, choice,
                objective: Objective) -> MappedLayer:
    """The best split between the buffer and DRAM for one array choice, by coordinate descent: each
    shared dimension's factor in turn over all its divisors that fit, the others held, until a round
    improves nothing (``SPLIT_ROUNDS`` at most). A search, not a proof of optimality."""
    at_buffer: dict[str, int] = {}
    best = evaluate(arch, problem, _split_nest(arch, template, choice, at_buffer), bits)
    for _ in range(SPLIT_ROUNDS):
        improved = False
        for dim in _split_dims(template, choice):
            for factor in divisors(choice[3][dim]):
                trial = {**at_buffer, dim: factor}
                nest = _split_nest(arch, template, choice, trial)
                if not fits(arch, problem, nest, bits):
                    break  # larger factors only grow the buffer's tiles
                mapped = evaluate(arch, problem, nest, bits)
                if _score(mapped, objective) < _score(best, objective):
                    best, at_buffer, improved = mapped, trial, True
        if not improved:
            break
    return best


def map_layer(arch: ArchSpec, problem: ConvProblem, bits: dict[str, int], objective: Objective,
              layer_name: str = "") -> MappedLayer:
    """The best mapping found of ``problem`` on ``arch`` (its dataflow's template) for ``objective``:
    for each of the best array choices, the best buffer/DRAM split (:func:`_best_split`, canonical
    loop orders); then, for the ``ORDER_SEARCH`` best, every loop order at the buffer (DRAM's
    canonical), then every order at DRAM with that buffer order (tile sizes, hence capacity, do not
    depend on the order). A search, not a proof of optimality.

    Raises UnsupportedError naming the layer when no mapping fits (a filter taller than the
    array, or tiles larger than a scratchpad).
    """
    template = TEMPLATES[arch.hierarchy.dataflow]
    found = [_best_split(arch, problem, bits, template, choice, objective)
             for choice in _array_candidates(arch, problem, bits, template)]
    if not found:
        raise UnsupportedError(
            f"layer {layer_name}: no {arch.hierarchy.dataflow.value} mapping fits {arch.name} (the array is "
            f"{arch.array.rows}x{arch.array.cols}, the PE storage {dict(arch.hierarchy.pe_level.sizes)} bytes; "
            f"filter {problem.bound('R')}x{problem.bound('S')}); enlarge the PE storage or the array "
            "(docs/hierarchy.md)")
    found.sort(key=lambda mapped: _score(mapped, objective))
    return min((_best_orders(arch, problem, bits, template, start, objective) for start in found[:ORDER_SEARCH]),
               key=lambda mapped: _score(mapped, objective))


def _best_orders(arch: ArchSpec, problem: ConvProblem, bits: dict[str, int], template: Template,
                 start: MappedLayer, objective: Objective) -> MappedLayer:
    """``start`` with the best order of the buffer's own loops (DRAM's held), then of DRAM's."""
    dram, buffer, pe = start.nest.levels
    own = [loop for loop in buffer if not loop.spatial and loop.dim not in template.buffer_inner]
    inner = tuple(loop for loop in buffer if loop not in own)
    best = start
    for order in itertools.permutations(own):
        mapped = evaluate(arch, problem, LoopNest((dram, (*order, *inner), pe), start.nest.keeps), bits)
        if _score(mapped, objective) < _score(best, objective):
            best = mapped
    buffer = best.nest.levels[1]
    for order in itertools.permutations(dram):
        mapped = evaluate(arch, problem, LoopNest((order, buffer, pe), start.nest.keeps), bits)
        if _score(mapped, objective) < _score(best, objective):
            best = mapped
    return best


def layer_bits(weight_bits: int, act_bits: int) -> dict[str, int]:
    """Bits per word of each tensor: filter at the weight width, ifmap and ofmap at the activation width."""
    return {"filter": weight_bits, "ifmap": act_bits, "ofmap": act_bits}


def network_columns(arch: ArchSpec, layers: Sequence[Layer], objective: Objective) -> tuple[dict, dict, np.ndarray]:
    """``(count columns, energy columns, costed)`` of ``layers`` (a network's layers) on a hierarchy
    arch, each array layer (Conv2d, Gemm) mapped by :func:`map_layer`; other layers are not costed.

    Counts (int64, per layer): ``cycles``, ``compute_cycles``, ``stall_cycles``, ``mac_ops``,
    ``gated_macs``, ``skipped_macs``, ``weight_metadata_bytes`` (0: the model is dense, zeros are not
    gated nor skipped), ``folds`` (global-buffer tiles: the product of DRAM's loop bounds),
    ``<operand>_dram_reads``/``ofmap_dram_writes``, ``dram_read_bytes``/``dram_write_bytes``,
    the global buffer's reads as ``<operand>_sram_reads`` and ofmap writes as ``ofmap_sram_writes``,
    ``<level>_<operand>_reads``/``_writes`` for every level, ``noc_sends``, ``noc_deliveries``,
    ``noc_hops``; ``utilization``, ``mapping_efficiency`` (PEs the spatial loops use / PEs) and
    ``compute_utilization`` (floats); ``mapping``, ``sparsity_model`` and ``weight_format`` (text).
    Energy: ``energy_<component>_pj`` and ``energy_pj``.
    """
    count_rows, energy_rows = [], []
    costed = np.zeros(len(layers), dtype=bool)
    runs: dict = {}
    for index, layer in enumerate(layers):
        problem = conv_problem(layer)
        if problem is None:
            count_rows.append({})
            energy_rows.append({})
            continue
        bits = layer_bits(layer.compression.weight_precision.bits, layer.compression.act_precision.bits)
        key = (problem, tuple(bits.values()))
        if key not in runs:
            runs[key] = map_layer(arch, problem, bits, objective, layer.name)
        mapped = runs[key]
        costed[index] = True
        count_rows.append(_count_row(mapped, bits, arch.pes))
        energy_rows.append({f"energy_{name}_pj": pj for name, pj in mapped.energy_pj.items()}
                           | {"energy_pj": mapped.total_energy_pj})
    return _columns(count_rows, costed), _columns(energy_rows, costed, float), costed


def _count_row(mapped: MappedLayer, bits: dict[str, int], arch_pes: int) -> dict:
    counts = mapped.counts
    used_pes = math.prod(loop.bound for level in mapped.nest.levels for loop in level if loop.spatial)
    dram, glb = counts.levels[0], counts.levels[1]
    row = {"cycles": counts.cycles, "compute_cycles": counts.compute_cycles,
           "stall_cycles": counts.cycles - counts.compute_cycles, "utilization": counts.utilization,
           "mapping_efficiency": used_pes / arch_pes,
           "compute_utilization": counts.macs / (counts.compute_cycles * arch_pes),
           "sparsity_model": "dense", "weight_format": "dense",
           "mac_ops": counts.macs, "gated_macs": 0, "skipped_macs": 0, "weight_metadata_bytes": 0,
           "folds": math.prod(loop.bound for loop in mapped.nest.levels[0]),
           "ifmap_sram_reads": glb.reads["ifmap"], "filter_sram_reads": glb.reads["filter"],
           "ofmap_sram_writes": glb.writes["ofmap"], "ofmap_sram_reads": glb.reads["ofmap"],
           "ifmap_dram_reads": dram.reads["ifmap"], "filter_dram_reads": dram.reads["filter"],
           "ofmap_dram_writes": dram.writes["ofmap"], "ofmap_dram_reads": dram.reads["ofmap"],
           "dram_read_bytes": sum(dram.reads[t] * bits[t] for t in TENSORS) // 8,
           "dram_write_bytes": sum(dram.writes[t] * bits[t] for t in TENSORS) // 8,
           "mapping": mapped.nest.describe()}
    for level in counts.levels:
        for tensor in TENSORS:
            row[f"{level.name}_{tensor}_reads"] = level.reads[tensor]
            row[f"{level.name}_{tensor}_writes"] = level.writes[tensor]
    return row | {"noc_sends": counts.noc_sends, "noc_deliveries": counts.noc_deliveries, "noc_hops": counts.noc_hops}


def _columns(rows: list[dict], costed: np.ndarray, dtype=None) -> dict[str, np.ndarray]:
    """Rows of dicts as columns; rows not costed get 0 (their value is masked later)."""
    names = next((list(row) for row, c in zip(rows, costed) if c), [])
    out = {}
    for name in names:
        text = isinstance(rows[list(costed).index(True)][name], str)
        values = [row[name] if c else (None if text else 0) for row, c in zip(rows, costed)]
        out[name] = np.array(values, dtype=object if text else dtype)
    return out
