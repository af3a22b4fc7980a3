"""The systolic fold kernels against the naive models of tests/reference/systolic_ref.py."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from accelsim.kernels import codes
from accelsim.kernels.memory import double_buffer_cycles
from accelsim.kernels.scalesim_calc import calc_ofmap_drain, calc_read_walk
from accelsim.kernels.systolic import fold_durations
from reference.systolic_ref import (
    demand_matrices, ref_calc_drain, ref_calc_reads, ref_double_buffer, ref_fold_cycles, ref_os_overlapped_cycles,
    ref_overlapped_cycles,
)

DATAFLOWS = {"os": codes.DATAFLOW_OS, "ws": codes.DATAFLOW_WS, "is": codes.DATAFLOW_IS}


def folds_of(big_r, big_c, sr, sc, t):
    """(r, c, T) of every fold, column-fold-major."""
    return [(min(big_r, sr - i * big_r), min(big_c, sc - j * big_c), t)
            for j in range(-(-sc // big_c)) for i in range(-(-sr // big_r))]


@settings(deadline=None, max_examples=40)
@given(df=st.sampled_from(["os", "ws", "is"]), big_r=st.integers(1, 6), big_c=st.integers(1, 6),
       sr=st.integers(1, 14), sc=st.integers(1, 14), t=st.integers(1, 9), overlap=st.booleans(),
       broadcast=st.booleans())
@example(df="ws", big_r=4, big_c=4, sr=5, sc=4, t=2, overlap=True, broadcast=False)  # a fold shorter than its load
@example(df="os", big_r=1, big_c=1, sr=1, sc=1, t=1, overlap=False, broadcast=False)
@example(df="os", big_r=4, big_c=4, sr=9, sc=6, t=3, overlap=True, broadcast=False)  # drain longer than T
@example(df="os", big_r=4, big_c=4, sr=9, sc=6, t=6, overlap=True, broadcast=True)   # drain hidden
def test_fold_durations_match_event_model(df, big_r, big_c, sr, sc, t, overlap, broadcast):
    broadcast = broadcast and df == "os"
    folds = folds_of(big_r, big_c, sr, sc, t)
    rows, cols, stream = (np.array(v, dtype=np.int64) for v in zip(*folds))
    durations = np.empty(len(folds), dtype=np.int64)
    total = fold_durations(DATAFLOWS[df], big_r, overlap, broadcast, rows, cols, stream, durations)
    if overlap and df == "os":
        want = ref_os_overlapped_cycles(big_r, folds, broadcast)
    elif overlap:
        want = ref_overlapped_cycles(big_r, folds)
    else:
        want = sum(ref_fold_cycles(df, big_r, r, c, tt, broadcast) for r, c, tt in folds)
    assert total == want
    assert durations.sum() == total and (durations > 0).all()


@st.composite
def timelines(draw):
    folds = draw(st.integers(1, 6))
    durations = draw(st.lists(st.integers(1, 12), min_size=folds, max_size=folds))
    xfer = [[draw(st.integers(0, 9)) for _ in range(4)] for _ in range(folds)]
    xfer[0][3] = 0
    channel = draw(st.sampled_from([[0, 0, 0, 0], [0, 1, 2, 2], [0, 0, 1, 1]]))
    return durations, xfer, channel, draw(st.integers(0, 5)), draw(st.booleans()), draw(st.booleans())


@settings(deadline=None, max_examples=80)
@given(case=timelines())
@example(case=([3, 3], [[0, 0, 0, 0], [0, 0, 0, 0]], [0, 0, 0, 0], 0, True, True))   # nothing to move
@example(case=([1, 1, 1], [[5, 5, 5, 0], [5, 0, 5, 5], [0, 5, 5, 5]], [0, 0, 0, 0], 3, False, False))
def test_double_buffer_matches_cycle_stepped_channels(case):
    durations, xfer, channel, latency, prefetch, drain = case
    got = double_buffer_cycles(np.array(durations, dtype=np.int64), np.array(xfer, dtype=np.int64),
                               np.array(channel, dtype=np.int64), latency, prefetch, drain)
    assert got == ref_double_buffer(durations, xfer, channel, latency, prefetch, drain)


@st.composite
def scalesim_layers(draw):
    in_h, in_w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    kh, kw = draw(st.integers(1, in_h)), draw(st.integers(1, in_w))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ch = draw(st.integers(1, 3))
    out_h, out_w = -(-(in_h - kh + sh) // sh), -(-(in_w - kw + sw) // sw)
    return (in_h, in_w, ch, kh, kw, sh, sw, out_h, out_w), draw(st.integers(1, 7))


@settings(deadline=None, max_examples=60)
@given(layer=scalesim_layers(), df=st.sampled_from(["os", "ws", "is"]), big_r=st.integers(1, 5),
       big_c=st.integers(1, 5), group=st.integers(1, 40), sram=st.integers(2, 40))
@example(layer=((6, 6, 2, 3, 3, 1, 1, 4, 4), 4), df="os", big_r=4, big_c=4, group=7, sram=9)
@example(layer=((5, 5, 1, 1, 1, 2, 2, 3, 3), 3), df="ws", big_r=2, big_c=2, group=9, sram=2)   # 1x1 s2 ceil
@example(layer=((4, 8, 1, 1, 8, 1, 1, 4, 1), 5), df="is", big_r=3, big_c=2, group=12, sram=6)  # a GEMM
def test_calc_walks_match_demand_matrices(layer, df, big_r, big_c, group, sram):
    geom, n_filters = layer
    ifm, fil, ofm = demand_matrices(df, big_r, big_c, geom, n_filters)
    npx, k_total = geom[7] * geom[8], geom[2] * geom[3] * geom[4]
    sr, sc, t = {"os": (npx, n_filters, k_total), "ws": (k_total, n_filters, npx),
                 "is": (k_total, npx, n_filters)}[df]
    g = np.array(geom, dtype=np.int64)
    for is_filter, matrix, space in ((False, ifm, geom[0] * geom[1] * geom[2]), (True, fil, k_total * n_filters)):
        got = calc_read_walk(DATAFLOWS[df], is_filter, big_r, big_c, sr, sc, t, g, group,
                             np.zeros(space, dtype=np.int64))
        assert tuple(int(v) for v in got) == ref_calc_reads(matrix, group), ("filter" if is_filter else "ifmap")
    got = calc_ofmap_drain(DATAFLOWS[df], big_r, big_c, sr, sc, t, sram, np.empty(sram + 2, dtype=np.int64))
    assert tuple(int(v) for v in got) == ref_calc_drain(ofm, big_c, sram)
