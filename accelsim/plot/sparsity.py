"""Speed-up and energy saving against density, one line per way of exploiting zeros.

Input: a DataFrame with one row per (scheme, density) and columns ``scheme``, ``density``,
``speedup`` (dense cycles / cycles) and optionally ``energy_saving`` (dense energy / energy).
The ideal ``1 / density`` line is drawn for reference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def sparsity_figure(points: pd.DataFrame, title: str = "") -> Figure:
    """Two panels (speed-up; energy saving if present) against weight density, log-scale y."""
    panels = [("speedup", "speed-up over dense (x)")]
    if "energy_saving" in points:
        panels.append(("energy_saving", "energy saving over dense (x)"))
    fig = Figure(figsize=(5.5 * len(panels), 4.2), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    positive = points["density"][points["density"] > 0]
    ideal = np.linspace(positive.min(), 1.0, 100)
    for ax, (column, ylabel) in zip(axes, panels):
        ax.plot(ideal, 1.0 / ideal, color="0.6", linestyle="--", label="ideal 1/density")
        for index, (scheme, rows) in enumerate(points.groupby("scheme", sort=False)):
            rows = rows.sort_values("density")   # styles differ so that coinciding lines stay visible
            ax.plot(rows["density"], rows[column], marker="os^vD"[index % 5], markersize=4,
                    linestyle=("-", "--", ":", "-.")[index % 4], label=scheme)
        ax.set_xlabel("weight density (fraction non-zero)")
        ax.set_ylabel(ylabel)
        ax.set_yscale("log", base=2)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig
