"""The one entry point: ``simulate(arch, network, fidelity) -> Result``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from accelsim.cost import layer_energy, summary_metrics
from accelsim.engine import cycle, fold, pe, vector
from accelsim.errors import UnsupportedError
from accelsim.lower.gemm import DENSE_RATE, MacRate
from accelsim.result import Result, layer_frame, summary_frame
from accelsim.spec.arch import ArchSpec, TimingModel
from accelsim.spec.workload import Layer, Network

FIDELITIES = ("fold", "cycle", "pe")

# How fast the MAC units run a layer (products per cycle, cycles per product, native N:M).
# The mixed-precision and sparsity models provide richer rules; dense int MACs by default.
MacRateRule = Callable[[Layer, ArchSpec], MacRate]


def dense_rate(layer: Layer, arch: ArchSpec) -> MacRate:
    """One product per MAC per cycle, no structured sparsity."""
    return DENSE_RATE


def simulate(arch: ArchSpec, net: Network, fidelity: str = "fold", *,
             mac_rate: MacRateRule = dense_rate) -> Result:
    """Cycles, stalls and memory traffic of ``net`` on ``arch``, layer by layer.

    Parameters
    ----------
    arch, net
        Loaded specs (``accelsim.load_arch`` / ``accelsim.load_workload``).
    fidelity
        ``"fold"`` (per fold/tile, O(folds) per layer); ``"cycle"`` (every cycle, with SRAM
        ports and DRAM channels; docs/fidelities.md); ``"pe"`` (every PE register, on
        synthetic operands; ideal memory).
    mac_rate
        Per-layer MAC rate (see :class:`accelsim.lower.MacRate`).

    Layers the array does not run (pool, eltwise, nonlinear ops) run on the arch's vector unit
    (:mod:`accelsim.engine.vector`); without one they appear with ``costed=False`` and missing
    values in the cost columns.
    """
    if fidelity not in FIDELITIES:
        raise UnsupportedError(f"unknown fidelity {fidelity!r}; expected one of {', '.join(FIDELITIES)}")
    engine = {"fold": fold, "cycle": cycle, "pe": pe}[fidelity]
    stats = np.zeros((len(net.layers), fold.N_STATS), dtype=np.int64)
    costed = np.zeros(len(net.layers), dtype=bool)
    for index, layer in enumerate(net.layers):
        counters = engine.run_layer(layer, arch, mac_rate(layer, arch))
        if counters is not None:
            stats[index] = counters
            costed[index] = True
    stats, costed = vector.add_vector_layers(arch, net, stats, costed)
    columns = fold.counter_columns(stats, arch.pes)
    layers = layer_frame(net, columns, costed, include_prefetch=arch.timing_model is TimingModel.SCALESIM)
    layers = layers.join(layer_energy(layers, arch))
    summary = summary_frame(net, arch, fidelity, layers).assign(**summary_metrics(layers, arch))
    return Result(arch=arch, network=net, fidelity=fidelity, layers=layers, summary=summary)
