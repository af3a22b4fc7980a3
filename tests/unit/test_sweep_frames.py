"""The sweep builds no frame per point: the default evaluator's summary values and layer arrays must
give the tables that the per-point frames gave (``Result.summary``'s row, ``pd.concat`` of
``Result.layers``), values and dtypes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from accelsim import load_arch, load_workload
from accelsim.compress.scheme import apply_scheme, load_scheme
from accelsim.dse.evaluate import simulate_point
from accelsim.dse.sweep import _layer_table
from accelsim.simulate import simulate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def runs():
    """Four points: two array sizes x dense/compressed tiny CNN, fixed mapping; and a searched one
    (an extra ``mapping`` column: another layout)."""
    edge = load_arch(ROOT / "arch_configs" / "edge_32x32.yaml")
    net = load_workload(ROOT / "workloads" / "tiny_cnn.yaml")
    sparse = apply_scheme(net, load_scheme(ROOT / "workloads" / "schemes" / "int4_sparse24.yaml"))
    archs = [replace(edge, array=replace(edge.array, rows=r, cols=r)) for r in (8, 32)]
    points = [(arch, n, "fixed") for arch in archs for n in (net, sparse)] + [(archs[0], net, "search")]
    return [(simulate_point(arch, n, mapping=mode), simulate(arch, n, mapping=mode, progress=False))
            for arch, n, mode in points]


def test_summary_values_are_the_summary_frames_row(runs):
    for (summary, _), result in runs:
        expected = result.summary.iloc[0].to_dict()
        assert list(summary) == list(expected)
        for name, value in expected.items():
            assert type(summary[name]) is type(value), name
            assert summary[name] == value or (value != value and summary[name] != summary[name]), name


@pytest.mark.parametrize("chosen", [slice(0, 4), slice(0, 5), slice(3, 5)])
def test_stacked_arrays_are_the_concatenated_frames(runs, chosen):
    """One layout (the fixed points) concatenated as arrays; mixed layouts (with the searched
    point's ``mapping`` column) and a plain DataFrame among them go through pd.concat."""
    picked = runs[chosen]
    keys = [f"k{i}" for i in range(len(picked))]
    expected = _layer_table([result.layers for _, result in picked], keys)
    frames = pd.concat([result.layers for _, result in picked], ignore_index=True)
    assert expected.drop(columns=["key", "layer_index"]).equals(frames)  # the frame path is pd.concat itself
    arrays = [layers for (_, layers), _ in picked]
    for tables in (arrays, [picked[0][1].layers, *arrays[1:]]):
        stacked = _layer_table(tables, keys)
        pd.testing.assert_frame_equal(stacked, expected, check_exact=True)
        assert list(stacked.dtypes) == list(expected.dtypes)
