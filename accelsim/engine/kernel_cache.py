"""Which numba kernels a run calls, and about how long compiling those not yet cached takes.

The command line says so once before a run that will compile ("compiling kernels, once: ~N s").
Kernels compile lazily, on their first call: a run compiles only the families it uses, each
entry kernel together with the kernels it calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accelsim import kernels
from accelsim.kernels._cache import cached_kernel_names
from accelsim.spec.arch import ArchSpec, BandwidthMode, Dataflow, TimingModel


@dataclass(frozen=True)
class KernelFamily:
    """``entry``: the ``module.function`` (in ``accelsim/kernels/``) an engine calls; ``seconds``:
    compiling it and its callees, measured by ``python benchmarks/bench_compile.py`` (load
    average 5.1 on 2 cores, 2026-12-02: an upper bound on a quiet machine; the same kernels took
    4-5x longer at load 6-9)."""

    entry: str
    seconds: float


FAMILIES = {
    "fold_native": KernelFamily("systolic.run_fold_native", 4.0),
    "vector": KernelFamily("vector._run_vector", 1.4),
    "scalesim_calc": KernelFamily("systolic.run_fold_scalesim", 38.9),
    "scalesim_user": KernelFamily("scalesim_user.run_fold_scalesim_user", 37.1),
    "cycle": KernelFamily("cycle.run_cycle_native", 21.1),
    "pe_stationary": KernelFamily("pe.run_pe_stationary", 18.5),
    "pe_os": KernelFamily("pe.run_pe_os", 10.8),
}
"""The kernel families of the usual runs. Long layers in blocks (``memory.resume_native_timeline``)
and zero skipping from masks (``sparse``) compile on top when a run reaches them (not counted)."""


def run_families(arch: ArchSpec | None, fidelity: str) -> list[str]:
    """The :data:`FAMILIES` a run of ``fidelity`` on ``arch`` calls (the vector unit's if it has one;
    ``arch=None``: runs on archs not known yet, taken as native timing with a vector unit)."""
    names = ["vector"] if arch is None or arch.vector_unit is not None else []
    if arch is not None and arch.timing_model is TimingModel.SCALESIM:
        names.append("scalesim_user" if arch.scalesim.bandwidth_mode is BandwidthMode.USER else "scalesim_calc")
    else:
        names.append("fold_native")
    if fidelity == "cycle":
        names.append("cycle")
    elif fidelity == "pe":
        names.append("pe_os" if arch is not None and arch.array.dataflow is Dataflow.OS else "pe_stationary")
    return names


def cold_compile_seconds(families: list[str], cached: set[str] | None = None) -> float:
    """Estimated seconds compiling the ``families`` whose entry kernel numba's on-disk cache does
    not hold (``cached``: the cached ``module.function`` names; default: read the cache). 0: all cached."""
    if cached is None:
        cached = cached_kernel_names(Path(kernels.__file__).parent)
    return sum(FAMILIES[name].seconds for name in dict.fromkeys(families) if FAMILIES[name].entry not in cached)
