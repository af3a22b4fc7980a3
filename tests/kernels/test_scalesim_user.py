"""The SCALE-Sim USER-mode kernel against the naive reference (explicit fetch/demand matrices).

``run_fold_scalesim_user`` must give exactly the reference's Total Cycles, stall cycles,
compute cycles, Total Cycles incl. prefetch and per-operand DRAM counts. SRAMs are drawn tiny
(4-300 words: sets of 1-3 words; the engine asks for >= 100, the model needs none) and DRAM
bandwidths low (1-4 words/cycle), so that
windows slide many times per pass, operands wrap round their fetch order, rows stall on both
read operands and the OFMAP buffer fills while it drains; fetch lines hold 0, 1 or several set
boundaries (the kernel's O(1) row test, its one-boundary split and its rank-count fallback),
and the kernel's partial-line queue (room for 2 lines at first) grows, pausing and resuming
the row walk, whenever a row has more than 2 outputs. The reference itself is checked
against real SCALE-Sim 3.0.0 rows in tests/test_scalesim_compat.py (through the kernel) and
by the USER rows of tests/data/scalesim/reference.csv.
"""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from accelsim.kernels import codes
from accelsim.kernels.scalesim_user import run_fold_scalesim_user
from reference.scalesim_user_ref import ref_user

DATAFLOWS = {"os": codes.DATAFLOW_OS, "ws": codes.DATAFLOW_WS, "is": codes.DATAFLOW_IS}
COMPARED = {
    "cycles": codes.FOLD_STAT_CYCLES, "stall_cycles": codes.FOLD_STAT_STALL_CYCLES,
    "compute_cycles": codes.FOLD_STAT_COMPUTE_CYCLES, "cycles_incl_prefetch": codes.FOLD_STAT_CYCLES_INCL_PREFETCH,
    "ifmap_dram_reads": codes.FOLD_STAT_IFMAP_DRAM_READS, "filter_dram_reads": codes.FOLD_STAT_FILTER_DRAM_READS,
    "ofmap_dram_writes": codes.FOLD_STAT_OFMAP_DRAM_WRITES,
}


@st.composite
def layers(draw):
    """(geom, n_filters): a conv (strides, overlapping and ceil windows) or a GEMM."""
    n_filters = draw(st.integers(1, 10))
    if draw(st.booleans()):  # GEMM M x K @ K x N as SCALE-Sim lowers it: 1 channel, a 1 x K filter
        m, k = draw(st.integers(1, 12)), draw(st.integers(1, 12))
        return (m, k, 1, 1, k, 1, 1, m, 1), n_filters
    in_h, in_w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    kh, kw = draw(st.integers(1, min(in_h, 3))), draw(st.integers(1, min(in_w, 3)))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ch = draw(st.sampled_from([1, 2, 3, 4]))
    out_h, out_w = -(-(in_h - kh + sh) // sh), -(-(in_w - kw + sw) // sw)
    return (in_h, in_w, ch, kh, kw, sh, sw, out_h, out_w), n_filters


def kernel_counts(df, big_r, big_c, geom, n_filters, sram_words, bandwidths):
    npx, k_total = geom[7] * geom[8], geom[2] * geom[3] * geom[4]
    sr, sc, t = {"os": (npx, n_filters, k_total), "ws": (k_total, n_filters, npx),
                 "is": (k_total, npx, n_filters)}[df]
    stats = np.zeros(codes.FOLD_STAT_COUNT, dtype=np.int64)
    run_fold_scalesim_user(DATAFLOWS[df], big_r, big_c, sr, sc, t, np.array(geom, dtype=np.int64),
                           *sram_words, *bandwidths, stats)
    return {name: int(stats[index]) for name, index in COMPARED.items()}


@settings(deadline=None, max_examples=60)
@given(layer=layers(), df=st.sampled_from(["os", "ws", "is"]), big_r=st.integers(1, 6), big_c=st.integers(1, 6),
       sram_words=st.tuples(st.integers(4, 300), st.integers(4, 300), st.integers(2, 60)),
       bandwidths=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)))
@example(layer=((6, 6, 2, 3, 3, 1, 1, 4, 4), 4), df="os", big_r=4, big_c=4,
         sram_words=(100, 100, 8), bandwidths=(1, 1, 1))                     # every stall source
@example(layer=((9, 9, 3, 3, 3, 2, 2, 4, 4), 5), df="ws", big_r=3, big_c=2,
         sram_words=(150, 333, 20), bandwidths=(2, 1, 3))                    # s2 ceil windows, aliases
@example(layer=((8, 5, 1, 1, 5, 1, 1, 8, 1), 7), df="is", big_r=2, big_c=5,
         sram_words=(101, 120, 3), bandwidths=(3, 2, 1))                     # a GEMM, tiny OFMAP SRAM
@example(layer=((5, 5, 4, 2, 2, 1, 1, 4, 4), 3), df="is", big_r=5, big_c=3,
         sram_words=(700, 700, 120), bandwidths=(6, 6, 6))                   # fits: no prefetch at all
@example(layer=((6, 8, 4, 4, 3, 1, 1, 3, 6), 9), df="ws", big_r=1, big_c=7,
         sram_words=(258, 176, 36), bandwidths=(1, 3, 4))                    # OFMAP lines pile up past the SRAM
def test_user_kernel_matches_reference(layer, df, big_r, big_c, sram_words, bandwidths):
    geom, n_filters = layer
    want = ref_user(df, big_r, big_c, geom, n_filters, sram_words, bandwidths)
    got = kernel_counts(df, big_r, big_c, geom, n_filters, sram_words, bandwidths)
    assert got == {name: want[name] for name in COMPARED}


def test_one_late_prefetch_costs_two_stall_cycles():
    """Hand case: a prefetch 1 cycle late stalls 2 cycles (3.0.0 counts it twice, issue #130).

    ws on a 1x1 array, GEMM M=300, K=1, N=1: 2R + C + T - 2 = 301 demand rows; row 0 loads the
    weight, rows 1..300 stream ifmap word p = row - 1 and write one output each. Ifmap SRAM 100
    words at 1 word/cycle: sets of 1 word, a 50-word active window (words 0..49, filled in
    cycles -50..-1, last prefetch cycle -1), prefetches of 50 words = 50 lines, each ending
    at last + 51. Misses at words 50, 100, 150, 200, 250 (rows 51, 101, ...):
    row 51: last 50, potential 50 - (51 + 1) = -2 (early, no stall);
    row 101: last 101, potential -1; row 151: last 152, potential 0;
    row 201: last 203, potential 203 - 202 = 1 -> offset 1 + 1 + 1 = 3, stall 2;
    row 251 (cycle 253): last 254, potential 0.
    Stalls 2, Total Cycles 300 + 2. The OFMAP (1024 words) never drains before the end; the
    flush sends 3 lines of 100 words at cycles 302..304, so Total incl. prefetch = 304 + 50.
    DRAM: ifmap 50 + 5 x 50 = 300, filter one 1-word line, ofmap 300.
    """
    geom, sram, bws = (300, 1, 1, 1, 1, 1, 1, 300, 1), (100, 100, 1024), (1, 1, 100)
    want = dict(cycles=302, stall_cycles=2, compute_cycles=300, cycles_incl_prefetch=354,
                ifmap_dram_reads=300, filter_dram_reads=1, ofmap_dram_writes=300)
    assert kernel_counts("ws", 1, 1, geom, 1, sram, bws) == want
    assert {k: ref_user("ws", 1, 1, geom, 1, sram, bws)[k] for k in want} == want
