"""Breakdowns: energy (or cycles) per layer stacked by component, and area by component.

:func:`layer_breakdown` is the one stacked per-layer chart (a run's layer table, a sweep
design's layers). Horizontal bars in network order, the ``top`` most costly layers drawn and
the rest summed into one "other" bar, so 10 or 200 layers give a figure of readable size.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from accelsim.plot.scale import column_scale

_COMPONENT = re.compile(r"^energy_(.+)_pj$")
SCALES = ("linear", "log", "percent")


def energy_components(layers: pd.DataFrame) -> list[str]:
    """The ``energy_<component>_pj`` columns of ``layers`` (not the ``energy_pj`` total)."""
    return [c for c in layers.columns if _COMPONENT.match(c)]


def breakdown_columns(layers: pd.DataFrame) -> tuple[list[str], str]:
    """What a per-layer stack shows: energy components if present, else compute and stall cycles."""
    energy = energy_components(layers)
    if energy:
        return energy, "energy"
    if {"compute_cycles", "stall_cycles"} <= set(layers.columns):
        return ["compute_cycles", "stall_cycles"], "cycles"
    if "cycles" not in layers:
        raise KeyError(f"a breakdown needs energy_<component>_pj, compute_cycles/stall_cycles or cycles columns; "
                       f"the table has {', '.join(map(str, layers.columns))}")
    return ["cycles"], "cycles"


def _component_name(column: str) -> str:
    match = _COMPONENT.match(column)
    return (match.group(1) if match else column.removesuffix("_cycles")).replace("_", " ")


def top_layers(values: pd.DataFrame, names: pd.Series, top: int) -> tuple[pd.DataFrame, list[str]]:
    """The ``top`` rows with the largest totals, in their original order, and one ``other`` row summing
    the rest (absent when nothing is left out); with their labels."""
    totals = values.sum(axis=1).to_numpy()
    if len(values) <= top + 1:
        return values.reset_index(drop=True), [str(n) for n in names]
    keep = np.sort(np.argsort(-totals, kind="stable")[:top])
    rest = np.setdiff1d(np.arange(len(values)), keep)
    shown = pd.concat([values.iloc[keep], values.iloc[rest].sum().to_frame().T], ignore_index=True)
    return shown, [str(names.iloc[i]) for i in keep] + [f"other ({len(rest)} layers)"]


def layer_breakdown(layers: pd.DataFrame, title: str = "", scale: str = "linear", top: int = 30) -> Figure:
    """A horizontal stacked bar per layer: energy by component (or compute and stall cycles).

    Parameters
    ----------
    layers : DataFrame
        One row per layer with ``energy_<component>_pj`` columns (else ``compute_cycles`` and
        ``stall_cycles``), labelled by its ``layer`` column (the index if absent). Uncosted
        rows (missing values) draw no bar.
    title : str
        What the figure shows (arch, workload, scheme); a line with the total is added.
    scale : str
        ``"linear"`` (one engineering unit: uJ, mJ), ``"log"`` (log axis, so components of
        very different size stay visible) or
        ``"percent"`` (each layer's shares, so DRAM does not hide the rest). On the log axis
        each component is a marker at its own value, over a grey bar of the layer's total.
    top : int
        The ``top`` layers with the largest totals are drawn in network order; the rest are
        summed into one "other (n layers)" bar.
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
    columns, quantity = breakdown_columns(layers)
    names = layers["layer"] if "layer" in layers else layers.index.to_series()
    values = layers[columns].astype("float64").fillna(0.0)
    total = float(values.to_numpy().sum())
    values, labels = top_layers(values, names, max(1, top))
    base = "energy_pj" if quantity == "energy" else "cycles"
    if scale == "percent":
        sums = values.sum(axis=1).replace(0.0, np.nan)
        values, unit = values.div(sums, axis=0).fillna(0.0) * 100.0, "% of the layer's total"
    else:
        factor = column_scale(base, values.sum(axis=1))
        values, unit = values * factor.factor, factor.unit
    fig = Figure(figsize=(8.0, 1.6 + 0.24 * len(values)), layout="constrained")
    ax = fig.add_subplot()
    positions = np.arange(len(values))
    if scale == "log":  # components side by side as markers on a log axis (stacks are not additive there)
        ax.barh(positions, values.sum(axis=1).to_numpy(), color="0.88", label="layer total")
        for index, column in enumerate(columns):
            shown = values[column].to_numpy()
            keep = shown > 0
            ax.scatter(shown[keep], positions[keep], marker="o^sDv<>p"[index % 8], s=24, zorder=3,
                       label=_component_name(column))
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    else:
        left = np.zeros(len(values))
        for column in columns:
            widths = values[column].to_numpy()
            ax.barh(positions, widths, left=left, label=_component_name(column))
            left += widths
        ax.set_xlim(0, max(float(left.max()), 1e-30) * 1.03)  # stacked bars' sticky edges would cut the longest
    ax.set_yticks(positions, labels, fontsize="small" if len(values) <= 20 else "x-small")
    ax.invert_yaxis()  # first layer on top
    ax.set_xlabel(quantity if unit == quantity else f"{quantity} ({unit})")
    ax.grid(True, axis="x", alpha=0.3)
    total_scale = column_scale(base, [total])
    shown = f"{total_scale(total):.3g} {total_scale.unit}"
    ax.set_title(f"{title + chr(10) if title else ''}{quantity} per layer by component (total {shown})",
                 fontsize="medium")
    fig.legend(fontsize="small", ncols=min(5, len(columns) + (scale == "log")), loc="outside lower center")
    return fig


def area_breakdown(area: pd.DataFrame, kind: str = "pie", title: str = "") -> Figure:
    """Area by component (mm2) from :func:`accelsim.cost.area`, as a ``"pie"`` or a ``"bar"``."""
    if kind not in ("pie", "bar"):
        raise ValueError(f"kind must be 'pie' or 'bar', got {kind!r}")
    parts = area[area["component"] != "total"]
    fig = Figure(figsize=(6.0, 4.0), layout="constrained")
    ax = fig.add_subplot()
    if kind == "pie":
        ax.pie(parts["area_mm2"], labels=parts["component"], autopct="%1.0f%%")
        ax.set_aspect("equal")
    else:
        ax.bar(parts["component"], parts["area_mm2"])
        ax.set_ylabel("area (mm2)")
        ax.tick_params(axis="x", rotation=45)
    total = area.loc[area["component"] == "total", "area_mm2"].sum()
    ax.set_title(f"{title + ': ' if title else ''}area by component (total {total:.3g} mm2)")
    return fig
