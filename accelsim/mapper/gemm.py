"""The mapper: the best :class:`~accelsim.lower.tiling.Mapping` of one GEMM for an objective.

The space (``docs/mapper.md``), per GEMM, holds only mappings whose tiles fit the buffers
(``TileSchedule.fits_buffers``):

* dataflow: the arch's ``array.dataflow``, plus ``array.dataflows`` for a flexible array;
* stream tile: the whole stream ``T``, ``ceil(T / n)`` for ``n = 2..8`` (a few even tiles) and
  every power of two below ``T``;
* loop order: the six orders of the row-fold, column-fold and stream-tile loops, merged where
  they coincide (a loop with one iteration can sit anywhere);
* double buffering: on or off for the two input buffers together and for the output buffer,
  where the arch's buffers are double-buffered. One input double-buffered and the other not is
  left out: it is dominated (no prefetch overlap, less room for reuse than both off).

:func:`search` is branch and bound over that space: a closed-form lower bound of the objective
for every candidate (compute cycles without stalls, DRAM time of the compulsory traffic, and the
energy of the counts no mapping can avoid), candidates taken best bound first, each evaluated by
the caller's exact ``evaluate`` (the ``fold`` kernel), stopping when the next bound exceeds the
best found. It returns the same mapping as evaluating the whole space (``exhaustive=True``):
the lowest objective, ties broken by the space's order, which lists the fixed mapping first.
Results are memoised by (GEMM, arch, rate, bits, objective).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Callable, Mapping as MappingType
from dataclasses import dataclass
from fractions import Fraction

import pandas as pd

from accelsim.cost import layer_energy
from accelsim.errors import UnsupportedError
from accelsim.lower.gemm import DENSE_RATE, ArrayRate, GemmProblem
from accelsim.lower.schedule import FILTER, IFMAP, OFMAP_READ, OFMAP_WRITE, TileSchedule
from accelsim.lower.tiling import (
    LoopOrder, Mapping, fixed_mapping, hardware_double_buffering, mapped_schedule, spatial_mapping, traffic_bound,
)
from accelsim.spec.arch import ArchSpec, Dataflow, OperandDelivery
from accelsim.spec.options import Objective
from accelsim.spec.number_format import number_format

# Exact counters of one schedule, by Result.layers column name (cycles, *_sram_*, dram_*_bytes).
Evaluate = Callable[[TileSchedule, ArchSpec], MappingType[str, int]]
ENERGY_COUNTS = ("ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes", "ofmap_sram_reads",
                 "dram_read_bytes", "dram_write_bytes", "cycles")


@dataclass(frozen=True)
class Choice:
    """The mapper's answer for one GEMM repeat: the mapping and its exact cycles and energy.

    ``candidates``: mappings in the space that fit the buffers (the space's size when
    ``exhaustive``, else those whose bound was computed); ``evaluated``: how many ran the kernel.
    """

    mapping: Mapping
    cycles: int
    energy_pj: float
    candidates: int
    evaluated: int

    def score(self, objective: Objective) -> float:
        return _score(objective, self.cycles, self.energy_pj)


def _score(objective: Objective, cycles: float, energy_pj: float) -> float:
    if objective is Objective.CYCLES:
        return float(cycles)
    if objective is Objective.ENERGY:
        return float(energy_pj)
    return float(cycles) * float(energy_pj)


def stream_tiles(t: int) -> list[int]:
    """Stream tile sizes of the space, largest first: ``T``, ``ceil(T/n)`` for n = 2..8, and
    the powers of two below ``T``."""
    sizes = {t} | {-(-t // n) for n in range(2, 9)} | {2**e for e in range(max(1, t).bit_length()) if 2**e < t}
    return sorted(sizes, reverse=True)


def _orders(counts: dict[str, int]) -> list[LoopOrder]:
    """Loop orders that differ once loops with one iteration are dropped (first of each kind)."""
    seen, out = set(), []
    for order in LoopOrder:
        key = "".join(name for name in order.value if counts[name] > 1)
        if key not in seen:
            seen.add(key)
            out.append(order)
    return out


def _buffering_options(arch: ArchSpec) -> list[tuple[bool, bool, bool]]:
    """The arch's double buffering first, then each of inputs/output switched off where it is on."""
    hw_in = hardware_double_buffering(arch)
    inputs = [hw_in[0] and hw_in[1]] + ([False] if hw_in[0] and hw_in[1] else [])
    outputs = [hw_in[2]] + ([False] if hw_in[2] else [])
    options = [(i, i, o) for i, o in itertools.product(inputs, outputs)]
    if hw_in[0] != hw_in[1]:  # the arch's own mixed setting stays first (the fixed mapping)
        options.insert(0, hw_in)
    return options


def mapping_space(problem: GemmProblem, arch: ArchSpec, *, rate: ArrayRate = DENSE_RATE) -> list[Mapping]:
    """Every mapping of the space for ``problem``, fixed mapping first, in a deterministic order.

    Capacity is not checked here (see :func:`mapped_schedule` and ``fits_buffers``).
    """
    fixed = fixed_mapping(arch)
    dataflows = [fixed.dataflow] + [d for d in Dataflow if d in arch.array.dataflows and d is not fixed.dataflow]
    k_map = rate.reduction(problem.k)
    space = [fixed]
    for dataflow in dataflows:
        sr, sc, t = spatial_mapping(dataflow, problem.m, problem.n, k_map)
        for tile in stream_tiles(t):
            counts = {"r": -(-sr // arch.array.rows), "c": -(-sc // arch.array.cols), "t": -(-t // tile)}
            for order in _orders(counts):
                for db in _buffering_options(arch):
                    mapping = Mapping(dataflow, order, None if tile == t else tile, db)
                    if mapping != fixed:
                        space.append(mapping)
    return space


@functools.lru_cache(maxsize=256)
def _energy_model(arch: ArchSpec, dataflow: Dataflow, weight_bits: int | str,
                  act_bits: int | str) -> tuple[float, dict[str, float]]:
    """``(pJ per MAC, pJ per unit of each count in ENERGY_COUNTS)`` of :func:`accelsim.cost.layer_energy`
    for operands of these formats (integer widths or format names such as ``"bf16"``).

    The energy model is linear in the counts (``energy_pj = sum(count x entry)``), so probing it
    with one MAC and with one unit of each count gives its exact coefficients.
    """
    if arch.array.dataflow is not dataflow:
        arch = dataclasses.replace(arch, array=dataclasses.replace(arch.array, dataflow=dataflow))
    rows = [{"macs": 1} | {name: 0 for name in ENERGY_COUNTS}]
    rows += [{"macs": 0} | {name: int(name == unit) for name in ENERGY_COUNTS} for unit in ENERGY_COUNTS]
    weight, act = number_format(weight_bits), number_format(act_bits)
    frame = pd.DataFrame(rows).assign(weight_bits=weight.bits, act_bits=act.bits, weight_precision=weight.name,
                                      act_precision=act.name)
    energy = layer_energy(frame, arch)["energy_pj"].to_numpy()
    return float(energy[0]), dict(zip(ENERGY_COUNTS, map(float, energy[1:])))


def mapping_energy_pj(arch: ArchSpec, dataflow: Dataflow, macs: int, counts: MappingType[str, float], *,
                      weight_bits: int | str, act_bits: int | str) -> float:
    """Energy (pJ) of one GEMM repeat with ``macs`` MACs and ``counts`` under ``dataflow`` (operands
    of these formats: integer widths or format names)."""
    return _energy(_energy_model(arch, dataflow, weight_bits, act_bits), macs, counts)


def _energy(model: tuple[float, dict[str, float]], macs: int, counts: MappingType[str, float]) -> float:
    per_mac, per_count = model
    return macs * per_mac + sum(per_count[name] * counts[name] for name in ENERGY_COUNTS)


def _bounds(problem: GemmProblem, arch: ArchSpec, mapping: Mapping, rate: ArrayRate, weight_bits: int,
            act_bits: int, energy_model: tuple[float, dict[str, float]]) -> tuple[float, float] | None:
    """Lower bounds ``(cycles, energy_pj)`` of one repeat under ``mapping``, in closed form, or
    ``None`` if the mapping surely does not fit the buffers.

    Cycles: the compute time without stalls (exact without preload overlap; with it, every
    stream step or every stationary load, whichever is longer, and one pass down the array), and
    the DRAM time of :func:`~accelsim.lower.tiling.traffic_bound`'s traffic. Energy: the same
    counts (SRAM and DRAM traffic bounds, leakage over the cycle bound) and the MACs.
    """
    bound = traffic_bound(problem, arch, mapping, rate=rate, weight_bits=weight_bits, act_bits=act_bits)
    if bound.cannot_fit:
        return None
    rows, cols = arch.array.rows, arch.array.cols
    k_map = rate.reduction(problem.k)
    sr, sc, t = spatial_mapping(mapping.dataflow, problem.m, problem.n, k_map)
    tile = t if mapping.t_tile is None else mapping.t_tile
    nr, nc, nt = -(-sr // rows), -(-sc // cols), -(-t // tile)
    stream = nr * nc * t * rate.cycles_per_product
    if arch.array.preload_overlap and mapping.dataflow is not Dataflow.OS:
        last_tile = (t - (nt - 1) * tile) * rate.cycles_per_product
        compute = max(min(rows, sr) + stream, nc * nt * sr + last_tile) + rows - 1
    elif mapping.dataflow is Dataflow.OS and arch.array.output_overlap:  # every stream, then one drain
        compute = stream + rows
    elif arch.array.operand_delivery is OperandDelivery.BROADCAST:  # os without skew: T + R per fold
        compute = stream + nr * nc * nt * rows
    else:
        compute = nc * nt * sr + nr * nt * sc + stream + nr * nc * nt * (rows - 2)
    psum_bits = arch.mac.accumulator_bits
    dram = bound.dram_words
    read_bytes = {"ifmap": dram[IFMAP] * act_bits / 8, "filter": dram[FILTER] * weight_bits / 8,
                  "ofmap": dram[OFMAP_READ] * psum_bits / 8}
    write_bytes = (dram[OFMAP_WRITE] - bound.psum_write_words) * act_bits / 8 + bound.psum_write_words * psum_bits / 8
    per_channel = ({"ifmap": read_bytes["ifmap"], "filter": read_bytes["filter"],
                    "ofmap": read_bytes["ofmap"] + write_bytes} if arch.dram.per_operand
                   else {"ifmap": sum(read_bytes.values()) + write_bytes})
    cycles = float(compute)
    for operand, nbytes in per_channel.items():
        bandwidth = arch.dram_bytes_per_cycle(operand)
        if bandwidth is not None:  # the rational bandwidth the fold model uses (lower.schedule.transfer_cycles)
            ratio = Fraction(bandwidth).limit_denominator(1000)
            cycles = max(cycles, nbytes * ratio.denominator / ratio.numerator)
    sram = bound.sram_words
    counts = {"ifmap_sram_reads": sram[IFMAP], "filter_sram_reads": sram[FILTER],
              "ofmap_sram_writes": sram[OFMAP_WRITE], "ofmap_sram_reads": sram[OFMAP_READ],
              "dram_read_bytes": sum(read_bytes.values()), "dram_write_bytes": write_bytes, "cycles": cycles}
    return cycles, _energy(energy_model, problem.m * problem.n * problem.k, counts)


@functools.lru_cache(maxsize=4096)
def search(problem: GemmProblem, arch: ArchSpec, evaluate: Evaluate, *, rate: ArrayRate = DENSE_RATE,
           weight_bits: int | str = 8, act_bits: int | str = 8, objective: Objective = Objective.CYCLES,
           exhaustive: bool = False) -> Choice:
    """The mapping of ``problem`` on ``arch`` that minimises ``objective`` (one repeat).

    Parameters
    ----------
    evaluate
        Exact counters of a schedule by column name (``cycles`` and the ``ENERGY_COUNTS``),
        e.g. :func:`accelsim.engine.fold.schedule_counts`. Must be a stable, hashable function
        (results are memoised with it in the key).
    objective
        :class:`Objective` (cycles, energy, edp).
    exhaustive
        Evaluate every mapping of the space instead of pruning (the reference the pruned search
        must match).

    Raises
    ------
    UnsupportedError
        If no mapping of the space fits the buffers.
    """
    macs = problem.m * problem.n * problem.k
    space = mapping_space(problem, arch, rate=rate)
    models = {d: _energy_model(arch, d, weight_bits, act_bits) for d in {m.dataflow for m in space}}
    weight_bits, act_bits = number_format(weight_bits).bits, number_format(act_bits).bits  # widths from here on
    ranked = list(enumerate(space))
    if not exhaustive:
        bounds = [_bounds(problem, arch, m, rate, weight_bits, act_bits, models[m.dataflow]) for m in space]
        ranked = [(i, m) for i, m in ranked if bounds[i] is not None]  # surely too big for the buffers
        bounds = [b if b is None else _score(objective, *b) for b in bounds]
        ranked.sort(key=lambda pair: (bounds[pair[0]], pair[0]))
    best: tuple[float, int] | None = None
    best_result: tuple[Mapping, int, float] | None = None
    evaluated = 0
    for position, mapping in ranked:
        if not exhaustive and best is not None and (bounds[position], position) > best:
            break  # sorted by (bound, position): no later candidate can win, even on a tie
        schedule = mapped_schedule(problem, arch, mapping, rate=rate, weight_bits=weight_bits, act_bits=act_bits)
        if not schedule.fits_buffers:
            continue
        evaluated += 1
        counts = evaluate(schedule, arch)
        energy = _energy(models[mapping.dataflow], macs, counts)
        key = (_score(objective, counts["cycles"], energy), position)
        if best is None or key < best:
            best, best_result = key, (mapping, int(counts["cycles"]), energy)
    if best_result is None:
        raise UnsupportedError(
            f"GEMM {problem.m}x{problem.n}x{problem.k}: no mapping fits the buffers of {arch.name} "
            f"(even one stream row per tile); enlarge the buffers")
    mapping, cycles, energy = best_result
    return Choice(mapping, cycles, energy, candidates=len(space), evaluated=evaluated)


__all__ = ["Choice", "mapping_energy_pj", "mapping_space", "search", "stream_tiles"]
