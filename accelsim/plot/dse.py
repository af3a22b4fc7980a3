"""Design-space plots: Pareto fronts, per-layer breakdowns, heatmaps over two axes, rooflines, sweeps.

Every function takes DataFrames (a sweep's ``points``/``layers`` tables, a ``compare``
table or a run's per-layer table) and returns a :class:`matplotlib.figure.Figure` built
without pyplot, so no global state or GUI backend is touched. Axis labels carry units,
derived from the column names (``latency_s`` -> "latency (s)").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from accelsim.dse.pareto import pareto_mask
from accelsim.units import format_bytes

KINDS = ("pareto", "breakdown", "utilization", "roofline", "sweep")

_NAMED = {
    "latency_s": "latency (s)", "energy_pj": "energy (pJ)", "edp_pj_s": "energy-delay product (pJ s)",
    "cycles": "cycles", "stall_cycles": "stall cycles", "compute_cycles": "compute cycles",
    "utilization": "utilization (fraction of peak)", "area_um2": "area (um^2)", "sram_bytes": "on-chip SRAM (bytes)",
    "pes": "PEs", "macs": "MACs", "dram_read_bytes": "DRAM reads (bytes)", "dram_write_bytes": "DRAM writes (bytes)",
    "dram_bytes": "DRAM traffic (bytes)", "speedup": "speed-up (x)",
}
_SUFFIX_UNITS = (("_pj_s", "pJ s"), ("_pj", "pJ"), ("_bytes", "bytes"), ("_um2", "um^2"), ("_hz", "Hz"),
                 ("_cycles", "cycles"), ("_s", "s"))


def label(column: str, units: Mapping[str, str] | None = None) -> str:
    """A readable axis label with its unit, from the column name (or ``units`` for axis paths)."""
    if units and units.get(column):
        return f"{column} ({units[column]})"
    if column in _NAMED:
        return _NAMED[column]
    for suffix, unit in _SUFFIX_UNITS:
        if column.endswith(suffix):
            return f"{column[: -len(suffix)].replace('_', ' ')} ({unit})"
    return column.replace("_", " ")


def _is_bytes(column: str, units: Mapping[str, str] | None) -> bool:
    return column.endswith("_bytes") or bool(units and units.get(column) == "bytes")


def _need(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table]
    if missing:
        raise KeyError(f"{what} needs column(s) {', '.join(missing)}; the table has {', '.join(map(str, table.columns))}")


def pareto(points: pd.DataFrame, x: str = "latency_s", y: str = "energy_pj", color: str = "scheme",
           units: Mapping[str, str] | None = None) -> Figure:
    """Every design as a dot (coloured by ``color``), the front of (``x``, ``y``) as a line; one panel per workload."""
    _need(points, [x, y], "a Pareto plot")
    workloads = list(points["workload"].unique()) if "workload" in points else [None]
    fig = Figure(figsize=(6.4 * len(workloads), 4.8), layout="constrained")
    for i, workload in enumerate(workloads):
        ax = fig.add_subplot(1, len(workloads), i + 1)
        sub = points if workload is None else points[points["workload"] == workload]
        sub = sub.dropna(subset=[x, y])
        groups = sub.groupby(color, sort=False) if color in sub else [("designs", sub)]
        for name, group in groups:
            ax.scatter(group[x], group[y], s=18, alpha=0.6, label=str(name))
        front = sub[pareto_mask(sub[[x, y]].to_numpy(dtype=float))].sort_values(x)
        ax.step(front[x], front[y], where="post", color="black", linewidth=1.2)
        ax.scatter(front[x], front[y], s=50, facecolors="none", edgecolors="black", linewidths=1.2,
                   label=f"Pareto front ({len(front)})")
        ax.set_xlabel(label(x, units))
        ax.set_ylabel(label(y, units))
        ax.set_title(f"{workload}: {len(sub)} points" if workload is not None else f"{len(sub)} points")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    return fig


def breakdown_columns(layers: pd.DataFrame) -> tuple[list[str], str]:
    """What a per-layer stack shows: energy components if present, else compute and stall cycles."""
    energy = [c for c in layers.columns if c.startswith("energy_") and c.endswith("_pj") and c != "energy_pj"]
    if energy:
        return energy, "energy (pJ)"
    if {"compute_cycles", "stall_cycles"} <= set(layers.columns):
        return ["compute_cycles", "stall_cycles"], "cycles"
    _need(layers, ["cycles"], "a breakdown")
    return ["cycles"], "cycles"


def breakdown(layers: pd.DataFrame, title: str = "") -> Figure:
    """A stacked bar per layer: energy by component, or compute and stall cycles."""
    columns, unit = breakdown_columns(layers)
    names = layers["layer"].astype(str) if "layer" in layers else layers.index.astype(str)
    fig = Figure(figsize=(min(24.0, max(6.4, 0.22 * len(layers) + 2)), 4.8), layout="constrained")
    ax = fig.add_subplot()
    bottom = np.zeros(len(layers))
    positions = np.arange(len(layers))
    for column in columns:
        values = layers[column].fillna(0).to_numpy(dtype=float)
        ax.bar(positions, values, bottom=bottom, label=label(column).replace(" (pJ)", "").replace(" (cycles)", ""))
        bottom += values
    ax.set_xticks(positions, names, rotation=90, fontsize="x-small")
    ax.set_xlabel("layer")
    ax.set_ylabel(unit)
    ax.set_title(title or f"per-layer {unit.split(' ')[0]} breakdown")
    ax.legend(fontsize="small")
    return fig


def heatmap(points: pd.DataFrame, x_axis: str, y_axis: str, metric: str = "utilization",
            units: Mapping[str, str] | None = None, facet: str = "scheme") -> Figure:
    """``metric`` over two swept axes, one panel per ``facet`` value (shared colour scale).

    A cell holding several rows (other axes, other workloads) shows their mean, and the
    panel title says how many rows each cell averages.
    """
    _need(points, [x_axis, y_axis, metric], "a heatmap")
    panels = list(points.groupby(facet, sort=False)) if facet in points else [(None, points)]
    grids = [(name, sub.pivot_table(index=y_axis, columns=x_axis, values=metric, aggfunc="mean").sort_index(),
              len(sub)) for name, sub in panels]
    values = np.concatenate([g.to_numpy(dtype=float).ravel() for _, g, _ in grids])
    low, high = np.nanmin(values), np.nanmax(values)
    fig = Figure(figsize=(5.4 * len(grids) + 1.2, 4.8), layout="constrained")
    axes = [fig.add_subplot(1, len(grids), i + 1) for i in range(len(grids))]

    def ticks(values, column):
        return [format_bytes(v) if _is_bytes(column, units) else f"{v:g}" if isinstance(v, (int, float)) else str(v)
                for v in values]

    for ax, (name, grid, rows) in zip(axes, grids):
        grid = grid[sorted(grid.columns)]
        cells = grid.to_numpy(dtype=float)
        image = ax.imshow(cells, origin="lower", aspect="auto", cmap="viridis", vmin=low, vmax=high)
        ax.set_xticks(range(grid.shape[1]), ticks(grid.columns, x_axis))
        ax.set_yticks(range(grid.shape[0]), ticks(grid.index, y_axis))
        for (row, col), value in np.ndenumerate(cells):
            if np.isfinite(value):
                dark = (value - low) < 0.6 * (high - low)
                ax.text(col, row, f"{value:.3g}", ha="center", va="center", fontsize="x-small",
                        color="white" if dark else "black")
        ax.set_xlabel(label(x_axis, units))
        ax.set_ylabel(label(y_axis, units))
        per_cell = rows // max(1, int(np.isfinite(cells).sum()))
        ax.set_title((f"{facet} {name}" if name is not None else label(metric))
                     + (f" (mean of {per_cell} rows per cell)" if per_cell > 1 else ""))
    fig.colorbar(image, ax=axes, label=label(metric, units))
    return fig


def roofline(table: pd.DataFrame, peak_macs_per_cycle: float, dram_bytes_per_cycle: float | None,
             title: str = "") -> Figure:
    """Rows (layers or whole runs) placed by MACs per DRAM byte and MACs per cycle under the roofs.

    The compute roof is ``peak_macs_per_cycle``; the memory roof is ``dram_bytes_per_cycle``
    x intensity (absent for unlimited bandwidth). Rows without DRAM traffic or MACs are left out.
    """
    _need(table, ["macs", "cycles", "dram_read_bytes", "dram_write_bytes"], "a roofline")
    traffic = table["dram_read_bytes"] + table["dram_write_bytes"]
    keep = (table["macs"] > 0) & (traffic > 0) & (table["cycles"] > 0)
    intensity = (table["macs"] / traffic)[keep]
    achieved = (table["macs"] / table["cycles"])[keep]
    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.add_subplot()
    low = min(intensity.min() if len(intensity) else 1.0, 0.1) / 2
    high = max(intensity.max() if len(intensity) else 1.0, 10.0) * 2
    xs = np.geomspace(low, high, 200)
    roof = np.full_like(xs, peak_macs_per_cycle)
    if dram_bytes_per_cycle:
        roof = np.minimum(roof, dram_bytes_per_cycle * xs)
        ridge = peak_macs_per_cycle / dram_bytes_per_cycle
        ax.axvline(ridge, color="grey", linestyle=":", linewidth=1)
        ax.annotate(f"ridge {ridge:.3g} MAC/B", (ridge, peak_macs_per_cycle), fontsize="small", xytext=(4, -12),
                    textcoords="offset points")
    ax.plot(xs, roof, color="black", label=f"roof: {peak_macs_per_cycle:g} MAC/cycle"
            + (f", {dram_bytes_per_cycle:.3g} B/cycle" if dram_bytes_per_cycle else ""))
    ax.scatter(intensity, achieved, s=20, alpha=0.7, label=f"{int(keep.sum())} rows")
    if "layer" in table and keep.sum() <= 30:
        for name, xv, yv in zip(table["layer"][keep], intensity, achieved):
            ax.annotate(str(name), (xv, yv), fontsize="xx-small", xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("operational intensity (MACs per DRAM byte)")
    ax.set_ylabel("achieved throughput (MACs per cycle)")
    ax.set_title(title or "roofline")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def sweep_lines(points: pd.DataFrame, axis: str, metric: str, hue: str = "scheme",
                units: Mapping[str, str] | None = None) -> Figure:
    """``metric`` against one swept ``axis``, one line per ``hue`` value (mean over other axes)."""
    _need(points, [axis, metric], "a sweep plot")
    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.add_subplot()
    groups = points.groupby(hue, sort=False) if hue in points else [(metric, points)]
    for name, group in groups:
        line = group.groupby(axis)[metric].mean().sort_index()
        ax.plot(line.index, line.to_numpy(), marker="o", label=str(name))
    if _is_bytes(axis, units):
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: format_bytes(v) if v > 0 else "0"))
    ax.set_xlabel(label(axis, units))
    ax.set_ylabel(label(metric, units))
    ax.set_title(f"{label(metric, units)} vs {axis}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def compare_bars(table: pd.DataFrame, metrics: Sequence[str] = ("speedup", "energy_ratio", "edp_ratio")) -> Figure:
    """Grouped bars of a :func:`accelsim.compare` table's ratios, one group per row."""
    metrics = [m for m in metrics if m in table]
    _need(table, metrics or ["speedup"], "a comparison plot")
    names = [" / ".join(str(row[c]) for c in ("arch", "workload", "scheme") if c in table and table[c].nunique() > 1)
             or str(i) for i, row in table.iterrows()]
    fig = Figure(figsize=(max(6.4, 1.2 * len(table) + 2), 4.8), layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / len(metrics)
    positions = np.arange(len(table))
    for i, metric in enumerate(metrics):
        ax.bar(positions + i * width - 0.4 + width / 2, table[metric].to_numpy(dtype=float), width, label=metric)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(positions, names, rotation=20, ha="right", fontsize="small")
    ax.set_ylabel("relative to the first row (x)")
    ax.set_title("comparison")
    ax.legend(fontsize="small")
    return fig


def save(fig: Figure, path: str | Path, svg: bool = False) -> list[Path]:
    """Write ``fig`` as PNG at ``path`` (and SVG next to it if ``svg``); the paths written."""
    path = Path(path).with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    written = [path]
    if svg:
        fig.savefig(path.with_suffix(".svg"))
        written.append(path.with_suffix(".svg"))
    return written


def plot_results(kind: str, points: pd.DataFrame, layers: pd.DataFrame | None = None, meta: Mapping | None = None,
                 *, x: str | None = None, y: str | None = None, metric: str | None = None, key: str | None = None,
                 ceilings: tuple[float, float | None] | None = None) -> Figure:
    """The plot ``kind`` (see :data:`KINDS`) of a sweep's tables, with defaults from its ``sweep.json``.

    ``x``/``y``: the two metrics of a Pareto plot or the two axes of a heatmap, or the axis of
    a sweep plot. ``key``: the design whose layers a breakdown or roofline shows (default:
    the lowest-latency row). ``ceilings``: (peak MACs/cycle, DRAM bytes/cycle) for tables
    that do not carry them (a run's per-layer table).
    """
    meta = meta or {}
    units = meta.get("axes", {})
    axes = list(units) or [c for c in points.columns if "." in c]
    objectives = list(meta.get("objectives", ["latency_s", "energy_pj"]))
    if kind == "pareto":
        return pareto(points, x or objectives[0], y or objectives[1], units=units)
    if kind == "sweep":
        _need_axes(axes, 1, kind)
        return sweep_lines(points, x or axes[0], metric or objectives[0], units=units)
    if kind == "utilization":
        _need_axes(axes, 2, kind)
        return heatmap(points, x or axes[0], y or axes[1], metric or "utilization", units=units)
    if kind not in ("breakdown", "roofline"):
        raise ValueError(f"unknown plot kind {kind!r}; expected one of {', '.join(KINDS)}")
    row = _chosen_row(points, key)
    rows = layers if layers is not None else points
    title = ""
    if row is not None and layers is not None and "key" in layers:
        rows = layers[layers["key"] == row["key"]]
        shown = [f"{a}={format_bytes(row[a]) if _is_bytes(a, units) else row[a]}" for a in axes if a in row]
        title = f"design {row.get('design', '')}, {row.get('scheme', '')}: " + ", ".join(shown)
    if kind == "breakdown":
        return breakdown(rows, title)
    if ceilings is None:
        _need(points if row is not None else rows, ["peak_macs_per_cycle"], "a roofline (or pass the arch)")
        source = row if row is not None else rows.iloc[0]
        bandwidth = source.get("dram_bytes_per_cycle")
        ceilings = (float(source["peak_macs_per_cycle"]), None if pd.isna(bandwidth) else float(bandwidth))
        if layers is None and "peak_macs_per_cycle" in rows:  # whole runs: only those sharing this design's roofs
            same = rows["peak_macs_per_cycle"] == ceilings[0]
            rows = rows[same & (rows["dram_bytes_per_cycle"] == ceilings[1] if ceilings[1] else same)]
    return roofline(rows, ceilings[0], ceilings[1], title)


def _need_axes(axes: Sequence[str], count: int, kind: str) -> None:
    if len(axes) < count:
        raise ValueError(f"a {kind} plot needs {count} swept axes, the results have {len(axes)}")


def _chosen_row(points: pd.DataFrame, key: str | None) -> pd.Series | None:
    """The row with ``key``, else the lowest-latency row, else None (a plain per-layer table)."""
    if key is not None:
        match = points[points["key"] == key] if "key" in points else points.iloc[0:0]
        if match.empty:
            raise ValueError(f"no row with key {key!r}")
        return match.iloc[0]
    if "key" not in points:
        return None
    order = "latency_s" if "latency_s" in points else "cycles"
    return points.sort_values(order).iloc[0] if order in points else points.iloc[0]
