"""Design-space plots: artists, labels and files (not pixels)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from accelsim.plot import dse as plots


@pytest.fixture
def points():
    rows, sizes = [4, 8, 16], [1024, 2048]
    grid = [(r, s) for r in rows for s in sizes]
    return pd.DataFrame({
        "key": [f"k{i}" for i in range(len(grid))], "design": range(len(grid)),
        "workload": "net", "scheme": ["none", "int4"] * 3,
        "array.rows": [r for r, _ in grid], "buffers.ifmap.size": [s for _, s in grid],
        "latency_s": [1.0 / r for r, _ in grid], "energy_pj": [r * 10.0 + s / 1024 for r, s in grid],
        "utilization": [r / 16 * s / 2048 for r, s in grid],
        "peak_macs_per_cycle": [float(r * r) for r, _ in grid], "dram_bytes_per_cycle": 8.0,
        "macs": 1000, "cycles": [100 * r for r, _ in grid], "dram_read_bytes": 100, "dram_write_bytes": 0,
    })


UNITS = {"array.rows": "", "buffers.ifmap.size": "bytes"}


def test_pareto_highlights_exactly_the_front_in_engineering_units(points):
    fig = plots.pareto(points, "latency_s", "energy_pj", units=UNITS)
    ax = fig.axes[0]
    # latency 1/r falls and energy 10r + s/1024 rises with r: every r with the smaller SRAM trades off, so the
    # front is the three 1024-byte designs, at 1/16, 1/8 and 1/4 s = 62.5, 125 and 250 ms
    step = ax.lines[0]
    assert sorted(step.get_xdata()) == pytest.approx([62.5, 125.0, 250.0])
    assert ax.get_xlabel() == "latency (ms)" and ax.get_ylabel() == "energy (pJ)"
    assert any("Pareto front (3 designs)" in t.get_text() for t in ax.get_legend().get_texts())
    # the front's designs are labelled with their axis values; the schemes get different markers
    assert {t.get_text() for t in ax.texts} <= {"4 / 1KiB", "8 / 1KiB", "16 / 1KiB"} and ax.texts
    markers = [c.get_paths()[0].vertices.shape for c in ax.collections[:2]]
    assert markers[0] != markers[1]


def test_pareto_area_in_mm2():
    points = pd.DataFrame({"latency_s": [1.0, 2.0], "area_um2": [2.5e6, 1.0e6], "workload": "w"})
    ax = plots.pareto(points, "latency_s", "area_um2").axes[0]
    assert ax.get_ylabel() == "area (mm2)"
    assert sorted(ax.lines[0].get_ydata()) == pytest.approx([1.0, 2.5])


def test_heatmap_cells_are_means_over_the_other_axes(points):
    fig = plots.heatmap(points, "array.rows", "buffers.ifmap.size", "utilization", units=UNITS, facet="none")
    ax = fig.axes[0]
    image = ax.images[0].get_array()
    assert image.shape == (2, 3)
    # one row per cell here, so each cell is r/16 * s/2048
    assert image[1, 2] == pytest.approx(1.0) and image[0, 0] == pytest.approx(4 / 16 * 0.5)
    assert "mean" not in ax.get_title()


def test_heatmap_one_panel_per_scheme_with_a_shared_scale(points):
    base = points.assign(scheme="none")
    twice = pd.concat([base, base, base.assign(scheme="int4", utilization=base["utilization"] * 3)],
                      ignore_index=True)
    fig = plots.heatmap(twice, "array.rows", "buffers.ifmap.size", "utilization", units=UNITS)
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title().split(" (")[0] for ax in panels] == ["scheme none", "scheme int4"]
    # a cell of "none" averages its two equal copies; "int4" holds 3u; the scale spans both panels
    assert panels[0].images[0].get_array()[1, 2] == pytest.approx(1.0)
    assert panels[1].images[0].get_array()[1, 2] == pytest.approx(3.0)
    assert "mean of 2 rows per cell" in panels[0].get_title()
    assert panels[0].images[0].get_clim() == panels[1].images[0].get_clim() == pytest.approx((0.125, 3.0))
    assert [t.get_text() for t in panels[1].get_yticklabels()] == ["1KiB", "2KiB"]
    assert panels[1].get_ylabel() == "buffers.ifmap.size"  # the ticks carry the unit


def test_roofline_roof_is_min_of_compute_and_bandwidth():
    layers = pd.DataFrame({"layer": ["a", "b"], "macs": [1000, 64000], "cycles": [500, 1000],
                           "dram_read_bytes": [1000, 100], "dram_write_bytes": [0, 100]})
    fig = plots.roofline(layers, peak_macs_per_cycle=64.0, dram_bytes_per_cycle=4.0)
    ax = fig.axes[0]
    roof = next(line for line in ax.lines if line.get_label().startswith("roof"))
    x, y = np.asarray(roof.get_xdata()), np.asarray(roof.get_ydata())
    assert np.allclose(y, np.minimum(64.0, 4.0 * x))
    # a: 1 MAC/B at 2 MAC/cycle; b: 320 MAC/B at 64 MAC/cycle
    assert np.allclose(ax.collections[0].get_offsets(), [[1.0, 2.0], [320.0, 64.0]])
    assert ax.get_xscale() == "log" and "MACs per DRAM byte" in ax.get_xlabel()


def test_roofline_ridge_label_inside_and_shared_points_share_a_label():
    layers = pd.DataFrame({"layer": ["a", "b", "c"], "macs": [1000, 1000, 64000], "cycles": [500, 500, 1000],
                           "dram_read_bytes": [1000, 1000, 100], "dram_write_bytes": [0, 0, 100]})
    ax = plots.roofline(layers, peak_macs_per_cycle=64.0, dram_bytes_per_cycle=4.0).axes[0]
    ridge = next(t for t in ax.texts if t.get_text().startswith("ridge"))
    assert ridge.get_text() == "ridge 16 MAC/B"          # 64 MAC/cycle / 4 B/cycle
    low, high = ax.get_xlim()
    assert low < 16 / 2 and 16 * 2 < high                # room on both sides of the ridge
    assert ax.get_ylim()[1] > 64                         # the compute roof is on the chart
    texts = sorted(t.get_text() for t in ax.texts if not t.get_text().startswith("ridge"))
    assert texts == ["a +1", "c"]                        # a and b sit on one point
    assert ax.get_legend().get_texts()[1].get_text() == "layers (3)"


def test_label_points_skips_labels_that_would_overlap():
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    drawn = plots.label_points(ax, [1.0, 1.01, 2.0], [1.0, 1.0, 2.0], ["a", "b", "c"], log_x=False, log_y=False)
    assert drawn == 2 and [t.get_text() for t in ax.texts] == ["a", "c"]


def test_sweep_lines_facet_the_other_axis_instead_of_averaging():
    grid = [(r, s) for r in (8, 16, 32, 64, 128) for s in (1024, 2048)]
    points = pd.DataFrame({"array.rows": [r for r, _ in grid], "buffers.ifmap.size": [s for _, s in grid],
                           "scheme": "none", "energy_pj": [r * 10.0 + s / 1024 for r, s in grid]})
    fig = plots.sweep_lines(points, "array.rows", "energy_pj", units=UNITS, others=list(UNITS))
    panels = [ax for ax in fig.axes if ax.lines]
    assert [ax.get_title() for ax in panels] == ["buffers.ifmap.size = 1KiB", "buffers.ifmap.size = 2KiB"]
    line = panels[1].lines[0]
    assert list(line.get_xdata()) == [8, 16, 32, 64, 128]
    # 10 r + 2 pJ, up to 1282 pJ: drawn in nJ
    assert line.get_ydata() == pytest.approx([0.082, 0.162, 0.322, 0.642, 1.282])
    assert panels[1].get_ylabel() == "energy (nJ)"
    assert panels[0].get_xscale() == "log"               # powers of two: log2 axis
    with pytest.raises(ValueError, match="utilization"):  # two other axes vary: refuse, do not average
        plots.sweep_lines(points.assign(**{"array.cols": [r % 3 for r, _ in grid]}), "buffers.ifmap.size",
                          "energy_pj", others=["array.rows", "array.cols"])
    with pytest.raises(ValueError, match="share one"):   # the other axis not declared: still no silent mean
        plots.sweep_lines(points, "array.rows", "energy_pj")


def test_sweep_lines_byte_axis_ticks(points):
    ax = plots.sweep_lines(points[points["array.rows"] == 4], "buffers.ifmap.size", "energy_pj", hue="workload",
                           units=UNITS).axes[0]
    assert ax.get_xscale() == "linear"  # 1 to 2 KiB: not a span for a log axis
    assert ax.xaxis.get_major_formatter()(2048, 0) == "2KiB" and ax.get_xlabel() == "buffers.ifmap.size"


def test_compare_one_panel_per_metric_with_a_baseline_per_arch():
    table = pd.DataFrame({"arch": ["A", "A", "B", "B"], "workload": "w", "scheme": ["int8", "int4"] * 2,
                          "latency_s": [2e-3, 1e-3, 8e-3, 2e-3], "energy_pj": [4e9, 2e9, 1e9, 1e9],
                          "area_mm2": [1.0, 1.0, 3.0, 3.0]})
    fig = plots.compare_bars(table)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["latency (ms): lower is better", "energy (mJ): lower is better", "area (mm2): lower is better"]
    latency = fig.axes[0]
    assert [bar.get_height() for bar in latency.containers[0]] == pytest.approx([2.0, 1.0, 8.0, 2.0])
    # each int4 bar against its own arch's int8: A 1/2, B 2/8; never B against A
    assert [t.get_text() for t in latency.texts] == ["2", "0.50x", "8", "0.25x"]


def test_plot_results_picks_defaults_and_missing_columns_are_reported(points):
    meta = {"axes": UNITS, "objectives": ["latency_s", "energy_pj"]}
    for kind in plots.KINDS:
        assert plots.plot_results(kind, points, None, meta).axes
    with pytest.raises(KeyError, match="needs column"):
        plots.plot_results("utilization", points.drop(columns="utilization"), None, meta)


def test_save_writes_png_and_svg(tmp_path, points):
    written = plots.save(plots.pareto(points), tmp_path / "front", svg=True)
    assert [p.suffix for p in written] == [".png", ".svg"]
    assert written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and b"<svg" in written[1].read_bytes()[:500]


def test_labels_carry_engineering_units():
    assert plots.label("dram_read_bytes") == "DRAM reads (B)"
    assert plots.label("dram_read_bytes", values=[3 * 2**20]) == "DRAM reads (MiB)"
    assert plots.label("energy_sram_pj") == "energy sram (pJ)"
    assert plots.label("energy_pj", values=[3e10]) == "energy (mJ)"      # 3e10 pJ = 30 mJ
    assert plots.label("edp_pj_s", values=[5e3]) == "energy-delay product (nJ s)"
    assert plots.label("area_um2", values=[2e6]) == "area (mm2)"
    assert plots.label("buffers.ifmap.size", {"buffers.ifmap.size": "bytes"}, [2**16]) == "buffers.ifmap.size (KiB)"
