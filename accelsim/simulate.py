"""The one entry point: ``simulate(arch, network, fidelity) -> Result``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from accelsim.cost import layer_energy, summary_metrics
from accelsim.engine import cycle, fold, pe, vector
from accelsim.engine.compression import layer_sparsity, sparsity_columns
from accelsim.engine.dispatch import add_dispatch
from accelsim.errors import UnsupportedError
from accelsim.lower.gemm import DENSE_RATE, ArrayRate
from accelsim.lower.mapper import Objective
from accelsim.mac import check_layer_precision, check_network_precision
from accelsim.sparse.nm import native_pattern
from accelsim.result import Result, layer_columns, layer_frame, summary_frame
from accelsim.spec.arch import ArchSpec, TimingModel
from accelsim.spec.workload import Layer, Network

FIDELITIES = ("fold", "cycle", "pe")

# How fast the array runs a layer (products per cycle, cycles per product, native N:M).
MacRateRule = Callable[[Layer, ArchSpec], ArrayRate]


def dense_rate(layer: Layer, arch: ArchSpec) -> ArrayRate:
    """One product per MAC per cycle, no structured sparsity (an override of the hardware's rule)."""
    return DENSE_RATE


def hardware_rate(layer: Layer, arch: ArchSpec) -> ArrayRate:
    """The arch's own rate for ``layer``: its MAC unit at the layer's operand widths
    (:func:`accelsim.mac.check_layer_precision`: Bit Fusion ``p``, bit-serial ``q``, decomposition
    passes) and, when the arch lists structured patterns and the layer's weights are N:M, the
    fastest native pattern (:func:`accelsim.sparse.nm.native_pattern`).

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


def _check_mapping(arch: ArchSpec, fidelity: str, mapping: str, objective: str) -> bool:
    """Whether ``mapping`` asks for a search; raises UnsupportedError for what cannot be searched."""
    if mapping not in ("fixed", "search"):
        raise UnsupportedError(f"unknown mapping {mapping!r}; expected 'fixed' or 'search'")
    if objective not in [o.value for o in Objective]:
        raise UnsupportedError(f"unknown objective {objective!r}; expected one of "
                               f"{', '.join(o.value for o in Objective)}")
    if mapping == "fixed":
        return False
    if arch.timing_model is TimingModel.SCALESIM:
        raise UnsupportedError(f"{arch.name}: mapping 'search' needs timing_model: native (scalesim timing "
                               "reproduces SCALE-Sim's own fixed mapping)")
    if fidelity == "pe":
        raise UnsupportedError("mapping 'search' runs in the fold and cycle fidelities; the pe fidelity "
                               "steps the fixed fold order")
    return True


def _run_layer(engine, arch: ArchSpec, layer: Layer, rate: ArrayRate, base_dir: str | Path,
               objective: str | None) -> tuple:
    """``(sparsity plan, searched mapping or None, counters or None)`` of one layer.

    ``objective``: search the mapping for it (``None``: the fixed mapping).
    """
    plan = layer_sparsity(arch, layer, rate, base_dir)
    chosen = fold.search_layer(layer, arch, rate, objective) if objective is not None else None
    searched = {"mapping": chosen} if chosen is not None else {}  # the pe engine runs fixed mappings only
    return plan, chosen, engine.run_layer(layer, arch, rate, sparsity=plan, **searched)


def simulate(arch: ArchSpec, net: Network, fidelity: str = "fold", *,
             mac_rate: MacRateRule = hardware_rate, base_dir: str | Path = ".", mapping: str = "fixed",
             objective: str = "cycles") -> Result:
    """Cycles, stalls and memory traffic of ``net`` on ``arch``, layer by layer.

    Parameters
    ----------
    arch, net
        Loaded specs (``accelsim.load_arch`` / ``accelsim.load_workload``).
    fidelity
        ``"fold"`` (per fold/tile, O(folds) per layer); ``"cycle"`` (every cycle, with SRAM
        ports and DRAM channels; docs/fidelities.md); ``"pe"`` (every PE register, on
        synthetic operands; ideal memory), which adds each array layer's ``sqnr_db`` and
        ``max_rel_error`` (its GEMM quantized to the layer's bits and run on the PE registers:
        :func:`accelsim.engine.pe.layer_error`; the summary has the worst layer's).
    mac_rate
        Per-layer array rate (:class:`accelsim.lower.ArrayRate`). The default,
        :func:`hardware_rate`, is the arch's MAC unit and native N:M patterns; every layer's
        operand widths are checked first (:func:`accelsim.mac.check_network_precision`, one
        error naming every layer the unit cannot run). :func:`dense_rate` overrides it with the
        dense 1-product-per-cycle array.
    base_dir
        Directory that relative weight-mask paths (``compression.sparsity.mask``) are read from:
        the workload file's directory.
    mapping
        ``"fixed"`` (SCALE-Sim's column-fold-major mapping) or ``"search"``: each array layer's
        best mapping for ``objective`` (``"cycles"``, ``"energy"`` or ``"edp"``) under the buffer
        limits (:mod:`accelsim.lower.mapper`, docs/mapper.md), shown in the ``mapping`` column.
        Search needs native timing and the ``fold`` or ``cycle`` fidelity.

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
    if fidelity not in FIDELITIES:
        raise UnsupportedError(f"unknown fidelity {fidelity!r}; expected one of {', '.join(FIDELITIES)}")
    engine = {"fold": fold, "cycle": cycle, "pe": pe}[fidelity]
    if mac_rate is hardware_rate:
        check_network_precision(arch, net)
    search = _check_mapping(arch, fidelity, mapping, objective)
    mappings = np.full(len(net.layers), None, dtype=object)
    dataflows = np.full(len(net.layers), arch.array.dataflow, dtype=object)
    stats = np.zeros((len(net.layers), fold.N_STATS), dtype=np.int64)
    costed = np.zeros(len(net.layers), dtype=bool)
    plans = []
    runs: dict[tuple[Layer, ArrayRate], tuple] = {}  # layers that differ only in name run once
    for index, layer in enumerate(net.layers):
        rate = mac_rate(layer, arch)
        key = (dataclasses.replace(layer, name=""), rate)
        if key not in runs:
            runs[key] = _run_layer(engine, arch, layer, rate, base_dir, objective if search else None)
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
    summary = summary_frame(net, arch, fidelity, counts, metrics=summary_metrics(counts.join(energy), arch))
    layers = layer_frame(data).join(energy)
    if fidelity == "pe":  # the quantized GEMM's numeric error next to its cost (docs/fidelities.md)
        errors = pe.error_columns(net.layers, arch, [mac_rate(layer, arch) for layer in net.layers])
        layers, summary = layers.assign(**errors), summary.assign(**pe.error_summary(errors))
    return Result(arch=arch, network=net, fidelity=fidelity, layers=layers, summary=summary)
