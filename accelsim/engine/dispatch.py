"""Per-layer dispatch (launch) overhead: the fixed time a layer costs before its first MAC.

Pure function :func:`add_dispatch`: the arch's ``dispatch_overhead`` (cycles, or a time at
the arch's clock) is added to the cycles of every layer that is launched on its own, and
reported as the ``dispatch_cycles`` column (``docs/timing_models.md``, "Dispatch overhead").
"""

from __future__ import annotations

import numpy as np

from accelsim.kernels import codes


def add_dispatch(stats: np.ndarray, launched: np.ndarray, dispatch_cycles: int) -> tuple[np.ndarray, np.ndarray]:
    """The counter matrix with ``dispatch_cycles`` added to the cycles of each ``launched`` layer,
    and the per-layer ``dispatch_cycles`` column (int64, 0 for layers not launched).

    ``launched``: costed layers that are not fused into another (a vector layer on a unit
    pipelined with the array runs inside its producer's launch).
    """
    column = np.where(launched, np.int64(dispatch_cycles), np.int64(0))
    stats = stats.copy()
    stats[:, codes.FOLD_STAT_CYCLES] += column
    stats[:, codes.FOLD_STAT_CYCLES_INCL_PREFETCH] += column
    return stats, column
