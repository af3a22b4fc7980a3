"""Memos a sweep's designs share (docs/dse.md, "Throughput"): a memory plan per (network, buffers,
fused ops, timing model), a vector-unit run per (unit, port widths, layer), a network's vector work
per (unit, port widths, DRAM, clock, network, plan). Each memo must give
what a fresh computation gives, for designs that share its key and for designs that do not."""

from __future__ import annotations

from dataclasses import replace

import pytest

from accelsim import load_arch, load_workload
from accelsim.engine import vector
from accelsim.lower import memory_plan
from accelsim.simulate import clear_memos
from accelsim.spec.workload import Nonlinear
from accelsim.units import parse_bytes

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def resnet():
    return load_workload(ROOT / "workloads" / "resnet50.yaml")


def resized(arch, rows=None, pool=None):
    """``arch`` with a square ``rows`` x ``rows`` array and/or every buffer of ``pool`` bytes."""
    if rows is not None:
        arch = replace(arch, array=replace(arch.array, rows=rows, cols=rows))
    if pool is not None:
        buffers = {name: replace(getattr(arch.buffers, name), size_bytes=pool)
                   for name in ("ifmap", "filter", "ofmap", "unified") if getattr(arch.buffers, name) is not None}
        arch = replace(arch, buffers=replace(arch.buffers, **buffers))
    return arch


def test_memory_plan_memo_matches_a_fresh_plan(resnet):
    edge = load_arch(ROOT / "arch_configs" / "edge_32x32.yaml")
    designs = [resized(edge, rows, pool) for rows in (8, 32, 128) for pool in (parse_bytes("16KiB"), parse_bytes("512KiB"))]
    clear_memos()
    for arch in designs + designs[::-1]:  # second pass: every plan from the memo
        assert memory_plan.plan_memory(resnet, arch) == memory_plan._plan_memory(resnet, arch)
    small, large = (memory_plan._plan_memory(resnet, designs[i]) for i in (0, 1))
    assert small != large  # the buffers decide what stays on chip: the memo must not mix them up


def test_vector_runs_memo_matches_a_fresh_run(resnet):
    edge = load_arch(ROOT / "arch_configs" / "edge_32x32.yaml")
    layers = [layer for layer in resnet.layers if isinstance(layer, vector.VECTOR_LAYERS)][:6]
    designs = [resized(edge, rows, pool) for rows in (8, 64) for pool in (parse_bytes("16KiB"), parse_bytes("256KiB"))]
    wider = replace(edge, vector_unit=replace(edge.vector_unit, lanes=edge.vector_unit.lanes * 2))
    fresh = {}
    for arch in designs + [edge, wider]:
        for layer in layers:
            clear_memos()
            fresh[arch, layer] = vector.vector_layer_counts(arch, layer)
    clear_memos()
    for arch in designs + [wider] + designs:
        for layer in layers:
            assert vector.vector_layer_counts(arch, layer) == fresh[arch, layer]
    relu = next(layer for layer in layers if isinstance(layer, Nonlinear))
    assert fresh[wider, relu]["vector_compute_cycles"] < fresh[edge, relu]["vector_compute_cycles"]


def test_vector_work_memo_matches_a_fresh_count(resnet):
    """A network's vector work under a memory plan, memoized on what it reads of the arch (vector
    unit, port widths, DRAM, clock): designs that differ only in array size share one count, and
    each memoized count equals one computed from scratch, for designs that share its key and for
    designs that do not (a slower clock makes the DRAM-bound layers take fewer cycles, a narrower
    DRAM more: the memo must not mix them up)."""
    edge = resized(load_arch(ROOT / "arch_configs" / "edge_32x32.yaml"), pool=parse_bytes("16KiB"))
    slow = replace(edge, clock_hz=edge.clock_hz / 4)
    bandwidth = edge.dram.bandwidth
    narrow = replace(edge, dram=replace(edge.dram, bandwidth=replace(bandwidth,
                                                                    bytes_per_unit=bandwidth.bytes_per_unit / 8)))
    designs = [resized(edge, rows) for rows in (8, 128)] + [slow, narrow]
    plans = {arch: list(memory_plan.network_plan(resnet, arch).traffic) for arch in designs}
    fresh = {}
    for arch in designs:
        clear_memos()
        fresh[arch] = vector.vector_work(arch, resnet, plans[arch])
    clear_memos()
    for arch in designs + designs[::-1]:  # second pass: every count from the memo
        work = vector.vector_work(arch, resnet, plans[arch])
        for name in ("rows", "stats", "op_counts", "in_time"):
            assert (getattr(work, name) == getattr(fresh[arch], name)).all()
    assert vector.vector_work(designs[0], resnet, plans[designs[0]]) is vector.vector_work(designs[1], resnet,
                                                                                           plans[designs[1]])
    cycles = {arch: int(fresh[arch].stats[:, 0].sum()) for arch in designs}
    assert cycles[slow] < cycles[designs[0]] < cycles[narrow]


def test_layer_descriptors_memo_matches_a_fresh_build(resnet):
    """One network's descriptors serve every design; a compressed copy of it (other widths and
    densities) gets its own."""
    from accelsim.compress.scheme import apply_scheme, load_scheme
    from accelsim.result import _memo_descriptors, layer_descriptors

    sparse = apply_scheme(resnet, load_scheme(ROOT / "workloads" / "schemes" / "int4_sparse24.yaml"))
    clear_memos()
    for net in (resnet, sparse, resnet, sparse):  # second pass: from the memo
        memo, fresh = layer_descriptors(net), _memo_descriptors.__wrapped__(net)
        assert list(memo) == list(fresh)
        for name in fresh:
            assert memo[name].dtype == fresh[name].dtype and (memo[name] == fresh[name]).all()
            assert not memo[name].flags.writeable
    dense, compressed = layer_descriptors(resnet), layer_descriptors(sparse)
    assert (dense["weight_bits"] == 8).any() and not (dense["weight_bits"] == compressed["weight_bits"]).all()


def test_network_plan_scales_match_each_layers_own(resnet):
    """A memoized plan's per-layer traffic scales and resident bytes are what each layer's own
    traffic gives (``traffic_scale``, ``resident_other_bytes``; no scale for vector work); equal
    scales share one number in ``scale_ids`` and unequal ones do not; unscaled layers hold
    ``NO_SCALE`` itself."""
    edge = load_arch(ROOT / "arch_configs" / "edge_32x32.yaml")
    clear_memos()
    for arch in (resized(edge, pool=parse_bytes("16KiB")), resized(edge, pool=parse_bytes("512KiB"))):
        plan = memory_plan.network_plan(resnet, arch)
        fresh = memory_plan._plan_memory(resnet, arch)
        assert list(plan.traffic) == fresh
        for layer, traffic, scale in zip(resnet.layers, fresh, plan.scales):
            own = memory_plan.traffic_scale(layer, traffic) if memory_plan.is_array_layer(layer, arch) \
                else memory_plan.NO_SCALE
            assert scale == own and (scale is memory_plan.NO_SCALE or own != memory_plan.NO_SCALE)
        assert list(plan.resident) == [traffic.resident_other_bytes for traffic in fresh]
        pairs = list(zip(plan.scales, plan.scale_ids))
        assert all((a == b) == (i == j) for a, i in pairs for b, j in pairs)
        assert len(set(plan.scale_ids)) > 1  # the buffers leave some layers' traffic scaled


def test_precision_checks_and_array_rates_memo_match_fresh_ones(resnet):
    """The MAC unit's precision check and the layers' array rates, memoized on what they read of the
    arch (MAC unit, structured patterns, reduction rule, rows): equal to fresh ones for designs that
    share the key and for designs that do not (under the ``channels`` reduction the rows set each
    conv's tap padding, so 8 and 128 rows give other rates; under ``im2col`` they do not); a unit
    that cannot run the layers raises on every call, a passed check is not redone."""
    from accelsim.errors import UnsupportedError
    from accelsim.simulate import _array_rates, _check_precision, hardware_rate
    from accelsim.spec.arch import Reduction

    edge = load_arch(ROOT / "arch_configs" / "edge_32x32.yaml")
    channels = replace(edge, array=replace(edge.array, reduction=Reduction.CHANNELS))
    designs = [resized(arch, rows) for arch in (edge, channels) for rows in (8, 128)]
    fresh = {}
    for arch in designs:
        clear_memos()
        fresh[arch] = list(_array_rates(arch, resnet, hardware_rate))
    clear_memos()
    for arch in designs + designs[::-1]:  # second pass: from the memo
        _check_precision(arch, resnet)
        assert _array_rates(arch, resnet, hardware_rate) == fresh[arch]
    assert fresh[designs[0]] == fresh[designs[1]] and fresh[designs[2]] != fresh[designs[3]]
    floats_only = replace(edge, mac=replace(edge.mac, precisions=("fp16",)))
    for _ in range(2):
        with pytest.raises(UnsupportedError, match="conv1"):
            _check_precision(floats_only, resnet)
