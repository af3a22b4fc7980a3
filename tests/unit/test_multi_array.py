"""Several arrays per chip (docs/multi_array.md): splits, shared DRAM bandwidth, the reduction's
link traffic, energy and area of every array. Expected values are worked out by hand from the
fold model's per-fold time (ws, no preload overlap: ``r + T + R + c - 2``, tests/unit/test_simulate.py)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest

import accelsim as ax
from accelsim.cost import area, per_action_energy
from accelsim.errors import ConfigError, UnsupportedError
from accelsim.spec.load import arch_from_dict, network_from_dict

BIG_BUFFERS = {"unified": {"size": "4MiB", "double_buffered": False}}


def chip(count=4, split=("columns", "rows", "reduction", "groups"), shared=("unified",), dram=None, buffers=None, link=None,
         **array):
    spec = {"name": "chip", "array": {"rows": 4, "cols": 4, "dataflow": "ws", **array},
            "buffers": buffers or BIG_BUFFERS,
            "arrays": {"count": count, "split": list(split), "shared": list(shared),
                       "link": link or {"latency": 5, "bandwidth": "16B/cycle", "energy_per_byte": "2pJ"}}}
    if dram:
        spec["dram"] = dram
    return arch_from_dict(spec)


def gemm(m, n, k, name="g"):
    return network_from_dict({"name": "n", "layers": [{"op": "gemm", "name": name, "m": m, "n": n, "k": k}]})


def row(arch, net, **options):
    """The layer's row; the fixed mapping on every array unless ``options`` say otherwise (the hand
    calculations below are of the fixed fold order)."""
    return ax.simulate(arch, net, **{"mapping": "fixed", **options}).layers.iloc[0]


def test_four_arrays_are_four_times_one_when_bandwidth_allows():
    """M=N=64, K=16 on 4x4 ws arrays, unlimited DRAM. One array: K/4 = 4 row folds x N/4 = 16
    column folds of 4 + 64 + 4 + 4 - 2 = 74 cycles = 4736. Split by columns, each array has
    N = 16: 4 x 4 folds of 74 = 1184, exactly a quarter (rows: M = 16 gives 64 folds of 26 =
    1664; reduction: 16 folds of 74 plus the link, so columns wins)."""
    net = gemm(64, 64, 16)
    one = row(chip(count=1), net)
    four = row(chip(), net)
    assert one.cycles == 4736
    assert four.cycles == four.compute_cycles == 1184
    assert four.mapping == "4x columns"
    assert four.folds == one.folds == 64                       # every array's folds add up
    assert four.utilization == pytest.approx(64 * 64 * 16 / (4 * 16 * 1184))
    assert row(chip(split=["rows"]), net).cycles == 64 * 26


def test_groups_split_gives_each_array_a_quarter_of_the_heads():
    """A matmul of 8 heads of 16x16x16 on 4x4 ws arrays: per head 4 row folds x 4 column folds of
    4 + 16 + 4 + 4 - 2 = 26 cycles = 416; one array runs 8 heads (3328 cycles), each of four arrays
    two (832): a quarter. With every split allowed the chooser does no worse."""
    net = network_from_dict({"name": "n", "layers": [{"op": "matmul", "name": "qk", "m": 16, "n": 16, "k": 16,
                                                      "heads": 8}]})
    assert row(chip(count=1), net).cycles == 3328
    got = row(chip(split=["groups"]), net)
    assert (got.cycles, got.mapping) == (832, "4x groups")
    assert row(chip(), net).cycles <= 832


def test_four_arrays_near_four_times_with_generous_bandwidth():
    """A large GEMM with bandwidth to spare: stalls add little, so the speed-up is close to 4
    (at most 4: each array's folds are a quarter of the one array's)."""
    net = gemm(512, 512, 256)
    dram = {"bandwidth": "256B/cycle"}
    ratio = row(chip(count=1, dram=dram, preload_overlap=True), net).cycles / row(
        chip(dram=dram, preload_overlap=True), net).cycles
    assert 3.9 <= ratio <= 4.0


def test_shared_bandwidth_limits_four_arrays():
    """M=N=K=64 int8 at 1 B/cycle, split by columns, unified buffer shared (everything fits).
    A (4096 B) is read once and multicast, each array reads its quarter of B; C (4096 B) is
    written once: 12288 B over the one channel, however many arrays compute. Compute per
    array: 16 row folds x 4 column folds x 74 = 4736 cycles; one array: 16 x 16 x 74 = 18944.
    Without double buffering no transfer overlaps compute: 12288 + 4736 = 17024 cycles on four
    arrays, 12288 + 18944 = 31232 on one (1.83x, not 4x). Double-buffered, transfers overlap
    compute: at least the 12288 cycles of the channel, at most the serial 17024."""
    net = gemm(64, 64, 64)
    dram = {"bandwidth": "1B/cycle"}
    four = row(chip(split=["columns"], dram=dram), net)
    assert (four.dram_read_bytes, four.dram_write_bytes) == (8192, 4096)
    assert (four.cycles, four.compute_cycles, four.stall_cycles) == (17024, 4736, 12288)
    assert row(chip(count=1, dram=dram), net).cycles == 31232
    overlapped = row(chip(split=["columns"], dram=dram, buffers={"unified": {"size": "4MiB"}}), net)
    assert 12288 <= overlapped.cycles < 17024
    # private buffers: every array fetches all of A: 4 x 4096 + 4096 read, 4096 written
    private = row(chip(split=["columns"], shared=[], dram=dram), net)
    assert (private.dram_read_bytes, private.dram_write_bytes) == (20480, 4096)
    assert private.cycles == 24576 + 4736


def test_reduction_split_partial_sums_by_hand():
    """M=4, N=16, K=4096 on four 4x4 ws arrays, split by the reduction (K = 1024 each).
    Each array: 256 row folds x 4 column folds of 4 + 4 + 4 + 4 - 2 = 14 cycles = 14336.
    Partial sums: a 4x16 tile of 32-bit sums = 256 B; the tree moves 3 tiles = 768 B in
    ceil(log2 4) = 2 steps of 5 + 256/16 = 21 cycles = 42 cycles, and adds 3 x 64 = 192 sums.
    DRAM: all of A (16384 B) and B (65536 B) once, the 64 int8 outputs written once."""
    arch = chip(split=["reduction"])
    got = row(arch, gemm(4, 16, 4096))
    assert got.mapping == "4x reduction"
    assert (got.link_bytes, got.link_cycles, got.reduction_adds) == (768, 42, 192)
    assert got.cycles == 14336 + 42
    assert got.stall_cycles == 42 and got.compute_cycles == 14336
    assert (got.dram_read_bytes, got.dram_write_bytes) == (16384 + 65536, 64)
    table = per_action_energy(arch)
    assert table["link_byte"] == 2.0
    assert got.energy_link_pj == pytest.approx(768 * 2.0 + 192 * table["reduction_add"], rel=1e-12)


def test_chosen_split_is_the_best_of_each_split_alone():
    """The mapper's split equals the brute force: each split run on its own, the fewest cycles."""
    layers = [(4, 16, 4096), (256, 8, 64), (8, 256, 64), (64, 64, 64)]
    dram = {"bandwidth": "8B/cycle"}
    for m, n, k in layers:
        net = gemm(m, n, k)
        alone = {split: row(chip(split=[split], dram=dram), net).cycles
                 for split in ("columns", "rows", "reduction", "groups")}
        got = row(chip(dram=dram), net)
        assert got.cycles == min(alone.values())
        assert got.mapping.split(" ")[1] == min(alone, key=alone.get)


def test_searched_mapping_is_reported_after_the_split():
    got = row(chip(dram={"bandwidth": "8B/cycle"}), gemm(64, 64, 64), mapping="search")
    head, _, mapping = got.mapping.partition(" | ")
    assert head.startswith("4x ") and mapping.startswith("ws ")


def test_one_array_gives_the_same_frames_as_no_arrays_section():
    net = ax.load_workload("workloads/resnet18.yaml")
    base = ax.load_arch("arch_configs/edge_32x32.yaml")
    one = dataclasses.replace(base, arrays=dataclasses.replace(base.arrays, count=1, shared_buffers=("ifmap",)))
    for mapping in ("fixed", "search"):
        a, b = ax.simulate(base, net, mapping=mapping), ax.simulate(one, net, mapping=mapping)
        pd.testing.assert_frame_equal(a.layers, b.layers)
        pd.testing.assert_frame_equal(a.summary.drop(columns="arch"), b.summary.drop(columns="arch"))


def test_area_counts_every_array_and_shared_buffers_once():
    split = dict(buffers={"ifmap": {"size": "64KiB"}, "filter": {"size": "64KiB"}, "ofmap": {"size": "64KiB"}},
                 accumulators="4KiB")
    one, four = area(chip(count=1, shared=["ifmap"], **split)), area(chip(shared=["ifmap"], **split))
    by_name = lambda table: table.set_index("component")
    one, four = by_name(one), by_name(four)
    assert four.loc["mac_unit", "count"] == 4 * one.loc["mac_unit", "count"] == 64
    assert four.loc["ifmap_sram", "count"] == 1                # shared: one buffer
    assert four.loc["filter_sram", "count"] == four.loc["ofmap_sram", "count"] == 4
    assert four.loc["accumulators", "count"] == 4
    assert four.loc["filter_sram", "area_um2"] == pytest.approx(4 * one.loc["filter_sram", "area_um2"])


def test_energy_counts_every_array():
    """Same MACs, same MAC energy; the SRAM reads of every array add up (columns split: each
    array reads all of A for its own columns, as one array does for all of them)."""
    net = gemm(64, 64, 16)
    one, four = row(chip(count=1), net), row(chip(), net)
    assert four.energy_mac_pj == pytest.approx(one.energy_mac_pj, rel=1e-12)
    assert (four.ifmap_sram_reads, four.filter_sram_reads) == (one.ifmap_sram_reads, one.filter_sram_reads)
    assert four.energy_link_pj == 0                              # columns move nothing over the link


@pytest.mark.parametrize("fidelity", ["cycle", "pe"])
def test_cycle_and_pe_fidelities_refuse_several_arrays(fidelity):
    with pytest.raises(UnsupportedError, match="fold fidelity only"):
        ax.simulate(chip(), gemm(8, 8, 8), fidelity=fidelity)


def test_run_gemm_refuses_several_arrays():
    import numpy as np

    with pytest.raises(UnsupportedError, match="run_gemm runs one array"):
        ax.run_gemm(chip(), np.ones((4, 4), dtype=np.int64), np.ones((4, 4), dtype=np.int64))


@pytest.mark.parametrize("arrays, path, words", [
    ({"count": 2, "split": ["rows"], "shared": ["unifed"]}, "arrays.shared[0]", "did you mean 'unified'"),
    ({"count": 2, "split": ["rows"], "shared": ["ifmap"]}, "arrays.shared[0]", "no ifmap buffer"),
    ({"count": 2}, "arrays.link.bandwidth", "reduction split"),
    ({"count": 2, "split": []}, "arrays.split", "at least one"),
    ({"count": 0}, "arrays.count", ">= 1"),
    ({"count": 2, "split": ["cols"]}, "arrays.split[0]", "did you mean 'columns'"),
])
def test_bad_arrays_sections_are_refused_with_their_path(arrays, path, words):
    spec = {"name": "t", "array": {"rows": 4, "cols": 4}, "buffers": {"unified": {"size": "64KiB"}}, "arrays": arrays}
    with pytest.raises(ConfigError) as error:
        arch_from_dict(spec)
    assert path in str(error.value) and words in str(error.value)


def test_scalesim_timing_refuses_several_arrays():
    spec = {"name": "t", "timing_model": "scalesim", "array": {"rows": 4, "cols": 4},
            "buffers": {op: {"size": "64KiB"} for op in ("ifmap", "filter", "ofmap")},
            "arrays": {"count": 2, "split": ["columns"]}}
    with pytest.raises(ConfigError, match="arrays.count: SCALE-Sim timing models one array"):
        arch_from_dict(spec)


def test_energy_objective_picks_the_least_energy_split():
    """Brute force again, by energy: the chosen split's reported energy is the least of each split alone."""
    dram = {"bandwidth": "8B/cycle"}
    for m, n, k in [(4, 16, 4096), (64, 64, 64)]:
        net = gemm(m, n, k)
        alone = [row(chip(split=[split], dram=dram), net, objective="energy").energy_pj
                 for split in ("columns", "rows", "reduction", "groups")]
        assert row(chip(dram=dram), net, objective="energy").energy_pj == pytest.approx(min(alone), rel=1e-12)


def test_private_srams_leak_once_per_array():
    leaky = dict(buffers={"ifmap": {"size": "64KiB"}, "filter": {"size": "64KiB"}, "ofmap": {"size": "64KiB"}},
                 accumulators="4KiB")
    one = per_action_energy(dataclasses.replace(chip(count=1, shared=["ifmap"], **leaky), sram_leakage=True))
    four = per_action_energy(dataclasses.replace(chip(shared=["ifmap"], **leaky), sram_leakage=True))
    assert four["leakage_ifmap_sram"] == pytest.approx(one["leakage_ifmap_sram"])           # shared: once
    for name in ("leakage_filter_sram", "leakage_ofmap_sram", "leakage_accumulators"):
        assert four[name] == pytest.approx(4 * one[name])


def test_zero_skipping_is_refused_and_gating_runs():
    from accelsim.spec.arch import SparsityMode, SparsitySpec

    net = network_from_dict({"name": "n", "layers": [{"op": "gemm", "name": "g", "m": 32, "n": 32, "k": 32,
                                                      "compression": {"sparsity": {"pattern": "unstructured",
                                                                                   "density": 0.5}}}]})
    skip = dataclasses.replace(chip(), sparsity=SparsitySpec(mode=SparsityMode.SKIP))
    with pytest.raises(UnsupportedError, match="layer g: zero skipping"):
        ax.simulate(skip, net, mapping="fixed")
    gate = row(dataclasses.replace(chip(), sparsity=SparsitySpec(mode=SparsityMode.GATE)), net)
    dense = row(chip(), gemm(32, 32, 32))
    assert gate.cycles == dense.cycles and gate.gated_macs == 32**3 // 2   # gating saves energy, not time


def test_float_layer_with_many_folds_runs_in_blocks():
    """bf16 operands on a layer long enough for the block model (257 x 257 folds > 2^16): the
    blocks take the format's width (16 bits), as the one-piece schedule does: 2 B per element."""
    spec = {"name": "f", "array": {"rows": 4, "cols": 4, "dataflow": "ws"}, "mac": {"precisions": ["bf16"]},
            "buffers": {"unified": {"size": "4MiB"}}}
    net = network_from_dict({"name": "n", "layers": [{"op": "gemm", "name": "g", "m": 8, "n": 1028, "k": 1028,
                                                      "compression": {"weight_bits": "bf16", "act_bits": "bf16"}}]})
    got = row(arch_from_dict(spec), net)
    assert got.folds == 257 * 257
    assert got.dram_read_bytes == 2 * (8 * 1028 + 1028 * 1028)                  # everything fits: read once


def shapes():
    """GEMMs (m, n, k) of many fold counts, sizes that do and do not divide among 2-4 arrays."""
    return list(itertools.product((5, 64, 333), (7, 64, 200), (9, 48, 301)))


@pytest.mark.parametrize("dataflow", ["ws", "os", "is"])
def test_every_counter_but_the_cycles_is_the_same_at_any_share_of_the_channel(dataflow):
    """The property the split's timing relies on: an array's counters (traffic, SRAM accesses,
    folds, compute cycles) do not depend on its DRAM bandwidth; only the total and stall cycles do.
    Each GEMM on one 4x4 array with a small buffer (traffic and stalls), at 8, 3 and 1/3 B/cycle."""
    from accelsim.engine import fold
    from accelsim.kernels import codes
    from accelsim.lower.gemm import lower_layer

    cycles = {codes.FOLD_STAT_CYCLES, codes.FOLD_STAT_STALL_CYCLES, codes.FOLD_STAT_CYCLES_INCL_PREFETCH}
    for m, n, k in shapes():
        layer = gemm(m, n, k).layers[0]
        runs = []
        for bandwidth in ("8B/cycle", "3B/cycle", "0.333B/cycle"):
            arch = chip(count=1, dataflow=dataflow, buffers={"unified": {"size": "1KiB"}},
                        dram={"bandwidth": bandwidth, "latency": 10})
            runs.append(fold.run_problem(lower_layer(layer, arch.timing_model), layer, arch))
        for other in runs[1:]:
            assert [v for i, v in enumerate(other) if i not in cycles] == \
                [v for i, v in enumerate(runs[0]) if i not in cycles], (m, n, k)
        assert runs[0][codes.FOLD_STAT_CYCLES] < runs[2][codes.FOLD_STAT_CYCLES], (m, n, k)   # the test has stalls


def two_pass_split(plan, layer, arch):
    """The chip's counters as run before the likely share: every part first with the whole channel
    (its bytes), then timed again with its share (the slow reference of ``run_split``)."""
    from accelsim.engine import arrays, fold
    from accelsim.kernels import codes

    runs = [fold.run_problem(part.problem, layer, arrays.array_arch(arch)) for part in plan.parts]
    weights = np.array([part.arrays for part in plan.parts], dtype=np.int64)
    counters = (weights[:, None] * np.array(runs)).sum(axis=0)
    arrays._multicast(counters, runs, weights, plan.split, arch, layer)
    _, link_cycles, _ = arrays._reduce(counters, plan, arch, layer)
    total = int(counters[codes.FOLD_STAT_DRAM_READ_BYTES] + counters[codes.FOLD_STAT_DRAM_WRITE_BYTES])
    bandwidth = arch.dram_bytes_per_cycle()
    if bandwidth is not None and total > 0:
        runs = [fold.run_problem(part.problem, layer,
                                 arrays.array_arch(arch, bandwidth * arrays._share(run, total, arch)))
                for part, run in zip(plan.parts, runs)]
    slowest = max(runs, key=lambda run: int(run[codes.FOLD_STAT_CYCLES]))
    for index in (codes.FOLD_STAT_COMPUTE_CYCLES, codes.FOLD_STAT_STALL_CYCLES, codes.FOLD_STAT_CYCLES,
                  codes.FOLD_STAT_CYCLES_INCL_PREFETCH):
        counters[index] = slowest[index]
    counters[[codes.FOLD_STAT_STALL_CYCLES, codes.FOLD_STAT_CYCLES, codes.FOLD_STAT_CYCLES_INCL_PREFETCH]] += \
        link_cycles
    return counters


@pytest.mark.parametrize("shared", [("unified",), ()])
@pytest.mark.parametrize("count", [2, 3, 4])
def test_split_runs_equal_every_part_counted_then_timed_at_its_share(count, shared):
    """``run_split`` runs a part once where its share of the channel is the one it guessed: the
    counters equal the two-pass reference's on every split of many GEMMs, shared and private
    buffers, two bandwidths and none."""
    from accelsim.engine import arrays
    from accelsim.lower.gemm import DENSE_RATE, lower_layer
    from accelsim.spec.arch import ArraySplit

    for dram in ({"bandwidth": "2B/cycle", "latency": 10}, {"bandwidth": "64B/cycle"}, None):
        arch = chip(count=count, shared=shared, buffers={"unified": {"size": "2KiB"}}, dram=dram)
        for m, n, k in shapes():
            layer = gemm(m, n, k).layers[0]
            problem = lower_layer(layer, arch.timing_model)
            for split in ArraySplit:
                plan = arrays.split_problem(problem, split, count, DENSE_RATE)
                got = arrays.run_split(plan, layer, arch, DENSE_RATE)
                assert got.counters.tolist() == two_pass_split(plan, layer, arch).tolist(), (dram, m, n, k, split)


def _every_candidate(layer, arch, objective, search):
    """The split ``choose_split`` must give, from running every candidate (the slow reference of its
    pruning): per split listed, its mappings in order, each run by ``run_split`` and scored; the
    lowest score, ties to the one listed first."""
    from accelsim.engine import arrays
    from accelsim.lower.gemm import DENSE_RATE, lower_layer
    from accelsim.mapper import split as split_module

    problem = lower_layer(layer, arch.timing_model)
    scored = []
    for split in split_module._candidates(arch, problem.repeats):
        plan = arrays.split_problem(problem, split, arch.arrays.count, DENSE_RATE)
        mappings = split_module._searched(plan.parts[0].problem, layer, arch, DENSE_RATE, objective, arch) if search \
            else [None]
        for mapping in mappings:
            run = arrays.run_split(plan, layer, arch, DENSE_RATE, mapping)
            dataflow = arch.array.dataflow if mapping is None else mapping.dataflow
            score = split_module._score(objective, arch, layer, dataflow, run)
            scored.append((score, len(scored), split, mapping, run))
    return min(scored, key=lambda s: s[:2]), len(scored)


@pytest.mark.parametrize("search", [False, True])
def test_pruned_split_choice_equals_running_every_candidate(search):
    """Minimising cycles, ``choose_split`` runs the candidates in the order of a lower bound of their
    cycles and skips those whose bound loses: its choice (split, mapping, every counter) equals the
    reference's that runs them all, on GEMMs of many shapes, 2 and 4 arrays, the splits listed in
    two orders, a DRAM that binds and none; and it does skip some."""
    from accelsim.lower.gemm import DENSE_RATE
    from accelsim.mapper import split as split_module
    from accelsim.spec.options import Objective

    runs, candidates = [], 0
    original = split_module.run_split
    split_module.run_split = lambda *args: runs.append(args) or original(*args)
    try:
        for count, splits, dram in itertools.product((2, 4), (("columns", "rows", "reduction"), ("rows", "columns")),
                                                     ({"bandwidth": "2B/cycle", "latency": 10}, None)):
            arch = chip(count=count, split=splits, buffers={"unified": {"size": "2KiB"}}, dram=dram,
                        preload_overlap=True)
            for m, n, k in shapes():
                layer = gemm(m, n, k).layers[0]
                expected, tried = _every_candidate(layer, arch, Objective.CYCLES, search)
                candidates += tried
                got = split_module.choose_split(layer, arch, DENSE_RATE, Objective.CYCLES, search_mapping=search)
                assert (got.split, got.mapping) == expected[2:4], (count, splits, dram, m, n, k)
                assert got.run.counters.tolist() == expected[4].counters.tolist()
    finally:
        split_module.run_split = original
    assert len(runs) < 0.9 * candidates  # the reference ran every candidate


@pytest.mark.parametrize("dataflow", ["ws", "os", "is"])
@pytest.mark.parametrize("rate", ["dense", "two products a cycle, 2:4", "two cycles a product", "3x3 taps on rows"])
def test_least_cycles_bound_every_split_and_mapping(dataflow, rate):
    """The bound the pruning relies on: no split runs in fewer cycles than its slowest part's streams
    (:func:`accelsim.mapper.split._least_cycles`), fixed and searched mappings (with blocks along n
    where the search picks them), preload overlap or not, a DRAM that binds and none, MAC rates
    dense, N:M, multi-cycle and with the taps on the rows."""
    from accelsim.engine import arrays
    from accelsim.kernels import codes
    from accelsim.lower.gemm import ArrayRate, lower_layer
    from accelsim.mapper import split as split_module
    from accelsim.spec.arch import ArraySplit
    from accelsim.spec.options import Objective

    rate = {"dense": ArrayRate(), "two products a cycle, 2:4": ArrayRate(2, 1, (2, 4)),
            "two cycles a product": ArrayRate(1, 2), "3x3 taps on rows": ArrayRate(1, 1, None, (9, 4))}[rate]
    tight = 0
    for overlap, dram in itertools.product((False, True), ({"bandwidth": "2B/cycle", "latency": 10}, None)):
        arch = chip(count=4, buffers={"unified": {"size": "2KiB"}}, dram=dram, dataflow=dataflow,
                    preload_overlap=overlap)
        for m, n, k in shapes():
            layer = gemm(m, n, k).layers[0]
            problem = lower_layer(layer, arch.timing_model)
            for split in ArraySplit:
                plan = arrays.split_problem(problem, split, 4, rate)
                for mapping in [None, *split_module._searched(plan.parts[0].problem, layer, arch, rate,
                                                              Objective.CYCLES, arch)]:
                    least = split_module._least_cycles(plan, arch, rate, mapping)
                    run = arrays.run_split(plan, layer, arch, rate, mapping)
                    cycles = int(run.counters[codes.FOLD_STAT_CYCLES])
                    assert 0 < least <= cycles, (overlap, dram, m, n, k, split, mapping)
                    tight += least * 2 > cycles
    assert tight > 100  # a bound that prunes: within half of the cycles on most
