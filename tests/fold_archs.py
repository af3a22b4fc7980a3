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
