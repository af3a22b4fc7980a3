"""The fold model with the repetition along ``m`` added up (accelsim.engine.periodic) gives exactly
the one-piece run's counters.

The one-piece run is the numpy lowering (``lower.tiling.mapped_schedule``, not the kernel that
builds the folds) timed over every fold by ``run_fold_native``. Hypothesis draws GEMMs whose
input words are not a whole multiple of ``m`` (so units repeat with a period of up to 7),
arrays, dataflows, loop orders and stream tiles, double buffering, overlap, broadcast,
accumulators, separate or unified (jointly allocated) buffers, DRAM bandwidth (shared or per
operand), latency and MAC rates; every ``codes.FOLD_STAT_*`` counter must be equal.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.engine import fold, lowering, periodic
from accelsim.kernels import periodic as kernel_periodic
from accelsim.kernels import codes
from accelsim.kernels.schedule import BOUNDS, DIM_K, DIM_M, DIM_N
from accelsim.lower.gemm import ArrayRate, GemmProblem, lower_layer
from accelsim.lower.memory_plan import NO_SCALE, TrafficScale, final_output_folds, scaled_schedule
from accelsim.lower.schedule import FILTER, IFMAP, OFMAP_WRITE
from accelsim.lower.tiling import LoopOrder, Mapping, fixed_mapping, mapped_schedule
from accelsim.spec.arch import Dataflow
from accelsim.spec.load import network_from_dict
from accelsim.spec.memo import clear_spec_memos
from fold_archs import random_small_arch, small_arch


def _one_piece(problem, arch, mapping, rate, scale=NO_SCALE):
    """The numpy lowering's schedule, its DRAM traffic scaled by the numpy running totals
    (``lower.memory_plan.scaled_schedule``), timed over every fold at once."""
    schedule = mapped_schedule(problem, arch, mapping, rate=rate, weight_bits=8, act_bits=8)
    return fold.run_schedule(scaled_schedule(schedule, scale, mapping), arch)


def _exact_where_taken(problem, arch, mapping, scale=NO_SCALE) -> bool:
    """Whether the path takes ``problem``; where it does, its counters equal the one-piece run's."""
    stats = periodic.run_periodic(problem, arch, mapping, ArrayRate(), weight_bits=8, act_bits=8, traffic=scale)
    if stats is None:
        return False
    assert np.array_equal(stats, _one_piece(problem, arch, mapping, ArrayRate(), scale)), (mapping, scale)
    return True


@pytest.fixture(autouse=True)
def any_length(monkeypatch):
    """The path taken whatever the layer's length (its cost estimate, ``periodic._stepped_folds``,
    declines short layers; :func:`test_short_layers_run_whole` checks that)."""
    monkeypatch.setattr(periodic, "_stepped_folds", lambda *args: 0)
    monkeypatch.setattr(periodic, "CALL_FOLDS", 0)
    monkeypatch.setattr(periodic, "REMAINDER_FOLDS", 0)
    clear_spec_memos()  # the path's plans (periodic._plan) follow the module's constants
    yield
    clear_spec_memos()


SCALES = [NO_SCALE, TrafficScale(Fraction(0), Fraction(1), Fraction(1)),
          TrafficScale(Fraction(1), Fraction(1), Fraction(0)), TrafficScale(Fraction(0), Fraction(0), Fraction(0)),
          TrafficScale(Fraction(1), Fraction(0), Fraction(1)), TrafficScale(Fraction(2, 3), Fraction(1), Fraction(1)),
          TrafficScale(Fraction(47, 49), Fraction(1), Fraction(5, 8)),
          TrafficScale(Fraction(1), Fraction(3, 4), Fraction(0)), TrafficScale(Fraction(1, 2), Fraction(1, 2),
                                                                              Fraction(1, 2)),
          TrafficScale(Fraction(25079, 25088), Fraction(1), Fraction(1)),
          TrafficScale(Fraction(1), Fraction(1), Fraction(83727701, 102760448)),
          TrafficScale(Fraction(6263, 6272), Fraction(997, 1000), Fraction(401325, 401408))]
"""Memory-plan scalings: whole fractions (no remainder) and others (remainders with cycles of 2 to 49,
and of thousands to millions of superunits: a tensor kept on chip but for a sliver, or a sliver of
it kept, as eyeriss_like and tpu_v5e_like's plans keep ResNet-50's at batch 256)."""


@settings(max_examples=300, deadline=None)
@given(m0=st.integers(1, 120), d=st.sampled_from([1, 2, 3, 4, 7]), n=st.integers(1, 40), k=st.integers(1, 40),
       words=st.integers(1, 28), rows=st.integers(1, 8), cols=st.integers(1, 8),
       dataflow=st.sampled_from(["os", "ws", "is"]), overlap=st.booleans(), broadcast=st.booleans(),
       accumulators=st.sampled_from([0, 64, 4096]), bandwidth=st.sampled_from([0, 0.5, 3, 64]),
       latency=st.sampled_from([0, 7, 300]), per_operand=st.booleans(),
       buffer=st.sampled_from(["64B", "256B", "16KiB"]), unified=st.booleans(), joint=st.booleans(),
       order=st.sampled_from(list(LoopOrder)), t_tile=st.sampled_from([None, 1, 3, 8]),
       double=st.tuples(st.booleans(), st.booleans(), st.booleans()),
       rate=st.sampled_from([ArrayRate(), ArrayRate(2, 1), ArrayRate(1, 2)]), scale=st.sampled_from(SCALES))
def test_periodic_equals_one_piece(m0, d, n, k, words, rows, cols, dataflow, overlap, broadcast,
                                   accumulators, bandwidth, latency, per_operand, buffer, unified, joint, order, t_tile,
                                   double, rate, scale):
    m = m0 * d
    problem = GemmProblem(m=m, n=n, k=k, repeats=1, ifmap_words=max(1, m * words // (d * 4)))
    arch = small_arch(rows, cols, dataflow, overlap, accumulators, bandwidth, latency, per_operand, buffer, unified,
                 broadcast)
    mapping = Mapping(Dataflow(dataflow), order, t_tile, double, joint and unified)
    saved, periodic.MIN_SUPERUNITS = periodic.MIN_SUPERUNITS, 1  # take the path wherever units repeat at all
    clear_spec_memos()
    try:
        stats = periodic.run_periodic(problem, arch, mapping, rate, weight_bits=8, act_bits=8, traffic=scale)
    finally:
        periodic.MIN_SUPERUNITS = saved
        clear_spec_memos()
    if stats is not None:
        whole = _one_piece(problem, arch, mapping, rate, scale)
        assert np.array_equal(stats, whole), (mapping, dict(zip(range(codes.FOLD_STAT_COUNT), stats - whole)))


def test_taken_on_most_batched_layers_and_exact():
    """Seeded random GEMMs with many units along ``m``: the path is taken (not only declined) and exact."""
    rng = np.random.default_rng(7)
    taken = 0
    for _ in range(150):
        dataflow = str(rng.choice(["os", "ws", "is"]))
        arch = small_arch(int(rng.integers(1, 9)), int(rng.integers(1, 9)), dataflow, bool(rng.integers(2)),
                     int(rng.choice([0, 4096])), float(rng.choice([0, 0.5, 3])), int(rng.choice([0, 100])),
                     bool(rng.integers(2)), "16KiB", False, False)
        m, n, k = int(rng.integers(200, 2000)), int(rng.integers(1, 40)), int(rng.integers(1, 40))
        problem = GemmProblem(m=m, n=n, k=k, repeats=1, ifmap_words=m * k)
        mapping = Mapping(Dataflow(dataflow), LoopOrder(str(rng.choice([o.value for o in LoopOrder]))),
                          int(rng.choice([4, 16])), (True, True, bool(rng.integers(2))))
        taken += _exact_where_taken(problem, arch, mapping)
    assert taken >= 100


@pytest.mark.parametrize("batch", [1, 8, 64])
def test_batched_conv_through_run_layer(batch, monkeypatch):
    """A strided conv whose input pixels are not a whole multiple of its output pixels (period > 1)
    at several batches: ``fold.run_layer`` takes the path for the long ones, with the one-piece
    counters; its cycles grow with the batch and the folds are the loop counts' product."""
    arch = small_arch(8, 8, "ws", True, 4096, 3, 100, False, "16KiB", False, False)
    net = network_from_dict({"name": "n", "batch": batch, "layers": [
        {"op": "conv2d", "name": "c", "in_channels": 3, "out_channels": 16, "in_h": 13, "in_w": 13, "kernel": 3,
         "stride": 2, "padding": 1}]})
    layer = net.layers[0]
    problem = lower_layer(layer)
    mapping = Mapping(Dataflow.WS, LoopOrder.TCR, 4, (True, True, True))
    assert problem.m == batch * 49 and math.gcd(problem.m, problem.ifmap_words * 4) < problem.m  # period > 1
    calls = []
    original = periodic.run_periodic
    monkeypatch.setattr(periodic, "run_periodic", lambda *a, **kw: calls.append(original(*a, **kw)) or calls[-1])
    stats = fold.run_layer(layer, arch, mapping=mapping)
    assert np.array_equal(stats, _one_piece(problem, arch, mapping, ArrayRate()))
    assert (calls[0] is not None) == (batch == 64)  # period 49: 98 units at batch 8 repeat too few times
    assert stats[codes.FOLD_STAT_FOLDS] == -(-problem.m // 4) * 2 * -(-27 // 8)


def test_budget_declines_without_counters():
    """A budget smaller than one unit: the kernel gives up, and the path declines (None)."""
    arch = small_arch(4, 4, "ws", True, 0, 3, 7, False, "16KiB", False, False)
    problem = GemmProblem(m=4000, n=30, k=30, repeats=1, ifmap_words=4000 * 30)
    mapping = Mapping(Dataflow.WS, LoopOrder.TCR, 8, (True, True, True))
    assert periodic.run_periodic(problem, arch, mapping, ArrayRate(), weight_bits=8, act_bits=8) is not None
    saved = periodic.MIN_BUDGET, periodic.MAX_BUDGET
    periodic.MIN_BUDGET = periodic.MAX_BUDGET = 1
    clear_spec_memos()  # the plans hold the budget
    try:
        assert periodic.run_periodic(problem, arch, mapping, ArrayRate(), weight_bits=8, act_bits=8) is None
    finally:
        periodic.MIN_BUDGET, periodic.MAX_BUDGET = saved
        clear_spec_memos()


def _passes_along_n(problem, arch, mapping):
    """Whether a unit of ``mapping`` is stepped pass by pass: ``m`` outermost, ``n`` the middle loop
    with enough passes (``kernels.periodic._step_passes``), read off the lowering's loops."""
    p, _ = lowering.schedule_problem(problem, arch, mapping, rate=ArrayRate(), weight_bits=8, act_bits=8)
    order = [int(x) for x in p.order]
    return (order[0] == int(p.loop_of[DIM_M]) and order[1] == int(p.loop_of[DIM_N])
            and int(p.count[order[1]]) >= kernel_periodic.MIN_PASSES)


def test_passes_along_n_inside_a_unit_exact():
    """Seeded GEMMs whose units hold many passes along n (m outermost, n the middle loop): exact
    against the one-piece run, for every dataflow, with and without bandwidth, overlap and drains."""
    rng = np.random.default_rng(11)
    taken = 0
    for _ in range(300):
        dataflow = str(rng.choice(["os", "ws", "is"]))
        arch = random_small_arch(rng, dataflow, 5, ["256B", "16KiB"])
        m, n, k = int(rng.integers(300, 900)), int(rng.integers(20, 60)), int(rng.integers(1, 30))
        problem = GemmProblem(m=m, n=n, k=k, repeats=1, ifmap_words=m * k)
        mapping = Mapping(Dataflow(dataflow), LoopOrder(str(rng.choice(["tcr", "trc"]))), int(rng.choice([4, 16])),
                          (bool(rng.integers(2)), bool(rng.integers(2)), bool(rng.integers(2))))
        taken += _exact_where_taken(problem, arch, mapping) and _passes_along_n(problem, arch, mapping)
    assert taken >= 20


@pytest.mark.parametrize("seed", range(12))
def test_cycles_equal_the_plain_python_timeline(seed):
    """Without overlap between folds, the periodic kernel's cycles against the plain-Python
    reference of the native memory timeline (stepped cycle by cycle with FIFO channels,
    :func:`_assert_plain_python_timeline`)."""
    rng = np.random.default_rng(seed)
    dataflow = ["os", "ws", "is"][seed % 3]
    big_r = int(rng.integers(2, 6))
    arch = small_arch(big_r, int(rng.integers(2, 6)), dataflow, False, 0, float(rng.choice([0.5, 3])),
                 int(rng.choice([0, 20])), bool(seed % 2), "16KiB", False, False)
    m = int(rng.integers(150, 400))
    problem = GemmProblem(m=m, n=int(rng.integers(1, 12)), k=int(rng.integers(1, 12)), repeats=1,
                          ifmap_words=m * int(rng.integers(1, 5)))
    mapping = Mapping(Dataflow(dataflow), LoopOrder(["tcr", "ctr", "rtc", "crt"][seed % 4]), 4,
                      (bool(seed % 2), bool(seed % 2), bool(seed // 2 % 2)))
    stats = periodic.run_periodic(problem, arch, mapping, ArrayRate(), weight_bits=8, act_bits=8)
    assert stats is not None
    _assert_plain_python_timeline(stats, problem, arch, mapping)


def _assert_plain_python_timeline(stats, problem, arch, mapping):
    """``stats`` (an overlap-free arch) against the plain-Python reference of the native memory timeline
    (``tests/reference/systolic_ref.py``) on the numpy lowering's folds, each fold's compute written
    out from docs/timing_models.md (ws/is ``r + T + R + c - 2``, os ``T + r + c - 2 + R``); counts
    are the tables' column sums."""
    from reference.systolic_ref import ref_double_buffer

    schedule = mapped_schedule(problem, arch, mapping, rate=ArrayRate(), weight_bits=8, act_bits=8)
    xfer, channel = fold.transfer_table(schedule, arch)
    r, c, t = schedule.rows_used, schedule.cols_used, schedule.stream_cycles
    big_r = arch.array.rows
    durations = (t + r + c - 2 + big_r) if mapping.dataflow is Dataflow.OS else (r + t + big_r + c - 2)
    expected = ref_double_buffer(durations.tolist(), xfer.tolist(), channel.tolist(), arch.dram.latency_cycles,
                                 schedule.prefetch_overlap, schedule.drain_overlap)
    assert stats[codes.FOLD_STAT_CYCLES] == expected
    assert stats[codes.FOLD_STAT_COMPUTE_CYCLES] == durations.sum()
    assert stats[codes.FOLD_STAT_IFMAP_DRAM_READS] == schedule.dram_words[:, 0].sum()
    assert stats[codes.FOLD_STAT_FILTER_DRAM_READS] == schedule.dram_words[:, 1].sum()
    assert stats[codes.FOLD_STAT_BUSY_PE_CYCLES] == (r * c * t).sum()


def _prefetched_ifmap(problem, arch, mapping):
    """Whether the ifmap loads a period ahead in ``mapping``'s folds (``kernels.schedule.fill_folds``'s
    ``prefetch_in``), read off the lowering's rooms and loops."""
    p, _ = lowering.schedule_problem(problem, arch, mapping, rate=ArrayRate(), weight_bits=8, act_bits=8)
    return bool(p.ifmap_prefetch) and [int(x) for x in p.order].index(int(p.loop_of[DIM_N])) > 0


def test_prefetched_ifmap_exact():
    """Seeded GEMMs in a jointly allocated unified buffer that keeps the ifmap double-buffered (it
    loads a period ahead): where the path is taken it is exact against the one-piece run, on every
    dataflow and loop order, with the memory plan's 0/1 scalings; and it is taken on many."""
    taken = sum(_exact_where_taken(problem, arch, mapping, scale) and _prefetched_ifmap(problem, arch, mapping)
                for problem, arch, mapping, scale in _joint_buffer_gemms(13, 0))
    assert taken >= 20


def _joint_buffer_gemms(seed: int, kept: int):
    """300 seeded ``(problem, arch, mapping, scale)``: GEMMs of 200-900 rows along m in a jointly
    allocated unified buffer, every dataflow and loop order, operand ``kept`` (0 the ifmap, 1 the
    filter) double-buffered (its footprint loads a period ahead where it fits), a scaling of ``SCALES``."""
    rng = np.random.default_rng(seed)
    for _ in range(300):
        dataflow = str(rng.choice(["os", "ws", "is"]))
        arch = random_small_arch(rng, dataflow, 6, ["1KiB", "4KiB", "16KiB"], unified=True)
        m, n, k = int(rng.integers(200, 900)), int(rng.integers(2, 40)), int(rng.integers(1, 30))
        problem = GemmProblem(m=m, n=n, k=k, repeats=1, ifmap_words=m * int(rng.integers(1, k + 1)))
        order, tile = LoopOrder(str(rng.choice([o.value for o in LoopOrder]))), int(rng.choice([4, 16]))
        double = [bool(rng.integers(2)), bool(rng.integers(2))]
        double.insert(kept, True)
        yield problem, arch, Mapping(Dataflow(dataflow), order, tile, tuple(double), True), \
            SCALES[int(rng.integers(len(SCALES)))]


def _spread_filter(problem, arch, mapping, weight_bits=8):
    """Whether the filter loads a period ahead with ``m``'s loop inside another
    (``kernels.schedule.fill_folds``'s ``prefetch_filter``: each period's words spread over the folds
    of the one before), read off the lowering's rooms and loops."""
    p, _ = lowering.schedule_problem(problem, arch, mapping, rate=ArrayRate(), weight_bits=weight_bits, act_bits=8)
    return bool(p.filter_prefetch) and [int(x) for x in p.order].index(int(p.loop_of[DIM_M])) > 0


def test_spread_filter_exact():
    """Seeded GEMMs in a jointly allocated unified buffer that keeps the filter double-buffered (it
    loads a period ahead, spread over the period before): where the path is taken (the parts
    bounded, :func:`periodic._bounded`) it is exact against the one-piece run, on every dataflow and
    loop order, with the memory plan's scalings; and it is taken on many."""
    taken = sum(_exact_where_taken(problem, arch, mapping, scale) and _spread_filter(problem, arch, mapping)
                for problem, arch, mapping, scale in _joint_buffer_gemms(31, 1))
    assert taken >= 20


@pytest.mark.parametrize("scale", [NO_SCALE, SCALES[6]])
def test_spread_filter_passes_along_n_are_added_up(monkeypatch, scale):
    """ws, loops n (10 passes, the last of 2 columns), k (one), m (125 units of a 16-row tile) in a
    jointly allocated buffer, 64 bytes a cycle: the filter of the next n tile loads over the current
    pass's folds. Within a
    budget of 300 folds, a quarter of the layer's, both bounds of its parts are added up pass by pass
    (pass 8 brings the last pass's words, one generic pass less), with the one-piece counters; with
    weights of 4 bits, whose bytes do not follow the words' bounds, the path declines it."""
    arch = small_arch(4, 4, "ws", True, 0, 64, 7, False, "16KiB", True, False)
    problem = GemmProblem(m=2000, n=38, k=4, repeats=1, ifmap_words=2000 * 4)
    mapping = Mapping(Dataflow.WS, LoopOrder.CRT, 16, (True, True, True), True)
    assert _spread_filter(problem, arch, mapping) and _outer_passes_along(problem, arch, mapping)
    _finishes_within(monkeypatch, 300, problem, arch, mapping, scale)
    assert periodic.run_periodic(problem, arch, mapping, ArrayRate(), weight_bits=4, act_bits=8,
                                 traffic=scale) is None


def test_prefetched_ifmap_and_scaled_traffic_are_added_up(monkeypatch):
    """A long GEMM whose ifmap loads a unit ahead, its output writes zeroed by the memory plan
    (an output kept on chip): with a budget of 2,000 folds, a fifth of its 10,000, the path
    finishes it (before, both declined it), with the one-piece counters."""
    arch = small_arch(4, 4, "ws", True, 0, 3, 7, False, "16KiB", True, False)
    problem = GemmProblem(m=10000, n=16, k=16, repeats=1, ifmap_words=10000 * 16)
    mapping = Mapping(Dataflow.WS, LoopOrder.TCR, 16, (True, True, True), True)
    scale = TrafficScale(Fraction(1), Fraction(1), Fraction(0))
    assert _prefetched_ifmap(problem, arch, mapping)
    stats = _finishes_within(monkeypatch, 2000, problem, arch, mapping, scale)
    assert stats[codes.FOLD_STAT_OFMAP_DRAM_WRITES] == 0 < stats[codes.FOLD_STAT_IFMAP_DRAM_READS]


def test_general_fractions_are_added_up(monkeypatch):
    """Traffic scaled by 47/49 and 5/8 on a GEMM of 2,000 units of 12 folds: with a budget of 4,000
    folds, a sixth of the layer's, the superunits of the remainders' cycle (at most 49 x 8 units)
    are added up, with the counters of the numpy running totals over the one-piece run."""
    arch = small_arch(4, 4, "ws", True, 0, 3, 7, False, "16KiB", False, False)
    problem = GemmProblem(m=16000, n=16, k=12, repeats=1, ifmap_words=16000 * 12)
    mapping = Mapping(Dataflow.WS, LoopOrder.TCR, 8, (True, True, True))
    scale = TrafficScale(Fraction(47, 49), Fraction(1), Fraction(5, 8))
    _finishes_within(monkeypatch, 4000, problem, arch, mapping, scale)


@pytest.mark.parametrize("dim", [DIM_N, DIM_K])
def test_outer_passes_exact(dim):
    """Seeded GEMMs whose units of m lie inside many passes along n, or along k (outside them only
    that loop and loops of one iteration, read off the lowering's loops; along k, input words a whole
    multiple of ``m x k`` or not, so that the k tiles' shares are equal or not), with the memory
    plan's 0/1 scalings: exact against the one-piece run, and taken on many."""
    rng = np.random.default_rng(17 + dim)
    taken = 0
    for _ in range(300):
        dataflow, unified = str(rng.choice(["os", "ws", "is"])), bool(rng.integers(2))
        arch = random_small_arch(rng, dataflow, 5, ["256B", "16KiB"], unified=unified)
        m = int(rng.integers(200, 600))
        n, k = (int(rng.integers(20, 60)), int(rng.integers(1, 30))) if dim == DIM_N else \
            (int(rng.integers(1, 6)), int(rng.integers(20, 60)))
        uneven = int(rng.integers(2)) * int(rng.integers(m))  # input words not a whole multiple of m x k
        problem = GemmProblem(m=m, n=n, k=k, repeats=1, ifmap_words=m * k - uneven)
        mapping = Mapping(Dataflow(dataflow), LoopOrder(str(rng.choice([o.value for o in LoopOrder]))),
                          int(rng.choice([4, 16])), tuple(bool(rng.integers(2)) for _ in range(3)),
                          unified and bool(rng.integers(2)))
        scale = SCALES[int(rng.integers(len(SCALES)))]
        taken += _exact_where_taken(problem, arch, mapping, scale) and \
            _outer_passes_along(problem, arch, mapping, dim)
    assert taken >= 20


def _outer_passes_along(problem, arch, mapping, dim=DIM_N):
    """Whether the loops outside ``m``'s are one along ``dim`` with enough passes and loops of a single
    iteration (``m``'s loop the middle one inside an outermost along ``dim``, or the innermost)."""
    p, _ = lowering.schedule_problem(problem, arch, mapping, rate=ArrayRate(), weight_bits=8, act_bits=8)
    order, count = [int(x) for x in p.order], [int(x) for x in p.count]
    outside = order[:order.index(int(p.loop_of[DIM_M]))]
    passes = math.prod(count[loop] for loop in outside)
    return (int(p.loop_of[dim]) in outside and count[int(p.loop_of[dim])] == passes
            and passes >= kernel_periodic.MIN_PASSES)


@pytest.mark.parametrize("order, repeating", [
    # a unit of 100 passes along n: ~5 units x 1,600 folds when whole units are stepped
    (LoopOrder.TCR, _passes_along_n),
    # 100 outer passes along n, each of 250 units of m: 100 passes x 5 units x 16 folds when stepped
    (LoopOrder.CTR, _outer_passes_along),
])
def test_passes_along_n_are_added_up_not_stepped(monkeypatch, order, repeating):
    """With a budget of 3,000 folds, far below what stepping takes (above), the repetition of the
    passes along n (inside each unit, or outside the units) finishes the layer, with the one-piece
    counters."""
    arch = small_arch(4, 4, "ws", True, 0, 3, 7, False, "16KiB", False, False)
    problem = GemmProblem(m=4000, n=400, k=64, repeats=1, ifmap_words=4000 * 64)
    mapping = Mapping(Dataflow.WS, order, 16, (True, True, True))
    assert repeating(problem, arch, mapping)
    _finishes_within(monkeypatch, 3000, problem, arch, mapping)


def test_passes_along_k_are_added_up_where_their_shares_are_equal(monkeypatch):
    """100 outer passes along k (4 weight rows each), each of 250 units of m in one column fold: with
    a budget of 200 folds, a third of what stepping every pass takes (~6 units a pass), the passes
    are added up and the layer finishes, with the one-piece counters. With 250 input words less (the
    units still repeat every unit: ``1,599,750 x 16`` is a multiple of 4,000), the k tiles' shares of
    the input differ by a word here and there: the passes are stepped and the budget declines the
    layer, unless the memory plan keeps the input on chip."""
    arch = small_arch(4, 4, "ws", True, 0, 3, 7, False, "16KiB", False, False)
    mapping = Mapping(Dataflow.WS, LoopOrder.RCT, 16, (True, True, True))
    problem = GemmProblem(m=4000, n=4, k=400, repeats=1, ifmap_words=4000 * 400)
    assert _outer_passes_along(problem, arch, mapping, DIM_K)
    _finishes_within(monkeypatch, 200, problem, arch, mapping)
    uneven = dataclasses.replace(problem, ifmap_words=4000 * 400 - 250)
    assert periodic.run_periodic(uneven, arch, mapping, ArrayRate(), weight_bits=8, act_bits=8) is None
    _finishes_within(monkeypatch, 200, uneven, arch, mapping, TrafficScale(Fraction(0), Fraction(1), Fraction(1)))


def _finishes_within(monkeypatch, budget: int, problem, arch, mapping, scale=NO_SCALE) -> np.ndarray:
    """The periodic path's counters of ``problem`` (traffic scaled by ``scale``) within a stepping
    budget of ``budget`` folds: it finishes, with the one-piece run's counters."""
    monkeypatch.setattr(periodic, "MIN_BUDGET", budget)
    monkeypatch.setattr(periodic, "MAX_BUDGET", budget)
    clear_spec_memos()  # the plans hold the budget
    stats = periodic.run_periodic(problem, arch, mapping, ArrayRate(), weight_bits=8, act_bits=8, traffic=scale)
    assert stats is not None
    assert np.array_equal(stats, _one_piece(problem, arch, mapping, ArrayRate(), scale))
    return stats


def test_kept_input_repeats_every_unit(monkeypatch):
    """A GEMM whose input words (1,999 over 1,000 rows of ``m``, 8 rows a unit) give its units a period
    of ``1000 / gcd(1000, 1999 x 8) = 125``, all of its 125 units: declined with its input read from
    DRAM; with the whole input
    kept on chip by the memory plan (its fraction 0: no fold's input words reach the DRAM), every unit
    repeats and the path takes it within a budget of 300 folds, with the one-piece counters."""
    arch = small_arch(4, 4, "ws", True, 0, 3, 7, False, "16KiB", False, False)
    problem = GemmProblem(m=1000, n=16, k=8, repeats=1, ifmap_words=1999)
    mapping = Mapping(Dataflow.WS, LoopOrder.TCR, 8, (True, True, True))
    assert periodic.run_periodic(problem, arch, mapping, ArrayRate(), weight_bits=8, act_bits=8) is None
    _finishes_within(monkeypatch, 300, problem, arch, mapping, TrafficScale(Fraction(0), Fraction(1), Fraction(1)))


def test_short_layers_run_whole(monkeypatch):
    """With its cost estimate, the path declines a short layer (26 folds in 13 units of 2, under
    ``8 x 2 + 128``) and takes a long one (1,000 folds), as computed by hand."""
    monkeypatch.undo()
    arch = small_arch(4, 4, "ws", True, 0, 3, 7, False, "16KiB", False, False)
    mapping = Mapping(Dataflow.WS, LoopOrder.TCR, 8, (True, True, True))
    for m, taken in ((104, False), (4000, True)):
        problem = GemmProblem(m=m, n=8, k=4, repeats=1, ifmap_words=m * 4)
        assert (periodic.run_periodic(problem, arch, mapping, ArrayRate(), weight_bits=8, act_bits=8)
                is not None) == taken


def test_scaled_layers_weigh_their_scaling(monkeypatch):
    """Traffic scaled by fractions other than whole ones: the path runs both bounds (twice its
    estimate) against a whole run whose running totals cost twice a fold (``SCALED_FOLD_COST``), so
    the layers above of 200 folds (``2 x 200 <= 2 x (96 + 128)``) are declined and those of 400 taken,
    as layers of unscaled traffic are at over ``96 + 128``, computed by hand."""
    monkeypatch.undo()
    arch = small_arch(4, 4, "ws", True, 0, 3, 7, False, "16KiB", False, False)
    mapping = Mapping(Dataflow.WS, LoopOrder.TCR, 8, (True, True, True))
    for m, taken in ((800, False), (1600, True)):
        problem = GemmProblem(m=m, n=8, k=4, repeats=1, ifmap_words=m * 4)
        for bounds in (False, True):
            plan = periodic._plan(problem, arch, mapping, ArrayRate(), 8, 8, False, False, bounds)
            assert (plan is not None) == taken, (m, bounds)


def test_general_fractions_exact_on_seeded_gemms():
    """Seeded GEMMs of many units, their traffic scaled by fractions with remainders (cycles of 2 to
    49 superunits): where taken (most), exact against the numpy running totals over the one-piece run."""
    rng = np.random.default_rng(19)
    taken = 0
    for _ in range(120):
        problem, arch, mapping = _seeded_long_gemm(rng, [0.5, 3])
        taken += _exact_where_taken(problem, arch, mapping, SCALES[int(rng.integers(5, len(SCALES) - 3))])
    assert taken >= 40


def _seeded_long_gemm(rng, bandwidths: list[float]):
    """``(problem, arch, mapping)``: a random GEMM of 1,000-4,000 rows along m on a small random arch
    whose DRAM moves one of ``bandwidths`` bytes a cycle, under a random mapping."""
    dataflow, unified = str(rng.choice(["os", "ws", "is"])), bool(rng.integers(2))
    arch = small_arch(int(rng.integers(1, 9)), int(rng.integers(1, 9)), dataflow, bool(rng.integers(2)),
                      int(rng.choice([0, 4096])), float(rng.choice(bandwidths)), int(rng.choice([0, 100])),
                      bool(rng.integers(2)), "16KiB", unified, False)
    m, n, k = int(rng.integers(1000, 4000)), int(rng.integers(1, 40)), int(rng.integers(1, 40))
    problem = GemmProblem(m=m, n=n, k=k, repeats=1, ifmap_words=m * k)
    mapping = Mapping(Dataflow(dataflow), LoopOrder(str(rng.choice([o.value for o in LoopOrder]))),
                      int(rng.choice([4, 16])), (True, True, bool(rng.integers(2))), unified and bool(rng.integers(2)))
    return problem, arch, mapping


_K_INNERMOST = {"ws": ["tcr", "ctr"], "is": ["tcr", "ctr"], "os": ["rct", "crt"]}
"""The loop orders whose innermost loop runs along k (ws and is: k on the rows, os: k in time)."""


def _few_units_gemm(rng, dataflow, k_low):
    """A GEMM with few units along m (at most 3 on an array side of up to 4, or one stream tile) and
    long passes along n and k: ``n`` 20..60, ``k`` from ``k_low``, input words not a whole multiple
    of ``m`` or ``k`` (the ifmap shares of a k fold repeat with a period)."""
    m, n, k = int(rng.integers(1, 13)), int(rng.integers(20, 60)), int(rng.integers(k_low, 2 * k_low))
    return GemmProblem(m=m, n=n, k=k, repeats=1, ifmap_words=int(rng.integers(m, m * k + 1)))


def _few_units_repeating(problem, arch, mapping):
    """Whether ``mapping`` has fewer than :data:`periodic.MIN_SUPERUNITS` repeating superunits along m
    (the path before it added up passes along k declined it) and k's loop innermost with at least
    ``kernels.periodic.MIN_REDUCTION_FOLDS`` folds, read off the lowering's loops."""
    p, _ = lowering.schedule_problem(problem, arch, mapping, rate=ArrayRate(), weight_bits=8, act_bits=8)
    order = [int(x) for x in p.order]
    units = int(p.count[p.loop_of[DIM_M]])
    return (units - 3 < periodic.MIN_SUPERUNITS and order[2] == int(p.loop_of[DIM_K])
            and int(p.count[order[2]]) >= kernel_periodic.MIN_REDUCTION_FOLDS)


def test_few_units_passes_along_k_exact():
    """Seeded GEMMs with one to a few units along m (on ws and is often a whole stream tile, as the
    fixed mappings) whose passes along k (and n) repeat, on every dataflow, with drains, joint buffers (the ifmap loaded
    a period ahead) and the memory plan's 0/1 scalings: taken on many, exact against the one-piece
    run."""
    rng = np.random.default_rng(23)
    taken = 0
    for _ in range(120):
        dataflow = str(rng.choice(["os", "ws", "is"]))
        unified = bool(rng.integers(2))
        arch = random_small_arch(rng, dataflow, 5, ["256B", "1KiB", "16KiB"], unified=unified)
        t_tile = int(rng.integers(1, 3)) if dataflow == "os" else None if rng.integers(2) else 4
        problem = _few_units_gemm(rng, dataflow, 60 * (t_tile if dataflow == "os" else arch.array.rows))
        mapping = Mapping(Dataflow(dataflow), LoopOrder(str(rng.choice(_K_INNERMOST[dataflow]))), t_tile,
                          tuple(bool(rng.integers(2)) for _ in range(3)), unified and bool(rng.integers(2)))
        scale = SCALES[int(rng.integers(5))]
        taken += _exact_where_taken(problem, arch, mapping, scale) and _few_units_repeating(problem, arch, mapping)
    assert taken >= 40


@pytest.mark.parametrize("seed", range(6))
def test_few_units_equal_the_plain_python_timeline(seed):
    """Few units along m (a whole stream tile on ws and is) whose passes along k are added up, without
    overlap between folds: cycles and counts against the plain-Python reference
    (:func:`_assert_plain_python_timeline`)."""
    rng = np.random.default_rng(100 + seed)
    dataflow = ["os", "ws", "is"][seed % 3]
    arch = small_arch(int(rng.integers(2, 4)), int(rng.integers(2, 4)), dataflow, False, 0,
                      float(rng.choice([0.5, 3])), int(rng.choice([0, 20])), bool(seed % 2), "16KiB", False, False)
    t_tile = 2 if dataflow == "os" else None  # os: k in time, in passes of stream tiles
    problem = _few_units_gemm(rng, dataflow, 60 * (t_tile if dataflow == "os" else arch.array.rows))
    mapping = Mapping(Dataflow(dataflow), LoopOrder(_K_INNERMOST[dataflow][seed % 2]), t_tile,
                      (bool(seed % 2), bool(seed % 2), bool(seed // 2 % 2)))
    assert _few_units_repeating(problem, arch, mapping)
    stats = periodic.run_periodic(problem, arch, mapping, ArrayRate(), weight_bits=8, act_bits=8)
    assert stats is not None
    _assert_plain_python_timeline(stats, problem, arch, mapping)


def test_passes_along_k_are_added_up_not_stepped(monkeypatch):
    """A GEMM of 250 units along m, each of 2 passes along n of 1,000 folds along k: stepping 5-6
    whole units takes 10,000-12,000 folds; with a budget of 3,000 the passes along k are added up
    (a few runs of 8 folds each) and the layer finishes, with the one-piece counters."""
    arch = small_arch(4, 4, "ws", True, 0, 3, 7, False, "16KiB", False, False)
    problem = GemmProblem(m=4000, n=8, k=4000, repeats=1, ifmap_words=4000 * 1000)
    mapping = Mapping(Dataflow.WS, LoopOrder.TCR, 16, (True, True, True))
    _finishes_within(monkeypatch, 3000, problem, arch, mapping)


def test_fixed_mapping_layer_with_one_unit_taken(monkeypatch):
    """ResNet-50's layer4 3x3 conv (GEMM 49 x 512 x 4,608) on an 8 x 8 ws array at the fixed mapping (one
    stream tile: a single unit along m, 64 passes along n of 576 folds along k): with the real
    cost estimate the path takes it, with the one-piece counters (36,864 folds)."""
    monkeypatch.undo()
    arch = small_arch(8, 8, "ws", True, 4096, 3, 100, False, "64KiB", False, False)
    problem = GemmProblem(m=49, n=512, k=4608, repeats=1, ifmap_words=7 * 7 * 512)
    mapping = fixed_mapping(arch)
    stats = periodic.run_periodic(problem, arch, mapping, ArrayRate(), weight_bits=8, act_bits=8)
    assert stats is not None
    assert stats[codes.FOLD_STAT_FOLDS] == 64 * 576
    assert np.array_equal(stats, _one_piece(problem, arch, mapping, ArrayRate()))


def test_os_fixed_mapping_outer_passes_added_up(monkeypatch):
    """os at its fixed mapping (one stream tile along k outermost, then the column folds along n, then
    the row folds along m): 100 passes along n of 1,000 units of one fold. Stepping 5-6 units of
    every pass takes ~600 folds; with a budget of 300 the passes along n are added up too and the
    layer finishes, with the one-piece counters."""
    arch = small_arch(4, 4, "os", True, 0, 3, 7, False, "16KiB", False, False)
    problem = GemmProblem(m=4000, n=400, k=64, repeats=1, ifmap_words=4000 * 64)
    mapping = fixed_mapping(arch)
    assert _outer_passes_along(problem, arch, mapping)
    _finishes_within(monkeypatch, 300, problem, arch, mapping)


def _counting_bounded(monkeypatch) -> list:
    """Wrap ``periodic._bounded``: the list of its answers (``None`` where it declined)."""
    answers = []
    original = periodic._bounded
    monkeypatch.setattr(periodic, "_bounded", lambda *a: answers.append(original(*a)) or answers[-1])
    return answers


def test_long_remainder_cycles_bounded_and_exact(monkeypatch):
    """Traffic scaled by 25079/25088 (a sliver of the input kept on chip) on a compute-bound GEMM of
    2,000 units: the remainders come back only after thousands of superunits, which the remainder
    path cannot step within a budget of 4,000 folds (a sixth of the layer's); the folds rounded
    down and up give the same cycles, so the path finishes from them, with the one-piece counters.
    The same layer bound by 0.05 bytes a cycle, where every byte moves the cycles, is declined by
    the bounds, and its counters come from the whole run."""
    answers = _counting_bounded(monkeypatch)
    arch = small_arch(4, 4, "ws", True, 0, 3, 7, False, "16KiB", False, False)
    problem = GemmProblem(m=16000, n=16, k=12, repeats=1, ifmap_words=16000 * 12)
    mapping = Mapping(Dataflow.WS, LoopOrder.TCR, 8, (True, True, True))
    scale = TrafficScale(Fraction(25079, 25088), Fraction(1), Fraction(1))
    stats = _finishes_within(monkeypatch, 4000, problem, arch, mapping, scale)
    assert answers and answers[-1] is not None
    raw = _one_piece(problem, arch, mapping, ArrayRate())
    assert 0 < raw[codes.FOLD_STAT_IFMAP_DRAM_READS] - stats[codes.FOLD_STAT_IFMAP_DRAM_READS]  # the sliver kept
    slow = small_arch(4, 4, "ws", True, 0, 0.05, 7, False, "16KiB", False, False)
    layer_net = network_from_dict({"name": "n", "layers": [{"op": "gemm", "name": "g", "m": 16000, "n": 16, "k": 12}]})
    got = fold.run_problem(problem, layer_net.layers[0], slow, ArrayRate(), mapping, traffic=scale)
    assert answers[-1] is None
    assert np.array_equal(got, _one_piece(problem, slow, mapping, ArrayRate(), scale))


def test_bounded_on_seeded_gemms_exact():
    """Seeded GEMMs of many units with long remainder cycles (the last three of ``SCALES``): where
    the path takes them (a quarter at least: the bounds decline those bound by the DRAM), exact
    against the one-piece run."""
    rng = np.random.default_rng(23)
    taken = 0
    for _ in range(80):
        problem, arch, mapping = _seeded_long_gemm(rng, [0.5, 3, 64])
        taken += _exact_where_taken(problem, arch, mapping, SCALES[int(rng.integers(len(SCALES) - 3, len(SCALES)))])
    assert taken >= 20


def _folds_alone(problem, arch, mapping, scale, round_up: bool) -> np.ndarray:
    """The one-piece run with each fold's DRAM traffic scaled alone, rounded down or up (numpy on the
    lowering's tables, no running totals): what the kernel's bounds stand for."""
    schedule = mapped_schedule(problem, arch, mapping, rate=ArrayRate(), weight_bits=8, act_bits=8)
    words, nbytes = schedule.dram_words.copy(), schedule.dram_bytes.copy()
    for column, fraction in ((IFMAP, scale.ifmap), (FILTER, scale.filter), (OFMAP_WRITE, scale.output)):
        if fraction == 1:
            continue
        rows = final_output_folds(schedule, mapping) if column == OFMAP_WRITE else slice(None)
        for table in (words, nbytes):
            product = table[rows, column] * fraction.numerator
            table[rows, column] = -(-product // fraction.denominator) if round_up else product // fraction.denominator
    return fold.run_schedule(dataclasses.replace(schedule, dram_words=words, dram_bytes=nbytes), arch)


def test_both_bounds_in_one_call_equal_their_one_piece_runs():
    """Seeded GEMMs of many units, traffic scaled by fractions with remainders: the kernel's two runs
    in one call (folds scaled alone, rounded down and up, over one set of fold tables) give each the
    total cycles of its one-piece run, and the first run's counters are that run's (the totals'
    scaled sums aside, which :func:`periodic._bounded` replaces)."""
    rng = np.random.default_rng(29)
    taken = 0
    for _ in range(60):
        problem, arch, mapping = _seeded_long_gemm(rng, [0.5, 3, 64])
        scale = SCALES[int(rng.integers(5, len(SCALES)))]
        if scale.ifmap.denominator == scale.filter.denominator == scale.output.denominator == 1 or \
                _spread_filter(problem, arch, mapping):  # its parts bounded too (test_spread_filter_exact)
            continue
        fractions = lowering.traffic_fractions(scale)
        totals, finish = np.zeros((2, 2, 3, 2), dtype=np.int64), np.zeros(2, dtype=np.int64)
        plan = periodic._plan(problem, arch, mapping, ArrayRate(), 8, 8, scale.ifmap == 0, False, True)
        stats = None if plan is None else periodic._run(plan, fractions, totals, finish)
        if stats is None:
            continue
        assert plan.rounding == BOUNDS
        low = _folds_alone(problem, arch, mapping, scale, False)
        high = _folds_alone(problem, arch, mapping, scale, True)
        assert (finish[0], finish[1]) == (low[codes.FOLD_STAT_CYCLES], high[codes.FOLD_STAT_CYCLES])
        assert np.array_equal(stats, low)
        taken += 1
    assert taken >= 20
