"""kernels/schedule.py (through engine.lowering.schedule) against the numpy lowering of
tests/reference/schedule_ref.py: every field of the TileSchedule equal, on many shapes, mappings,
buffer sizes (tiles that fit, are re-fetched, spill partial sums) and MAC rates; and its
memory-plan scaling (engine.lowering.scaled_schedule) against the plain-Python running totals,
and its folds scaled alone, rounded down and up, against the same reference and as bounds of
the running totals' fold values; and a spread filter's bounded parts (the periodic path's) against
plain Python on the numpy lowering's folds."""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.engine.lowering import reduction_position, scaled_schedule, schedule, schedule_problem
from accelsim.kernels.schedule import (
    ensure_prefetch_words, ensure_whole_parts, fill_folds, lazy_prefetch_words, part_remainders, prefetch_words,
    raise_to_part_bounds, scale_dram_bounds, scale_dram_rows,
)
from accelsim.lower.gemm import ArrayRate, GemmProblem
from accelsim.lower.memory_plan import TrafficScale
from accelsim.lower.tiling import LoopOrder, Mapping
from accelsim.spec.arch import Dataflow
from accelsim.spec.load import arch_from_dict
from reference.schedule_ref import ref_scaled_tables, ref_schedule


@st.composite
def cases(draw, joint=None):
    """``(problem, arch, mapping, rate, weight bits, act bits, folds)``; ``joint``: a jointly allocated
    unified buffer (``None``: drawn too)."""
    m, n, k = draw(st.integers(1, 40)), draw(st.integers(1, 40)), draw(st.integers(1, 60))
    problem = GemmProblem(m=m, n=n, k=k, repeats=draw(st.integers(1, 3)),
                          ifmap_words=draw(st.integers(1, m * k)))
    sizes = {op: draw(st.sampled_from(["64B", "256B", "1KiB", "64KiB"])) for op in ("ifmap", "filter", "ofmap")}
    buffers = {op: {"size": size} for op, size in sizes.items()}
    # a unified buffer shared by every operand, allocated jointly
    joint = draw(st.booleans()) if joint is None else joint
    if joint:
        buffers = {"unified": {"size": draw(st.sampled_from(["64B", "256B", "1KiB", "4KiB"])),
                               "double_buffered": draw(st.booleans())}}
    arch = arch_from_dict({
        "name": "a", "array": {"rows": draw(st.integers(1, 9)), "cols": draw(st.integers(1, 9)),
                               "accumulators": draw(st.sampled_from(["0B", "64B", "4KiB"])),
                               "preload_overlap": draw(st.booleans())},
        "buffers": buffers,
    })
    p = draw(st.sampled_from([1, 2, 4]))
    nm = draw(st.sampled_from([None, (2, 4), (1, 4)]))
    rate = ArrayRate(p, draw(st.integers(1, 3)), nm)
    mapping = Mapping(draw(st.sampled_from(list(Dataflow))), draw(st.sampled_from(list(LoopOrder))),
                      draw(st.sampled_from([None, 1, 3, 8])), tuple(draw(st.booleans()) for _ in range(3)), joint)
    total = draw(st.integers(1, 40))  # an upper bound on the folds; the range is cut to the real count below
    first = draw(st.integers(0, total - 1))
    folds = draw(st.sampled_from([None, (first, total)]))
    return problem, arch, mapping, rate, draw(st.sampled_from([2, 4, 8])), draw(st.sampled_from([3, 8, 16])), folds


@settings(deadline=None, max_examples=300)
@given(cases())
def test_kernel_tables_equal_the_numpy_lowering(case):
    problem, arch, mapping, rate, weight_bits, act_bits, folds = case
    if folds is not None:  # a range within the mapping's folds
        count = ref_schedule(problem, arch, mapping, rate=rate, weight_bits=weight_bits, act_bits=act_bits).folds
        folds = (min(folds[0], count - 1), min(folds[1], count))
    got = schedule(problem, arch, mapping, rate=rate, weight_bits=weight_bits, act_bits=act_bits, folds=folds)
    want = ref_schedule(problem, arch, mapping, rate=rate, weight_bits=weight_bits, act_bits=act_bits, folds=folds)
    for field in dataclasses.fields(want):
        a, b = getattr(got, field.name), getattr(want, field.name)
        if isinstance(b, np.ndarray):
            assert a.dtype == b.dtype and a.shape == b.shape and (a == b).all(), field.name
        else:
            assert a == b and type(a) is type(b), field.name


FRACTIONS = st.one_of(st.sampled_from([Fraction(0), Fraction(1), Fraction(1, 2), Fraction(999, 1000)]),
                      st.builds(lambda den, num: Fraction(num % (den + 1), den), st.integers(1, 50),
                                st.integers(0, 50)),
                      st.sampled_from([Fraction(2**62 - 1, 2**62), Fraction(2**64 - 1, 2**64)]))  # int64 would overflow


@settings(deadline=None, max_examples=300)
@given(cases(), st.tuples(FRACTIONS, FRACTIONS, FRACTIONS))
def test_scaled_tables_equal_the_plain_python_reference(case, fractions):
    """engine.lowering.scaled_schedule (the kernel, or numpy where a running total times its
    numerator passes int64) against running totals scaled in Python integers."""
    problem, arch, mapping, rate, weight_bits, act_bits, folds = case
    if folds is not None:
        count = ref_schedule(problem, arch, mapping, rate=rate, weight_bits=weight_bits, act_bits=act_bits).folds
        folds = (min(folds[0], count - 1), min(folds[1], count))
    built = schedule(problem, arch, mapping, rate=rate, weight_bits=weight_bits, act_bits=act_bits, folds=folds)
    first_fold = 0 if folds is None else folds[0]
    got = scaled_schedule(built, TrafficScale(*fractions), mapping, first_fold)
    want = ref_scaled_tables(built, fractions, mapping.order.value, mapping.dataflow.value, first_fold)
    assert got.dram_words.dtype == got.dram_bytes.dtype == np.int64
    assert [got.dram_words.tolist(), got.dram_bytes.tolist()] == want
    assert (got.sram_words == built.sram_words).all() and got.folds == built.folds


SMALL_FRACTIONS = st.builds(lambda den, num: Fraction(num % (den + 1), den), st.integers(1, 50), st.integers(0, 50))


@settings(deadline=None, max_examples=200)
@given(cases(), st.tuples(SMALL_FRACTIONS, SMALL_FRACTIONS, SMALL_FRACTIONS))
def test_folds_scaled_alone_bound_the_running_totals(case, fractions):
    """``scale_dram_rows`` with rounding -1 and 1 (each fold alone, rounded down and up) against
    the plain-Python reference (tables and the sums it keeps), and fold by fold below and above
    the running totals' values; ``scale_dram_bounds`` (both at once) against the same."""
    problem, arch, mapping, rate, weight_bits, act_bits, _ = case
    built = schedule(problem, arch, mapping, rate=rate, weight_bits=weight_bits, act_bits=act_bits)
    count = {"r": built.row_folds, "c": built.col_folds, "t": built.t_tiles}
    numerator = np.array([f.numerator for f in fractions], dtype=np.int64)
    denominator = np.array([f.denominator for f in fractions], dtype=np.int64)
    running = ref_scaled_tables(built, fractions, mapping.order.value, mapping.dataflow.value)
    bounds = []
    for rounding in (-1, 1):
        words, nbytes = built.dram_words.copy(), built.dram_bytes.copy()
        totals = np.zeros((2, 3, 2), dtype=np.int64)
        assert scale_dram_rows(words, nbytes, numerator, denominator, rounding,
                               np.array([count[loop] for loop in mapping.order.value], dtype=np.int64),
                               reduction_position(mapping), 0, built.spread_drain, built.folds, built.folds, totals)
        sums = []
        want = ref_scaled_tables(built, fractions, mapping.order.value, mapping.dataflow.value, rounding=rounding,
                                 sums=sums)
        assert [words.tolist(), nbytes.tolist()] == want
        assert totals.tolist() == sums  # the folds' values and their scaled values, summed over the folds scaled
        bounds.append(np.array(want))
    assert (bounds[0] <= np.array(running)).all() and (np.array(running) <= bounds[1]).all()
    # both at once: rounded down in place, up into a copy, the same tables and sums
    words, nbytes = built.dram_words.copy(), built.dram_bytes.copy()
    up_words, up_nbytes = words.copy(), nbytes.copy()
    totals, up_totals = np.zeros((2, 3, 2), dtype=np.int64), np.zeros((2, 3, 2), dtype=np.int64)
    assert scale_dram_bounds(words, nbytes, up_words, up_nbytes, numerator, denominator,
                             np.array([count[loop] for loop in mapping.order.value], dtype=np.int64),
                             reduction_position(mapping), 0, built.spread_drain, built.folds, built.folds, totals,
                             up_totals)
    assert np.array_equal([words, nbytes], bounds[0]) and np.array_equal([up_words, up_nbytes], bounds[1])
    for got, rounding in ((totals, -1), (up_totals, 1)):
        sums = []
        ref_scaled_tables(built, fractions, mapping.order.value, mapping.dataflow.value, rounding=rounding, sums=sums)
        assert got.tolist() == sums


@settings(deadline=None, max_examples=200)
@given(cases(), st.integers(0, 10**6), st.integers(1, 40))
def test_prefetch_words_filled_on_demand(case, start, length):
    """The prefetch tables filled on demand for a range of folds (what the periodic path steps)
    hold the whole tables' entries for the periods those folds read, and nothing else; the
    whole tables are checked against the numpy lowering above (``test_kernel_tables_equal_the_numpy_lowering``)."""
    problem, arch, mapping, rate, weight_bits, act_bits, _ = case
    built = schedule_problem(problem, arch, mapping, rate=rate, weight_bits=weight_bits, act_bits=act_bits)
    if built is None:
        return
    p = built[0]
    total = math.prod(p.count)
    first = start % total
    stop = min(total, first + length)
    for tensor_filter in (False, True):
        whole, lazy = prefetch_words(p, tensor_filter), lazy_prefetch_words(p, tensor_filter)
        assert lazy.shape == whole.shape
        if len(whole) == 1:
            assert lazy.tolist() == [0]
            continue
        ensure_prefetch_words(p, lazy, tensor_filter, first, stop)
        per = total // (len(whole) - 1)  # folds per period: the tables hold one entry per period, and one more
        needed = set(range(first // per, stop // per + 1))
        for q, value in enumerate(lazy.tolist()):
            assert value == (whole[q] if q in needed else -1), (q, first, stop, per)


@settings(deadline=None, max_examples=300)
@given(cases(joint=True), st.integers(0, 10**6), st.integers(1, 40), SMALL_FRACTIONS)
def test_spread_filter_bounds_equal_the_plain_python_reference(case, start, length, fraction):
    """Where the filter loads a period ahead with ``m``'s loop inside another (each period's words
    spread over the folds of the one before), the bounds the periodic path runs, against plain
    Python on the numpy lowering's folds: ``fill_folds`` given ``ensure_whole_parts``'s table puts
    each fold's part at the period's whole quotient, ``raise_to_part_bounds`` one word more where the
    period's words leave a remainder (bytes of each fold's words), ``part_remainders`` the words left
    out; ``scale_dram_bounds`` then scales the filter's lower and upper rows by ``fraction`` each from
    its own value (down and up)."""
    problem, arch, mapping, rate, weight_bits, act_bits, _ = case
    db_ifmap, _, db_ofmap = mapping.double_buffered
    mapping = dataclasses.replace(mapping, double_buffered=(db_ifmap, True, db_ofmap))  # the filter's kept footprint
    built = schedule_problem(problem, arch, mapping, rate=rate, weight_bits=weight_bits, act_bits=act_bits)
    if built is None:
        return
    p = built[0]
    order, loop_m = [int(x) for x in p.order], int(p.loop_of[0])
    if not (p.filter_prefetch and order.index(loop_m) > 0):
        return
    exact = schedule(problem, arch, mapping, rate=rate, weight_bits=weight_bits, act_bits=act_bits)
    total = math.prod(p.count)
    first = start % total
    stop = min(total, first + length)
    period_words = prefetch_words(p, True).tolist()  # checked against the numpy lowering above
    per = total // (len(period_words) - 1)
    words, whole = lazy_prefetch_words(p, True), lazy_prefetch_words(p, True)
    ensure_whole_parts(p, words, whole, first, stop)
    rows = stop - first
    tables = [np.empty(rows, np.int64) for _ in range(3)] + [np.empty((rows, 4), np.int64) for _ in range(3)]
    fill_folds(p, first, stop, prefetch_words(p, False), whole, *tables)
    dram, nbytes = tables[4], tables[5]
    lower, upper = [], []
    for f in range(first, stop):
        q, j = divmod(f, per)
        part = period_words[q] * (j + 1) // per - period_words[q] * j // per
        low = int(exact.dram_words[f, 1]) - part + period_words[q] // per
        lower.append(low)
        upper.append(low + (1 if period_words[q] % per else 0))
    assert dram[:, 1].tolist() == lower
    assert nbytes[:, 1].tolist() == [-(-w * weight_bits // 8) for w in lower]
    up_dram, up_bytes = dram.copy(), nbytes.copy()
    raise_to_part_bounds(p, words, first, rows, up_dram, up_bytes)
    assert up_dram[:, 1].tolist() == upper and up_bytes[:, 1].tolist() == [-(-w * weight_bits // 8) for w in upper]
    assert part_remainders(p, words) == sum(w % per for w in period_words)
    # the bounds scaled, each from its own unscaled value
    numerator = np.array([1, fraction.numerator, 1], dtype=np.int64)
    denominator = np.array([1, fraction.denominator, 1], dtype=np.int64)
    totals, up_totals = np.zeros((2, 3, 2), dtype=np.int64), np.zeros((2, 3, 2), dtype=np.int64)
    scaled = [table.copy() for table in (dram, nbytes, up_dram, up_bytes)]
    assert scale_dram_bounds(*scaled, numerator, denominator, np.array([p.count[loop] for loop in order]),
                             order.index(int(p.loop_of[1])), first, bool(p.drain), rows, rows, totals, up_totals)
    for got, unscaled, sums, rounded in ((scaled[0], dram, totals[0], -1), (scaled[1], nbytes, totals[1], -1),
                                         (scaled[2], up_dram, up_totals[0], 1), (scaled[3], up_bytes, up_totals[1], 1)):
        values = unscaled[:, 1].tolist()
        want = [v * fraction.numerator // fraction.denominator if rounded < 0
                else -(-v * fraction.numerator // fraction.denominator) for v in values]
        if fraction == 1:
            want, sums = values, [sum(values), sum(values)]  # left as it is: no totals kept
            assert got[:, 1].tolist() == want
            continue
        assert got[:, 1].tolist() == want
        assert sums[1].tolist() == [sum(values), sum(want)]
