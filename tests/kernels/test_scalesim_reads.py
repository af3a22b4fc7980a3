"""The fast SCALE-Sim CALC read counts (segments, closed forms) against the request walks.

``calc_segment_reads``, ``calc_ifmap_reads`` and ``calc_filter_reads`` must give exactly the group algorithm's
``(reads, first_row, triggers, last_trigger_row, leftover)``: on small layers against the naive
demand-matrix model (tests/reference/systolic_ref.py), on larger ones against the request walk
``calc_read_walk`` (itself checked against the demand matrices and against real SCALE-Sim rows in
tests/test_scalesim_compat.py). Group sizes are drawn small so that groups fill mid-row, in
segments of one row, and several times per pass.
"""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from accelsim.kernels import codes
from accelsim.kernels.scalesim_calc import (
    calc_filter_reads, calc_ifmap_reads, calc_ofmap_drain, calc_read_walk, calc_segment_reads,
)
from reference.systolic_ref import demand_matrices, ref_calc_drain, ref_calc_reads

DATAFLOWS = {"os": codes.DATAFLOW_OS, "ws": codes.DATAFLOW_WS, "is": codes.DATAFLOW_IS}


def mapping(df, geom, n_filters):
    npx, k_total = geom[7] * geom[8], geom[2] * geom[3] * geom[4]
    return {"os": (npx, n_filters, k_total), "ws": (k_total, n_filters, npx), "is": (k_total, npx, n_filters)}[df]


@st.composite
def layers(draw, max_side, max_ch):
    in_h, in_w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    kh, kw = draw(st.integers(1, min(in_h, 4))), draw(st.integers(1, min(in_w, 4)))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ch = draw(st.sampled_from([c for c in (1, 2, 3, 4, 6, 8, 12, 16) if c <= max_ch]))
    out_h, out_w = -(-(in_h - kh + sh) // sh), -(-(in_w - kw + sw) // sw)
    return (in_h, in_w, ch, kh, kw, sh, sw, out_h, out_w), draw(st.integers(1, 9))


def fast(df, is_filter, big_r, big_c, geom, n_filters, group):
    """The kernel's result, after checking that the segment walk alone (no closed form) agrees."""
    sr, sc, t = mapping(df, geom, n_filters)
    g = np.array(geom, dtype=np.int64)
    if is_filter:
        got = calc_filter_reads(DATAFLOWS[df], big_r, big_c, sr, sc, t, g, group)
    else:
        got = calc_ifmap_reads(DATAFLOWS[df], big_r, big_c, sr, sc, t, g, group)
    if df == "os" or not is_filter:  # the segment walk covers the ifmap and the os filter
        walked = calc_segment_reads(DATAFLOWS[df], is_filter, big_r, big_c, sr, sc, t, g, group)
        assert tuple(int(v) for v in walked) == tuple(int(v) for v in got)
    return tuple(int(v) for v in got)


@settings(deadline=None, max_examples=60)
@given(layer=layers(8, 4), df=st.sampled_from(["os", "ws", "is"]), big_r=st.integers(1, 5),
       big_c=st.integers(1, 5), group=st.integers(1, 40), is_filter=st.booleans())
@example(layer=((6, 6, 2, 3, 3, 1, 1, 4, 4), 4), df="os", big_r=4, big_c=4, group=7, is_filter=False)
@example(layer=((5, 5, 1, 1, 1, 2, 2, 3, 3), 3), df="ws", big_r=2, big_c=2, group=9, is_filter=False)  # 1x1 s2 ceil
@example(layer=((4, 8, 1, 1, 8, 1, 1, 4, 1), 5), df="is", big_r=3, big_c=2, group=12, is_filter=False)  # a GEMM
@example(layer=((4, 6, 1, 1, 6, 1, 1, 4, 1), 7), df="os", big_r=2, big_c=3, group=13, is_filter=True)  # small last block
@example(layer=((8, 8, 4, 3, 3, 1, 1, 6, 6), 3), df="ws", big_r=2, big_c=2, group=40, is_filter=False)  # chunks apart
@example(layer=((7, 7, 2, 2, 2, 2, 2, 4, 4), 5), df="os", big_r=3, big_c=2, group=11, is_filter=False)  # 2x2 s2 ceil
@example(layer=((2, 2, 1, 1, 1, 1, 1, 2, 2), 9), df="os", big_r=5, big_c=2, group=3, is_filter=True)  # 1 row fold
@example(layer=((8, 8, 3, 4, 4, 2, 2, 3, 3), 2), df="is", big_r=5, big_c=4, group=2, is_filter=False)  # fills each row
def test_fast_reads_match_demand_matrices(layer, df, big_r, big_c, group, is_filter):
    geom, n_filters = layer
    ifm, fil, _ = demand_matrices(df, big_r, big_c, geom, n_filters)
    want = ref_calc_reads(fil if is_filter else ifm, group)
    assert fast(df, is_filter, big_r, big_c, geom, n_filters, group) == want


@settings(deadline=None, max_examples=40)
@given(layer=layers(20, 16), df=st.sampled_from(["os", "ws", "is"]), big_r=st.integers(1, 12),
       big_c=st.integers(1, 12), group=st.integers(1, 400), is_filter=st.booleans())
@example(layer=((12, 12, 8, 3, 3, 1, 1, 10, 10), 12), df="os", big_r=8, big_c=8, group=300, is_filter=False)
@example(layer=((12, 12, 16, 3, 3, 1, 1, 10, 10), 12), df="ws", big_r=8, big_c=4, group=250, is_filter=False)
@example(layer=((11, 11, 12, 3, 3, 2, 2, 5, 5), 20), df="is", big_r=8, big_c=4, group=97, is_filter=False)
def test_fast_reads_match_request_walk(layer, df, big_r, big_c, group, is_filter):
    geom, n_filters = layer
    sr, sc, t = mapping(df, geom, n_filters)
    space = geom[2] * geom[3] * geom[4] * (t if df == "is" else sc) if is_filter else geom[0] * geom[1] * geom[2]
    want = calc_read_walk(DATAFLOWS[df], is_filter, big_r, big_c, sr, sc, t, np.array(geom, dtype=np.int64),
                          group, np.zeros(space, dtype=np.int64))
    assert fast(df, is_filter, big_r, big_c, geom, n_filters, group) == tuple(int(v) for v in want)


@settings(deadline=None, max_examples=25)
@given(layer=layers(16, 8), df=st.sampled_from(["os", "ws", "is"]), big_r=st.integers(1, 8),
       big_c=st.integers(1, 8), sram=st.integers(2, 300))
@example(layer=((16, 16, 1, 1, 1, 1, 1, 16, 16), 5), df="ws", big_r=4, big_c=8, sram=70)  # drains mid-plateau
@example(layer=((9, 9, 2, 3, 3, 1, 1, 7, 7), 9), df="os", big_r=8, big_c=3, sram=11)  # partial lines pile up
def test_ofmap_drain_matches_reference_on_long_folds(layer, df, big_r, big_c, sram):
    """Long streams (plateaus of hundreds of rows) against the word-by-word write buffer."""
    geom, n_filters = layer
    _, _, ofm = demand_matrices(df, big_r, big_c, geom, n_filters)
    sr, sc, t = mapping(df, geom, n_filters)
    got = calc_ofmap_drain(DATAFLOWS[df], big_r, big_c, sr, sc, t, sram, np.empty(sram + 2, dtype=np.int64))
    assert tuple(int(v) for v in got) == ref_calc_drain(ofm, big_c, sram)
