"""Conservation laws of a GEMM divided among several arrays (docs/multi_array.md), on small random
worlds: however a layer is split, the PEs do its MACs once (busy PE-cycles = M N K on a dense
array), and with buffers that hold everything each operand crosses the DRAM channel exactly once
(shared buffer: the operand every array reads is multicast), the outputs written once."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.engine.arrays import run_split, split_problem
from accelsim.kernels import codes
from accelsim.lower.gemm import DENSE_RATE, lower_layer
from accelsim.spec.arch import ArraySplit
from accelsim.spec.load import arch_from_dict, network_from_dict


def chip(count, dataflow, rows, cols, bandwidth):
    spec = {"name": "p", "array": {"rows": rows, "cols": cols, "dataflow": dataflow},
            "buffers": {"unified": {"size": "1MiB"}}, "dram": {"bandwidth": f"{bandwidth}B/cycle"},
            "arrays": {"count": count, "shared": ["unified"],
                       "link": {"bandwidth": "4B/cycle", "energy_per_byte": "1pJ", "latency": 3}}}
    return arch_from_dict(spec)


@settings(max_examples=60, deadline=None)
@given(m=st.integers(1, 40), n=st.integers(1, 40), k=st.integers(1, 40), heads=st.integers(1, 3), count=st.integers(1, 5),
       split=st.sampled_from(list(ArraySplit)), dataflow=st.sampled_from(["os", "ws", "is"]),
       rows=st.integers(1, 6), cols=st.integers(1, 6), bandwidth=st.sampled_from([1, 3, 64]))
def test_work_and_compulsory_traffic_are_conserved(m, n, k, heads, count, split, dataflow, rows, cols, bandwidth):
    """A matmul of ``heads`` independent GEMMs (its repeats), int8."""
    arch = chip(count, dataflow, rows, cols, bandwidth)
    layer = network_from_dict({"name": "n", "layers": [{"op": "matmul", "name": "g", "m": m, "n": n, "k": k,
                                                        "heads": heads}]}).layers[0]
    plan = split_problem(lower_layer(layer), split, count, DENSE_RATE)
    dims = {"columns": ("n", n), "rows": ("m", m), "reduction": ("k", k), "groups": ("repeats", heads)}
    dim, extent = dims[split.value]
    assert sum(part.arrays * getattr(part.problem, dim) for part in plan.parts) == extent
    assert plan.arrays_used <= count
    run = run_split(plan, layer, arch, DENSE_RATE)
    counters = run.counters
    assert counters[codes.FOLD_STAT_BUSY_PE_CYCLES] == heads * m * n * k
    assert counters[codes.FOLD_STAT_DRAM_READ_BYTES] == heads * (m * k + k * n)  # int8 A and B, once
    assert counters[codes.FOLD_STAT_DRAM_WRITE_BYTES] == heads * m * n         # int8 C, once
    assert counters[codes.FOLD_STAT_CYCLES] == (counters[codes.FOLD_STAT_COMPUTE_CYCLES]
                                                + counters[codes.FOLD_STAT_STALL_CYCLES])
    # the channel moves every byte at most at its bandwidth
    assert counters[codes.FOLD_STAT_CYCLES] * bandwidth >= heads * (m * k + k * n + m * n)
    used = plan.arrays_used
    reduced = split is ArraySplit.REDUCTION and used > 1
    assert run.link_bytes == (4 * m * n * (used - 1) * heads if reduced else 0)  # 32-bit partial sums
    assert run.reduction_adds == ((used - 1) * m * n * heads if reduced else 0)
