"""accelsim: what does this (compressed) network cost on this accelerator?

Cycles, energy and area of DNN workloads on systolic, sparse and mixed-precision arrays.
"""

from accelsim.errors import AccelsimError, ConfigError, WorkloadError
from accelsim.frontend.load import load_arch, load_workload
from accelsim.spec import ArchSpec, Network
from accelsim.version import __version__
from accelsim.engine.functional import run_gemm
from accelsim.simulate import simulate


__all__ = ["AccelsimError", "ArchSpec", "ConfigError", "Network", "WorkloadError", "load_arch", "load_workload", "run_gemm", "simulate"]

__all__ += ["compare", "sweep"]


def __getattr__(name: str):
    """``sweep`` and ``compare`` live in the design-space layer on top; load it on first use."""
    if name in ("sweep", "compare"):
        import importlib

        return getattr(importlib.import_module("accelsim.dse"), name)
    raise AttributeError(f"module 'accelsim' has no attribute {name!r}")
