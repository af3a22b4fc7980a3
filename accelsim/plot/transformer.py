"""Transformer breakdown plot: time and energy split into GEMM, nonlinear and data movement."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

CATEGORIES = ("gemm", "nonlinear", "data_movement")
_COLORS = {"gemm": "#4c72b0", "nonlinear": "#dd8452", "data_movement": "#8c8c8c"}


def plot_breakdown(table: pd.DataFrame) -> Figure:
    """Stacked bars of ``cycles_share`` and ``energy_share`` per category, one bar per
    (``network``, ``impl``) row group of ``table`` (columns: network, impl, category,
    cycles_share, energy_share, as :func:`accelsim.analysis.breakdown.breakdown` plus labels)."""
    groups = list(dict.fromkeys(zip(table["network"], table["impl"])))
    labels = [f"{net}\n{impl}" for net, impl in groups]
    fig = Figure(figsize=(max(6.0, 0.55 * len(groups) + 2), 6.5), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    x = np.arange(len(groups))
    for ax, column, title in ((axes[0], "cycles_share", "time"), (axes[1], "energy_share", "energy (dynamic)")):
        bottom = np.zeros(len(groups))
        for category in CATEGORIES:
            values = np.array([
                table[(table.network == n) & (table.impl == i) & (table.category == category)][column].sum()
                for n, i in groups])
            ax.bar(x, values, bottom=bottom, color=_COLORS[category], label=category.replace("_", " "))
            bottom += values
        ax.set_ylabel(f"share of {title}")
        ax.set_ylim(0, 1)
    axes[0].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    axes[1].set_xticks(x, labels, rotation=60, ha="right", fontsize=7)
    fig.suptitle("Transformers: GEMM vs nonlinear vs data movement, per nonlinear implementation")
    return fig
