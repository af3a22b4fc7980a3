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


def test_pareto_highlights_exactly_the_front(points):
    fig = plots.pareto(points, "latency_s", "energy_pj")
    ax = fig.axes[0]
    # latency 1/r falls and energy 10r + s/1024 rises with r: every r with the smaller SRAM trades off, so the
    # front is the three 1024-byte designs.
    step = ax.lines[0]
    assert sorted(step.get_xdata()) == pytest.approx([1 / 16, 1 / 8, 1 / 4])
    assert ax.get_xlabel() == "latency (s)" and ax.get_ylabel() == "energy (pJ)"
    assert any("Pareto front (3)" in t.get_text() for t in ax.get_legend().get_texts())


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
    assert panels[1].get_ylabel() == "buffers.ifmap.size (bytes)"


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


def test_breakdown_stacks_energy_components_when_present():
    layers = pd.DataFrame({"layer": ["c1", "c2"], "energy_pj": [3.0, 7.0], "energy_mac_pj": [1.0, 5.0],
                           "energy_sram_pj": [2.0, 2.0], "cycles": [1, 1]})
    ax = plots.breakdown(layers).axes[0]
    assert len(ax.containers) == 2 and ax.get_ylabel() == "energy (pJ)"
    tops = [bar.get_y() + bar.get_height() for bar in ax.containers[-1]]
    assert tops == pytest.approx([3.0, 7.0])  # components add up to the total


def test_breakdown_falls_back_to_compute_and_stall_cycles():
    layers = pd.DataFrame({"layer": ["c1"], "cycles": [10], "compute_cycles": [6], "stall_cycles": [4]})
    assert plots.breakdown_columns(layers) == (["compute_cycles", "stall_cycles"], "cycles")


def test_sweep_lines_one_per_scheme_with_byte_ticks(points):
    ax = plots.sweep_lines(points, "buffers.ifmap.size", "energy_pj", units=UNITS).axes[0]
    assert len(ax.lines) == 2
    assert ax.xaxis.get_major_formatter()(2048, 0) == "2KiB"


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


def test_labels_carry_units():
    assert plots.label("dram_read_bytes") == "DRAM reads (bytes)"
    assert plots.label("energy_sram_pj") == "energy sram (pJ)"
    assert plots.label("edp_pj_s") == "energy-delay product (pJ s)"
