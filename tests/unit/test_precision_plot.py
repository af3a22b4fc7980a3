"""The precision plot draws one line per MAC kind in each panel, and no energy panel without energy."""

from __future__ import annotations

import numpy as np
import pandas as pd

from accelsim.plot.precision import plot_precision

TABLE = pd.DataFrame({
    "mac": ["fixed"] * 3 + ["bitfusion"] * 3,
    "bits": [2, 4, 8] * 2,
    "cycles": [100, 100, 100, 7, 25, 100],
    "energy_per_mac_pj": [0.1, 0.15, 0.3, 0.1, 0.15, 0.3],
})


def test_two_panels_with_a_line_per_mac_kind():
    fig = plot_precision(TABLE, title="layer")
    assert len(fig.axes) == 2
    for ax, column in zip(fig.axes, ("cycles", "energy_per_mac_pj")):
        assert len(ax.lines) == 2
        bitfusion = ax.lines[1]
        np.testing.assert_array_equal(bitfusion.get_xdata(), [2, 4, 8])
        np.testing.assert_array_equal(bitfusion.get_ydata(), TABLE[column].iloc[3:].to_numpy())


def test_cycles_only_without_energy():
    assert len(plot_precision(TABLE.drop(columns="energy_per_mac_pj")).axes) == 1
    assert len(plot_precision(TABLE.assign(energy_per_mac_pj=np.nan)).axes) == 1
