"""The mapper applied to a layer: the searched mapping of one layer, and what a run may search.

Which mapping a run uses (:func:`run_mapping`): the run's own argument, else the arch's
``mapping:`` / ``objective:`` keys, else the default: each array layer's searched mapping for
cycles under native timing in the ``fold`` and ``cycle`` fidelities; SCALE-Sim's fixed mapping
under ``scalesim`` timing (it reproduces SCALE-Sim) and in the ``pe`` fidelity (which steps the
fixed fold order). A search asked for explicitly is strict (a layer it cannot search is an
error); the default search leaves such a layer at the fixed mapping (:func:`searchable`), and
also a layer none of whose searched mappings fits the buffers (the fixed mapping streams
through buffers of any size).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from accelsim.engine import candidates, work
from accelsim.engine.compression import LayerSparsity
from accelsim.engine.fold import schedule_counts
from accelsim.errors import UnsupportedError
from accelsim.lower.gemm import DENSE_RATE, ArrayRate, lower_layer
from accelsim.lower.tiling import Mapping, fixed_mapping
from accelsim.mapper.gemm import NoMappingFits, search
from accelsim.spec.arch import ArchSpec, TimingModel
from accelsim.spec.options import Fidelity, MappingMode, Objective
from accelsim.spec.workload import Layer


def search_layer(layer: Layer, arch: ArchSpec, rate: ArrayRate = DENSE_RATE,
                 objective: Objective = Objective.CYCLES, energy_arch: ArchSpec | None = None) -> Mapping | None:
    """The searched mapping of ``layer`` (:func:`accelsim.mapper.gemm.search`), ``None`` for vector work.

    Candidates are evaluated exactly: :func:`accelsim.engine.fold.schedule_counts`' numbers, from the
    mapper's kernels; ``energy_arch``: the arch that prices their energy (``None``: ``arch``).
    Raises UnsupportedError for ``scalesim`` timing (it reproduces SCALE-Sim's fixed mapping).
    """
    if arch.timing_model is TimingModel.SCALESIM:
        raise UnsupportedError(f"layer {layer.name}: mapping search needs timing_model: native "
                               "(scalesim timing reproduces SCALE-Sim's fixed mapping)")
    problem = lower_layer(layer, arch.timing_model)
    if problem is None:
        return None
    bits = layer.compression
    per_repeat = dataclasses.replace(problem, repeats=1)  # layers that differ only in repeats share a choice
    try:
        return search(per_repeat, arch, schedule_counts, rate=rate, weight_bits=bits.weight_bits,
                      act_bits=bits.act_bits, objective=objective, energy_arch=energy_arch).mapping
    except UnsupportedError as error:
        raise type(error)(f"layer {layer.name}: {error}") from None


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


@dataclass(frozen=True)
class RunMapping:
    """How a run maps its array layers: ``mode`` and ``objective``; ``strict``: asked for (by the
    run or the arch), so a layer that cannot be searched is an error rather than left fixed."""

    mode: MappingMode
    objective: Objective
    strict: bool


def run_mapping(arch: ArchSpec, fidelity: Fidelity, mapping: MappingMode | None,
                objective: Objective | None) -> RunMapping:
    """The run's mapping: ``mapping``/``objective`` if given, else the arch's, else the default
    (search for cycles under native timing outside the ``pe`` fidelity, fixed otherwise)."""
    mode = mapping if mapping is not None else arch.mapping
    strict = mode is not None
    if mode is None:
        native = arch.timing_model is TimingModel.NATIVE and fidelity is not Fidelity.PE
        mode = MappingMode.SEARCH if native else MappingMode.FIXED
    return RunMapping(mode, objective or arch.objective or Objective.CYCLES, strict)


def layer_mapping(layer: Layer, arch: ArchSpec, rate: ArrayRate, objective: Objective, plan: LayerSparsity | None,
                  strict: bool, energy_arch: ArchSpec | None = None) -> Mapping | None:
    """The mapping a searching run gives ``layer`` (``None`` for vector work): its searched mapping
    or, when the search is the default and the layer is not :func:`searchable` or no searched
    mapping fits its buffers, the fixed one (``energy_arch``: :func:`search_layer`'s)."""
    if strict:
        return search_layer(layer, arch, rate, objective, energy_arch)
    if searchable(layer, arch, rate, plan):
        try:
            return search_layer(layer, arch, rate, objective, energy_arch)
        except NoMappingFits:
            pass
    return None if lower_layer(layer, arch.timing_model) is None else fixed_mapping(arch)


def searchable(layer: Layer, arch: ArchSpec, rate: ArrayRate, plan: LayerSparsity | None) -> bool:
    """Whether the default search takes ``layer``: it does not skip zeros (measured on the fixed
    fold order), its counts stay within the mapper kernels' int64 range, and its whole fold table
    fits the fold fidelity's memory (the search evaluates whole schedules; the fixed mapping runs
    long layers in blocks)."""
    if plan is not None and plan.fold_streams:
        return False
    problem = lower_layer(layer, arch.timing_model)
    if problem is None or not candidates.in_range(problem, arch, rate):
        return False
    estimate = work.estimate(problem, arch, rate)
    return work.fold_memory(problem, arch, rate, estimate, whole_schedule=True) <= work.FOLD_MEMORY_LIMIT
