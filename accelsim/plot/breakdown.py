"""Energy and area breakdowns: a stacked bar of energy per layer by component, and area."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

_COMPONENT = re.compile(r"^energy_(.+)_pj$")


def energy_components(layers: pd.DataFrame) -> list[str]:
    """The ``energy_<component>_pj`` columns of ``layers`` (not the ``energy_pj`` total)."""
    return [c for c in layers.columns if _COMPONENT.match(c)]


def energy_by_layer(layers: pd.DataFrame, label: str = "layer") -> Figure:
    """Stacked bars of energy per layer (uJ), one colour per component.

    Parameters
    ----------
    layers : DataFrame
        Rows of layers with ``energy_<component>_pj`` columns; ``label`` names the column used
        for the x tick labels (the index if absent). Uncosted rows (NaN) draw no bar.
    """
    columns = energy_components(layers)
    names = layers[label] if label in layers else layers.index.to_series()
    fig, ax = plt.subplots(figsize=(max(6.0, 0.4 * len(layers)), 4.0))
    bottom = pd.Series(0.0, index=layers.index)
    for column in columns:
        values = layers[column].fillna(0.0) / 1e6
        ax.bar(range(len(layers)), values, bottom=bottom, label=_COMPONENT.match(column).group(1))
        bottom = bottom + values
    ax.set_xticks(range(len(layers)), [str(n) for n in names], rotation=90)
    ax.set_ylabel("energy (uJ)")
    ax.set_title("Energy per layer by component")
    ax.legend(fontsize="small", ncols=2)
    fig.tight_layout()
    return fig


def area_breakdown(area: pd.DataFrame, kind: str = "pie") -> Figure:
    """Area by component (mm^2) from :func:`accelsim.cost.area`, as a ``"pie"`` or a ``"bar"``."""
    if kind not in ("pie", "bar"):
        raise ValueError(f"kind must be 'pie' or 'bar', got {kind!r}")
    parts = area[area["component"] != "total"]
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    if kind == "pie":
        ax.pie(parts["area_mm2"], labels=parts["component"], autopct="%1.0f%%")
        ax.set_aspect("equal")
    else:
        ax.bar(parts["component"], parts["area_mm2"])
        ax.set_ylabel("area (mm^2)")
        ax.tick_params(axis="x", rotation=45)
    total = area.loc[area["component"] == "total", "area_mm2"].sum()
    ax.set_title(f"Area by component (total {total:.3g} mm^2)")
    fig.tight_layout()
    return fig
