"""Mapper properties: the pruned search finds the exhaustive optimum, bounds are bounds, the chosen
mapping fits and is never worse than the fixed one, and the cycle fidelity follows any mapping."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import accelsim as ax
from accelsim.engine import cycle
from accelsim.engine.fold import schedule_counts
from accelsim.errors import UnsupportedError
from accelsim.lower.gemm import ArrayRate, GemmProblem, lower_layer
from accelsim.mapper.gemm import mapping_space, search
from accelsim.spec.options import Objective
from accelsim.lower.schedule import FILTER, IFMAP
from accelsim.lower.tiling import buffer_rooms, fixed_schedule, mapped_schedule, n_blocks, unified_operands
from accelsim.simulate import hardware_rate
from accelsim.spec.load import arch_from_dict
from conftest import ROOT


@st.composite
def small_world(draw):
    """A small array with small buffers (so tiles and reuse matter), maybe flexible, and a GEMM."""
    sizes = st.sampled_from(["16B", "32B", "64B", "256B", "4KiB"])
    buffers = {op: {"size": draw(sizes), "double_buffered": draw(st.booleans())} for op in ("ifmap", "filter", "ofmap")}
    shared = draw(st.sampled_from([(), ("ifmap", "filter", "ofmap"), ("ifmap", "ofmap"), ("filter",)]))
    if shared:  # a unified buffer for these operands (with two or more: searched mappings allocate it jointly)
        buffers = {op: spec for op, spec in buffers.items() if op not in shared}
        buffers["unified"] = {"size": draw(st.sampled_from(["32B", "96B", "256B", "1KiB"])),
                              "double_buffered": draw(st.booleans())}
    spec = {"name": "w",
            "array": {"rows": draw(st.integers(1, 6)), "cols": draw(st.integers(1, 6)),
                      "dataflow": draw(st.sampled_from(["os", "ws", "is"])),
                      "dataflows": draw(st.sampled_from([[], ["os", "ws", "is"]])),
                      "accumulators": draw(st.sampled_from(["0B", "32B", "256B"])),
                      "preload_overlap": draw(st.booleans()), "output_overlap": draw(st.booleans())},
            "buffers": buffers}
    if spec["array"]["dataflow"] == "os" and not spec["array"]["dataflows"] and draw(st.booleans()):
        spec["array"]["operand_delivery"] = "broadcast"
    if draw(st.booleans()):
        bandwidths = st.sampled_from(["1GB/s", "3GB/s", "16GB/s"])
        spec["dram"] = {"bandwidth": draw(bandwidths), "latency": f"{draw(st.sampled_from([0, 7]))}cycles"}
        if draw(st.booleans()):
            spec["dram"]["per_operand"] = {op: draw(bandwidths) for op in ("ifmap", "filter", "ofmap")}
    m, n, k = (draw(st.integers(1, 20)) for _ in range(3))
    problem = GemmProblem(m=m, n=n, k=k, repeats=1, ifmap_words=draw(st.integers(1, m * k)))
    rate = draw(st.sampled_from([ArrayRate(), ArrayRate(2, 1), ArrayRate(1, 2), ArrayRate(1, 1, (2, 4))]))
    return arch_from_dict(spec), problem, rate, draw(st.sampled_from([4, 8])), draw(st.sampled_from([8, 16]))


@settings(deadline=None, max_examples=40)
@given(world=small_world(), objective=st.sampled_from(list(Objective)))
@example(world=(arch_from_dict({"name": "e", "array": {"rows": 1, "cols": 1}, "buffers": {"unified": {"size": "4KiB"}}}),
                GemmProblem(m=1, n=1, k=1, repeats=1, ifmap_words=1), ArrayRate(), 8, 8), objective=Objective.EDP)
def test_pruned_search_finds_the_exhaustive_optimum(world, objective):
    arch, problem, rate, wbits, abits = world
    kwargs = dict(rate=rate, weight_bits=wbits, act_bits=abits, objective=objective)
    try:
        full = search(problem, arch, schedule_counts, exhaustive=True, **kwargs)
    except UnsupportedError:
        with pytest.raises(UnsupportedError):
            search(problem, arch, schedule_counts, **kwargs)
        return
    pruned = search(problem, arch, schedule_counts, **kwargs)
    assert pruned.mapping == full.mapping
    assert pruned.evaluated <= full.evaluated
    # the exhaustive optimum really is the minimum over every fitting mapping of the space
    scores = []
    for mapping in mapping_space(problem, arch, rate=rate):
        schedule = mapped_schedule(problem, arch, mapping, rate=rate, weight_bits=wbits, act_bits=abits)
        if schedule.fits_buffers:
            scores.append(schedule_counts(schedule, arch)["cycles"])
    if objective is Objective.CYCLES:  # blocks along n can only do better, and add up their blocks' cycles
        assert full.cycles == (min(scores) if full.mapping.n_block is None else
                               sum(count * schedule_counts(schedule, arch)["cycles"]
                                   for schedule, count in _blocks(problem, arch, full.mapping, **kwargs)))
        assert full.cycles <= min(scores)


@settings(deadline=None, max_examples=25)
@given(world=small_world(), objective=st.sampled_from(list(Objective)))
def test_choice_fits_and_is_never_worse_than_a_fitting_fixed_mapping(world, objective):
    arch, problem, rate, wbits, abits = world
    kwargs = dict(rate=rate, weight_bits=wbits, act_bits=abits)
    try:
        choice = search(problem, arch, schedule_counts, objective=objective, **kwargs)
    except UnsupportedError:
        return
    assert all(schedule.fits_buffers for schedule, _ in _blocks(problem, arch, choice.mapping, **kwargs))
    fixed = fixed_schedule(problem, arch, **kwargs)
    if fixed.fits_buffers:
        counts = schedule_counts(fixed, arch)
        energy = ax.mapper.gemm.mapping_energy_pj(arch, arch.array.dataflow, problem.m * problem.n * problem.k,
                                                   counts, weight_bits=wbits, act_bits=abits)
        fixed_score = {Objective.CYCLES: counts["cycles"], Objective.ENERGY: energy,
                       Objective.EDP: counts["cycles"] * energy}[objective]
        assert choice.score(objective) <= fixed_score


@settings(deadline=None, max_examples=40)
@given(world=small_world())
def test_chosen_tiles_fit_a_unified_buffer_jointly(world):
    """The chosen mapping's rooms (each doubled where double-buffered) fit the unified buffer
    together, and what each fold fetches fits its room: its own tile, plus, for an input whose
    footprint is prefetched a period ahead (``BufferRooms.prefetch``), its share of the next
    period's footprint, which goes to the other half (e.g. GEMM 4x5x1 on a 1x2 array, ``is tcr
    t=3``: fold 0 fetches its 3 filter words and 1 of the next period's 2, room 3 per half)."""
    arch, problem, rate, wbits, abits = world
    kwargs = dict(rate=rate, weight_bits=wbits, act_bits=abits)
    try:
        chosen = search(problem, arch, schedule_counts, **kwargs).mapping
    except UnsupportedError:
        return
    for problem, _ in n_blocks(problem, chosen):  # each block along n (one, without blocks)
        _check_rooms(problem, arch, chosen.within_block, kwargs)


def _check_rooms(problem, arch, mapping, kwargs):
    """:func:`test_chosen_tiles_fit_a_unified_buffer_jointly`'s checks on one block."""
    abits, wbits = kwargs["act_bits"], kwargs["weight_bits"]
    rooms = buffer_rooms(problem, arch, mapping, **kwargs)
    schedule = mapped_schedule(problem, arch, mapping, **kwargs)
    assert rooms.fits and schedule.fits_buffers
    halves = [2 if ahead else 1 for ahead in rooms.prefetch]
    assert schedule.dram_words[:, IFMAP].max() <= halves[0] * rooms.ifmap
    assert schedule.dram_words[:, FILTER].max() <= halves[1] * rooms.filter
    if mapping.joint_buffer:
        psum_bits = arch.mac.accumulator_bits
        need = (rooms.ifmap * abits, rooms.filter * wbits, max(rooms.out * abits, rooms.psum * psum_bits))
        used = sum(bits * (2 if double else 1) for bits, double, shared
                   in zip(need, mapping.double_buffered, unified_operands(arch)) if shared)
        assert used <= arch.buffers.unified.size_bytes * 8


@settings(deadline=None, max_examples=20)
@given(world=small_world(), pick=st.integers(0, 10**6))
def test_cycle_fidelity_equals_fold_on_any_mapping_without_stalls(world, pick):
    """No DRAM bandwidth: no stalls, so the per-cycle kernel's count equals the fold model's (a buffer
    large enough that the cycle model's SRAM occupancy never binds, docs/fidelities.md)."""
    arch, problem, rate, wbits, abits = world
    arch = arch_from_dict({"name": "w", "array": {"rows": arch.array.rows, "cols": arch.array.cols,
                                                  "dataflow": arch.array.dataflow.value,
                                                  "dataflows": ["os", "ws", "is"],
                                                  "preload_overlap": arch.array.preload_overlap,
                                                  "output_overlap": arch.array.output_overlap},
                           "buffers": {"unified": {"size": "64KiB"}}})
    # double buffering as the arch declares it: with undoubled inputs and preload_overlap the
    # cycle and fold models already differ for the fixed mapping (reported, not the mapper's)
    space = [m for m in mapping_space(problem, arch, rate=rate) if m.double_buffered == (True, True, True)]
    mapping = space[pick % len(space)]
    schedule = mapped_schedule(problem, arch, mapping, rate=rate, weight_bits=wbits, act_bits=abits)
    folded = schedule_counts(schedule, arch)
    stepped = cycle.run_schedule(schedule, arch, rate.cycles_per_product)
    assert int(stepped[0]) == folded["cycles"] == folded["compute_cycles"]


@pytest.mark.parametrize("workload", ["resnet18", "mobilenet_v2"])
def test_zoo_layers_never_worse_than_fixed_and_always_fit(workload):
    arch = ax.load_arch(ROOT / "arch_configs" / "edge_32x32.yaml")
    _check_network(arch, ax.load_workload(ROOT / "workloads" / f"{workload}.yaml"))


@pytest.mark.slow
@pytest.mark.parametrize("arch_name", ["edge_32x32", "tpu_v1_like", "eyeriss_like"])
@pytest.mark.parametrize("workload", ["resnet50", "vgg16", "bert_base", "alexnet"])
def test_whole_zoo_never_worse_than_fixed(arch_name, workload):
    arch = ax.load_arch(ROOT / "arch_configs" / f"{arch_name}.yaml")
    _check_network(arch, ax.load_workload(ROOT / "workloads" / f"{workload}.yaml"))


def _check_network(arch, net):
    for layer in net.layers:
        problem = lower_layer(layer, arch.timing_model)
        if problem is None:
            continue
        kwargs = dict(rate=hardware_rate(layer, arch), weight_bits=layer.compression.weight_bits,
                      act_bits=layer.compression.act_bits)
        choice = search(problem, arch, schedule_counts, **kwargs)
        assert all(schedule.fits_buffers for schedule, _ in _blocks(problem, arch, choice.mapping, **kwargs)), layer.name
        fixed = fixed_schedule(problem, arch, **kwargs)
        if fixed.fits_buffers:
            assert choice.cycles <= schedule_counts(fixed, arch)["cycles"], layer.name


def _blocks(problem, arch, mapping, objective=None, **kwargs):
    """``(schedule, how many)`` of each block of ``mapping`` (docs/mapper.md, "Blocks along n")."""
    return [(mapped_schedule(block, arch, mapping.within_block, **kwargs), count)
            for block, count in n_blocks(problem, mapping)]
