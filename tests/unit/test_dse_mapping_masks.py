"""Sweeps and compare with the mapper (``mapping: search``) and with real masks (``masks: true``).

Mapping: the mapper keeps the fixed mapping unless something beats it, so where the fixed
mapping fits the buffers (checked here with ``fixed_schedule(...).fits_buffers``) a searched
layer is never slower. Masks: with weight-only skipping, the MACs an array performs on a conv
or GEMM are (output pixels) x (kept weights), counted here from the mask files the sweep wrote.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import accelsim as ax
from accelsim import cli
from accelsim.compress.scheme import apply_scheme, load_scheme
from accelsim.dse.compare import compare
from accelsim.dse.spec import sweep_from_dict
from accelsim.dse.sweep import run_sweep
from accelsim.errors import ConfigError
from accelsim.lower.gemm import lower_layer
from accelsim.lower.tiling import fixed_schedule
from accelsim.simulate import hardware_rate
from accelsim.spec.load import arch_from_dict

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "workloads" / "tiny_cnn.yaml"
UNSTRUCTURED50 = ROOT / "workloads" / "schemes" / "unstructured50.yaml"

ARCH = {"name": "ws", "clock": "1GHz", "array": {"rows": 8, "cols": 8, "dataflow": "ws", "accumulators": "16KiB"},
        "mac": {"kind": "fixed", "precisions": ["int4", "int8"], "accumulator_bits": 32},
        "buffers": {k: {"size": "64KiB"} for k in ("ifmap", "filter", "ofmap")},
        "dram": {"bandwidth": "8B/cycle"}}
SKIP_ARCH = {**ARCH, "name": "skip", "sparsity": {"mode": "skip", "weights": True}}


def write_spec(tmp_path, arch, name, **extra):
    (tmp_path / "arch.yaml").write_text(yaml.safe_dump(arch))
    spec = {"name": name, "arch": "arch.yaml", "workloads": [str(TINY)], **extra}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def fixed_fits(arch_dict, rows, size):
    """Names of tiny_cnn's array layers whose fixed mapping fits the buffers of this design."""
    arch = arch_from_dict({**arch_dict, "array": {**arch_dict["array"], "rows": rows, "cols": rows},
                           "buffers": {k: {"size": size} for k in ("ifmap", "filter", "ofmap")}})
    fits = set()
    for layer in ax.load_workload(TINY).layers:
        problem = lower_layer(layer, arch.timing_model)
        if problem is not None and fixed_schedule(problem, arch, rate=hardware_rate(layer, arch),
                                                  weight_bits=layer.compression.weight_bits,
                                                  act_bits=layer.compression.act_bits).fits_buffers:
            fits.add(layer.name)
    return fits


def test_searched_sweep_never_slower_than_fixed_where_it_fits_and_keys_differ(tmp_path):
    axes = {"array.rows": [8, 32], "buffers.ifmap.size": ["64KiB", "256KiB"]}
    tied = {"array.cols": "array.rows", "buffers.filter.size": "buffers.ifmap.size",
            "buffers.ofmap.size": "buffers.ifmap.size"}
    out = tmp_path / "out"
    fixed = run_sweep(write_spec(tmp_path, ARCH, "fixed", axes=axes, tied=tied, mapping="fixed"), out,
                      executor="serial", per_layer=True)
    search = run_sweep(write_spec(tmp_path, ARCH, "search", axes=axes, tied=tied, mapping="search"), out,
                       executor="serial", per_layer=True)
    # Same points, same store: nothing of the fixed run may be reused by the searched one.
    assert fixed.computed == search.computed == 4 and search.reused == 0
    assert not set(fixed.points["key"]) & set(search.points["key"])
    assert "mapping" in search.layers and "mapping" not in fixed.layers

    on = ["design", "layer"]
    both = fixed.layers.merge(search.layers, on=on, suffixes=("_fixed", "_search"))
    assert len(both) == len(fixed.layers) == 4 * 8
    for (rows, size), design in both.groupby(["array.rows_fixed", "buffers.ifmap.size_fixed"]):
        fits = fixed_fits(ARCH, int(rows), f"{int(size) // 1024}KiB")
        assert fits == {"conv1", "conv2", "conv3_dw", "conv3_pw", "fc"}, (rows, size)  # chosen so all fit
        mine = design[design["layer"].isin(fits)]
        assert (mine["cycles_search"] <= mine["cycles_fixed"]).all(), mine[["layer", "cycles_fixed", "cycles_search"]]
    totals = fixed.points.merge(search.points, on="design", suffixes=("_fixed", "_search"))
    assert (totals["cycles_search"] <= totals["cycles_fixed"]).all()

    again = run_sweep(write_spec(tmp_path, ARCH, "search", axes=axes, tied=tied, mapping="search"), out,
                      executor="serial", per_layer=True)
    assert again.computed == 0 and again.reused == 4


def test_objective_is_part_of_the_key_and_bad_values_are_named(tmp_path):
    out = tmp_path / "out"
    cycles = run_sweep(write_spec(tmp_path, ARCH, "c", mapping="search"), out, executor="serial")
    energy = run_sweep(write_spec(tmp_path, ARCH, "e", mapping="search", objective="energy"), out,
                       executor="serial")
    assert energy.reused == 0 and set(cycles.points["key"]) != set(energy.points["key"])
    assert float(energy.points["energy_pj"].iloc[0]) <= float(cycles.points["energy_pj"].iloc[0]) * (1 + 1e-9)

    with pytest.raises(ConfigError) as info:
        sweep_from_dict({"arch": "a", "workloads": ["w"], "mapping": "serch", "objective": "edpp", "masks": 2})
    text = str(info.value)
    assert "mapping" in text and "did you mean 'search'" in text and "objective" in text and "masks" in text
    with pytest.raises(ConfigError, match="pe fidelity"):
        sweep_from_dict({"arch": "a", "workloads": ["w"], "mapping": "search", "fidelity": "pe"})


def _check_mask_rows(layers, root):
    """Every conv/GEMM row is measured from a mask file under ``root``; MACs performed = pixels x kept weights."""
    net = ax.load_workload(TINY)
    array_layers = {layer.name: layer for layer in net.layers if layer.weight_shape}
    rows = layers[layers["layer"].isin(array_layers)]
    assert len(rows) == 5 and rows["sparsity_model"].eq("mask").all()
    masks = sorted(Path(root).glob("masks/*/*.npy"))
    assert {p.stem for p in masks} == set(array_layers)
    for path in masks:
        mask = np.load(path)
        layer = array_layers[path.stem]
        assert mask.shape == layer.weight_shape
        pixels = layer.macs // int(np.prod(layer.weight_shape))  # output pixels (x batch) each weight meets
        row = rows[rows["layer"] == path.stem].iloc[0]
        assert row["mac_ops"] == pixels * int(mask.sum()), path.stem
        assert row["mac_ops"] + row["skipped_macs"] + row["gated_macs"] == row["macs"]


def test_sweep_with_masks_skips_what_the_written_masks_prune(tmp_path):
    schemes = [str(UNSTRUCTURED50)]
    stat = run_sweep(write_spec(tmp_path, SKIP_ARCH, "stat", schemes=schemes), tmp_path / "stat",
                     executor="serial", per_layer=True)
    assert stat.layers[stat.layers["layer"] == "conv1"]["sparsity_model"].tolist() == ["statistical"]
    assert not list((tmp_path / "stat").glob("masks"))

    out = tmp_path / "masked"
    masked = run_sweep(write_spec(tmp_path, SKIP_ARCH, "masked", schemes=schemes, masks=True), out,
                       executor="serial", per_layer=True)
    assert "error" not in masked.points  # the column is dropped when no point failed
    _check_mask_rows(masked.layers, out)
    assert not set(stat.points["key"]) & set(masked.points["key"])

    # The store and its masks move together: mask paths are relative to the results directory.
    moved = out.rename(tmp_path / "moved")
    again = run_sweep(write_spec(tmp_path, SKIP_ARCH, "masked", schemes=schemes, masks=True), moved,
                      executor="serial", per_layer=True)
    assert again.computed == 0
    pd.testing.assert_frame_equal(again.points, masked.points)


def test_compare_with_masks_matches_simulate_on_the_same_masks(tmp_path):
    table = compare([arch_from_dict(SKIP_ARCH)], [TINY], [UNSTRUCTURED50], mask_dir=tmp_path)
    masks = sorted(tmp_path.glob("masks/*/*.npy"))
    assert len(masks) == 5
    # The same scheme applied with the compression API into another folder, simulated from there.
    direct_dir = tmp_path / "direct"
    net = apply_scheme(ax.load_workload(TINY), load_scheme(UNSTRUCTURED50), mask_dir=direct_dir)
    result = ax.simulate(arch_from_dict(SKIP_ARCH), net)
    assert result.layers["sparsity_model"].eq("mask").sum() == 5
    assert int(table["cycles"].iloc[0]) == int(result.summary["cycles"].iloc[0])
    plain = compare([arch_from_dict(SKIP_ARCH)], [TINY], [UNSTRUCTURED50])
    assert int(plain["cycles"].iloc[0]) != int(table["cycles"].iloc[0])  # statistical, not the masks


def test_cli_compare_mapping_and_masks(tmp_path, capsys):
    arch = tmp_path / "skip.yaml"
    arch.write_text(yaml.safe_dump(SKIP_ARCH))
    csv = tmp_path / "cmp" / "cmp.csv"
    csv.parent.mkdir()
    assert cli.main(["compare", str(arch), str(TINY), "--scheme", str(UNSTRUCTURED50), "--masks",
                     "-o", str(csv)]) == 0
    assert len(list(csv.parent.glob("masks/*/*.npy"))) == 5
    plain_arch = tmp_path / "ws.yaml"
    plain_arch.write_text(yaml.safe_dump(ARCH))
    for mapping in ("fixed", "search"):
        out = tmp_path / f"{mapping}.csv"
        assert cli.main(["compare", str(plain_arch), str(TINY), "--mapping", mapping, "--objective", "energy",
                         "-o", str(out)]) == 0
    capsys.readouterr()
    fixed, search = pd.read_csv(tmp_path / "fixed.csv"), pd.read_csv(tmp_path / "search.csv")
    assert fixed_fits(ARCH, 8, "64KiB") == {"conv1", "conv2", "conv3_dw", "conv3_pw", "fc"}
    assert float(search["energy_pj"].iloc[0]) <= float(fixed["energy_pj"].iloc[0])  # energy adds over layers
