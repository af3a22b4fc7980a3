"""Row-stationary mappings of a layer onto a hierarchy, searched over tile sizes per level.

The template (Chen et al., ISCA 2016, section V; docs/hierarchy.md), as a loop nest over
DRAM (0), the global buffer (1) and the PE scratchpads (2):

* spatial, under the global buffer: filter rows ``R`` x a replication ``Cs`` of input channels
  down the PE rows (partial sums add up a column), output rows ``Ps`` x a replication ``Ks`` of
  filters across the PE columns (an input row reaches a diagonal of PEs);
* in each PE: ``Kt`` filters x ``Ct`` channels x the filter row's ``S`` taps: the filter rows
  stay in the filter scratchpad, the input window (``Ct x S`` words) in the input scratchpad,
  ``Kt`` partial sums in the psum scratchpad;
* the global buffer's loops: the other factors of ``N``, ``K``, ``C``, ``P`` in a searched
  order, and every output column ``Q`` innermost, so that the input window slides by the stride;
* DRAM's loops: what is left, in a searched order.

Every candidate must fit every level's capacity (each operand's words at its width); among
those, the best for the objective (ties broken by the other quantity) wins. The search is
exhaustive over the PE-level and spatial factors and over each level's loop orders, with the
split between the buffer and DRAM taken from the divisors (docs/hierarchy.md states the space).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from accelsim.cost.hierarchy import hierarchy_energy
from accelsim.engine.hierarchy import HierarchyCounts, count_layer, keeps
from accelsim.errors import UnsupportedError
from accelsim.lower.loopnest import TENSORS, ConvProblem, Loop, LoopNest, conv_problem, tile_words
from accelsim.spec.arch import ArchSpec
from accelsim.spec.options import Objective

SPATIAL_CANDIDATES = 4  # spatial/PE-level choices kept (best array use first) before the buffer search
ORDER_SEARCH = 3  # best tile splits whose loop orders are all tried


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


def fits(arch: ArchSpec, problem: ConvProblem, nest: LoopNest, bits: dict[str, int]) -> bool:
    """Every level but DRAM holds its tiles (each operand's words x its bits) in its capacity."""
    for level in range(1, len(nest.levels)):
        held = {t: tile_words(problem, nest, t, level) * bits[t] for t in nest.keeps[level]}
        capacity = _capacity_words(arch, level)
        if isinstance(capacity, int):
            if sum(held.values()) > capacity:
                return False
        elif any(held[t] > capacity.get(t, 0) for t in held):
            return False
    return True


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


def _spatial_choices(arch: ArchSpec, problem: ConvProblem, bits: dict[str, int]):
    """(Kt, Ct, Cs, Ps, Ks) that fit the PE scratchpads and the array, best array use first."""
    pe = arch.hierarchy.pe_level
    words = {t: size * 8 // bits[t] for t, size in pe.sizes.items()}
    b = problem.bound
    rows, cols = arch.array.rows, arch.array.cols
    if b("R") > rows:
        return []
    choices = []
    for kt, ct in itertools.product(divisors(b("K")), divisors(b("C"))):
        if ("filter" in words and kt * ct * b("S") > words["filter"]) or \
           ("ifmap" in words and ct * b("S") > words["ifmap"]) or ("ofmap" in words and kt > words["ofmap"]):
            continue
        for cs in divisors(b("C") // ct):
            if b("R") * cs > rows:
                continue
            for ps in divisors(b("P")):
                for ks in divisors(b("K") // kt):
                    if ps * ks <= cols:
                        used = b("R") * cs * ps * ks
                        choices.append((-used, -(kt * ct), (kt, ct, cs, ps, ks)))
    choices.sort()
    return [c[2] for c in choices]


def _orders(dims: tuple[tuple[str, int], ...]) -> list[tuple[tuple[str, int], ...]]:
    """Every order of the loops whose bound exceeds 1."""
    return list(itertools.permutations([d for d in dims if d[1] > 1]))


def _nest(arch: ArchSpec, problem: ConvProblem, pe: tuple[int, ...], glb: tuple[tuple[str, int], ...],
          dram: tuple[tuple[str, int], ...]) -> LoopNest:
    kt, ct, cs, ps, ks = pe
    b = problem.bound
    spatial = (Loop("R", b("R"), True), Loop("C", cs, True), Loop("P", ps, True), Loop("K", ks, True))
    levels = (tuple(Loop(d, n) for d, n in dram if n > 1),
              tuple(Loop(d, n) for d, n in glb if n > 1) + (Loop("Q", b("Q")),) + spatial,
              (Loop("K", kt), Loop("C", ct), Loop("S", b("S"))))
    return LoopNest(levels, keeps(arch))


def candidates(arch: ArchSpec, problem: ConvProblem, bits: dict[str, int]):
    """``(PE/spatial factors, buffer loops, DRAM loops)`` of the template in canonical loop orders
    (``N K C P`` at the buffer, ``G N K C P`` at DRAM), for every split of the remaining factors."""
    b = problem.bound
    for pe in _spatial_choices(arch, problem, bits)[:SPATIAL_CANDIDATES]:
        kt, ct, cs, ps, ks = pe
        rest = {"G": b("G"), "N": b("N"), "K": b("K") // (kt * ks), "C": b("C") // (ct * cs), "P": b("P") // ps}
        for split in itertools.product(*(divisors(rest[d]) for d in ("N", "K", "C", "P"))):
            glb = tuple(zip(("N", "K", "C", "P"), split))
            dram = (("G", rest["G"]),) + tuple((d, rest[d] // n) for d, n in glb)
            yield pe, glb, dram


def map_layer(arch: ArchSpec, problem: ConvProblem, bits: dict[str, int], objective: Objective,
              layer_name: str = "") -> MappedLayer:
    """The best row-stationary mapping of ``problem`` on ``arch`` for ``objective``: every tile split
    that fits, in canonical loop orders; then every loop order at the buffer and at DRAM for the
    ``ORDER_SEARCH`` best splits (tile sizes, hence capacity, do not depend on the order).

    Raises UnsupportedError naming the layer when no mapping fits (a filter taller than the
    array, or tiles larger than a scratchpad).
    """
    scored = []
    for pe, glb, dram in candidates(arch, problem, bits):
        nest = _nest(arch, problem, pe, glb, dram)
        if fits(arch, problem, nest, bits):
            mapped = evaluate(arch, problem, nest, bits)
            scored.append((_score(mapped, objective), len(scored), mapped, pe, glb, dram))
    if not scored:
        raise UnsupportedError(
            f"layer {layer_name}: no row-stationary mapping fits {arch.name} (filter rows R={problem.bound('R')} "
            f"on {arch.array.rows} PE rows, scratchpads {dict(arch.hierarchy.pe_level.sizes)} bytes); "
            "enlarge the scratchpads or the array (docs/hierarchy.md)")
    scored.sort(key=lambda item: item[:2])
    best_score, _, best, *_ = scored[0]
    for _, _, _, pe, glb, dram in scored[:ORDER_SEARCH]:
        for glb_order in _orders(glb):
            for dram_order in _orders(dram):
                mapped = evaluate(arch, problem, _nest(arch, problem, pe, glb_order, dram_order), bits)
                score = _score(mapped, objective)
                if score < best_score:
                    best, best_score = mapped, score
    return best


def layer_bits(weight_bits: int, act_bits: int) -> dict[str, int]:
    """Bits per word of each tensor: filter at the weight width, ifmap and ofmap at the activation width."""
    return {"filter": weight_bits, "ifmap": act_bits, "ofmap": act_bits}


def network_columns(arch: ArchSpec, layers, objective: Objective) -> tuple[dict, dict, np.ndarray]:
    """``(count columns, energy columns, costed)`` of ``layers`` (a network's layers) on a hierarchy
    arch, each array layer (Conv2d, Gemm) mapped by :func:`map_layer`; other layers are not costed.

    Counts (int64, per layer): ``cycles``, ``compute_cycles``, ``stall_cycles``, ``mac_ops``,
    ``gated_macs``, ``skipped_macs``, ``weight_metadata_bytes`` (0: the model is dense, zeros are not
    gated nor skipped), ``folds`` (global-buffer tiles: the product of DRAM's loop bounds),
    ``<operand>_dram_reads``/``ofmap_dram_writes``, ``dram_read_bytes``/``dram_write_bytes``,
    the global buffer's reads as ``<operand>_sram_reads`` and ofmap writes as ``ofmap_sram_writes``,
    ``<level>_<operand>_reads``/``_writes`` for every level, ``noc_sends``, ``noc_deliveries``,
    ``noc_hops``; ``utilization``, ``mapping_efficiency`` (PEs the spatial loops use / PEs) and
    ``compute_utilization`` (floats); ``mapping``, ``sparsity_model`` and ``weight_format`` (text). Energy: ``energy_<component>_pj``
    and ``energy_pj``.
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
           "mapping_efficiency": used_pes / arch_pes, "compute_utilization": counts.macs / (counts.compute_cycles * arch_pes),
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
