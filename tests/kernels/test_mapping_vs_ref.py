"""The mapper's kernels (accelsim.kernels.mapping, through accelsim.engine.candidates) against
tests/reference/mapping_ref.py and the engine's own evaluation, on random small worlds."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.engine import candidates
from accelsim.engine.fold import schedule_counts
from accelsim.kernels import mapping as km
from accelsim.lower.gemm import ArrayRate, GemmProblem
from accelsim.lower.tiling import mapped_schedule
from accelsim.mapper.gemm import mapping_space
from accelsim.spec.load import arch_from_dict
from properties.test_mapper_properties import small_world
from reference.mapping_ref import ref_candidate_counts

BOUNDED = {"cycles": km.OUT_CYCLES, "compute_cycles": km.OUT_COMPUTE, "ifmap_sram_reads": km.OUT_IFMAP_SRAM,
           "filter_sram_reads": km.OUT_FILTER_SRAM, "ofmap_sram_writes": km.OUT_OFMAP_SRAM_WRITES,
           "ofmap_sram_reads": km.OUT_OFMAP_SRAM_READS, "dram_read_bytes": km.OUT_DRAM_READ_BYTES,
           "dram_write_bytes": km.OUT_DRAM_WRITE_BYTES}


def _space(world):
    arch, problem, rate, wbits, abits = world
    space = mapping_space(problem, arch, rate=rate)
    table = candidates.candidate_table([(m.dataflow, m.order, m.t_tile, m.double_buffered, m.joint_buffer)
                                       for m in space])
    return space, table, candidates.gemm_params(problem, arch, rate, wbits, abits)


@settings(deadline=None, max_examples=60)
@given(world=small_world(), picks=st.lists(st.integers(0, 10**6), min_size=1, max_size=4))
def test_candidate_counts_equal_the_reference_and_the_engine(world, picks):
    arch, problem, rate, wbits, abits = world
    space, table, params = _space(world)
    for i, mapping in enumerate(space):
        counts = candidates.counts(params, table[i])
        schedule = mapped_schedule(problem, arch, mapping, rate=rate, weight_bits=wbits, act_bits=abits)
        assert (counts is not None) == schedule.fits_buffers, mapping
        if counts is not None:
            engine = schedule_counts(schedule, arch)
            assert counts == {name: engine[name] for name in counts}, mapping
    for pick in picks:  # the naive reference steps every cycle: a few candidates per world
        i = pick % len(space)
        assert candidates.counts(params, table[i]) == ref_candidate_counts(problem, arch, space[i], rate, wbits, abits)


@settings(deadline=None, max_examples=60)
@given(world=small_world())
def test_candidate_bounds_are_lower_bounds_and_cannot_fit_is_sure(world):
    space, table, params = _space(world)
    bounds = candidates.bounds(params, table)
    for i, mapping in enumerate(space):
        counts = candidates.counts(params, table[i])
        if bounds[i, km.OUT_FITS] == 0:
            assert counts is None, mapping
        elif counts is not None:
            for name, column in BOUNDED.items():
                assert bounds[i, column] <= counts[name], (mapping, name)


@pytest.mark.parametrize("mnk", [(1, 4096, 1), (1, 4097, 1), (1, 8192, 1), (1, 8229, 1), (3, 2731, 2)])
def test_candidate_counts_across_fold_chunks(mnk):
    """Layers of about one and two chunks of folds (``km.FOLD_CHUNK``, 4096), exactly and one or
    more past: the timeline resumed from chunk to chunk equals the engine's, which times every fold
    at once, on every candidate of every dataflow on a 1x1 array (a fold per product of the two
    spatial dimensions, times the stream's tiles) whose 8-byte buffers keep little, at a DRAM that
    binds; and the plain-Python reference on the first candidate that fits."""
    m, n, k = mnk
    arch = arch_from_dict({"name": "chunks", "array": {"rows": 1, "cols": 1, "dataflows": ["os", "ws", "is"],
                                                       "preload_overlap": True},
                           "buffers": {op: {"size": "8B", "double_buffered": True} for op in ("ifmap", "filter", "ofmap")},
                           "dram": {"bandwidth": "1GB/s", "latency": "7cycles"}})
    problem = GemmProblem(m=m, n=n, k=k, repeats=1, ifmap_words=m * k)
    space, table, params = _space((arch, problem, ArrayRate(), 8, 8))
    fitting = []
    for i, mapping in enumerate(space):
        counts = candidates.counts(params, table[i])
        schedule = mapped_schedule(problem, arch, mapping, weight_bits=8, act_bits=8)
        assert (counts is not None) == schedule.fits_buffers, mapping
        if counts is not None:
            engine = schedule_counts(schedule, arch)
            assert counts == {name: engine[name] for name in counts}, mapping
            fitting.append(i)
    assert fitting
    assert candidates.counts(params, table[fitting[0]]) == ref_candidate_counts(problem, arch, space[fitting[0]],
                                                                                ArrayRate(), 8, 8)


def test_large_batch_layers_within_the_kernels_int64_bound_and_exact():
    """ResNet-50's conv1 at batch 256 (3,211,264 GEMM rows; VGG-16's first layers from batch 64
    alike) is within ``candidates.in_range``, whose bound takes each tensor fetched once per
    iteration of its own reuse loop. The earlier bound took every tensor refetched at every
    iteration of the longest loop, refused it, and the default search left it at the fixed
    mapping on every shipped arch. Every candidate of at most 4,096 folds, on an array with 16 MiB
    buffers whose DRAM latency (2^24 cycles) pushes the cycles past 2^31, counts as the engine counts
    its schedule (numpy lowering, Python integers where a share could pass int64)."""
    from accelsim.engine.blocks import loop_counts
    from accelsim.frontend.load import load_arch, load_workload
    from accelsim.lower.gemm import lower_layer
    from accelsim.mapper.layer import searchable
    from conftest import ROOT

    conv1 = load_workload(ROOT / "workloads" / "resnet50.yaml", batch=256).layers[0]
    for path in sorted((ROOT / "arch_configs").glob("*.yaml")):
        arch = load_arch(path)
        if arch.timing_model.value == "native":
            assert searchable(conv1, arch, ArrayRate(), None), path.name
    arch = arch_from_dict({"name": "slow-dram", "array": {"rows": 16, "cols": 16, "dataflows": ["os", "ws", "is"]},
                           "buffers": {op: {"size": "16MiB"} for op in ("ifmap", "filter", "ofmap")},
                           "dram": {"bandwidth": "1B/cycle", "latency": f"{2**24}cycles"}})
    problem = lower_layer(conv1, arch.timing_model)
    assert candidates.in_range(problem, arch, ArrayRate())
    space, table, params = _space((arch, problem, ArrayRate(), 8, 8))
    checked = 0
    for i, mapping in enumerate(space):
        if math.prod(loop_counts(problem, arch, mapping, ArrayRate())) > 4096:
            continue
        schedule = mapped_schedule(problem, arch, mapping, weight_bits=8, act_bits=8)
        counts = candidates.counts(params, table[i])
        assert (counts is not None) == schedule.fits_buffers, mapping
        if counts is not None:
            engine = schedule_counts(schedule, arch)
            assert counts == {name: engine[name] for name in counts}, mapping
            assert counts["cycles"] > 2**31
            checked += 1
    assert checked >= 3
