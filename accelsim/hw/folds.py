"""Where each fold of a GEMM lies (docs/timing_models.md): column-fold-major, top-left corner.

The dimensions along the rows and columns come from :func:`accelsim.lower.tiling.spatial_mapping`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np



class Folds(NamedTuple):
    """Per fold, in run order: first row/column of its block and the rows/columns it uses."""

    row0: np.ndarray
    col0: np.ndarray
    rows: np.ndarray
    cols: np.ndarray


def fold_blocks(rows_dim: int, cols_dim: int, rows: int, cols: int) -> Folds:
    """The folds of an ``Sr x Sc`` block on ``rows x cols`` PEs, column-fold-major (int64 arrays)."""
    row0 = np.arange(0, rows_dim, rows, dtype=np.int64)
    col0 = np.arange(0, cols_dim, cols, dtype=np.int64)
    col_grid, row_grid = np.meshgrid(col0, row0, indexing="ij")  # column fold outer
    row0_f = row_grid.ravel()
    col0_f = col_grid.ravel()
    return Folds(row0_f, col0_f, np.minimum(rows, rows_dim - row0_f), np.minimum(cols, cols_dim - col0_f))
