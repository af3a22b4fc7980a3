"""The ``cycle`` kernel against the naive per-cycle reference (tests/reference/cycle_ref.py),
and, where nothing stalls, against the closed forms of docs/timing_models.md and ``fold``."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import example, given, settings
from hypothesis import strategies as st
from reference.cycle_ref import ref_cycle

from accelsim.engine import cycle, fold
from accelsim.lower.gemm import GemmProblem, ArrayRate
from accelsim.lower.tiling import fixed_schedule
from accelsim.spec.arch import (
    OPERANDS, ArchSpec, ArraySpec, BufferSpec, BuffersSpec, Dataflow, DramSpec, OperandDelivery, TimingModel,
)
from accelsim.spec.workload import Gemm
from accelsim.units import Bandwidth

DATAFLOWS = ["os", "ws", "is"]


def make_arch(rows, cols, dataflow, *, overlap=False, bandwidth=None, latency=0, per_operand=False,
              width_words=64, double_buffered=True, acc_bytes=0, size_bytes=4096, broadcast=False):
    bw = None if bandwidth is None else Bandwidth(bandwidth, per_cycle=True)
    buffer = BufferSpec(size_bytes=size_bytes, word_bits=8, width_bits=8 * width_words, banks=1, ports=2,
                        double_buffered=double_buffered)
    return ArchSpec(
        name="t", timing_model=TimingModel.NATIVE,
        array=ArraySpec(rows=rows, cols=cols, dataflow=Dataflow(dataflow), preload_overlap=overlap,
                        output_overlap=overlap, accumulators_bytes=acc_bytes,
                        operand_delivery=OperandDelivery.BROADCAST if broadcast else OperandDelivery.SYSTOLIC),
        buffers=BuffersSpec(ifmap=buffer, filter=buffer, ofmap=buffer),
        dram=DramSpec(bandwidth=bw, latency_cycles=latency,
                      per_operand={op: bw for op in OPERANDS} if per_operand and bw else {}),
    )


def reference(schedule, arch, q=1):
    """The reference's inputs, derived from the schedule and the arch by hand."""
    folds = [(int(r), int(c), int(t)) for r, c, t in zip(schedule.rows_used, schedule.cols_used,
                                                         schedule.stream_cycles)]
    bandwidth = arch.dram_bytes_per_cycle()
    fraction = None if bandwidth is None else Fraction(bandwidth).limit_denominator(1000)
    separate = bool(arch.dram.per_operand)
    channel = [0, 1, 2, 2] if separate else [0, 0, 0, 0]
    width = arch.buffers.ifmap.port_width_bits // 8
    df = {0: "os", 1: "ws", 2: "is"}[schedule.dataflow]
    return ref_cycle(df, schedule.array_rows, schedule.array_cols, schedule.preload_overlap, q, folds,
                     schedule.sram_words.tolist(), schedule.dram_bytes.tolist(), channel, [fraction] * 4, arch.dram.latency_cycles,
                     arch.buffers.ifmap.double_buffered, arch.buffers.ofmap.double_buffered,
                     [0, 1, 2, 2], [width] * 4, [width] * 4, broadcast=schedule.broadcast)


@settings(deadline=None, max_examples=40)
@given(m=st.integers(1, 24), n=st.integers(1, 24), k=st.integers(1, 24), rows=st.integers(1, 8),
       cols=st.integers(1, 8), dataflow=st.sampled_from(DATAFLOWS), overlap=st.booleans(),
       bandwidth=st.sampled_from([None, 0.5, 1.0, 3.0, 16.0]), latency=st.integers(0, 20),
       per_operand=st.booleans(), width_words=st.integers(1, 8), double_buffered=st.booleans(),
       size_bytes=st.sampled_from([64, 4096]), acc_bytes=st.sampled_from([0, 4096]),
       q=st.sampled_from([1, 1, 2, 3]), broadcast=st.booleans())
@example(m=1, n=1, k=1, rows=1, cols=1, dataflow="os", overlap=False, bandwidth=None, latency=0,
         per_operand=False, width_words=1, double_buffered=True, size_bytes=4096, acc_bytes=0, q=1, broadcast=False)
@example(m=24, n=24, k=24, rows=3, cols=5, dataflow="ws", overlap=True, bandwidth=0.5, latency=7,
         per_operand=True, width_words=2, double_buffered=False, size_bytes=64, acc_bytes=0, q=3, broadcast=False)
@example(m=24, n=24, k=5, rows=3, cols=5, dataflow="os", overlap=True, bandwidth=0.5, latency=7,
         per_operand=True, width_words=2, double_buffered=True, size_bytes=4096, acc_bytes=0, q=2, broadcast=True)
@example(m=24, n=24, k=3, rows=4, cols=3, dataflow="os", overlap=True, bandwidth=None, latency=0,
         per_operand=False, width_words=1, double_buffered=True, size_bytes=4096, acc_bytes=0, q=1, broadcast=False)
def test_cycle_kernel_matches_reference(m, n, k, rows, cols, dataflow, overlap, bandwidth, latency,
                                        per_operand, width_words, double_buffered, size_bytes, acc_bytes, q,
                                        broadcast):
    """Every counter equal; ``q`` cycles per product (bit-serial) stretch each stream step;
    broadcast delivery (os only) and overlapped folds (every dataflow)."""
    arch = make_arch(rows, cols, dataflow, overlap=overlap, bandwidth=bandwidth, latency=latency,
                     per_operand=per_operand, width_words=width_words, double_buffered=double_buffered,
                     size_bytes=size_bytes, acc_bytes=acc_bytes, broadcast=broadcast and dataflow == "os")
    schedule = fixed_schedule(GemmProblem(m=m, n=n, k=k, repeats=1, ifmap_words=m * k), arch,
                              rate=ArrayRate(cycles_per_product=q))
    got = cycle.run_schedule(schedule, arch, q)
    want = reference(schedule, arch, q)
    assert got[0] == want["cycles"]  # codes.FOLD_STAT_CYCLES
    named = fold.counter_columns(got[None, :], arch.pes)
    assert [named[c][0] for c in ("ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes",
                                  "ofmap_sram_reads")] == want["words"]
    assert named["dram_read_bytes"][0] == want["dram_read_bytes"]
    assert named["dram_write_bytes"][0] == want["dram_write_bytes"]
    # conservation: every byte the schedule moves crosses a (finite) DRAM channel, every SRAM
    # word the array edges
    if bandwidth is not None:
        assert want["dram_read_bytes"] == schedule.dram_bytes[:, [0, 1, 3]].sum()
        assert want["dram_write_bytes"] == schedule.dram_bytes[:, 2].sum()
    assert want["words"] == schedule.sram_words.sum(axis=0).tolist()
    assert named["stall_cycles"][0] >= 0


def doc_cycles(m, n, k, rows, cols, dataflow, overlap, broadcast=False):
    """Compute cycles written out from docs/timing_models.md (native)."""
    sr, sc, t = {"os": (m, n, k), "ws": (k, n, m), "is": (k, m, n)}[dataflow]
    folds = [(min(rows, sr - r0), min(cols, sc - c0)) for c0 in range(0, sc, cols) for r0 in range(0, sr, rows)]
    if dataflow == "os":
        last_mac = [t - 1 + (0 if broadcast else r + c - 2) for r, c in folds]  # after the stream starts
        if not overlap:
            return sum(lm + 1 + rows for lm in last_mac)
        s = 0
        for f in range(1, len(folds)):
            # edges free after T; the first output (PE (0, 0), at s + T - 1) after the drain
            s = max(s + t, s + last_mac[f - 1] + rows + 2 - t)
        return s + last_mac[-1] + 1 + rows
    if not overlap:
        return sum(r + t + rows + c - 2 for r, c in folds)
    s, total = folds[0][0], 0
    for f, (r, c) in enumerate(folds):
        total = max(total, s + t + rows + c - 2)
        if f + 1 < len(folds):
            s += max(t, folds[f + 1][0])
    return total


@settings(deadline=None, max_examples=40)
@given(m=st.integers(1, 24), n=st.integers(1, 24), k=st.integers(1, 24), rows=st.integers(1, 8),
       cols=st.integers(1, 8), dataflow=st.sampled_from(DATAFLOWS), overlap=st.booleans(),
       broadcast=st.booleans())
@example(m=24, n=24, k=24, rows=8, cols=8, dataflow="is", overlap=True, broadcast=False)
@example(m=1, n=1, k=2, rows=1, cols=1, dataflow="ws", overlap=True, broadcast=False)
@example(m=24, n=24, k=2, rows=4, cols=4, dataflow="os", overlap=True, broadcast=False)
@example(m=24, n=24, k=9, rows=4, cols=4, dataflow="os", overlap=True, broadcast=True)
def test_no_stall_means_fold_cycle_and_formula_agree(m, n, k, rows, cols, dataflow, overlap, broadcast):
    """Unlimited DRAM bandwidth, double-buffered SRAMs, ports as wide as the array: nothing
    stalls, and the three answers (closed form, fold kernel, cycle stepping) are one."""
    broadcast = broadcast and dataflow == "os"
    arch = make_arch(rows, cols, dataflow, overlap=overlap, width_words=16, broadcast=broadcast)
    layer = Gemm(name="g", m=m, n=n, k=k)
    got = fold.counter_columns(cycle.run_layer(layer, arch)[None, :], arch.pes)
    ref = fold.counter_columns(fold.run_layer(layer, arch)[None, :], arch.pes)
    expected = doc_cycles(m, n, k, rows, cols, dataflow, overlap, broadcast)
    assert got["cycles"][0] == ref["cycles"][0] == expected
    assert got["stall_cycles"][0] == ref["stall_cycles"][0] == 0


def test_trace_adds_up_to_the_counters():
    arch = make_arch(4, 4, "ws", overlap=True, bandwidth=2.0, latency=5, width_words=2)
    layer = Gemm(name="g", m=20, n=9, k=11)
    trace = cycle.trace_layer(layer, arch)
    named = fold.counter_columns(cycle.run_layer(layer, arch)[None, :], arch.pes)
    assert len(trace) == named["cycles"][0]
    for column in ("ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes", "dram_read_bytes",
                   "dram_write_bytes"):
        assert trace[column].sum() == named[column][0], column
    # SRAM ports of 2 words/cycle are never exceeded in any cycle (a freeze spreads the words)
    assert (trace["dram_read_bytes"] <= 2).all()
