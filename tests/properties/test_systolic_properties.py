"""Properties of the native fold model that need no reference: bounds, conservation, monotonicity."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import accelsim as ax
from accelsim.spec.load import arch_from_dict, network_from_dict


@st.composite
def layers(draw):
    if draw(st.booleans()):
        return {"op": "gemm", "name": "l", "m": draw(st.integers(1, 40)), "n": draw(st.integers(1, 40)),
                "k": draw(st.integers(1, 40))}
    kernel = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 2]))
    return {"op": "conv2d", "name": "l", "in_channels": 2 * draw(st.integers(1, 3)),
            "out_channels": 2 * draw(st.integers(1, 3)), "in_h": draw(st.integers(kernel, 9)),
            "in_w": draw(st.integers(kernel, 9)), "kernel": kernel, "stride": draw(st.integers(1, 2)),
            "padding": draw(st.integers(0, 1)), "groups": groups}


@st.composite
def arches(draw):
    buffer = {"size": f"{draw(st.sampled_from([64, 256, 4096]))}B",
              "double_buffered": draw(st.booleans())}
    spec = {"name": "p", "array": {"rows": draw(st.integers(1, 8)), "cols": draw(st.integers(1, 8)),
                                    "dataflow": draw(st.sampled_from(["os", "ws", "is"])),
                                    "preload_overlap": draw(st.booleans()),
                                    "accumulators": draw(st.sampled_from(["0B", "1KiB"]))},
            "buffers": {op: dict(buffer) for op in ("ifmap", "filter", "ofmap")},
            "dram": {"latency": f"{draw(st.integers(0, 20))}cycles"}}
    return spec, draw(st.integers(1, 64))


def run(spec, layer, bandwidth=None, mapping=None):
    spec = {**spec, "dram": {**spec["dram"], **({"bandwidth": f"{bandwidth}B/cycle"} if bandwidth else {})}}
    return ax.simulate(arch_from_dict(spec), network_from_dict({"name": "n", "layers": [layer]}),
                       mapping=mapping).layers.iloc[0]


@settings(deadline=None, max_examples=40)
@given(spec=arches(), layer=layers())
def test_bounds_and_conservation(spec, layer):
    arch_spec, bandwidth = spec
    row = run(arch_spec, layer, bandwidth)
    pes = arch_spec["array"]["rows"] * arch_spec["array"]["cols"]
    assert row.cycles * pes >= row.macs                            # roofline: at most one MAC per PE-cycle
    assert row.cycles == row.compute_cycles + row.stall_cycles and row.stall_cycles >= 0
    for name in ("utilization", "mapping_efficiency", "compute_utilization"):
        assert 0 < row[name] <= 1
    # every MAC happens on some PE in some cycle: busy PE-cycles = MACs (dense, 1 product/cycle)
    assert row.utilization * pes * row.cycles == pytest.approx(row.macs, rel=1e-12)


@settings(deadline=None, max_examples=40)
@given(spec=arches(), layer=layers(), factor=st.integers(2, 5))
def test_more_bandwidth_never_adds_stalls(spec, layer, factor):
    arch_spec, bandwidth = spec
    # one schedule at three bandwidths: the fixed mapping (a search may choose another per bandwidth)
    slow, fast = run(arch_spec, layer, bandwidth, "fixed"), run(arch_spec, layer, bandwidth * factor, "fixed")
    unlimited = run(arch_spec, layer, mapping="fixed")
    assert fast.stall_cycles <= slow.stall_cycles
    assert unlimited.stall_cycles == 0 and unlimited.cycles == slow.compute_cycles
    assert fast.dram_read_bytes == slow.dram_read_bytes            # the schedule does not change


@settings(deadline=None, max_examples=30)
@given(layer=layers(), dataflow=st.sampled_from(["os", "ws", "is"]))
def test_tensors_move_once_when_everything_fits(layer, dataflow):
    big = {"name": "b", "array": {"rows": 4, "cols": 4, "dataflow": dataflow, "accumulators": "1MiB"},
           "buffers": {op: {"size": "1MiB"} for op in ("ifmap", "filter", "ofmap")}}
    net = network_from_dict({"name": "n", "layers": [layer]})
    row = ax.simulate(arch_from_dict(big), net).layers.iloc[0]
    spec = net.layers[0]
    assert row.filter_dram_reads == spec.weight_elements
    assert row.ofmap_dram_writes == spec.output_elements
    assert row.ifmap_dram_reads == spec.input_elements
