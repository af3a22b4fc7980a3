"""Design-space plots: Pareto fronts, heatmaps over two axes, rooflines, sweeps, comparisons.

Every function takes DataFrames (a sweep's ``points``/``layers`` tables, a ``compare``
table or a run's per-layer table) and returns a :class:`matplotlib.figure.Figure` built
without pyplot, so no global state or GUI backend is touched. Axes are in engineering
units picked from the column names and values (``energy_pj`` -> "energy (mJ)",
``area_um2`` -> "area (mm2)", sizes in KiB/MiB; :mod:`accelsim.plot.scale`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from accelsim.dse.pareto import pareto_mask
from accelsim.plot.breakdown import layer_breakdown
from accelsim.plot.scale import Scale, column_scale
from accelsim.units import format_bytes

KINDS = ("pareto", "breakdown", "utilization", "roofline", "sweep")
MARKERS = "o^sDv<>p"

_NAMES = {
    "latency_s": "latency", "energy_pj": "energy", "edp_pj_s": "energy-delay product", "area_um2": "area",
    "area_mm2": "area", "sram_bytes": "on-chip SRAM", "dram_read_bytes": "DRAM reads",
    "dram_write_bytes": "DRAM writes", "dram_bytes": "DRAM traffic", "utilization": "utilization (fraction of peak)",
    "stall_cycles": "stall cycles", "compute_cycles": "compute cycles", "pes": "PEs", "speedup": "speed-up (x)",
    "energy_ratio": "energy ratio (x)", "edp_ratio": "EDP ratio (x)", "tops_per_w": "TOPS/W",
}
# a sweep axis's unit (accelsim.dse.space.axis_unit) -> the column suffix that scales it
_AXIS_SUFFIX = {"bytes": "_bytes", "Hz": "_hz", "pJ": "_pj", "um^2": "_um2", "cycles": "_cycles"}
_SUFFIXES = ("_pj_s", "_pj", "_bytes", "_um2", "_mm2", "_hz", "_cycles", "_s", "_w")


def scale_of(column: str, values=(), units: Mapping[str, str] | None = None) -> Scale:
    """The engineering unit of a column (or a sweep axis with ``units[column]``) for these values."""
    unit = (units or {}).get(column)
    return column_scale(column + _AXIS_SUFFIX[unit] if unit in _AXIS_SUFFIX else column, values)


def label(column: str, units: Mapping[str, str] | None = None, values=()) -> str:
    """A readable axis label with the engineering unit that suits ``values`` ("energy (mJ)")."""
    if column in _NAMES:
        name = _NAMES[column]
    elif "." in column:
        name = column
    else:
        name = next((column[: -len(s)] for s in _SUFFIXES if column.endswith(s)), column).replace("_", " ")
    unit = (units or {}).get(column)
    if unit and unit not in _AXIS_SUFFIX:
        return f"{name} ({unit})"
    scale = scale_of(column, values, units)
    return f"{name} ({scale.unit})" if scale.unit and scale.unit != name else name


def better(column: str) -> str:
    """``"higher is better"`` or ``"lower is better"`` for a metric column."""
    return "higher is better" if column in ("speedup", "utilization", "tops_per_w") or "sqnr" in column else \
        "lower is better"


def _need(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table]
    if missing:
        shown = ", ".join(map(str, table.columns[:20])) + (", ..." if len(table.columns) > 20 else "")
        raise KeyError(f"{what} needs column(s) {', '.join(missing)}; the table has {shown}")


def _tick(value, column: str, units: Mapping[str, str] | None) -> str:
    if (units or {}).get(column) == "bytes" or column.endswith((".size", "_bytes")):
        return format_bytes(value)
    return f"{value:g}" if isinstance(value, (int, float, np.number)) else str(value)


def label_points(ax, xs, ys, texts: Sequence[str], *, log_x: bool, log_y: bool, width: float = 0.14,
                 height: float = 0.045, fontsize: str = "x-small") -> int:
    """Annotate points in the given order, skipping any label that would overlap one already placed.

    Positions are compared as fractions of the axes' extent (log10 on log axes; call it after
    the limits are set, or it autoscales): a label needs ``width`` horizontally or ``height``
    vertically from every placed one. Returns how many labels were drawn.
    """
    def fraction(values, limits, log):
        values, limits = np.asarray(values, dtype=float), np.asarray(limits, dtype=float)
        if log:
            values, limits = np.log10(values), np.log10(limits)
        return (values - limits[0]) / max(limits[1] - limits[0], 1e-12)

    if not len(xs):
        return 0
    ax.autoscale_view()
    x, y = fraction(xs, ax.get_xlim(), log_x), fraction(ys, ax.get_ylim(), log_y)
    placed: list[tuple[float, float]] = []
    for xv, yv, fx, fy, text in zip(xs, ys, x, y, texts):
        if any(abs(fx - a) < width and abs(fy - b) < height for a, b in placed):
            continue
        placed.append((fx, fy))
        ax.annotate(text, (xv, yv), fontsize=fontsize, xytext=(4, 3), textcoords="offset points",
                    ha="right" if fx > 0.85 else "left")
    return len(placed)


def _design_text(row: pd.Series, axes: Sequence[str], units: Mapping[str, str] | None) -> str:
    values = [_tick(row[a], a, units) for a in axes if a in row]
    return " / ".join(values) if values else f"d{row.get('design', row.name)}"


_PLAIN = FuncFormatter(lambda value, _: f"{value:g}")  # 10, 100 on log axes, not 10^1
_PLAIN_MINOR = FuncFormatter(lambda value, _: f"{value:g}" if value > 0 and
                             round(value / 10 ** math.floor(math.log10(value))) in (2, 5) else "")  # 20, 50


def _spans_decade(values: pd.Series) -> bool:
    """Positive values whose largest is at least 10x the smallest: drawn on a log axis."""
    values = values.astype(float)
    return bool(len(values) and values.min() > 0 and values.max() >= 10 * values.min())


def pareto(points: pd.DataFrame, x: str = "latency_s", y: str = "energy_pj", color: str = "scheme",
           units: Mapping[str, str] | None = None, title: str = "") -> Figure:
    """Every design as a marker (one colour and shape per ``color`` value), the front of (``x``, ``y``)
    as a line with its designs labelled by their axis values; one panel per workload."""
    _need(points, [x, y], "a Pareto plot")
    units = units or {}
    axes = [a for a in units if a in points]
    workloads = list(points["workload"].unique()) if "workload" in points else [None]
    fig = Figure(figsize=(6.8 * len(workloads), 5.0), layout="constrained")
    for i, workload in enumerate(workloads):
        ax = fig.add_subplot(1, len(workloads), i + 1)
        sub = points if workload is None else points[points["workload"] == workload]
        sub = sub.dropna(subset=[x, y])
        sx, sy = scale_of(x, sub[x], units), scale_of(y, sub[y], units)
        groups = list(sub.groupby(color, sort=False)) if color in sub else [("designs", sub)]
        for j, (name, group) in enumerate(groups):
            ax.scatter(sx(group[x].astype(float)), sy(group[y].astype(float)), s=28, alpha=0.75,
                       marker=MARKERS[j % len(MARKERS)], label=f"{color} {name}" if color in sub else str(name))
        front = sub[pareto_mask(sub[[x, y]].to_numpy(dtype=float))].sort_values(x)
        ax.step(sx(front[x].astype(float)), sy(front[y].astype(float)), where="post", color="black", linewidth=1.0)
        ax.scatter(sx(front[x].astype(float)), sy(front[y].astype(float)), s=80, facecolors="none",
                   edgecolors="black", linewidths=1.0, label=f"Pareto front ({len(front)} designs)")
        log_x, log_y = _spans_decade(sub[x]), _spans_decade(sub[y])
        if log_x:
            ax.set_xscale("log")
        if log_y:
            ax.set_yscale("log")
        for axis, log in ((ax.xaxis, log_x), (ax.yaxis, log_y)):
            if log:
                axis.set_major_formatter(_PLAIN)
                axis.set_minor_formatter(_PLAIN_MINOR)
        texts = [_design_text(row, axes, units) for _, row in front.iterrows()]
        label_points(ax, sx(front[x].astype(float)), sy(front[y].astype(float)), texts, log_x=log_x, log_y=log_y)
        ax.set_xlabel(label(x, units, sub[x]))
        ax.set_ylabel(label(y, units, sub[y]))
        what = f"{workload}: " if workload is not None else ""
        ax.set_title(f"{title + chr(10) if title else ''}{what}{len(sub)} points"
                     + (f"; labels: {' / '.join(axes)}" if axes else ""), fontsize="medium")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    return fig


def heatmap(points: pd.DataFrame, x_axis: str, y_axis: str, metric: str = "utilization",
            units: Mapping[str, str] | None = None, facet: str = "scheme", title: str = "") -> Figure:
    """``metric`` over two swept axes, one panel per ``facet`` value (shared colour scale).

    A cell holding several rows (other axes, other workloads) shows their mean, and the
    panel title says how many rows each cell averages. Tick labels carry their unit (KiB).
    """
    _need(points, [x_axis, y_axis, metric], "a heatmap")
    panels = list(points.groupby(facet, sort=False)) if facet in points else [(None, points)]
    grids = [(name, sub.pivot_table(index=y_axis, columns=x_axis, values=metric, aggfunc="mean").sort_index(),
              len(sub)) for name, sub in panels]
    scale = scale_of(metric, points[metric], units)
    values = np.concatenate([g.to_numpy(dtype=float).ravel() for _, g, _ in grids]) * scale.factor
    low, high = np.nanmin(values), np.nanmax(values)
    fig = Figure(figsize=(5.4 * len(grids) + 1.2, 4.8), layout="constrained")
    axes = [fig.add_subplot(1, len(grids), i + 1) for i in range(len(grids))]
    for ax, (name, grid, rows) in zip(axes, grids):
        grid = grid[sorted(grid.columns)]
        cells = grid.to_numpy(dtype=float) * scale.factor
        image = ax.imshow(cells, origin="lower", aspect="auto", cmap="viridis", vmin=low, vmax=high)
        ax.set_xticks(range(grid.shape[1]), [_tick(v, x_axis, units) for v in grid.columns])
        ax.set_yticks(range(grid.shape[0]), [_tick(v, y_axis, units) for v in grid.index])
        for (row, col), value in np.ndenumerate(cells):
            if np.isfinite(value):
                dark = (value - low) < 0.6 * (high - low)
                ax.text(col, row, f"{value:.3g}", ha="center", va="center", fontsize="x-small",
                        color="white" if dark else "black")
        ax.set_xlabel(x_axis)  # the ticks carry the unit
        ax.set_ylabel(y_axis)
        per_cell = rows // max(1, int(np.isfinite(cells).sum()))
        ax.set_title((f"{facet} {name}" if name is not None else title or label(metric, units, points[metric]))
                     + (f" (mean of {per_cell} rows per cell)" if per_cell > 1 else ""), fontsize="medium")
    if title and len(grids) > 1:
        fig.suptitle(title)
    fig.colorbar(image, ax=axes, label=label(metric, units, points[metric]))
    return fig


def roofline(table: pd.DataFrame, peak_macs_per_cycle: float, dram_bytes_per_cycle: float | None,
             title: str = "") -> Figure:
    """Rows (layers or whole runs) placed by MACs per DRAM byte and MACs per cycle under the roofs.

    The compute roof is ``peak_macs_per_cycle``; the memory roof is ``dram_bytes_per_cycle``
    x intensity (absent for unlimited bandwidth). Rows without DRAM traffic or MACs are left
    out (the legend counts them). Labels go to the largest layers first and are skipped where
    they would overlap; rows at the same point share one label ("name +2").
    """
    _need(table, ["macs", "cycles", "dram_read_bytes", "dram_write_bytes"], "a roofline")
    traffic = (table["dram_read_bytes"] + table["dram_write_bytes"]).astype(float)
    keep = ((table["macs"] > 0) & (traffic > 0) & (table["cycles"] > 0)).fillna(False).astype(bool)
    shown = pd.DataFrame({"intensity": (table["macs"].astype(float) / traffic)[keep],
                          "achieved": (table["macs"].astype(float) / table["cycles"].astype(float))[keep],
                          "macs": table["macs"].astype(float)[keep],
                          "name": (table["layer"].astype(str) if "layer" in table else
                                   "d" + table["design"].astype(str) if "design" in table else
                                   table.index.to_series().astype(str))[keep]})
    ridge = peak_macs_per_cycle / dram_bytes_per_cycle if dram_bytes_per_cycle else None
    spots = [shown["intensity"].min(), shown["intensity"].max()] if len(shown) else [1.0]
    low = min([*spots, ridge or spots[0]]) / 4
    high = max([*spots, ridge or spots[0]]) * 4
    xs = np.geomspace(low, high, 200)
    roof = np.full_like(xs, peak_macs_per_cycle)
    fig = Figure(figsize=(7.0, 5.0), layout="constrained")
    ax = fig.add_subplot()
    if dram_bytes_per_cycle:
        roof = np.minimum(roof, dram_bytes_per_cycle * xs)
    ax.plot(xs, roof, color="black", label=f"roof: {peak_macs_per_cycle:g} MAC/cycle"
            + (f", {dram_bytes_per_cycle:.3g} B/cycle from DRAM" if dram_bytes_per_cycle else " (unlimited DRAM)"))
    rows = "layers" if "layer" in table else "designs" if "design" in table else "rows"
    left_out = int((~keep).sum())
    ax.scatter(shown["intensity"], shown["achieved"], s=22, alpha=0.75,
               label=f"{rows} ({len(shown)})" + (f"; {left_out} without MACs or DRAM traffic not shown"
                                                  if left_out else ""))
    groups = (shown.groupby(["intensity", "achieved"], sort=False)
              .agg(name=("name", "first"), count=("name", "size"), macs=("macs", "sum")).reset_index()
              .sort_values("macs", ascending=False))
    texts = [f"{n} +{c - 1}" if c > 1 else n for n, c in zip(groups["name"], groups["count"])]
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(low, high)
    bottom = min(shown["achieved"].min() if len(shown) else peak_macs_per_cycle, float(roof.min()))
    ax.set_ylim(bottom / 2, peak_macs_per_cycle * 2.5)
    label_points(ax, groups["intensity"], groups["achieved"], texts, log_x=True, log_y=True)
    if ridge:
        ax.axvline(ridge, color="grey", linestyle=":", linewidth=1)
        right = math.log(ridge / low) / math.log(high / low) > 0.6
        ax.annotate(f"ridge {ridge:,.0f} MAC/B" if ridge >= 100 else f"ridge {ridge:.3g} MAC/B", (ridge, peak_macs_per_cycle), fontsize="small",
                    xytext=(-4 if right else 4, 6), textcoords="offset points", ha="right" if right else "left")
    ax.set_xlabel("operational intensity (MACs per DRAM byte)")
    ax.set_ylabel("achieved throughput (MACs per cycle)")
    ax.set_title(title or "roofline", fontsize="medium")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small", loc="best")
    return fig


def sweep_lines(points: pd.DataFrame, axis: str, metric: str, hue: str = "scheme",
                units: Mapping[str, str] | None = None, others: Sequence[str] = (), title: str = "") -> Figure:
    """``metric`` against one swept ``axis``, one line per ``hue`` value (and workload).

    Nothing is averaged: if one other swept axis (of ``others``) varies, it gets one panel per
    value (up to 9); if more vary, a :class:`ValueError` says to plot them as a heatmap. A
    power-of-two axis (8, 16, ..., 128) is drawn on a log2 scale.
    """
    _need(points, [axis, metric], "a sweep plot")
    varying = [o for o in others if o != axis and o in points and points[o].nunique() > 1]
    if len(varying) > 1 or (varying and points[varying[0]].nunique() > 9):
        raise ValueError(f"a sweep plot of {metric} against {axis} would average over "
                         f"{', '.join(varying)}; plot two axes with --kind utilization --metric {metric} "
                         f"-x {axis} -y {varying[0]}")
    hues = [c for c in (hue, "workload") if c in points and (c == hue or points[c].nunique() > 1)]
    panels = list(points.groupby(varying[0], sort=True)) if varying else [(None, points)]
    if any(sub.groupby([*hues, axis]).size().max() > 1 for _, sub in panels):
        raise ValueError(f"a sweep plot of {metric} against {axis}: several rows share one {axis} value "
                         f"per line; plot them as a heatmap or a Pareto front")
    cols = min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(5.0 * cols + 0.8, 3.8 * rows + 0.6), layout="constrained")
    scale = scale_of(metric, points[metric], units)
    values = np.sort(points[axis].dropna().unique())
    numeric = np.issubdtype(values.dtype, np.number) and len(values) and values.min() > 0
    powers = bool(numeric and values.max() / values.min() >= 8)
    bytes_axis = (units or {}).get(axis) == "bytes" or axis.endswith((".size", "_bytes"))
    first = None
    for index, (value, sub) in enumerate(panels):
        ax = fig.add_subplot(rows, cols, index + 1, sharey=first)
        first = first or ax
        groups = list(sub.groupby(hues, sort=False)) if hues else [(metric, sub)]
        for j, (name, group) in enumerate(groups):
            line = group.sort_values(axis)
            name = " ".join(map(str, name)) if isinstance(name, tuple) else str(name)
            ax.plot(line[axis], scale(line[metric].astype(float)), marker=MARKERS[j % len(MARKERS)], label=name)
        if powers:
            ax.set_xscale("log", base=2)
            ax.xaxis.set_major_locator(FixedLocator(values))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.set_xticks(values, [_tick(v, axis, units) for v in values])
        elif bytes_axis:
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: format_bytes(v) if v > 0 else "0"))
        ax.set_xlabel(axis if bytes_axis else label(axis, units))  # byte ticks carry their unit
        ax.set_ylabel(label(metric, units, points[metric]))
        if value is not None:
            ax.set_title(f"{varying[0]} = {_tick(value, varying[0], units)}", fontsize="medium")
        ax.grid(True, alpha=0.3)
    first.legend(fontsize="small", title=" / ".join(hues) or None)
    fig.suptitle(f"{title + ': ' if title else ''}{label(metric, units, points[metric])} against {axis}",
                 fontsize="medium")
    return fig


COMPARE_METRICS = ("latency_s", "energy_pj", "edp_pj_s", "area_mm2", "area_um2", "tops_per_w", "sqnr_db")


def compare_bars(table: pd.DataFrame, metrics: Sequence[str] = COMPARE_METRICS) -> Figure:
    """One panel per metric of a :func:`accelsim.compare` table, in engineering units, saying which way is better.

    Bars are the metric's values, one per row, coloured by arch. With several rows per arch,
    each bar is annotated with its ratio to the first row of its own arch (its baseline):
    never a ratio across different architectures. Area is shown only when the archs differ.
    """
    metrics = [m for m in metrics if m in table and table[m].notna().any()
               and not (m.startswith("area") and table["arch"].nunique() < 2)]
    _need(table, metrics or ["latency_s"], "a comparison plot")
    if "area_mm2" in metrics and "area_um2" in metrics:
        metrics.remove("area_um2")
    named = [c for c in ("workload", "scheme") if c in table and table[c].nunique() > 1]
    names = [" / ".join(str(row[c]) for c in named) or str(row["arch"]) for _, row in table.iterrows()]
    archs = list(dict.fromkeys(table["arch"]))
    colors = {a: f"C{i}" for i, a in enumerate(archs)}
    against_baseline = table.groupby("arch", sort=False).cumcount() > 0  # every row but each arch's first
    cols = min(4, len(metrics))
    rows = math.ceil(len(metrics) / cols)
    fig = Figure(figsize=(max(4.2, 0.55 * len(table) + 1.6) * cols, 3.8 * rows + 0.8), layout="constrained")
    positions = np.arange(len(table))
    for index, metric in enumerate(metrics):
        ax = fig.add_subplot(rows, cols, index + 1)
        scale = scale_of(metric, table[metric])
        heights = scale(table[metric].astype(float)).to_numpy()
        bars = ax.bar(positions, heights, width=0.6, color=[colors[a] for a in table["arch"]])
        first = table.groupby("arch", sort=False)[metric].transform("first").astype(float).to_numpy()
        for bar, value, base, annotate in zip(bars, table[metric].astype(float), first, against_baseline):
            text = f"{value / base:.2f}x" if annotate and base else f"{scale(value):.3g}"
            ax.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom",
                        fontsize="x-small", xytext=(0, 2), textcoords="offset points")
        ax.set_xticks(positions, names, rotation=30 if len(table) > 3 else 0, ha="right" if len(table) > 3 else
                      "center", fontsize="small")
        ax.set_ylabel(label(metric, None, table[metric]))
        ax.set_title(f"{label(metric, None, table[metric])}: {better(metric)}", fontsize="medium")
        ax.margins(y=0.15)
        ax.grid(True, axis="y", alpha=0.3)
    if len(archs) > 1:
        fig.legend(handles=[Patch(color=colors[a], label=a) for a in archs], loc="outside lower center",
                   ncols=min(4, len(archs)), fontsize="small", title="arch")
    ratios = any(against_baseline)
    fig.suptitle(f"{' vs '.join(archs)}" + (f" on {table['workload'].iloc[0]}" if table["workload"].nunique() == 1
                                              else "")
                 + ("\nlabels: ratio to the first row of the same arch" if ratios else ""), fontsize="medium")
    return fig


def save(fig: Figure, path: str | Path, svg: bool = False) -> list[Path]:
    """Write ``fig`` at ``path`` (.png, .svg or .pdf; no suffix: .png), and an SVG next to it if ``svg``."""
    path = Path(path)
    if path.suffix not in (".png", ".svg", ".pdf"):
        path = path.with_name(path.name + ".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    written = [path]
    if svg and path.suffix != ".svg":
        fig.savefig(path.with_suffix(".svg"))
        written.append(path.with_suffix(".svg"))
    return written


def _title(row: pd.Series | None, table: pd.DataFrame, meta: Mapping, axes: Sequence[str],
           units: Mapping[str, str], source: str) -> str:
    """Arch (or sweep), workload, scheme and design of what a figure shows."""
    if row is not None:
        design = ", ".join(f"{a}={_tick(row[a], a, units)}" for a in axes if a in row)
        return (f"{row.get('workload', '')}, scheme {row.get('scheme', 'none')}, on {meta.get('name', source)}\n"
                f"design {row.get('design', '')}: {design}")
    names = {c: table[c].iloc[0] for c in ("workload", "arch", "scheme") if c in table and table[c].nunique() == 1}
    if "workload" in names and "arch" in names:
        return f"{names['workload']} on {names['arch']}" + (f", scheme {names['scheme']}" if "scheme" in names else "")
    return source


def plot_results(kind: str, points: pd.DataFrame, layers: pd.DataFrame | None = None, meta: Mapping | None = None,
                 *, x: str | None = None, y: str | None = None, metric: str | None = None, key: str | None = None,
                 ceilings: tuple[float, float | None] | None = None, scale: str = "linear", top: int = 30,
                 source: str = "") -> Figure:
    """The plot ``kind`` (see :data:`KINDS`) of a sweep's tables, with defaults from its ``sweep.json``.

    ``x``/``y``: the two metrics of a Pareto plot or the two axes of a heatmap, or the axis of
    a sweep plot. ``key``: the design whose layers a breakdown or roofline shows (default:
    the lowest-latency row). ``ceilings``: (peak MACs/cycle, DRAM bytes/cycle) for tables
    that do not carry them (a run's per-layer table). ``scale``/``top``: the breakdown's
    (:func:`accelsim.plot.breakdown.layer_breakdown`). ``source``: a name for titles when the
    table does not carry its arch and workload.
    """
    meta = meta or {}
    units = meta.get("axes", {})
    axes = list(units) or [c for c in points.columns if "." in c]
    objectives = list(meta.get("objectives", ["latency_s", "energy_pj"]))
    name = meta.get("name", source)
    if kind == "pareto":
        return pareto(points, x or objectives[0], y or objectives[1], units=units, title=name)
    if kind == "sweep":
        _need_axes(axes, 1, kind)
        return sweep_lines(points, x or axes[0], metric or objectives[0], units=units, others=axes, title=name)
    if kind == "utilization":
        _need_axes(axes, 2, kind)
        return heatmap(points, x or axes[0], y or axes[1], metric or "utilization", units=units, title=name)
    if kind not in ("breakdown", "roofline"):
        raise ValueError(f"unknown plot kind {kind!r}; expected one of {', '.join(KINDS)}")
    row = _chosen_row(points, key)
    rows = layers if layers is not None else points
    if row is not None and layers is not None and "key" in layers:
        rows = layers[layers["key"] == row["key"]]
    title = _title(row, rows, meta, axes, units, source)
    if kind == "breakdown":
        return layer_breakdown(rows, title, scale=scale, top=top)
    if ceilings is None:
        _need(points if row is not None else rows, ["peak_macs_per_cycle"], "a roofline (or pass the arch)")
        source_row = row if row is not None else rows.iloc[0]
        bandwidth = source_row.get("dram_bytes_per_cycle")
        ceilings = (float(source_row["peak_macs_per_cycle"]), None if pd.isna(bandwidth) else float(bandwidth))
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
