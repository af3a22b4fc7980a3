"""Sparsity in the hardware: N:M patterns, storage formats, statistical skipping model.

Pure functions of specs, shapes and masks; the kernel that measures skipping from real masks
is called through :mod:`accelsim.engine.sparse`.
"""

from accelsim.hw.sparse.formats import StoredBytes, smallest_format, storage_bytes
from accelsim.hw.sparse.nm import check_nm_mask, native_pattern, nm_reduction_length, parse_nm

__all__ = ["StoredBytes", "check_nm_mask", "native_pattern", "nm_reduction_length", "parse_nm",
           "smallest_format", "storage_bytes"]
