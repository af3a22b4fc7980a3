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
  left out: it is dominated (no prefetch overlap, less room for reuse than both off);
* blocks along ``n`` (``Mapping.n_block``), where one block re-reads its inputs: each width's
  block searched as its own GEMM (:func:`search_blocks`).

:func:`search_space` is branch and bound over the space of one block: a closed-form lower bound of the objective
for every candidate (compute cycles without stalls, DRAM time of the traffic no such mapping
avoids, the latency and fold spacing of the folds that fetch, what unbuffered reads and writes
serialise, and the energy of those counts), candidates taken best bound first, each evaluated
exactly, stopping when the next bound exceeds the best found. Bounds and evaluation run in the
mapper's kernels (:mod:`accelsim.engine.candidates`), which give
:func:`accelsim.engine.fold.schedule_counts`' numbers. It returns the same mapping as evaluating
the whole space with ``evaluate`` (``exhaustive=True``): the lowest objective, ties broken by
the space's order, which lists the fixed mapping first. :func:`search` takes the best of it and
of the blocks. Results are memoised by (GEMM, arch, rate, bits, objective).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Callable, Mapping as MappingType
from dataclasses import dataclass

import numpy as np

from accelsim.cost.energy import energy_columns
from accelsim.engine import candidates
from accelsim.engine.fold import schedule_counts
from accelsim.engine.lowering import LOOP_OF
from accelsim.errors import UnsupportedError
from accelsim.lower.gemm import DENSE_RATE, ArrayRate, GemmProblem
from accelsim.lower.schedule import TileSchedule, dataflow_code
from accelsim.lower.tiling import (
    LoopOrder, Mapping, fixed_mapping, hardware_double_buffering, mapped_schedule, shares_unified_buffer,
    spatial_mapping,
)
from accelsim.spec.arch import ArchSpec, Dataflow
from accelsim.spec.options import Objective
from accelsim.spec.number_format import number_format

# Exact counters of one schedule, by Result.layers column name (cycles, *_sram_*, dram_*_bytes).
Evaluate = Callable[[TileSchedule, ArchSpec], MappingType[str, int]]
ENERGY_COUNTS = ("ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes", "ofmap_sram_reads",
                 "dram_read_bytes", "dram_write_bytes", "cycles")


@dataclass(frozen=True)
class Choice:
    """The mapper's answer for one GEMM repeat: the mapping and its exact cycles and energy.

    ``candidates``: mappings in the space (fitting the buffers or not); ``evaluated``: how many
    fitted and were evaluated exactly.
    """

    mapping: Mapping
    cycles: int
    energy_pj: float
    candidates: int
    evaluated: int
    dram_read_bytes: int

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


@functools.lru_cache(maxsize=8)
def _orders(multiple: tuple[bool, bool, bool]) -> tuple[LoopOrder, ...]:
    """Loop orders that differ once loops with one iteration are dropped (first of each kind);
    ``multiple``: whether the r, c and t loops have more than one iteration."""
    seen, out = set(), []
    for order in LoopOrder:
        key = "".join(name for name in order.value if multiple["rct".index(name)])
        if key not in seen:
            seen.add(key)
            out.append(order)
    return tuple(out)


def _buffering_options(arch: ArchSpec) -> list[tuple[bool, bool, bool]]:
    """The arch's double buffering first, then each of inputs/output switched off where it is on."""
    hw_in = hardware_double_buffering(arch)
    inputs = [hw_in[0] and hw_in[1]] + ([False] if hw_in[0] and hw_in[1] else [])
    outputs = [hw_in[2]] + ([False] if hw_in[2] else [])
    options = [(i, i, o) for i, o in itertools.product(inputs, outputs)]
    if hw_in[0] != hw_in[1]:  # the arch's own mixed setting stays first (the fixed mapping)
        options.insert(0, hw_in)
    return options


_DATAFLOWS = tuple(Dataflow)  # by dataflow code
_ORDERS = {loops: order for order, loops in candidates.ORDER_LOOPS.items()}


@functools.lru_cache(maxsize=8)
def _order_loops(multiple: tuple[bool, bool, bool]) -> np.ndarray:
    """The loops (``candidates.ORDER_LOOPS``) of :func:`_orders`, one row per order."""
    return np.array([candidates.ORDER_LOOPS[order] for order in _orders(multiple)], dtype=np.int64)


def _space(problem: GemmProblem, arch: ArchSpec, rate: ArrayRate, within_blocks: bool = False) -> np.ndarray:
    """:func:`mapping_space` as the kernels' candidate table (:func:`accelsim.engine.candidates.candidate_table`);
    ``within_blocks``: a block's space, without the loop orders whose outermost loop runs along ``n``
    (their blocks run the one-block mapping's folds in its order, each block reading the input again).
    Read only: shared by every problem whose space has the same shape (:func:`_space_table`)."""
    fixed = fixed_mapping(arch)
    dataflows = [fixed.dataflow] + [d for d in Dataflow if d in arch.array.dataflows and d is not fixed.dataflow]
    k_map = rate.reduction(problem.k)
    shapes = []
    for dataflow in dataflows:
        sr, sc, t = spatial_mapping(dataflow, problem.m, problem.n, k_map)
        shapes.append((dataflow, sr > arch.array.rows, sc > arch.array.cols, tuple(stream_tiles(t))))
    return _space_table(_fields(fixed), tuple(shapes), tuple(_buffering_options(arch)), shares_unified_buffer(arch),
                        within_blocks)


@functools.lru_cache(maxsize=4096)
def _space_table(fixed: tuple, shapes: tuple, buffering: tuple, joint: bool, within_blocks: bool) -> np.ndarray:
    """The candidate table of :func:`_space` from the shape of the space: the fixed mapping's row,
    then per dataflow ``(dataflow, several row folds, several column folds, stream tiles)`` (largest
    first), the buffering options and whether a unified buffer is allocated jointly."""
    fixed_row = candidates.candidate_table([fixed])
    buffering = np.array(buffering, dtype=np.int64)
    blocks = [fixed_row]
    for dataflow, several_rows, several_cols, tiles in shapes:
        # the whole stream (one tile: its loop can sit anywhere), then the smaller tiles, largest first
        for tile_sizes, several in (([0], False), (tiles[1:], True)):
            loops = _order_loops((several_rows, several_cols, several))
            per_tile = len(loops) * len(buffering)
            block = np.empty((len(tile_sizes) * per_tile, fixed_row.shape[1]), dtype=np.int64)
            block[:, 0] = dataflow_code(dataflow)
            block[:, 1:4] = np.tile(np.repeat(loops, len(buffering), axis=0), (len(tile_sizes), 1))
            block[:, 4] = np.repeat(tile_sizes, per_tile)
            block[:, 5:8] = np.tile(buffering, (len(tile_sizes) * len(loops), 1))
            block[:, 8] = joint
            blocks.append(block)
    table = np.concatenate(blocks)
    keep = np.ones(len(table), dtype=bool)
    keep[1:] = (table[1:] != fixed_row[0]).any(axis=1)
    if within_blocks:
        n_loop = np.array([candidates.LOOPS[LOOP_OF[dataflow][2]] for dataflow in _DATAFLOWS])
        keep &= table[:, 1] != n_loop[table[:, 0]]
    table = table[keep]
    table.flags.writeable = False
    return table


def _mapping(row: np.ndarray) -> Mapping:
    """The :class:`Mapping` of one candidate-table row."""
    return Mapping(_DATAFLOWS[row[0]], _ORDERS[tuple(int(x) for x in row[1:4])], int(row[4]) or None,
                   tuple(bool(x) for x in row[5:8]), bool(row[8]))


def _fields(mapping: Mapping) -> tuple:
    """The fields of ``mapping`` a candidate-table row holds (:func:`candidates.candidate_table`'s
    input; :func:`_mapping` reads them back)."""
    return mapping.dataflow, mapping.order, mapping.t_tile, mapping.double_buffered, mapping.joint_buffer


def mapping_space(problem: GemmProblem, arch: ArchSpec, *, rate: ArrayRate = DENSE_RATE) -> list[Mapping]:
    """Every mapping of the space for ``problem``, fixed mapping first, in a deterministic order.

    Capacity is not checked here (see :func:`mapped_schedule` and ``fits_buffers``).
    """
    return [_mapping(row) for row in _space(problem, arch, rate)]


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
    probes = 1 + len(ENERGY_COUNTS)  # one MAC, then one unit of each count
    unit = np.eye(probes)
    weight, act = number_format(weight_bits), number_format(act_bits)
    columns = {"macs": unit[0]} | {name: unit[1 + i] for i, name in enumerate(ENERGY_COUNTS)}
    columns |= {"weight_bits": np.full(probes, float(weight.bits)), "act_bits": np.full(probes, float(act.bits)),
                "weight_precision": np.full(probes, weight.name, dtype=object),
                "act_precision": np.full(probes, act.name, dtype=object)}
    energy = energy_columns(columns, np.ones(probes, dtype=bool), arch)["energy_pj"]
    return float(energy[0]), dict(zip(ENERGY_COUNTS, map(float, energy[1:])))


def mapping_energy_pj(arch: ArchSpec, dataflow: Dataflow, macs: int, counts: MappingType[str, float], *,
                      weight_bits: int | str, act_bits: int | str) -> float:
    """Energy (pJ) of one GEMM repeat with ``macs`` MACs and ``counts`` under ``dataflow`` (operands
    of these formats: integer widths or format names)."""
    return _energy(_energy_table(arch, weight_bits, act_bits, [dataflow])[dataflow_code(dataflow)], macs, counts)


def _energy(coef: np.ndarray, macs: int, counts: MappingType[str, float]) -> float:
    """pJ of ``macs`` MACs and ``counts`` with the coefficients ``coef`` (pJ per MAC, then per unit of
    each ``ENERGY_COUNTS``), summed in the order the mapper's kernel sums them."""
    return float(macs * coef[0] + sum(coef[1 + i] * counts[name] for i, name in enumerate(ENERGY_COUNTS)))


def _energy_table(arch: ArchSpec, weight_bits: int | str, act_bits: int | str, dataflows) -> np.ndarray:
    """float64 ``[len(Dataflow), 8]``: per dataflow code, pJ per MAC then pJ per unit of each ``ENERGY_COUNTS``."""
    table = np.zeros((len(Dataflow), 1 + len(ENERGY_COUNTS)))
    for dataflow in dataflows:
        per_mac, per_count = _energy_model(arch, dataflow, weight_bits, act_bits)
        table[dataflow_code(dataflow)] = [per_mac, *(per_count[name] for name in ENERGY_COUNTS)]
    return table


@functools.lru_cache(maxsize=4096)
def search(problem: GemmProblem, arch: ArchSpec, evaluate: Evaluate, *, rate: ArrayRate = DENSE_RATE,
           weight_bits: int | str = 8, act_bits: int | str = 8, objective: Objective = Objective.CYCLES,
           exhaustive: bool = False, energy_arch: ArchSpec | None = None) -> Choice:
    """The mapping of ``problem`` on ``arch`` that minimises ``objective`` (one repeat): the best of
    :func:`search_blocks` (one block, then blocks along ``n``; parameters and errors as there)."""
    return search_blocks(problem, arch, evaluate, rate=rate, weight_bits=weight_bits, act_bits=act_bits,
                         objective=objective, exhaustive=exhaustive, energy_arch=energy_arch)[0]


REREAD = 1.01
"""Blocks are searched when the one-block choice reads more than this many times the bytes of its
inputs read once (the ``1%`` covers bytes rounded up fold by fold): blocks only save DRAM reads (an
input reused across a block's column folds, partial sums kept), and each block reads the whole input."""


def _input_bytes(problem: GemmProblem, kwargs: dict) -> int:
    """DRAM bytes of ``problem``'s input and stored weights, each read once."""
    rate = kwargs.get("rate", DENSE_RATE)
    act, weight = (number_format(kwargs.get(name, 8)).bits for name in ("act_bits", "weight_bits"))
    return -(-problem.ifmap_words * act // 8) + -(-rate.stored_reduction(problem.k) * problem.n * weight // 8)


def clear_search_memos() -> None:
    """Forget every search (:func:`search`'s memo, :func:`search_space`'s and their candidate tables
    and bounds): benchmarks of cold searches."""
    for memo in (search, search_blocks, search_space, _candidates, _bound_scores, _space_table):
        memo.cache_clear()


def block_sizes(problem: GemmProblem, arch: ArchSpec) -> list[int]:
    """Block widths (output columns) tried along ``n``: the array's columns times each power of two
    from 2 on that leaves at least two blocks, largest first. One column fold per block is left out:
    its blocks are the one-block mappings with the column-fold loop outermost, each block reading
    the input again."""
    cols = arch.array.cols
    return [cols << e for e in range(max(0, (problem.n - 1) // cols).bit_length() - 1, 0, -1)
            if 2 * (cols << e) <= problem.n]


@functools.lru_cache(maxsize=4096)
def search_blocks(problem: GemmProblem, arch: ArchSpec, evaluate: Evaluate, **kwargs) -> tuple[Choice, ...]:
    """The best mapping of ``problem`` in one block (:func:`search_space`) and, where its inputs are
    read more than once (:data:`REREAD`), for each of :func:`block_sizes` the best mapping of a block
    (``n`` cut to that width) with the whole GEMM run as such blocks
    (:func:`accelsim.lower.tiling.n_blocks`; a shorter last block under the same mapping), best
    first: by the objective, then one block before blocks and wider blocks before narrower ones.

    Widths are taken in the order of their lower bounds (the number of full blocks times the
    smallest candidate bound of a block, which counts the whole input per block) and the rest
    left out once a bound cannot beat the best found (``exhaustive``: every width), so the first
    entry is the exhaustive one's; a width whose blocks fit no mapping is left out.
    ``kwargs``: :func:`search_space`'s. Memoised like :func:`search`."""
    whole = search_space(problem, arch, evaluate, **kwargs)
    objective = kwargs.get("objective", Objective.CYCLES)
    if whole.dram_read_bytes <= REREAD * _input_bytes(problem, kwargs):
        return (whole,)  # the inputs are read about once: blocks, each reading the whole input, cannot read less
    bound = {name: value for name, value in kwargs.items() if name != "exhaustive"}
    widths = list(enumerate(block_sizes(problem, arch), start=1))  # (rank, width): rank 0 is one block
    if not kwargs.get("exhaustive"):
        lower = {width: (problem.n // width) * _lowest_bound(dataclasses.replace(problem, n=width), arch, **bound,
                                                             within_blocks=True) for _, width in widths}
        widths.sort(key=lambda ranked: (lower[ranked[1]], ranked[0]))
    found = [(whole.score(objective), 0, whole)]
    for rank, width in widths:
        if not kwargs.get("exhaustive") and (lower[width], rank) > min(found)[:2]:
            break  # neither this width nor any later one can beat the best found
        try:
            block = search_space(dataclasses.replace(problem, n=width), arch, evaluate, **kwargs, within_blocks=True)
        except NoMappingFits:
            continue
        rest, full = problem.n % width, problem.n // width
        total = np.array([block.cycles, block.energy_pj, block.dram_read_bytes], dtype=object) * full
        if rest:
            last = _evaluate_one(dataclasses.replace(problem, n=rest), arch, evaluate, block.mapping, **kwargs)
            if last is None:
                continue
            total += last
        choice = Choice(dataclasses.replace(block.mapping, n_block=width), int(total[0]), float(total[1]),
                        block.candidates, block.evaluated, int(total[2]))
        found.append((choice.score(objective), rank, choice))
    return tuple(choice for _, _, choice in sorted(found, key=lambda entry: entry[:2]))


def _evaluate_one(problem: GemmProblem, arch: ArchSpec, evaluate: Evaluate, mapping: Mapping, *,
                  rate: ArrayRate = DENSE_RATE, weight_bits: int | str = 8, act_bits: int | str = 8,
                  objective: Objective = Objective.CYCLES, exhaustive: bool = False,
                  energy_arch: ArchSpec | None = None) -> tuple[int, float, int] | None:
    """``(cycles, energy in pJ, DRAM bytes read)`` of ``problem`` under ``mapping`` (``evaluate``'s
    numbers), ``None`` if its tiles do not fit the buffers. ``schedule_counts``' numbers come from the
    mapper's exact kernel (``candidates.counts``: the same counters, its folds timed a chunk at a
    time) where its counts stay within int64, instead of a schedule built whole."""
    energy = _energy_table(energy_arch or arch, weight_bits, act_bits, [mapping.dataflow])
    weight_bits, act_bits = number_format(weight_bits).bits, number_format(act_bits).bits
    params = candidates.gemm_params(problem, arch, rate, weight_bits, act_bits) if evaluate is schedule_counts else None
    if params is not None:
        counts = candidates.counts(params, candidates.candidate_table([_fields(mapping)])[0])
        if counts is None:
            return None
    else:
        schedule = mapped_schedule(problem, arch, mapping, rate=rate, weight_bits=weight_bits, act_bits=act_bits)
        if not schedule.fits_buffers:
            return None
        counts = evaluate(schedule, arch)
    return (int(counts["cycles"]), _energy(energy[dataflow_code(mapping.dataflow)], problem.m * problem.n * problem.k,
                                           counts), int(counts["dram_read_bytes"]))


@functools.lru_cache(maxsize=1024)
def _candidates(problem: GemmProblem, arch: ArchSpec, rate: ArrayRate, weight_bits: int | str, act_bits: int | str,
                energy_arch: ArchSpec | None, within_blocks: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(candidate table, energy table, kernel parameters or None)`` of ``problem``'s space (of a
    block's, ``within_blocks``: :func:`_space`); memoised (a block's bound, then its search), read only."""
    table = _space(problem, arch, rate, within_blocks)
    dataflows = [_DATAFLOWS[code] for code in np.unique(table[:, 0])]
    energy = _energy_table(energy_arch or arch, weight_bits, act_bits, dataflows)
    params = candidates.gemm_params(problem, arch, rate, number_format(weight_bits).bits,
                                    number_format(act_bits).bits)
    return table, energy, params


@functools.lru_cache(maxsize=1024)
def _bound_scores(problem: GemmProblem, arch: ArchSpec, rate: ArrayRate, weight_bits: int | str, act_bits: int | str,
                  energy_arch: ArchSpec | None, within_blocks: bool, objective: Objective) -> np.ndarray:
    """Each candidate's lower bound of ``objective`` (:func:`accelsim.engine.candidates.bound_scores`;
    the kernels' parameters must exist); memoised like :func:`_candidates` (read only)."""
    table, energy, params = _candidates(problem, arch, rate, weight_bits, act_bits, energy_arch, within_blocks)
    return candidates.bound_scores(params, table, energy, problem.m * problem.n * problem.k, objective.value)


def _lowest_bound(problem: GemmProblem, arch: ArchSpec, *, rate: ArrayRate = DENSE_RATE,
                  weight_bits: int | str = 8, act_bits: int | str = 8, objective: Objective = Objective.CYCLES,
                  energy_arch: ArchSpec | None = None, within_blocks: bool = False) -> float:
    """A lower bound of ``objective`` over ``problem``'s whole space (the smallest candidate bound;
    ``inf`` if none can fit; ``-inf`` where the kernels cannot bound it)."""
    if _candidates(problem, arch, rate, weight_bits, act_bits, energy_arch, within_blocks)[2] is None:
        return -np.inf
    return float(_bound_scores(problem, arch, rate, weight_bits, act_bits, energy_arch, within_blocks,
                               objective).min())


@functools.lru_cache(maxsize=4096)
def search_space(problem: GemmProblem, arch: ArchSpec, evaluate: Evaluate, *, rate: ArrayRate = DENSE_RATE,
                 weight_bits: int | str = 8, act_bits: int | str = 8, objective: Objective = Objective.CYCLES,
                 exhaustive: bool = False, energy_arch: ArchSpec | None = None, within_blocks: bool = False) -> Choice:
    """The mapping of ``problem`` on ``arch`` (in one block) that minimises ``objective`` (one repeat).

    Parameters
    ----------
    evaluate
        Exact counters of a schedule by column name (``cycles`` and the ``ENERGY_COUNTS``),
        e.g. :func:`accelsim.engine.fold.schedule_counts`. Must be a stable, hashable function
        (results are memoised with it in the key). For ``schedule_counts`` the pruned search
        runs in the mapper's kernels (:mod:`accelsim.engine.candidates`), which give its numbers
        without building schedules.
    objective
        :class:`Objective` (cycles, energy, edp).
    exhaustive
        Evaluate every mapping of the space with ``evaluate`` instead of pruning (the reference
        the pruned search must match).
    energy_arch
        The arch whose buffers price the energy (``None``: ``arch``): a search in a buffer that
        the memory plan has reduced (:func:`accelsim.lower.memory_plan.resident_arch`) prices
        SRAM accesses on the real one.

    Raises
    ------
    UnsupportedError
        If no mapping of the space fits the buffers.
    """
    macs = problem.m * problem.n * problem.k
    table, energy, params = _candidates(problem, arch, rate, weight_bits, act_bits, energy_arch, within_blocks)
    weight_bits_given, act_bits_given = weight_bits, act_bits
    weight_bits, act_bits = number_format(weight_bits).bits, number_format(act_bits).bits  # widths from here on
    if params is None and not exhaustive:
        raise UnsupportedError(f"GEMM {problem.m}x{problem.n}x{problem.k}: its counts could pass the mapper's "
                               "int64 range (docs/limits.md); use mapping fixed, or split the layer")
    if not exhaustive:
        scores = _bound_scores(problem, arch, rate, weight_bits_given, act_bits_given, energy_arch, within_blocks,
                               objective)
        ranked = np.lexsort((np.arange(len(table)), scores))
        if evaluate is schedule_counts:  # the kernels' own evaluation: the whole search in one call
            position, counts, evaluated, energy_pj = candidates.branch_and_bound(
                params, table, ranked, scores, energy, macs, objective.value)
            if position < 0:
                raise _no_fit(problem, arch)
            return Choice(_mapping(table[position]), counts["cycles"], energy_pj, len(table), evaluated,
                          counts["dram_read_bytes"])
        ranked = [(int(i), scores[i]) for i in ranked if scores[i] < np.inf]
    else:  # every candidate, in order
        ranked = [(i, -np.inf) for i in range(len(table))]
    best: tuple[float, int] | None = None
    best_result: tuple[Mapping, int, float, int] | None = None
    evaluated = 0
    for position, bound in ranked:
        if best is not None and (bound, position) > best:
            break  # sorted by (bound, position): no later candidate can win, even on a tie
        mapping = _mapping(table[position])
        schedule = mapped_schedule(problem, arch, mapping, rate=rate, weight_bits=weight_bits, act_bits=act_bits)
        if not schedule.fits_buffers:
            continue
        evaluated += 1
        counts = evaluate(schedule, arch)
        energy_pj = _energy(energy[dataflow_code(mapping.dataflow)], macs, counts)
        key = (_score(objective, counts["cycles"], energy_pj), position)
        if best is None or key < best:
            best, best_result = key, (mapping, int(counts["cycles"]), energy_pj, int(counts["dram_read_bytes"]))
    if best_result is None:
        raise _no_fit(problem, arch)
    mapping, cycles, energy_pj, read_bytes = best_result
    return Choice(mapping, cycles, energy_pj, candidates=len(table), evaluated=evaluated, dram_read_bytes=read_bytes)


class NoMappingFits(UnsupportedError):
    """No mapping of the searched space fits the buffers (the fixed mapping may still run: it
    streams through buffers of any size)."""


def _no_fit(problem: GemmProblem, arch: ArchSpec) -> NoMappingFits:
    return NoMappingFits(
        f"GEMM {problem.m}x{problem.n}x{problem.k}: no mapping fits the buffers of {arch.name} "
        f"(even one stream row per tile); enlarge the buffers")


__all__ = ["Choice", "NoMappingFits", "block_sizes", "clear_search_memos", "mapping_energy_pj", "mapping_space", "search",
           "search_blocks", "search_space", "stream_tiles"]
