"""The breakdown plots draw one artist per component with its label (not pixels)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from accelsim.cost import area  # noqa: E402
from accelsim.plot.breakdown import area_breakdown, energy_by_layer  # noqa: E402
from accelsim.frontend.load import load_arch  # noqa: E402

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_energy_by_layer_stacks_one_bar_series_per_component():
    layers = pd.DataFrame({"layer": ["a", "b", "c"], "energy_mac_pj": [1e6, 2e6, float("nan")],
                           "energy_dram_pj": [3e6, 1e6, float("nan")], "energy_pj": [4e6, 3e6, float("nan")]})
    fig = energy_by_layer(layers)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["mac", "dram"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    tops = [bar.get_y() + bar.get_height() for bar in ax.containers[1]]
    assert tops == pytest.approx([4.0, 3.0, 0.0])  # uJ, stacked; the uncosted layer draws nothing
    plt.close(fig)


@pytest.mark.parametrize("kind", ["pie", "bar"])
def test_area_breakdown_labels_every_component(kind):
    table = area(load_arch(ROOT / "arch_configs" / "tpu_v1_like.yaml"))
    fig = area_breakdown(table, kind=kind)
    ax = fig.axes[0]
    components = [c for c in table["component"] if c != "total"]
    if kind == "pie":
        labels = [t.get_text() for t in ax.texts if t.get_text() in components]
    else:
        labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == components
    assert "total" in ax.get_title()
    plt.close(fig)
