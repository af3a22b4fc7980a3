"""The one entry point: ``simulate(arch, network, fidelity) -> Result``."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable

import numpy as np
import pandas as pd

from accelsim.cost import layer_energy, summary_metrics
from accelsim.engine import cycle, fold, pe, vector, work
from accelsim.engine.compression import layer_sparsity, sparsity_columns
from accelsim.engine.dispatch import add_dispatch
from accelsim.hw.mac import check_layer_precision, check_network_precision
from accelsim.hw.sparse.nm import native_pattern
from accelsim.kernels import codes
from accelsim.lower.gemm import DENSE_RATE, ArrayRate, lower_layer
from accelsim.mapper import check_mapping, layer_mapping, run_mapping
from accelsim.result import Result, layer_columns, layer_frame, summary_frame
from accelsim.spec.arch import ArchSpec, TimingModel
from accelsim.spec.options import Fidelity, MappingMode, Objective, run_option
from accelsim.spec.workload import Layer, Network

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


def _layer_energy(layers: pd.DataFrame, arch: ArchSpec, dataflows: np.ndarray) -> pd.DataFrame:
    """:func:`layer_energy`, each layer costed with the dataflow its mapping uses (PE hops differ)."""
    energy = layer_energy(layers, arch)
    for dataflow in set(dataflows) - {arch.array.dataflow}:
        rows = dataflows == dataflow
        other = dataclasses.replace(arch, array=dataclasses.replace(arch.array, dataflow=dataflow))
        energy.loc[rows] = layer_energy(layers[rows], other)[energy.columns].to_numpy()
    return energy


def _run_layer(engine, arch: ArchSpec, layer: Layer, rate: ArrayRate, objective: Objective | None,
               strict: bool = True) -> tuple:
    """``(sparsity plan, searched mapping or None, counters or None)`` of one layer.

    ``objective``: search the mapping for it (``None``: the fixed mapping); ``strict``:
    :func:`accelsim.mapper.layer_mapping`'s.
    """
    plan = layer_sparsity(arch, layer, rate)
    chosen = layer_mapping(layer, arch, rate, objective, plan, strict) if objective is not None else None
    searched = {"mapping": chosen} if chosen is not None else {}  # the pe engine runs fixed mappings only
    return plan, chosen, engine.run_layer(layer, arch, rate, sparsity=plan, **searched)


def _checked_work(arch: ArchSpec, net: Network, fidelity: str, rates: list[ArrayRate],
                  max_steps: int | None, search: bool) -> dict[tuple[Layer, ArrayRate], int]:
    """Steps of every distinct array layer (0 in the fold fidelity), each checked first by
    :mod:`accelsim.engine.work`: counts within the int64 range, fold tables within memory and,
    for ``cycle`` and ``pe``, the steps within ``max_steps``."""
    steps = {}
    for layer, rate in zip(net.layers, rates):
        key = (dataclasses.replace(layer, name=""), rate)
        problem = lower_layer(layer, arch.timing_model)
        if key in steps or problem is None:
            continue
        work.check_layer_range(problem, arch, rate, layer.name, whole_schedule=search or fidelity != "fold")
        stepped = fidelity == "pe" or (fidelity == "cycle" and arch.timing_model is TimingModel.NATIVE)
        if not stepped:  # nothing to step (the cycle engine refuses scalesim timing itself)
            steps[key] = 0
            continue
        counters = fold.run_layer(layer, arch, rate)
        estimate = work.step_estimate(int(counters[codes.FOLD_STAT_CYCLES]), int(counters[codes.FOLD_STAT_COMPUTE_CYCLES]),
                                      arch, fidelity)
        steps[key] = work.check_steps(estimate, problem, fidelity, max_steps, layer.name)
    return steps


def _progress(steps: dict, fidelity: str, enabled: bool):
    """A tqdm bar on stderr over the layers' steps when the run should take more than a few seconds."""
    total = sum(steps.values())
    seconds = total / work.STEPS_PER_SECOND.get(fidelity, float("inf"))
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"{fidelity} fidelity", unit=" " + work.STEP_UNITS.get(fidelity, "steps"),
                unit_scale=True, disable=not enabled or seconds < 3, file=sys.stderr, leave=False)


def simulate(arch: ArchSpec, net: Network, fidelity: Fidelity | str = Fidelity.FOLD, *,
             mac_rate: MacRateRule = hardware_rate, mapping: MappingMode | str | None = None,
             objective: Objective | str | None = None, max_steps: int | None = None,
             progress: bool | Callable[[int, int], None] = True) -> Result:
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
    engine = {Fidelity.FOLD: fold, Fidelity.CYCLE: cycle, Fidelity.PE: pe}[fidelity]
    if mac_rate is hardware_rate:
        check_network_precision(arch, net)
    search = check_mapping(arch, fidelity, run.mode)
    mappings = np.full(len(net.layers), None, dtype=object)
    dataflows = np.full(len(net.layers), arch.array.dataflow, dtype=object)
    stats = np.zeros((len(net.layers), fold.FOLD_STAT_COUNT), dtype=np.int64)
    costed = np.zeros(len(net.layers), dtype=bool)
    plans = []
    runs: dict[tuple[Layer, ArrayRate], tuple] = {}  # layers that differ only in name run once
    rates = [mac_rate(layer, arch) for layer in net.layers]
    steps = _checked_work(arch, net, fidelity.value, rates, max_steps, search and run.strict)
    with _progress(steps, fidelity.value, progress is True) as bar:
        for done, (layer, rate) in enumerate(zip(net.layers, rates), start=1):
            key = (dataclasses.replace(layer, name=""), rate)
            if key not in runs:
                runs[key] = _run_layer(engine, arch, layer, rate, run.objective if search else None, run.strict)
                bar.update(steps.get(key, 0))
            if callable(progress):
                progress(done, len(net.layers))
    for index, (layer, rate) in enumerate(zip(net.layers, rates)):
        key = (dataclasses.replace(layer, name=""), rate)
        plan, chosen, counters = runs[key]
        plans.append(plan)
        if chosen is not None:
            mappings[index] = chosen.describe()
            dataflows[index] = chosen.dataflow
        if counters is not None:
            stats[index] = counters
            costed[index] = True
    array_costed = costed
    stats, costed, vector_columns = vector.add_vector_layers(arch, net, stats, costed)
    fused = arch.vector_unit is not None and arch.vector_unit.pipelined_with_array  # vector layers: no launch
    launched = array_costed if fused else costed
    stats, dispatch_column = add_dispatch(stats, launched, arch.dispatch_cycles)
    columns = {**fold.counter_columns(stats, arch.pes), "dispatch_cycles": dispatch_column,
               **sparsity_columns(net, plans), **vector_columns}
    if search:
        columns["mapping"] = mappings
    data = layer_columns(net, columns, costed, include_prefetch=arch.timing_model is TimingModel.SCALESIM)
    counts = pd.DataFrame(data)  # numpy dtypes throughout: what energy and the summary read
    energy = _layer_energy(counts, arch, dataflows)
    summary = summary_frame(net, arch, fidelity.value, counts, metrics=summary_metrics(counts.join(energy), arch))
    layers = layer_frame(data).join(energy)
    if fidelity is Fidelity.PE:  # the quantized GEMM's numeric error next to its cost (docs/fidelities.md)
        errors = pe.error_columns(net.layers, arch, [mac_rate(layer, arch) for layer in net.layers])
        layers, summary = layers.assign(**errors), summary.assign(**pe.error_summary(errors))
    return Result(arch=arch, network=net, fidelity=fidelity, layers=layers, summary=summary)
