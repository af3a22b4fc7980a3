"""Small random archs shared by the fold engine's property tests (one-call and periodic runs)."""

from accelsim.spec.load import arch_from_dict


def small_arch(rows, cols, dataflow, overlap, accumulators, bandwidth, latency, per_operand, buffer, unified, broadcast):
    """An arch of ``rows x cols`` PEs with double-buffered ``buffer``-sized operand buffers (or one
    unified buffer), DRAM at ``bandwidth`` bytes/cycle (0: unlimited), overall or per operand."""
    dram = {"latency": latency}
    if per_operand and bandwidth:
        dram["per_operand"] = {op: f"{bandwidth}B/cycle" for op in ("ifmap", "filter", "ofmap")}
    elif bandwidth:
        dram["bandwidth"] = f"{bandwidth}B/cycle"
    buffers = {op: {"size": buffer, "double_buffered": True} for op in ("ifmap", "filter", "ofmap")}
    if unified:
        buffers = {"unified": {"size": buffer, "double_buffered": True}}
    return arch_from_dict({
        "name": "a", "array": {"rows": rows, "cols": cols, "dataflow": dataflow, "preload_overlap": overlap,
                               "output_overlap": overlap, "accumulators": accumulators,
                               "operand_delivery": "broadcast" if broadcast and dataflow == "os" else "systolic"},
        "buffers": buffers, "dram": dram})


def random_small_arch(rng, dataflow, side, buffers, unified=None):
    """A :func:`small_arch` of 1..``side - 1`` PEs a side drawn from ``rng`` (numpy ``Generator``):
    overlap, 0/64/4096 accumulators, bandwidth 0/0.5/3 B/cycle, latency 0/100, per-operand DRAM,
    one of ``buffers``, a unified buffer (drawn when ``unified`` is None) and broadcast delivery."""
    return small_arch(int(rng.integers(1, side)), int(rng.integers(1, side)), dataflow, bool(rng.integers(2)),
                      int(rng.choice([0, 64, 4096])), float(rng.choice([0, 0.5, 3])), int(rng.choice([0, 100])),
                      bool(rng.integers(2)), str(rng.choice(buffers)),
                      bool(rng.integers(2)) if unified is None else unified, bool(rng.integers(2)))
