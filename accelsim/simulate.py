"""The one entry point: ``simulate(arch, network, fidelity) -> Result``."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import sys
from collections.abc import Callable, Sequence

import numpy as np

from accelsim.cost import energy_columns, summary_metrics
from accelsim.engine import cycle, fold, lowering, pe, vector, work
from accelsim.engine.arrays import check_fidelity
from accelsim.engine.compression import layer_sparsity, sparsity_columns
from accelsim.engine.dispatch import add_dispatch
from accelsim.errors import UnsupportedError
from accelsim.hw.mac import check_layer_precision, check_network_precision
from accelsim.hw.sparse.nm import native_pattern
from accelsim.kernels import codes
from accelsim.lower.gemm import DENSE_RATE, ArrayRate, lower_layer, reduction_rate
from accelsim.lower.memory_plan import NO_SCALE, LayerTraffic, NetworkPlan, TrafficScale, network_plan, resident_arch
from accelsim.lower.tiling import Mapping, fixed_mapping
from accelsim.mapper import check_mapping, layer_mapping, run_mapping
from accelsim.mapper.gemm import mapping_energy_pj
from accelsim.mapper.split import choose_split
from accelsim.mapper.hierarchy import network_columns
from accelsim.result import Result, clear_descriptors, layer_columns, layer_descriptors, network_totals
from accelsim.spec.arch import ArchSpec, TimingModel
from accelsim.spec.memo import KeyedMemo, clear_spec_memos, spec_memo
from accelsim.spec.options import Fidelity, MappingMode, Objective, run_option
from accelsim.spec.workload import DRAM_INPUT, Layer, Network, work_ids

# How fast the array runs a layer (products per cycle, cycles per product, native N:M).
MacRateRule = Callable[[Layer, ArchSpec], ArrayRate]


def dense_rate(layer: Layer, arch: ArchSpec) -> ArrayRate:
    """One product per MAC per cycle, no structured sparsity (an override of the hardware's rule)."""
    return DENSE_RATE


def hardware_rate(layer: Layer, arch: ArchSpec) -> ArrayRate:
    """The arch's own rate for ``layer``: its MAC unit at the layer's operand widths
    (:func:`accelsim.hw.mac.check_layer_precision`: Bit Fusion ``p``, bit-serial ``q``, decomposition
    passes) and, when the arch lists structured patterns and the layer's weights are N:M, the
    fastest native pattern (:func:`accelsim.hw.sparse.nm.native_pattern`).

    Raises UnsupportedError naming the layer if the MAC unit cannot run its widths.
    """
    rate = check_layer_precision(arch, layer)
    if rate is None:
        return DENSE_RATE
    layer_nm = layer.compression.sparsity.n_m
    nm = native_pattern(arch.sparsity.structured, *layer_nm) if layer_nm is not None else None
    return ArrayRate(rate.products_per_cycle, rate.cycles_per_product, nm)


def _layer_energy(columns: dict[str, np.ndarray], arch: ArchSpec, dataflows: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`energy_columns`, each layer costed with the dataflow its mapping uses (PE hops differ)."""
    costed = columns["costed"]
    energy = energy_columns(columns, costed, arch)
    for dataflow in {d for d in dataflows if d is not arch.array.dataflow}:  # enum members: identity
        rows = dataflows == dataflow
        other = dataclasses.replace(arch, array=dataclasses.replace(arch.array, dataflow=dataflow))
        subset = energy_columns({name: values[rows] for name, values in columns.items()}, costed[rows], other)
        for name, values in energy.items():
            values[rows] = subset[name]
    return energy


def _run_layer(engine, arch: ArchSpec, layer: Layer, rate: ArrayRate, objective: Objective, search: bool,
               traffic: TrafficScale, strict: bool = True, resident: int = 0) -> tuple:
    """``(sparsity plan, choice, counters or None, numeric error or None)`` of one layer.

    The choice is the searched mapping (``search``, for ``objective``; else ``None``: the fixed
    mapping) or, with several arrays, the split with the lowest ``objective``
    (:class:`accelsim.mapper.split.SplitChoice`); the error only in the ``pe`` fidelity, whose one
    PE run gives both. ``traffic``: the DRAM traffic the network's memory plan leaves the layer
    (the mapping is searched before the plan); ``strict``: :func:`accelsim.mapper.layer_mapping`'s.
    ``resident``: bytes of other tensors the plan keeps on chip across the layer; the layer is
    mapped and run on :func:`accelsim.lower.memory_plan.resident_arch` (the pool less them), its
    energy priced on ``arch``.
    """
    space = resident_arch(arch, resident)
    plan = _sparsity_plan(arch, layer, rate)
    if engine is pe:  # fixed mappings only
        return plan, None, *pe.run_layer_measured(layer, space, rate, sparsity=plan, traffic=traffic)
    if arch.arrays.count > 1:
        split = choose_split(layer, space, rate, objective, search_mapping=search, sparsity=plan, traffic=traffic,
                             energy_arch=arch)
        return plan, split, None if split is None else split.run.counters, None
    chosen = _searched_mapping(layer, space, rate, objective, strict, traffic, arch) if search else None
    searched = {"mapping": chosen} if chosen is not None else {}
    return plan, chosen, engine.run_layer(layer, space, rate, sparsity=plan, traffic=traffic, **searched), None


# :func:`accelsim.engine.compression.layer_sparsity` memoized per (arch, layer, rate), a few
# networks' distinct layers (a skipping layer's plan holds one stream length per fold).
_sparsity_plan = spec_memo(256)(layer_sparsity)


@functools.lru_cache(maxsize=4096)
def _searched_mapping(layer: Layer, arch: ArchSpec, rate: ArrayRate, objective: Objective, strict: bool,
                      traffic: TrafficScale, energy_arch: ArchSpec) -> Mapping | None:
    """The mapping a searching run gives ``layer`` (``None`` for vector work) on ``arch`` (the
    space the memory plan leaves it): :func:`accelsim.mapper.layer_mapping`'s for its sparsity
    plan, then :func:`_best_under_plan`'s under the memory plan's ``traffic``; energy priced on
    ``energy_arch``. Memoized like the mapper's search (a pure function of frozen specs; errors
    are raised again on every call)."""
    chosen = layer_mapping(layer, arch, rate, objective, _sparsity_plan(arch, layer, rate), strict,
                           energy_arch=energy_arch)
    if chosen is not None and traffic != NO_SCALE:
        chosen = _best_under_plan(layer, arch, rate, objective, traffic, chosen, energy_arch)
    return chosen


def _best_under_plan(layer: Layer, arch: ArchSpec, rate: ArrayRate, objective: Objective,
                     traffic: TrafficScale, searched: Mapping, energy_arch: ArchSpec) -> Mapping:
    """``searched``, or the fixed mapping when that fits the buffers and scores better for
    ``objective`` under the memory plan's traffic (the mapper ranks mappings on a layer's own full
    traffic; docs/memory_plan.md): a searched layer is never worse than the fixed one, plan or not.
    Energy is priced on ``energy_arch``."""
    fixed = fixed_mapping(arch)
    if searched == fixed or not lowering.layer_schedule(lower_layer(layer, arch.timing_model), layer, arch, rate=rate,
                                                        mapping=fixed).fits_buffers:
        return searched
    plan = _sparsity_plan(arch, layer, rate)

    def score(mapping: Mapping) -> float:
        stats = fold.run_layer(layer, arch, rate, mapping=mapping, sparsity=plan, traffic=traffic)
        counts = {name: int(stats[index]) for name, index in fold.COUNT_COLUMNS.items()}
        bits = layer.compression
        energy = mapping_energy_pj(energy_arch, mapping.dataflow, layer.macs, counts, weight_bits=bits.weight_bits,
                                   act_bits=bits.act_bits)
        cycles = counts["cycles"]
        return {Objective.CYCLES: cycles, Objective.ENERGY: energy}.get(objective, cycles * energy)

    return fixed if score(fixed) <= score(searched) else searched  # ties: the fixed one, as the mapper


def _layer_rows(arch: ArchSpec, runs: list[tuple], slots: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per layer (its distinct run ``runs[slots[i]]``, from :func:`_run_layer`): the mapping's
    description (or None), its dataflow, the fold counters, whether it is costed, and with several
    arrays the link bytes, link cycles and reduction adds (else zeros)."""
    count = len(runs)
    mappings = np.full(count, None, dtype=object)
    dataflows = np.full(count, arch.array.dataflow, dtype=object)
    stats = np.zeros((count, fold.FOLD_STAT_COUNT), dtype=np.int64)
    costed = np.zeros(count, dtype=bool)
    links = np.zeros((count, 3), dtype=np.int64)
    for slot, (_, chosen, counters, _) in enumerate(runs):
        if chosen is not None:
            mappings[slot] = chosen.describe()
            dataflows[slot] = chosen.dataflow
        if counters is not None:
            stats[slot] = counters
            costed[slot] = True
            if arch.arrays.count > 1:
                links[slot] = (chosen.run.link_bytes, chosen.run.link_cycles, chosen.run.reduction_adds)
    return mappings[slots], dataflows[slots], stats[slots], costed[slots], links[slots]


def _memory_plan(arch: ArchSpec, net: Network, enabled: bool | None) -> NetworkPlan | None:
    """The network's memory plan (:func:`accelsim.lower.memory_plan.network_plan`), or None when off."""
    enabled = arch.plans_memory if enabled is None else enabled
    if not enabled:
        return None
    if arch.timing_model is TimingModel.SCALESIM:
        raise UnsupportedError(f"{arch.name}: SCALE-Sim timing has no inter-layer memory plan; "
                               "use timing_model native or memory_plan=False")
    return network_plan(net, arch)


@functools.lru_cache(maxsize=64)
def memory_plan_columns(plan: tuple[LayerTraffic, ...]) -> dict[str, np.ndarray]:
    """Per-layer columns of the memory plan: where each operand came from, where the output went.
    Memoized per plan, read-only (the designs that share a plan share them, as the layer descriptors)."""
    columns = {
        "ifmap_source": np.array([t.source for t in plan], dtype=object),
        "ofmap_dest": np.array([t.dest for t in plan], dtype=object),
        "onchip_read_bytes": np.array([sum(t.operand_chip_bytes) for t in plan], dtype=np.int64),
        "ofmap_kept_bytes": np.array([t.output_kept_bytes for t in plan], dtype=np.int64),
    }
    for values in columns.values():
        values.flags.writeable = False
    return columns


def _checked_work(arch: ArchSpec, distinct: list[tuple[Layer, ArrayRate, TrafficScale, int]], fidelity: str,
                  max_steps: int | None, search: bool) -> list[int]:
    """Steps of each ``distinct`` (layer, rate, traffic, resident bytes) (0 in the fold fidelity and
    for vector work),
    each array layer checked first by :mod:`accelsim.engine.work`: counts within the int64 range,
    fold tables within memory and, for ``cycle`` and ``pe``, the steps within ``max_steps``."""
    steps = []
    for layer, rate, *_ in distinct:
        problem = lower_layer(layer, arch.timing_model)
        stepped = fidelity == "pe" or (fidelity == "cycle" and arch.timing_model is TimingModel.NATIVE)
        if problem is not None:
            work.check_layer_range(problem, arch, rate, layer.name, whole_schedule=search or fidelity != "fold")
        if problem is None or not stepped:  # nothing to step (the cycle engine refuses scalesim timing itself)
            steps.append(0)
            continue
        counters = fold.run_layer(layer, arch, rate)
        estimate = work.step_estimate(int(counters[codes.FOLD_STAT_CYCLES]), int(counters[codes.FOLD_STAT_COMPUTE_CYCLES]),
                                      arch, fidelity)
        steps.append(work.check_steps(estimate, problem, fidelity, max_steps, layer.name))
    return steps


def _distinct_layers(net: Network, rates: list[ArrayRate], scales: Sequence[TrafficScale], scale_ids: Sequence[int],
                     resident: Sequence[int]) -> tuple[list[tuple[Layer, ArrayRate, TrafficScale, int]], list[int]]:
    """``(distinct, slots)``: the first (layer, rate, traffic, resident bytes) of each group of
    layers that differ only in name and producers (they run once:
    :func:`accelsim.spec.workload.work_ids`), and each layer's group. ``scale_ids`` number the
    distinct ``scales`` (equal scales, equal numbers); rates are numbered here, so the groups are
    keyed by integers."""
    rate_ids: dict[ArrayRate, int] = {}
    ids_by_object: dict[int, int] = {}  # the rates list repeats a few objects: each compared once
    groups: dict[tuple[int, int, int, int], int] = {}
    distinct, slots = [], []
    for layer, work, rate, scale, scale_id, held in zip(net.layers, work_ids(net), rates, scales, scale_ids, resident):
        rate_id = ids_by_object.get(id(rate))
        if rate_id is None:
            rate_id = ids_by_object[id(rate)] = rate_ids.setdefault(rate, len(rate_ids))
        slot = groups.setdefault((work, rate_id, scale_id, held), len(groups))
        if slot == len(distinct):
            distinct.append((layer, rate, scale, held))
        slots.append(slot)
    return distinct, slots


def _first_of_each_work(net: Network) -> list[Layer]:
    """The first layer of each group of layers that do the same work
    (:func:`accelsim.spec.workload.work_ids`), in network order."""
    first: dict[int, Layer] = {}
    for layer, work in zip(net.layers, work_ids(net)):
        first.setdefault(work, layer)
    return list(first.values())


_PER_UNIT = KeyedMemo(256)
"""Memo of :func:`_check_precision` and :func:`_array_rates` on what they read of the arch (below)."""


def _check_precision(arch: ArchSpec, net: Network) -> None:
    """:func:`accelsim.hw.mac.check_network_precision`, checked on one layer of each group that
    does the same work (equal operand widths, the same outcome); its error, naming every layer
    the unit cannot run, when one fails. A check that passed is memoized on what it reads: the
    MAC unit and the network (a sweep's designs with one unit check each network once)."""

    def check() -> None:
        try:
            for layer in _first_of_each_work(net):
                check_layer_precision(arch, layer)
        except UnsupportedError:
            check_network_precision(arch, net)
            raise

    _PER_UNIT.get(("precision", arch.mac, net), check)


def _array_rates(arch: ArchSpec, net: Network, mac_rate: MacRateRule) -> list[ArrayRate]:
    """Each layer's array rate: ``mac_rate`` with the array's reduction rule
    (:func:`accelsim.lower.gemm.reduction_rate`; the host lowers the layers that read the network
    input by im2col). :func:`hardware_rate` and :func:`dense_rate` are computed once per group of
    layers doing the same work (their rate depends on that work only), and memoized on what they
    and the reduction rule read of the arch (MAC unit, structured patterns, reduction, rows); a
    caller's rule per layer, every time. The list is shared: do not edit."""
    per_work = mac_rate in (hardware_rate, dense_rate)

    def rates() -> list[ArrayRate]:
        found: dict[tuple[int, bool], ArrayRate] = {}
        out = []
        for i, (layer, work) in enumerate(zip(net.layers, work_ids(net))):
            host_im2col = i == 0 or layer.producers[:1] == (DRAM_INPUT,)  # reads the network input
            rate = found.get((work, host_im2col)) if per_work else None
            if rate is None:
                rate = found[(work, host_im2col)] = reduction_rate(mac_rate(layer, arch), layer, arch, host_im2col)
            out.append(rate)
        return out

    if not per_work:
        return rates()
    return _PER_UNIT.get(("rates", mac_rate, arch.mac, arch.sparsity.structured, arch.array.reduction,
                          arch.array.rows, net), rates)


class _NoBar(contextlib.AbstractContextManager):
    """A progress bar that shows nothing (:func:`_progress`)."""

    def __exit__(self, *exc) -> None:
        return None

    def update(self, steps: int) -> None:
        return None


_NO_BAR = _NoBar()


@dataclasses.dataclass(frozen=True)
class _Prepared:
    """What a run of ``net`` on ``arch`` needs before any layer runs (:func:`_prepare`)."""

    search: bool                        # searched mappings (:func:`accelsim.mapper.check_mapping`)
    memory: list | None                 # the memory plan, or None
    distinct: list[tuple[Layer, ArrayRate, TrafficScale, int]]  # layers that run (:func:`_distinct_layers`)
    slots: list[int]                    # each layer's entry in ``distinct``
    slot_array: np.ndarray              # the same, int64
    steps: list[int]                    # each distinct layer's steps (:func:`_checked_work`)
    vector_work: vector.VectorWork      # :func:`accelsim.engine.vector.vector_work`
    descriptors: dict[str, np.ndarray]  # :func:`accelsim.result.layer_descriptors`
    memory_columns: dict[str, np.ndarray]  # :func:`memory_plan_columns` ({} without a plan)


@functools.lru_cache(maxsize=64)
def _prepare(arch: ArchSpec, net: Network, mac_rate: MacRateRule, memory_plan: bool | None, fidelity: Fidelity,
             mode: MappingMode, strict: bool, max_steps: int | None) -> _Prepared:
    """The checks and the per-layer work of :func:`simulate` that depend on its inputs only, in its
    order: operand widths (``hardware_rate``), mapping mode and fidelity, array rates, the memory
    plan, the distinct layers and their work limits. Memoized (pure functions of frozen specs;
    errors are raised again on every call): a repeated run or a sweep over networks pays it once."""
    if mac_rate is hardware_rate:
        _check_precision(arch, net)
    search = check_mapping(arch, fidelity, mode)
    check_fidelity(arch, fidelity)
    rates = _array_rates(arch, net, mac_rate)
    plan = _memory_plan(arch, net, memory_plan)
    count = len(net.layers)
    scales, scale_ids, resident = (([NO_SCALE] * count, [0] * count, [0] * count) if plan is None
                                   else (plan.scales, plan.scale_ids, plan.resident))
    distinct, slots = _distinct_layers(net, rates, scales, scale_ids, resident)
    steps = _checked_work(arch, distinct, fidelity.value, max_steps, search and strict)
    memory = None if plan is None else list(plan.traffic)
    return _Prepared(search, memory, distinct, slots, np.array(slots, dtype=np.int64), steps,
                     vector.vector_work(arch, net, memory),
                     layer_descriptors(net), {} if plan is None else memory_plan_columns(plan.traffic))


def clear_memos() -> None:
    """Forget the memoized per-network preparations and layer descriptors, memory plans and their
    columns, lowered layers, vector-unit runs and counts, precision checks and array rates, each
    layer's sparsity plan and mapping choice, and each design's costs (:func:`accelsim.spec.memo.spec_memo`)
    (the next run pays them again: benchmarks of cold runs; the mapper's own memo is
    :func:`accelsim.mapper.gemm.search`'s)."""
    _prepare.cache_clear()
    _searched_mapping.cache_clear()
    memory_plan_columns.cache_clear()
    lower_layer.cache_clear()
    clear_spec_memos()  # the spec memos, the memory plans, vector-unit runs and counts, checks and rates
    clear_descriptors()


def _progress(steps: list[int], fidelity: str, enabled: bool):
    """A tqdm bar on stderr over the layers' steps when the run should take more than a few seconds
    (else a bar that shows nothing)."""
    total = sum(steps)
    seconds = total / work.STEPS_PER_SECOND.get(fidelity, float("inf"))
    if not enabled or seconds < 3:
        return _NO_BAR
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"{fidelity} fidelity", unit=" " + work.STEP_UNITS.get(fidelity, "steps"),
                unit_scale=True, file=sys.stderr, leave=False)


def simulate(arch: ArchSpec, net: Network, fidelity: Fidelity | str = Fidelity.FOLD, *,
             mac_rate: MacRateRule = hardware_rate, mapping: MappingMode | str | None = None,
             objective: Objective | str | None = None, max_steps: int | None = None,
             progress: bool | Callable[[int, int], None] = True, memory_plan: bool | None = None) -> Result:
    """Cycles, stalls and memory traffic of ``net`` on ``arch``, layer by layer.

    Parameters
    ----------
    arch, net
        Loaded specs (``accelsim.load_arch`` / ``accelsim.load_workload``, which also reads the
        weight masks the workload references: the simulator reads no files).
    fidelity
        :class:`~accelsim.spec.options.Fidelity` or its value: ``"fold"`` (per fold/tile; long layers in repeating blocks, docs/limits.md); ``"cycle"``
        (every cycle, with SRAM ports and DRAM channels; docs/fidelities.md); ``"pe"`` (every PE register, on
        synthetic operands; ideal memory), which adds each array layer's ``sqnr_db`` and
        ``max_rel_error`` (its GEMM quantized to the layer's bits and run on the PE registers:
        :func:`accelsim.engine.pe.layer_error`; the summary has the worst layer's).
    mac_rate
        Per-layer array rate (:class:`accelsim.lower.ArrayRate`). The default,
        :func:`hardware_rate`, is the arch's MAC unit and native N:M patterns; every layer's
        operand widths are checked first (:func:`accelsim.hw.mac.check_network_precision`, one
        error naming every layer the unit cannot run). :func:`dense_rate` overrides it with the
        dense 1-product-per-cycle array.
    mapping, objective
        :class:`~accelsim.spec.options.MappingMode` and :class:`~accelsim.spec.options.Objective`
        or their values. ``"fixed"`` (SCALE-Sim's column-fold-major mapping) or ``"search"``: each array layer's
        best mapping for ``objective`` (``"cycles"``, ``"energy"`` or ``"edp"``) under the buffer
        limits (:mod:`accelsim.mapper.gemm`, docs/mapper.md), shown in the ``mapping`` column.
        Search needs native timing and the ``fold`` or ``cycle`` fidelity. ``None``: the arch's
        ``mapping:`` / ``objective:``, else search for cycles under native timing (fixed under
        ``scalesim`` timing and in the ``pe`` fidelity; :func:`accelsim.mapper.run_mapping`).
    max_steps
        Refuse (:class:`accelsim.engine.work.WorkLimitError`, with the estimate and the expected
        time) a layer the ``cycle`` fidelity would step for more cycles, or the ``pe`` fidelity
        for more PE-cycles, than this (``None``: about a minute's worth,
        :data:`accelsim.engine.work.DEFAULT_MAX_STEPS`). Every fidelity first checks that the
        layer's counts stay within the validated int64 range (``docs/limits.md``).
    progress
        ``True``: a progress bar on stderr when the ``cycle`` or ``pe`` run should take more
        than a few seconds; a callable: called as ``progress(done, total)`` after each layer
        (the command line's bar); ``False``: nothing.
    memory_plan
        Keep activations on chip between layers and apply the arch's ``vector_unit.fused_ops`` on
        the array's output path (:mod:`accelsim.lower.memory_plan`, docs/memory_plan.md): DRAM
        traffic counts only what spills, and the columns ``ifmap_source``, ``ofmap_dest``,
        ``onchip_read_bytes`` and ``ofmap_kept_bytes`` say where each layer's activations went
        (``ofmap_dest`` ``fused``: an op on its producer's output path). ``None``: the arch's ``memory_plan`` (default on in native timing,
        off in SCALE-Sim timing); ``False``: every layer reads its inputs from DRAM and writes
        its output back.

    Each array layer's zeros follow :func:`accelsim.engine.compression.layer_sparsity`
    (``docs/sparsity.md``): native N:M, skipping or gating measured from its mask or modelled
    from its densities, or dense; the columns ``sparsity_model``, ``mac_ops``, ``gated_macs``,
    ``skipped_macs``, ``weight_format`` and ``weight_metadata_bytes`` report it.

    Layers the array does not run (pool, eltwise, nonlinear ops) run on the arch's vector unit
    (:mod:`accelsim.engine.vector`); without one they appear with ``costed=False`` and missing
    values in the cost columns.

    Time accounting (docs/timing_models.md, "Cycle accounting"): every costed row has
    ``cycles == compute_cycles + stall_cycles + dispatch_cycles``, all >= 0, ``cycles`` being
    what the layer adds to the network's total; ``hidden_cycles`` (vector unit) is the layer's
    own time that ran under the array instead. Every launched layer pays the arch's
    ``dispatch_overhead`` (vector layers on a unit pipelined with the array run inside their
    producer's launch).
    """
    fidelity = run_option(Fidelity, fidelity, "simulate")
    run = run_mapping(arch, fidelity, None if mapping is None else run_option(MappingMode, mapping, "simulate"),
                      None if objective is None else run_option(Objective, objective, "simulate"))
    if arch.hierarchy is not None:
        if mac_rate is hardware_rate:
            check_network_precision(arch, net)
        return _simulate_hierarchy(arch, net, fidelity, run.objective)
    engine = {Fidelity.FOLD: fold, Fidelity.CYCLE: cycle, Fidelity.PE: pe}[fidelity]
    prepare = _prepare if mac_rate in (hardware_rate, dense_rate) else _prepare.__wrapped__  # a rule of the caller's
    prep = prepare(arch, net, mac_rate, memory_plan, fidelity, run.mode, run.strict, max_steps)
    search, memory, distinct, slots, steps = prep.search, prep.memory, prep.distinct, prep.slots, prep.steps
    runs = []
    with _progress(steps, fidelity.value, progress is True) as bar:
        for done, slot in enumerate(slots, start=1):
            if slot == len(runs):
                layer, rate, scale, held = distinct[slot]
                runs.append(_run_layer(engine, arch, layer, rate, run.objective, search, scale, run.strict, held))
                bar.update(steps[slot])
            if callable(progress):
                progress(done, len(net.layers))
    plans = [runs[slot][0] for slot in slots]
    mappings, dataflows, stats, costed, links = _layer_rows(arch, runs, prep.slot_array)
    array_costed = costed
    stats, costed, vector_columns = vector.add_vector_layers(arch, net, stats, costed, memory, prep.vector_work)
    fused = arch.vector_unit is not None and arch.vector_unit.pipelined_with_array  # vector layers: no launch
    launched = array_costed if fused else costed
    stats, dispatch_column = add_dispatch(stats, launched, arch.dispatch_cycles)
    columns = {**fold.counter_columns(stats, arch.pes, arch.arrays.count), "dispatch_cycles": dispatch_column,
               **sparsity_columns(net, plans), **vector_columns}
    if search or arch.arrays.count > 1:
        columns["mapping"] = mappings
    columns.update(prep.memory_columns)
    if arch.arrays.count > 1:
        columns |= dict(zip(("link_bytes", "link_cycles", "reduction_adds"), links.T))
    data = layer_columns(prep.descriptors, columns, costed, include_prefetch=arch.timing_model is TimingModel.SCALESIM)
    energy = _layer_energy(data, arch, dataflows)  # numpy from the counters to energy; frames on first access
    arrays = data | energy
    totals = network_totals(net, arch, fidelity.value, data, metrics=summary_metrics(arrays, arch))
    if fidelity is Fidelity.PE:  # the quantized GEMM's numeric error next to its cost (docs/fidelities.md)
        errors = pe.error_columns([runs[slot][3] for slot in slots])
        arrays, totals = arrays | errors, totals | pe.error_summary(errors)
    return Result(arch=arch, network=net, fidelity=fidelity, layer_arrays=arrays, summary_row=totals)


def _simulate_hierarchy(arch: ArchSpec, net: Network, fidelity: Fidelity, objective: Objective) -> Result:
    """A hierarchy arch (``hierarchy:``, docs/hierarchy.md): each array layer's searched loop nest,
    counted analytically (``fold`` only); layers the array does not run are not costed."""
    if fidelity is not Fidelity.FOLD:
        raise UnsupportedError(f"{arch.name}: a memory hierarchy with PE storage runs the fold fidelity only; "
                               f"the {fidelity.value} fidelity would need a PE model of its fabric "
                               "(docs/hierarchy.md); use fidelity='fold'")
    columns, energy, costed = network_columns(arch, net.layers, objective)
    columns = {**columns, "dispatch_cycles": np.where(costed, arch.dispatch_cycles, 0)}
    columns["cycles"] = columns.get("cycles", np.zeros(len(costed), dtype=np.int64)) + columns["dispatch_cycles"]
    data = layer_columns(layer_descriptors(net), columns, costed, include_prefetch=False)
    arrays = data | {name: np.where(costed, values, np.nan) for name, values in energy.items()}
    totals = network_totals(net, arch, fidelity.value, data, metrics=summary_metrics(arrays, arch))
    return Result(arch=arch, network=net, fidelity=fidelity, layer_arrays=arrays, summary_row=totals)
