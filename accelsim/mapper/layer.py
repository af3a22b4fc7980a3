"""The mapper applied to a layer: the searched mapping of one layer, and what a run may search."""

from __future__ import annotations

from accelsim.engine.fold import schedule_counts
from accelsim.errors import UnsupportedError
from accelsim.lower.gemm import DENSE_RATE, ArrayRate, lower_layer
from accelsim.lower.tiling import Mapping
from accelsim.mapper.gemm import Objective, search
from accelsim.spec.arch import ArchSpec, TimingModel
from accelsim.spec.workload import Layer


def search_layer(layer: Layer, arch: ArchSpec, rate: ArrayRate = DENSE_RATE,
                 objective: Objective | str = Objective.CYCLES) -> Mapping | None:
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
                      act_bits=bits.act_bits, objective=Objective(objective)).mapping
    except UnsupportedError as error:
        raise UnsupportedError(f"layer {layer.name}: {error}") from None


def check_mapping(arch: ArchSpec, fidelity: str, mapping: str, objective: str) -> bool:
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
