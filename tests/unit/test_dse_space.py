"""Sweep specs (validation with file, key and did-you-mean), axis application, samplers, constraints."""

from __future__ import annotations

import itertools

import pytest
import yaml

from accelsim.dse.space import apply_values, axis_unit, design_points, sample_indices
from accelsim.dse.spec import SamplerKind, load_sweep_spec, sweep_from_dict
from accelsim.errors import ConfigError

BASE = {
    "name": "base", "clock": "1GHz",
    "array": {"rows": 4, "cols": 4},
    "buffers": {"ifmap": {"size": "8KiB"}, "filter": {"size": "8KiB"}, "ofmap": {"size": "8KiB"}},
}


@pytest.fixture
def arch_file(tmp_path):
    path = tmp_path / "arch.yaml"
    path.write_text(yaml.safe_dump(BASE))
    return path


def spec_of(tmp_path, **data):
    data = {"arch": "arch.yaml", "workloads": ["net.yaml"], **data}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_sweep_spec(path)


def test_grid_is_every_combination_last_axis_fastest():
    assert sample_indices([2, 3], SamplerKind.GRID, 0, 0) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]


def test_random_draws_distinct_points_reproducibly():
    first = sample_indices([4, 5, 3], SamplerKind.RANDOM, 20, seed=7)
    assert len(first) == 20 == len(set(first))
    assert all(0 <= a < 4 and 0 <= b < 5 and 0 <= c < 3 for a, b, c in first)
    assert sample_indices([4, 5, 3], SamplerKind.RANDOM, 20, seed=7) == first
    # asking for more than exist gives every point once
    assert sorted(sample_indices([2, 2], SamplerKind.RANDOM, 10, seed=1)) == [(0, 0), (0, 1), (1, 0), (1, 1)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_latin_hypercube_uses_each_level_once_when_levels_equal_samples(seed):
    # Latin property: with n samples over n levels, every level of every axis appears exactly once.
    points = sample_indices([6, 6, 6], SamplerKind.LHS, 6, seed)
    assert len(points) == 6
    for axis in range(3):
        assert sorted(p[axis] for p in points) == list(range(6))


def test_latin_hypercube_strata_cover_coarse_levels_evenly():
    # 12 samples over 3 levels: each level holds 4 strata of width 1/12, so each appears 4 times before dedupe;
    # with two axes the distinct pairs number at most 9 and each level still appears in the result.
    points = sample_indices([3, 3], SamplerKind.LHS, 12, seed=3)
    assert len(points) == len(set(points)) <= 9
    assert {p[0] for p in points} == {0, 1, 2} == {p[1] for p in points}


def test_apply_values_sets_dotted_paths_and_merges_mappings():
    out = apply_values(BASE, [("array.rows", 8), ("buffers.ifmap", {"size": "16KiB", "banks": 2}),
                              ("dram.bandwidth", "10GB/s")])
    assert out["array"] == {"rows": 8, "cols": 4}
    assert out["buffers"]["ifmap"] == {"size": "16KiB", "banks": 2}
    assert out["dram"] == {"bandwidth": "10GB/s"}
    assert BASE["array"]["rows"] == 4  # the base is not modified


def test_design_points_apply_units_and_constraints(tmp_path, arch_file):
    spec = spec_of(tmp_path, axes={"array.rows": [2, 4, 8], "buffers.ifmap.size": ["4KiB", "16KiB", "64KiB"]},
                   tied={"array.cols": "array.rows"}, constraints={"sram_bytes": {"max": "40KiB"}})
    points, rejected = design_points(spec)
    # SRAM = ifmap + 8KiB filter + 8KiB ofmap (no accumulators): 20, 32, 80 KiB -> the 64KiB ifmap is out.
    assert rejected == 3 and len(points) == 6
    for point in points:
        values = dict(point.values)
        assert point.arch.array.rows == point.arch.array.cols == values["array.rows"]
        assert point.arch.buffers.ifmap.size_bytes == {"4KiB": 4096, "16KiB": 16384}[values["buffers.ifmap.size"]]
    assert [p.index for p in points] == list(range(6))
    assert axis_unit("buffers.ifmap.size") == "bytes" and axis_unit("array.rows") == ""


def test_grid_spec_yields_product_of_axis_lengths(tmp_path, arch_file):
    axes = {"array.rows": [1, 2, 3], "array.cols": [4, 5], "array.dataflow": ["os", "ws", "is"]}
    points, rejected = design_points(spec_of(tmp_path, axes=axes))
    assert rejected == 0
    assert [tuple(v for _, v in p.values) for p in points] == list(itertools.product(*axes.values()))


def test_bad_axis_value_names_the_key_and_the_point(tmp_path, arch_file):
    spec = spec_of(tmp_path, axes={"array.rows": [4, 0]})
    with pytest.raises(ConfigError) as err:
        design_points(spec)
    text = str(err.value)
    assert "array.rows" in text and "array.rows=0" in text and ">= 1" in text


def test_bad_axis_unit_names_the_key(tmp_path, arch_file):
    with pytest.raises(ConfigError, match=r"buffers\.ifmap\.size: expected a size"):
        design_points(spec_of(tmp_path, axes={"buffers.ifmap.size": ["64 KiloBytes"]}))


@pytest.mark.parametrize("data, where, hint", [
    ({"axes": {"array.rwos": [1]}}, "axes.array.rwos", "did you mean 'rows'"),
    ({"axes": {"bufers.ifmap.size": [1]}}, "axes.bufers.ifmap.size", "did you mean 'buffers'"),
    ({"sampler": {"kind": "grid", "seeed": 3}}, "sampler.seeed", "did you mean 'seed'"),
    ({"constrains": {}}, "constrains", "did you mean 'constraints'"),
    ({"constraints": {"sram_byte": {"max": 1}}}, "constraints.sram_byte", "did you mean 'sram_bytes'"),
    ({"constraints": {"sram_bytes": {"max": "lots"}}}, "constraints.sram_bytes.max", "expected a size"),
    ({"sampler": {"kind": "lhs"}}, "sampler.samples", "samples >= 1"),
    ({"sampler": {"kind": "sobol"}}, "sampler.kind", "grid, random, lhs"),
    ({"fidelity": "fol"}, "fidelity", "did you mean 'fold'"),
    ({"tied": {"array.cols": "array.row"}, "axes": {"array.rows": [1]}}, "tied.array.cols", "did you mean"),
    ({"axes": {"array.rows.x": [1]}}, "axes.array.rows.x", "is a value"),
])
def test_spec_errors_name_file_and_key(tmp_path, data, where, hint):
    with pytest.raises(ConfigError) as err:
        spec_of(tmp_path, **data)
    text = str(err.value)
    assert "sweep.yaml" in text and f"{where}:" in text and hint in text


def test_spec_collects_every_problem_at_once():
    with pytest.raises(ConfigError) as err:
        sweep_from_dict({"arch": "a.yaml", "workloads": [], "axes": {"array.rwos": [1]}, "fidelity": "x"})
    assert len(err.value.problems) == 3


def test_free_form_mapping_paths_are_accepted(tmp_path, arch_file):
    spec = spec_of(tmp_path, axes={"energy.mac_int8": ["0.2pJ", "0.3pJ"]})
    points, _ = design_points(spec)
    assert [p.arch.energy["mac_int8"] for p in points] == [pytest.approx(0.2), pytest.approx(0.3)]
