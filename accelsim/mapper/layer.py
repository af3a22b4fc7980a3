"""The mapper applied to a layer: the searched mapping of one layer, and what a run may search."""

from __future__ import annotations

from accelsim.engine.fold import schedule_counts
from accelsim.errors import UnsupportedError
from accelsim.lower.gemm import DENSE_RATE, ArrayRate, lower_layer
from accelsim.lower.tiling import Mapping
from accelsim.mapper.gemm import search
from accelsim.spec.arch import ArchSpec, TimingModel
from accelsim.spec.options import Fidelity, MappingMode, Objective
from accelsim.spec.workload import Layer


def search_layer(layer: Layer, arch: ArchSpec, rate: ArrayRate = DENSE_RATE,
                 objective: Objective = Objective.CYCLES) -> Mapping | None:
    """The searched mapping of ``layer`` (:func:`accelsim.mapper.gemm.search`), ``None`` for vector work.

    Candidates are evaluated exactly by the fold kernel (:func:`accelsim.engine.fold.schedule_counts`).
    Raises UnsupportedError for ``scalesim`` timing (it reproduces SCALE-Sim's fixed mapping).
    """
    if arch.timing_model is TimingModel.SCALESIM:
        raise UnsupportedError(f"layer {layer.name}: mapping search needs timing_model: native "
                               "(scalesim timing reproduces SCALE-Sim's fixed mapping)")
    problem = lower_layer(layer, arch.timing_model)
    if problem is None:
        return None
    bits = layer.compression
    try:
        return search(problem, arch, schedule_counts, rate=rate, weight_bits=bits.weight_bits,
                      act_bits=bits.act_bits, objective=objective).mapping
    except UnsupportedError as error:
        raise UnsupportedError(f"layer {layer.name}: {error}") from None


def check_mapping(arch: ArchSpec, fidelity: Fidelity, mapping: MappingMode) -> bool:
    """Whether ``mapping`` asks for a search; raises UnsupportedError for what cannot be searched."""
    if mapping is MappingMode.FIXED:
        return False
    if arch.timing_model is TimingModel.SCALESIM:
        raise UnsupportedError(f"{arch.name}: mapping 'search' needs timing_model: native (scalesim timing "
                               "reproduces SCALE-Sim's own fixed mapping)")
    if fidelity is Fidelity.PE:
        raise UnsupportedError("mapping 'search' runs in the fold and cycle fidelities; the pe fidelity "
                               "steps the fixed fold order")
    return True
