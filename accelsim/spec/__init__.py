"""Validated, frozen descriptions of what the user asks for: the architecture and the workload."""

from accelsim.spec.arch import ArchSpec, Dataflow, TimingModel
from accelsim.spec.load import load_arch, load_workload
from accelsim.spec.workload import Compression, Layer, Network, Sparsity

__all__ = [
    "ArchSpec", "Compression", "Dataflow", "Layer", "Network", "Sparsity", "TimingModel",
    "load_arch", "load_workload",
]
