"""The breakdown plots draw one artist per component with its label (not pixels), in engineering units."""

import ast

import numpy as np
import pandas as pd
import pytest

from accelsim.cost import area
from accelsim.plot.breakdown import area_breakdown, layer_breakdown
from accelsim.frontend.load import load_arch
from conftest import ROOT


def bar_ends(container):
    return [bar.get_x() + bar.get_width() for bar in container]


def test_layer_breakdown_stacks_one_bar_series_per_component_in_uj():
    layers = pd.DataFrame({"layer": ["a", "b", "c"], "energy_mac_pj": [1e6, 2e6, float("nan")],
                           "energy_dram_pj": [3e6, 1e6, float("nan")], "energy_pj": [4e6, 3e6, float("nan")]})
    fig = layer_breakdown(layers, title="net on arch")
    ax = fig.axes[0]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["mac", "dram"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    # 4e6 pJ = 4 uJ: the axis is in uJ, stacked; the uncosted layer draws nothing
    assert bar_ends(ax.containers[1]) == pytest.approx([4.0, 3.0, 0.0])
    assert ax.get_xlabel() == "energy (uJ)"
    assert ax.get_title().startswith("net on arch\n") and "total 7 uJ" in ax.get_title()


def test_layer_breakdown_keeps_the_top_layers_and_sums_the_rest():
    energy = np.arange(50, dtype=float) * 1e6      # layer i costs i uJ
    layers = pd.DataFrame({"layer": [f"l{i}" for i in range(50)], "energy_mac_pj": energy})
    ax = layer_breakdown(layers, top=10).axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    # the ten largest are l40..l49, in network order; the other 40 sum to 0+1+...+39 = 780 uJ
    assert labels == [f"l{i}" for i in range(40, 50)] + ["other (40 layers)"]
    assert bar_ends(ax.containers[0]) == pytest.approx([*range(40, 50), 780.0])
    assert ax.figure.get_figheight() == pytest.approx(1.6 + 0.24 * 11)  # a height set by the bars shown


def test_layer_breakdown_in_percent_sums_each_layer_to_100():
    layers = pd.DataFrame({"layer": ["a", "b"], "energy_mac_pj": [1.0, 3.0], "energy_dram_pj": [99.0, 1.0]})
    ax = layer_breakdown(layers, scale="percent").axes[0]
    assert bar_ends(ax.containers[-1]) == pytest.approx([100.0, 100.0])
    assert [bar.get_width() for bar in ax.containers[0]] == pytest.approx([1.0, 75.0])


def test_layer_breakdown_on_a_log_axis_marks_each_component_at_its_value():
    layers = pd.DataFrame({"layer": ["a"], "energy_mac_pj": [1e3], "energy_dram_pj": [1e6]})
    ax = layer_breakdown(layers, scale="log").axes[0]
    assert ax.get_xscale() == "log"
    # 1e6 + 1e3 pJ = 1.001 uJ: the axis is in uJ; markers at 0.001 and 1 uJ
    points = sorted(float(c.get_offsets()[0][0]) for c in ax.collections)
    assert points == pytest.approx([0.001, 1.0])
    with pytest.raises(ValueError, match="scale"):
        layer_breakdown(layers, scale="sqrt")


def test_layer_breakdown_falls_back_to_compute_and_stall_cycles():
    layers = pd.DataFrame({"layer": ["c1"], "cycles": [10], "compute_cycles": [6], "stall_cycles": [4]})
    ax = layer_breakdown(layers).axes[0]
    assert ax.get_xlabel() == "cycles" and bar_ends(ax.containers[-1]) == pytest.approx([10.0])


@pytest.mark.parametrize("kind", ["pie", "bar"])
def test_area_breakdown_labels_every_component(kind):
    table = area(load_arch(ROOT / "arch_configs" / "tpu_v1_like.yaml"))
    fig = area_breakdown(table, kind=kind, title="tpu")
    ax = fig.axes[0]
    components = [c for c in table["component"] if c != "total"]
    if kind == "pie":
        labels = [t.get_text() for t in ax.texts if t.get_text() in components]
    else:
        labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == components
    assert "total" in ax.get_title() and "mm2" in ax.get_title()


def test_plots_never_touch_pyplot_global_state():
    for path in (ROOT / "accelsim" / "plot").glob("*.py"):
        tree = ast.parse(path.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not any("pyplot" in n for n in names), path.name
