"""The fold model in blocks (accelsim.engine.blocks) gives exactly the one-piece run's counters.

Hypothesis draws GEMMs and convs, arrays, dataflows, loop orders and stream tiles, double
buffering, preload overlap, accumulators, DRAM bandwidth (shared or per operand) and latency;
every ``codes.FOLD_STAT_*`` counter of the block run (with runs of repeating blocks, and of repeating
chunks of a long block, added up at once) must equal the one-piece run over every fold, also when
the network's memory plan keeps the input or the output on chip (their DRAM traffic removed).
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.engine import blocks, fold, work
from accelsim.kernels import codes
from accelsim.lower.gemm import ArrayRate, lower_layer
from accelsim.lower.memory_plan import TrafficScale, scaled_schedule
from accelsim.lower.tiling import LoopOrder, Mapping, fixed_mapping, mapped_schedule
from accelsim.spec.arch import Dataflow
from accelsim.spec.load import arch_from_dict, network_from_dict


def _arch(rows, cols, dataflow, preload, accumulators, bandwidth, latency, per_operand, buffer_kib, broadcast=False):
    """``preload``: folds overlap (ws/is ``preload_overlap``, os ``output_overlap``)."""
    dram = {"latency": latency}
    if per_operand:
        dram["per_operand"] = {op: f"{bandwidth}B/cycle" for op in ("ifmap", "filter", "ofmap")}
    elif bandwidth:
        dram["bandwidth"] = f"{bandwidth}B/cycle"
    return arch_from_dict({
        "name": "a", "array": {"rows": rows, "cols": cols, "dataflow": dataflow, "preload_overlap": preload,
                               "output_overlap": preload, "accumulators": accumulators,
                               "operand_delivery": "broadcast" if broadcast and dataflow == "os" else "systolic"},
        "buffers": {op: {"size": f"{buffer_kib}KiB"} for op in ("ifmap", "filter", "ofmap")}, "dram": dram})


layers = st.one_of(
    st.builds(lambda m, n, k: {"op": "gemm", "m": m, "n": n, "k": k},
              st.integers(1, 300), st.integers(1, 300), st.integers(1, 300)),
    st.builds(lambda c, o, h, kernel, stride: {"op": "conv2d", "in_channels": c, "out_channels": o, "in_h": h,
                                               "in_w": h, "kernel": kernel, "stride": stride, "padding": 1},
              st.integers(1, 24), st.integers(1, 40), st.integers(3, 20), st.integers(1, 3), st.integers(1, 2)),
)


@settings(max_examples=200, deadline=None)
@given(layer=layers, rows=st.integers(1, 16), cols=st.integers(1, 16), dataflow=st.sampled_from(["os", "ws", "is"]),
       preload=st.booleans(), accumulators=st.sampled_from([0, 64, 4096]),
       bandwidth=st.sampled_from([0, 0.5, 3, 64]), latency=st.sampled_from([0, 7, 300]),
       per_operand=st.booleans(), buffer_kib=st.sampled_from([1, 16]),
       order=st.sampled_from(list(LoopOrder)), t_tile=st.sampled_from([None, 1, 5]),
       double=st.tuples(st.booleans(), st.booleans(), st.booleans()), p=st.sampled_from([1, 2]),
       chunk=st.sampled_from([1, 2, 3, 16384]), broadcast=st.booleans(),
       kept=st.sampled_from([(1, 1), (0, 1), (1, 0), (0, 0)]))
def test_blocks_equal_one_piece(layer, rows, cols, dataflow, preload, accumulators, bandwidth, latency, per_operand,
                                buffer_kib, order, t_tile, double, p, chunk, broadcast, kept):
    arch = _arch(rows, cols, dataflow, preload, accumulators, bandwidth, latency, per_operand and bandwidth > 0,
                 buffer_kib, broadcast)
    net = network_from_dict({"name": "n", "layers": [{"name": "x", **layer}]})
    problem = lower_layer(net.layers[0])
    rate = ArrayRate(products_per_cycle=p)
    scale = TrafficScale(ifmap=kept[0], output=kept[1])  # 0: kept on chip, 1: through DRAM
    saved, blocks.CHUNK = blocks.CHUNK, chunk  # blocks longer than ``chunk`` folds run in chunks
    try:
        for mapping in (fixed_mapping(arch), Mapping(Dataflow(dataflow), order, t_tile, double)):
            if math.prod(blocks.loop_counts(problem, arch, mapping, rate)) > 3000:
                continue  # (a unit of one fold at a time: keep the example small)
            whole = fold.run_schedule(scaled_schedule(mapped_schedule(problem, arch, mapping, rate=rate), scale,
                                                      mapping), arch)
            parts = blocks.run_blocks(problem, arch, mapping, rate, weight_bits=8, act_bits=8,
                                      transfer=lambda s: fold.transfer_table(s, arch),
                                      adjust=lambda s, first: scaled_schedule(s, scale, mapping, first))
            assert np.array_equal(whole, parts), (mapping, whole - parts)
            if not kept[0]:
                assert parts[codes.FOLD_STAT_IFMAP_DRAM_READS] == 0
    finally:
        blocks.CHUNK = saved


def test_huge_gemm_answers_in_milliseconds():
    """gemm m = n = k = 1e6 on a 32x32 ws array: 976,562,500 folds, counted from a few blocks;
    its traffic follows from the traffic rules of docs/timing_models.md by hand: the filter
    (k*n) is read once; the ifmap (m*k) once per column fold (it does not fit its buffer);
    without accumulators a 32 x 1e6 output tile of partial sums fits no buffer, so every row
    fold writes it to DRAM and every row fold but the first reads it back."""
    arch = arch_from_dict({"name": "a", "array": {"rows": 32, "cols": 32, "dataflow": "ws"},
                           "buffers": {op: {"size": "64KiB"} for op in ("ifmap", "filter", "ofmap")},
                           "dram": {"bandwidth": "12.8B/cycle", "latency": 100}})
    net = network_from_dict({"name": "n", "layers": [{"op": "gemm", "name": "g", "m": 10**6, "n": 10**6,
                                                     "k": 10**6}]})
    start = time.perf_counter()
    stats = fold.run_layer(net.layers[0], arch)
    assert time.perf_counter() - start < 5
    n = 10**6
    counters = {name: int(stats[index]) for name, index in fold.COUNT_COLUMNS.items()}
    assert counters["folds"] == (-(-n // 32)) ** 2
    assert counters["filter_dram_reads"] == n * n
    folds = -(-n // 32)
    assert counters["ofmap_dram_writes"] == n * n * folds
    assert counters["ofmap_dram_reads"] == n * n * (folds - 1)
    assert counters["ifmap_dram_reads"] == n * n * (-(-n // 32))
    assert counters["cycles"] >= counters["dram_read_bytes"] / 12.8  # the channel is the bottleneck


def test_threshold_is_what_switches(monkeypatch):
    arch = _arch(4, 4, "ws", True, 0, 3, 7, False, 1)
    net = network_from_dict({"name": "n", "layers": [{"op": "gemm", "name": "g", "m": 50, "n": 90, "k": 70}]})
    before = fold.run_layer(net.layers[0], arch)
    monkeypatch.setattr(blocks, "BLOCK_THRESHOLD", 0)
    assert np.array_equal(before, fold.run_layer(net.layers[0], arch))
    assert dataclasses.is_dataclass(arch)


def test_blocks_that_do_not_repeat_run_whole_where_it_fits(monkeypatch):
    """A long layer whose blocks would be stepped past MAX_UNITS runs as one schedule instead when
    that fits memory (the same counters as the one-piece run), and is refused when it does not."""
    arch = _arch(4, 4, "ws", True, 0, 3, 7, False, 1)
    net = network_from_dict({"name": "n", "layers": [{"op": "conv2d", "name": "c", "in_channels": 5,
                                                     "out_channels": 9, "in_h": 11, "in_w": 11, "kernel": 3,
                                                     "stride": 2, "padding": 1}]})
    one_piece = fold.run_layer(net.layers[0], arch)
    monkeypatch.setattr(blocks, "BLOCK_THRESHOLD", 0)
    monkeypatch.setattr(blocks, "MAX_UNITS", 0)  # every blocked run gives up at once
    assert np.array_equal(one_piece, fold.run_layer(net.layers[0], arch))
    monkeypatch.setattr(work, "FOLD_MEMORY_LIMIT", 0)
    with pytest.raises(blocks.BlocksDoNotRepeat):
        fold.run_layer(net.layers[0], arch)


@settings(max_examples=200, deadline=None)
@given(folds=st.lists(st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(1, 9),
                                st.tuples(*[st.integers(0, 12)] * 4)), min_size=1, max_size=12),
       big_r=st.integers(6, 8), latency=st.integers(0, 9), prefetch=st.booleans(), drain=st.booleans(),
       shared=st.booleans(), cuts=st.lists(st.integers(1, 11), max_size=4))
def test_resumed_timeline_equals_the_reference(folds, big_r, latency, prefetch, drain, shared, cuts):
    """The resumable kernel, cut into chunks anywhere, against the plain-Python reference of the
    native memory timeline (tests/reference/systolic_ref.py), without preload overlap."""
    from accelsim.kernels.memory import RESUME_COMPUTE, RESUME_FINISH, RESUME_STATE_SIZE, resume_native_timeline
    from reference.systolic_ref import ref_double_buffer

    rows = np.array([f[0] for f in folds], np.int64)
    cols = np.array([f[1] for f in folds], np.int64)
    stream = np.array([f[2] for f in folds], np.int64)
    xfer = np.array([f[3] for f in folds], np.int64)
    channel = np.zeros(4, np.int64) if shared else np.array([0, 1, 2, 2], np.int64)
    durations = rows + stream + big_r + cols - 2
    expected = ref_double_buffer(durations.tolist(), xfer.tolist(), channel.tolist(), latency, prefetch, drain)
    edges = sorted({0, len(folds), *[c for c in cuts if c < len(folds)]})
    state = np.zeros(RESUME_STATE_SIZE, np.int64)
    for lo, hi in zip(edges, edges[1:]):
        last = hi == len(folds)
        end = hi if last else hi + 1
        resume_native_timeline(1, big_r, False, False, rows[lo:end], cols[lo:end], stream[lo:end], xfer[lo:end],
                               channel, latency, prefetch, drain, hi - lo, last, state)
    assert state[RESUME_FINISH] == expected
    assert state[RESUME_COMPUTE] == durations.sum()
