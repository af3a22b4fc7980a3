"""Validated, frozen descriptions of what the user asks for: the architecture and the workload.

Loading them from files of any kind is :mod:`accelsim.frontend.load` (``accelsim.load_arch``,
``accelsim.load_workload``).
"""

from accelsim.spec.arch import ArchSpec, Dataflow, TimingModel
from accelsim.spec.workload import Compression, Layer, Network, Sparsity

__all__ = ["ArchSpec", "Compression", "Dataflow", "Layer", "Network", "Sparsity", "TimingModel"]
