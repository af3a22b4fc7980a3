"""The network-level memory plan (accelsim.lower.memory_plan): the worked example of
docs/memory_plan.md by hand, the graph rules, fusion, and the switches (arch key, simulate
argument, SCALE-Sim timing)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim import simulate
from accelsim.errors import ConfigError, UnsupportedError, WorkloadError
from accelsim.lower.memory_plan import fused_layers, operand_producers, plan_memory
from accelsim.spec.load import arch_from_dict, network_from_dict


def example_arch(size: str, fused=("relu",)) -> object:
    """The worked example's arch: a 4x4 weight-stationary array, one unified double-buffered
    buffer of ``size``, 4 KiB of accumulators (no partial sum leaves the array), ReLU on the
    output path."""
    return arch_from_dict({
        "name": f"example-{size}", "array": {"rows": 4, "cols": 4, "dataflow": "ws", "accumulators": "4KiB"},
        "buffers": {"unified": {"size": size, "word_bits": 8}},
        "dram": {"bandwidth": "4B/cycle", "latency": "10cycles"},
        "vector_unit": {"lanes": 4, "pipelined_with_array": True, "fused_ops": list(fused)},
    })


EXAMPLE = network_from_dict({"name": "example", "layers": [
    {"op": "conv2d", "name": "c1", "in_channels": 1, "out_channels": 4, "in_h": 8, "in_w": 8, "kernel": 3,
     "padding": 1},
    {"op": "relu", "name": "r1", "shape": [4, 8, 8]},
    {"op": "conv2d", "name": "c2", "in_channels": 4, "out_channels": 4, "in_h": 8, "in_w": 8, "kernel": 1},
    {"op": "eltwise", "name": "a", "shape": [4, 8, 8], "producers": ["c2", "r1"]},
]})


def dram_bytes(result) -> dict[str, tuple[int, int]]:
    layers = result.layers
    return {row.layer: (int(row.dram_read_bytes), int(row.dram_write_bytes)) for row in layers.itertuples()}


# Hand numbers (docs/timing_models.md, "Memory plan: worked example"): int8 activations and weights.
# input 1x8x8 = 64 B; c1 weights 4x1x3x3 = 36 B, output 4x8x8 = 256 B; c2 weights 16 B, output 256 B;
# the add's output 256 B is the network's output.
OLD_MODEL = {"c1": (64 + 36, 256), "r1": (256, 256), "c2": (256 + 16, 256), "a": (512, 256)}
EVERYTHING_FITS = {"c1": (64 + 36, 0), "r1": (0, 0), "c2": (16, 0), "a": (0, 256)}
C2_SPILLS = {"c1": (64 + 36, 0), "r1": (0, 0), "c2": (16, 256), "a": (256, 256)}


@pytest.mark.parametrize("fidelity", ["fold", "cycle"])
def test_worked_example_by_hand(fidelity):
    """1 KiB: both tensors stay (DRAM = weights + input + output = 372 B). 512 B: the pool is
    512 B; the add holds 170 B of staging for the network output (min(512 // 3, 2 x 256)) and
    r1's 256 B, leaving 86 B < 256 B: c2's output spills whole (+256 B written, +256 B read)."""
    assert dram_bytes(simulate(example_arch("1KiB"), EXAMPLE, fidelity, memory_plan=False)) == OLD_MODEL
    big = simulate(example_arch("1KiB"), EXAMPLE, fidelity)
    assert dram_bytes(big) == EVERYTHING_FITS
    assert list(big.layers.ifmap_source) == ["dram", "path", "chip", "chip,chip"]
    assert list(big.layers.ofmap_dest) == ["chip", "fused", "chip", "dram"]
    assert list(big.layers.ofmap_kept_bytes) == [256, 0, 256, 0]
    small = simulate(example_arch("512B"), EXAMPLE, fidelity)
    assert dram_bytes(small) == C2_SPILLS
    assert list(small.layers.ifmap_source) == ["dram", "path", "chip", "dram,chip"]


def test_less_dram_traffic_is_never_slower():
    """The memory timeline sees the reduced traffic: the array layers of the example get no slower."""
    arch = example_arch("1KiB")
    old, new = (simulate(arch, EXAMPLE, memory_plan=flag).layers.set_index("layer") for flag in (False, True))
    for name in ("c1", "c2"):
        assert new.loc[name, "cycles"] <= old.loc[name, "cycles"]
    assert new.loc["c2", "stall_cycles"] < old.loc["c2", "stall_cycles"]
    assert int(new.cycles.sum()) < int(old.cycles.sum())


def test_fused_op_costs_its_compute_only():
    """A fused ReLU moves nothing through SRAM or DRAM; unfused it reads and writes its tensor in SRAM."""
    fused = simulate(example_arch("1KiB"), EXAMPLE).layers.set_index("layer").loc["r1"]
    unfused = simulate(example_arch("1KiB", fused=()), EXAMPLE).layers.set_index("layer").loc["r1"]
    assert (fused.ifmap_sram_reads, fused.ofmap_sram_writes, fused.dram_read_bytes) == (0, 0, 0)
    assert unfused.ifmap_sram_reads == 256 and unfused.ofmap_sram_writes == 256 and unfused.dram_read_bytes == 0
    assert fused.ofmap_dest == "fused" and unfused.ofmap_dest == "chip"


def test_producers_rules():
    """Named producers; otherwise the previous layer when the element counts agree; else DRAM."""
    net = network_from_dict({"name": "n", "layers": [
        {"op": "conv2d", "name": "a", "in_channels": 1, "out_channels": 2, "in_h": 4, "in_w": 4, "kernel": 1},
        {"op": "relu", "name": "b", "shape": [2, 4, 4]},
        {"op": "relu", "name": "c", "shape": [3, 4, 4]},
        {"op": "eltwise", "name": "d", "shape": [2, 4, 4]},
        {"op": "eltwise", "name": "e", "shape": [2, 4, 4], "producers": ["a", "dram"]},
        {"op": "matmul", "name": "f", "m": 4, "n": 4, "k": 8, "producers": ["d"]},
    ]})
    assert operand_producers(net) == [(None,), (0,), (None,), (None, None), (0, None), (3, None)]


def test_fusion_needs_a_single_reader_on_the_path():
    """The ReLU reading an array layer's output fuses; a second reader of that output stops it."""
    arch = example_arch("1KiB")
    assert list(fused_layers(EXAMPLE, arch, operand_producers(EXAMPLE))) == [False, True, False, False]
    shared = network_from_dict({"name": "n", "layers": [
        {"op": "conv2d", "name": "c1", "in_channels": 1, "out_channels": 4, "in_h": 8, "in_w": 8, "kernel": 1},
        {"op": "relu", "name": "r1", "shape": [4, 8, 8]},
        {"op": "eltwise", "name": "a", "shape": [4, 8, 8], "producers": ["r1", "c1"]},
    ]})
    assert not fused_layers(shared, arch, operand_producers(shared)).any()


def test_kv_cache_beyond_the_producer_comes_from_dram():
    """A matmul operand larger than its producer's output reads the rest from DRAM."""
    net = network_from_dict({"name": "n", "layers": [
        {"op": "gemm", "name": "k", "m": 2, "n": 8, "k": 8},
        {"op": "matmul", "name": "qk", "m": 2, "n": 10, "k": 8, "producers": ["k", "k"]},
    ]})
    plan = plan_memory(net, example_arch("1KiB"))
    # A = 2x8 = 16 elements of k's 16; B = 8x10 = 80: 16 from k, 64 from DRAM (the cache).
    assert plan[1].operand_chip_bytes == (16, 16) and plan[1].operand_dram_bytes == (0, 64)


def test_unknown_producer_is_a_workload_error():
    with pytest.raises(WorkloadError, match="producers"):
        network_from_dict({"name": "n", "layers": [
            {"op": "relu", "name": "a", "shape": [4]}, {"op": "relu", "name": "b", "shape": [4], "producers": ["x"]}]})


def test_fused_ops_are_validated():
    with pytest.raises(ConfigError, match="fused_ops"):
        example_arch("1KiB", fused=("relux",))
    with pytest.raises(ConfigError, match="pipelined_with_array"):
        arch_from_dict({"name": "x", "array": {"rows": 4, "cols": 4}, "buffers": {"unified": {"size": "1KiB"}},
                        "vector_unit": {"lanes": 4, "fused_ops": ["relu"]}})


def test_scalesim_timing_has_no_plan():
    spec = {"name": "s", "timing_model": "scalesim", "array": {"rows": 4, "cols": 4},
            "buffers": {"unified": {"size": "64KiB"}}}
    arch = arch_from_dict(spec)
    assert not arch.plans_memory
    with pytest.raises(ConfigError, match="memory_plan"):
        arch_from_dict({**spec, "memory_plan": True})
    with pytest.raises(UnsupportedError, match="memory plan"):
        simulate(arch, EXAMPLE, memory_plan=True)
    assert "ifmap_source" not in simulate(arch, EXAMPLE).layers


def test_arch_key_turns_the_plan_off():
    arch = arch_from_dict({"name": "x", "array": {"rows": 4, "cols": 4}, "buffers": {"unified": {"size": "1KiB"}},
                           "memory_plan": False})
    c2 = simulate(arch, EXAMPLE).layers.set_index("layer").loc["c2"]
    assert (c2.dram_read_bytes, c2.dram_write_bytes) == (256 + 16, 256)


def test_part_of_a_producer():
    """``qkv[1/3]``: the operand reads a third of qkv's output (16 of 48), the rest from DRAM."""
    net = network_from_dict({"name": "n", "layers": [
        {"op": "gemm", "name": "qkv", "m": 2, "n": 24, "k": 8},
        {"op": "matmul", "name": "qk", "m": 2, "n": 10, "k": 8, "producers": ["qkv[1/3]", "qkv[1/3]"]},
    ]})
    plan = plan_memory(net, example_arch("1KiB"))
    assert plan[1].operand_chip_bytes == (16, 16) and plan[1].operand_dram_bytes == (0, 64)
    with pytest.raises(WorkloadError, match="a/b"):
        network_from_dict({"name": "n", "layers": [
            {"op": "relu", "name": "a", "shape": [4]}, {"op": "relu", "name": "b", "shape": [4], "producers": ["a[3/2]"]}]})


def test_searched_layer_never_slower_than_fixed_under_the_plan():
    """The mapper ranks mappings on a layer's full traffic; under the plan the fixed mapping is
    kept where it fits and is faster, so no array layer gets slower with mapping="search"."""
    from pathlib import Path

    from accelsim import load_arch, load_workload

    root = Path(__file__).resolve().parents[2]
    arch = load_arch(root / "arch_configs" / "tpu_v1_like.yaml")
    net = load_workload(root / "workloads" / "resnet18.yaml")
    fixed = simulate(arch, net, progress=False).layers
    searched = simulate(arch, net, mapping="search", progress=False).layers
    array = fixed.macs > 0
    assert (searched.cycles[array] <= fixed.cycles[array]).all()


@settings(max_examples=60, deadline=None)
@given(m=st.integers(1, 40), n=st.integers(1, 40), k=st.integers(1, 40), num=st.integers(0, 12),
       den=st.integers(1, 12), dataflow=st.sampled_from(["os", "ws", "is"]))
def test_scaled_schedule_totals(m, n, k, num, den, dataflow):
    """A partial spill scales a column's running total: its sum is floor(total x fraction), every
    fold stays >= 0, and the other columns (weights, partial sums) are untouched."""
    from fractions import Fraction

    from accelsim.lower.gemm import GemmProblem
    from accelsim.lower.memory_plan import TrafficScale, scaled_schedule
    from accelsim.lower.schedule import FILTER, IFMAP, OFMAP_READ
    from accelsim.lower.tiling import fixed_mapping, fixed_schedule

    arch = arch_from_dict({"name": "a", "array": {"rows": 4, "cols": 4, "dataflow": dataflow},
                           "buffers": {"unified": {"size": "64B"}}})
    fraction = Fraction(min(num, den), den)
    schedule = fixed_schedule(GemmProblem(m=m, n=n, k=k, repeats=1, ifmap_words=m * k), arch)
    scaled = scaled_schedule(schedule, TrafficScale(ifmap=fraction), fixed_mapping(arch))
    for table, scaled_table in ((schedule.dram_bytes, scaled.dram_bytes), (schedule.dram_words, scaled.dram_words)):
        total = int(table[:, IFMAP].sum())
        assert int(scaled_table[:, IFMAP].sum()) == total * fraction.numerator // fraction.denominator
        assert (scaled_table[:, IFMAP] >= 0).all() and (scaled_table[:, IFMAP] <= table[:, IFMAP]).all()
        assert (scaled_table[:, [FILTER, OFMAP_READ]] == table[:, [FILTER, OFMAP_READ]]).all()
