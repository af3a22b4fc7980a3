"""How a layer is divided among several arrays: the split with the lowest objective.

Every split the arch allows (``arrays.split``: ``columns``, ``rows``, ``reduction``, ``groups``) is
run by :func:`accelsim.engine.arrays.run_split` and scored; ties go to the split listed first.
Minimising cycles under native timing, a split whose lower bound of cycles (its slowest part's
streams, :func:`_least_cycles`) already loses to the best one run is not run: the same choice.
``groups`` of a layer with one GEMM would leave every array but one idle: it is tried only when
no other split is allowed. With
``mapping: search`` each split's per-array mapping is searched first
(:func:`accelsim.mapper.gemm.search` on the largest part, with one array's view of the arch and
``1/count`` of the DRAM bandwidth, the fair share of arrays that all stream: an approximation,
the chosen mapping is then timed with the engine's own bandwidth shares; a mapping with blocks
along ``n`` is timed beside the best one-block mapping, and the faster kept).
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.cost import per_action_energy
from accelsim.engine.arrays import ChipRun, SplitPlan, array_arch, run_split, split_problem
from accelsim.engine.compression import LayerSparsity
from accelsim.engine.fold import COUNT_COLUMNS, schedule_counts
from accelsim.errors import UnsupportedError
from accelsim.lower.gemm import ArrayRate, lower_layer
from accelsim.lower.memory_plan import NO_SCALE, TrafficScale
from accelsim.lower.tiling import Mapping, spatial_mapping
from accelsim.mapper.gemm import ENERGY_COUNTS, mapping_energy_pj, search_blocks
from accelsim.spec.arch import ArchSpec, ArraySplit, Dataflow, TimingModel
from accelsim.spec.options import Objective
from accelsim.spec.workload import Layer


@dataclass(frozen=True)
class SplitChoice:
    """A layer's split: how many arrays ran it, the per-array ``mapping`` (``None``: the fixed
    one) with its ``dataflow``, and the chip's counters."""

    split: ArraySplit
    arrays_used: int
    mapping: Mapping | None
    dataflow: Dataflow
    run: ChipRun

    def describe(self) -> str:
        """``4x columns`` or, with a searched mapping, ``4x columns | ws tcr t=T db=if``."""
        head = f"{self.arrays_used}x {self.split.value}"
        return head if self.mapping is None else f"{head} | {self.mapping.describe()}"


def chip_energy_pj(arch: ArchSpec, layer: Layer, dataflow: Dataflow, run: ChipRun) -> float:
    """Energy (pJ) of a layer's chip counters under ``dataflow``, the link and the reduction's
    additions included (the same model as :func:`accelsim.cost.layer_energy`)."""
    counts = {name: int(run.counters[COUNT_COLUMNS[name]]) for name in ENERGY_COUNTS}
    bits = layer.compression
    energy = mapping_energy_pj(arch, dataflow, layer.macs, counts, weight_bits=bits.weight_precision.name,
                               act_bits=bits.act_precision.name)
    if run.link_bytes or run.reduction_adds:
        table = per_action_energy(arch)
        energy += run.link_bytes * table["link_byte"] + run.reduction_adds * table["reduction_add"]
    return energy


def _score(objective: Objective, arch: ArchSpec, layer: Layer, dataflow: Dataflow, run: ChipRun) -> float:
    cycles = float(run.counters[COUNT_COLUMNS["cycles"]])
    if objective is Objective.CYCLES:
        return cycles
    energy = chip_energy_pj(arch, layer, dataflow, run)
    return energy if objective is Objective.ENERGY else cycles * energy


def choose_split(layer: Layer, arch: ArchSpec, rate: ArrayRate, objective: Objective, *, search_mapping: bool,
                 sparsity: LayerSparsity | None = None, traffic: TrafficScale = NO_SCALE,
                 energy_arch: ArchSpec | None = None) -> SplitChoice | None:
    """The split of ``layer`` among ``arch.arrays.count`` arrays with the lowest ``objective``
    (``None`` for vector work), its DRAM traffic as the memory plan leaves it (``traffic``), its
    energy priced on ``energy_arch`` (``None``: ``arch``; the real buffers when ``arch``'s are what
    the memory plan leaves, :func:`accelsim.lower.memory_plan.resident_arch`). Raises the first
    split's UnsupportedError if no split can run.

    Minimising cycles under native timing, the candidates run in the order of a lower bound of their
    cycles (:func:`_least_cycles`), and those whose bound already loses to the best run are not run:
    the same choice as running them all, ties to the one listed first."""
    priced = energy_arch or arch
    problem = lower_layer(layer, arch.timing_model)
    if problem is None:
        return None
    bounded = objective is Objective.CYCLES and arch.timing_model is TimingModel.NATIVE
    candidates, errors = [], []  # (bound of cycles, listed position, plan, mapping); (listed position, error)
    for split in _candidates(arch, problem.repeats):
        plan = split_problem(problem, split, arch.arrays.count, rate)
        try:
            mappings = (_searched(plan.parts[0].problem, layer, arch, rate, objective, priced) if search_mapping
                        else [None])
        except UnsupportedError as error:
            errors.append((len(candidates), error))
            continue
        candidates.extend((_least_cycles(plan, arch, rate, mapping) if bounded else 0, len(candidates) + i, plan,
                           mapping) for i, mapping in enumerate(mappings))
    best, best_key = None, (0.0, 0)
    for bound, position, plan, mapping in sorted(candidates, key=lambda c: c[:2]):
        if best is not None and (bound, position) > best_key:  # so is every later one's
            break
        try:
            run = run_split(plan, layer, arch, rate, mapping, sparsity, traffic)
        except UnsupportedError as error:
            errors.append((position, error))
            continue
        dataflow = mapping.dataflow if mapping is not None else arch.array.dataflow
        key = (_score(objective, priced, layer, dataflow, run), position)
        if best is None or key < best_key:
            best, best_key = SplitChoice(plan.split, plan.arrays_used, mapping, dataflow, run), key
    if best is None:
        raise min(errors, key=lambda e: e[0])[1]
    return best


def _least_cycles(plan: SplitPlan, arch: ArchSpec, rate: ArrayRate, mapping: Mapping | None) -> int:
    """A lower bound of the chip's cycles under ``plan`` (native timing): its slowest part's streams,
    the folds' stream cycles one after another (each fold streams its time tile through the array,
    ``systolic.fold_durations``), whatever its DRAM traffic and share of the channel. Blocks along
    ``n`` only add folds (``ceil`` of each block's columns)."""
    dataflow = arch.array.dataflow if mapping is None else mapping.dataflow
    least = 0
    for part in plan.parts:
        sr, sc, t = spatial_mapping(dataflow, part.problem.m, part.problem.n, rate.reduction(part.problem.k))
        folds = -(-sr // arch.array.rows) * -(-sc // arch.array.cols)
        least = max(least, folds * t * rate.cycles_per_product * part.problem.repeats)
    return least


def _candidates(arch: ArchSpec, repeats: int) -> list[ArraySplit]:
    """The arch's splits; ``groups`` of a layer with one GEMM (one array alone) only if nothing else is allowed."""
    splits = [split for split in arch.arrays.split if split is not ArraySplit.GROUPS or repeats > 1]
    return splits or list(arch.arrays.split)


def _searched(part, layer: Layer, arch: ArchSpec, rate: ArrayRate, objective: Objective,
              energy_arch: ArchSpec) -> list[Mapping]:
    """The searched mapping of one array's ``part`` (see the module docstring), priced with one
    array's view of ``energy_arch``; with blocks along ``n``, also the best mapping in one block:
    the search ranks them at ``1/count`` of the bandwidth, the engine's own shares decide."""
    bandwidth = arch.dram_bytes_per_cycle()
    share = None if bandwidth is None else bandwidth / arch.arrays.count
    one, priced = array_arch(arch, share), array_arch(energy_arch, share)
    bits = layer.compression
    try:
        choices = search_blocks(part, one, schedule_counts, rate=rate, weight_bits=bits.weight_bits,
                                act_bits=bits.act_bits, objective=objective, energy_arch=priced)
    except UnsupportedError as error:
        raise UnsupportedError(f"layer {layer.name}: {error}") from None
    best = choices[0].mapping
    return [best] if best.n_block is None else [best, next(c.mapping for c in choices if c.mapping.n_block is None)]
