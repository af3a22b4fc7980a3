"""Between :func:`accelsim.simulate` and the kernels: per-layer pipelines, one module per fidelity."""

from pathlib import Path

from accelsim import kernels
from accelsim.kernels._cache import cached_kernels


def kernels_on_disk() -> int:
    """How many compiled kernels numba's on-disk cache holds (0: the next run compiles, tens of seconds)."""
    return cached_kernels(Path(kernels.__file__).parent)
