"""Cycles and energy per MAC against operand precision, one line per MAC unit kind."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure


def plot_precision(table: pd.DataFrame, title: str = "") -> Figure:
    """Two panels: ``cycles`` and ``energy_per_mac_pj`` against ``bits``, a line per ``mac``.

    Parameters
    ----------
    table : DataFrame
        One row per (MAC unit, precision) with columns ``mac`` (label), ``bits`` (operand
        width, weights and activations alike), ``cycles`` and optionally
        ``energy_per_mac_pj`` (the energy panel is left out without it, or when it is all
        missing).
    title : str
        Figure title (the layer, say).
    """
    has_energy = "energy_per_mac_pj" in table and table["energy_per_mac_pj"].notna().any()
    fig = Figure(figsize=(10 if has_energy else 5.5, 4), layout="constrained")
    axes = fig.subplots(1, 2 if has_energy else 1, squeeze=False)[0]
    panels = [("cycles", "cycles (log scale)")]
    if has_energy:
        panels.append(("energy_per_mac_pj", "energy per MAC (pJ, log scale)"))
    for ax, (column, label) in zip(axes, panels):
        for mac, rows in table.groupby("mac", sort=False):
            rows = rows.sort_values("bits")
            ax.plot(rows["bits"], rows[column], marker="o", label=str(mac))
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ticks = sorted(table["bits"].unique())
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.set_xlabel("operand bits (weights = activations)")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig
