"""Pareto fronts: the designs no other design beats on every objective (all minimised)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def pareto_mask(values: np.ndarray) -> np.ndarray:
    """Which rows of ``values`` (n x objectives, all minimised) are non-dominated.

    Row ``j`` is dominated when some row is <= it in every objective and < in one. Equal
    rows do not dominate each other, so ties are all on the front. Rows with NaN are never
    on the front and dominate nothing.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"expected a 2-D array (points x objectives), got shape {values.shape}")
    valid = ~np.isnan(values).any(axis=1)
    mask = valid.copy()
    # A dominated point's dominatees are also dominated by its dominator, so skipping it is exact.
    for i in np.flatnonzero(valid):
        if mask[i]:
            worse = np.all(values >= values[i], axis=1) & np.any(values > values[i], axis=1)
            mask[worse & valid] = False
    return mask


def pareto_front(table: pd.DataFrame, objectives: Sequence[str], by: Sequence[str] = ()) -> pd.Series:
    """A boolean Series: is each row on the front of ``objectives`` within its ``by`` group."""
    missing = [o for o in objectives if o not in table]
    if missing:
        raise KeyError(f"objective column(s) {', '.join(missing)} not in the table; "
                       f"columns: {', '.join(map(str, table.columns))}")
    front = pd.Series(False, index=table.index)
    groups = [g.index for _, g in table.groupby(list(by), sort=False, dropna=False)] if by else [table.index]
    for index in groups:
        front.loc[index] = pareto_mask(table.loc[index, list(objectives)].to_numpy(dtype=float))
    return front
