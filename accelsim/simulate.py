"""The one entry point: ``simulate(arch, network, fidelity) -> Result``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from accelsim.cost import layer_energy, summary_metrics
from accelsim.engine import cycle, fold, pe, vector
from accelsim.errors import UnsupportedError
from accelsim.lower.gemm import DENSE_RATE, ArrayRate
from accelsim.mac import check_layer_precision, check_network_precision
from accelsim.sparse.nm import native_pattern
from accelsim.result import Result, layer_frame, summary_frame
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


def simulate(arch: ArchSpec, net: Network, fidelity: str = "fold", *,
             mac_rate: MacRateRule = hardware_rate) -> Result:
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

    Layers the array does not run (pool, eltwise, nonlinear ops) run on the arch's vector unit
    (:mod:`accelsim.engine.vector`); without one they appear with ``costed=False`` and missing
    values in the cost columns.
    """
    if fidelity not in FIDELITIES:
        raise UnsupportedError(f"unknown fidelity {fidelity!r}; expected one of {', '.join(FIDELITIES)}")
    engine = {"fold": fold, "cycle": cycle, "pe": pe}[fidelity]
    if mac_rate is hardware_rate:
        check_network_precision(arch, net)
    stats = np.zeros((len(net.layers), fold.N_STATS), dtype=np.int64)
    costed = np.zeros(len(net.layers), dtype=bool)
    for index, layer in enumerate(net.layers):
        counters = engine.run_layer(layer, arch, mac_rate(layer, arch))
        if counters is not None:
            stats[index] = counters
            costed[index] = True
    stats, costed, vector_ops = vector.add_vector_layers(arch, net, stats, costed)
    columns = {**fold.counter_columns(stats, arch.pes), **vector_ops}
    layers = layer_frame(net, columns, costed, include_prefetch=arch.timing_model is TimingModel.SCALESIM)
    layers = layers.join(layer_energy(layers, arch))
    summary = summary_frame(net, arch, fidelity, layers).assign(**summary_metrics(layers, arch))
    if fidelity == "pe":  # the quantized GEMM's numeric error next to its cost (docs/fidelities.md)
        errors = pe.error_columns(net.layers, arch, [mac_rate(layer, arch) for layer in net.layers])
        layers, summary = layers.assign(**errors), summary.assign(**pe.error_summary(errors))
    return Result(arch=arch, network=net, fidelity=fidelity, layers=layers, summary=summary)
