"""Reference of kernels/schedule.py (never imports accelsim.kernels).

The reference is the numpy lowering :func:`accelsim.lower.tiling.mapped_schedule`: written
independently of the kernel, vectorised over the folds (one array expression per traffic rule,
Python integers where a share could pass int64), where the kernel walks the folds one by one.
"""

from __future__ import annotations

from accelsim.lower.tiling import mapped_schedule as ref_schedule

__all__ = ["ref_schedule"]
