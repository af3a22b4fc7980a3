"""The native ``fold`` timeline of a GEMM whose folds repeat along one loop, added up exactly.

The folds are those of :func:`accelsim.kernels.schedule.fill_folds` in execution order; the
loop at position ``loop_position`` of the order (the one along the GEMM's ``m``, which grows
with the batch) splits them into ``outer`` passes of ``units`` *units*, a unit being one
iteration of that loop (the ``inner`` folds of the loops inside it). The caller guarantees that
the units ``1 .. units - 2`` of a pass repeat with period ``period``: unit ``i`` holds the same
folds as unit ``i + period`` (:mod:`accelsim.engine.periodic` says why). A *superunit* is
``period`` consecutive units from unit 1 on; it is *generic* when its units and the first fold
after it (which its last fold looks ahead to) lie in that range.

Units are stepped one at a time with :func:`accelsim.kernels.memory.resume_native_timeline`
(the recurrences of ``systolic.run_fold_native``, fold by fold). Where the memory plan's remainders
make superunits of many periods (below), a repeating unit takes its fold tables from those the unit a
period before it filled (:func:`_step_cached`): a pass fills them once per residue of the period.
When a generic superunit leaves the timeline in the same state relative to its start as it found
it (times at or before the start count as equal: nothing later reads them), every later generic
superunit of the pass repeats that step, so they are added at once: times move by the step, sums
by its sums. The state a superunit found is the one the unit, superunit or pass before it left, recorded from
unit 0 on (the first superunit starts where unit 0 ends), so a timeline that has settled after
unit 0 is added up after one superunit. The units after the last whole superunit that is added
up, up to the end of the repeating range (fewer than a superunit), are not stepped either: the
state that many units into the superunit that repeated, kept as it was stepped, moved on by the
superunits added, is theirs. The counters are those of one ``run_fold_native`` call over the
whole schedule (``tests/properties/test_fold_periodic.py``).

Inside a unit, when the unit loop is the outermost and the middle loop runs along ``n``, the
unit's passes over the innermost loop repeat the same way and are added up alike
(:func:`_step_passes`): a large layer's unit of thousands of folds costs a few passes. When the
loops outside the unit loop are one along ``n`` and loops of a single iteration (the middle loop
inside an outermost along ``n``; the innermost inside ``n``'s and a whole stream tile, as os's fixed
mapping), the outer passes ``1 .. outer - 2`` hold the same folds (an ``n`` tile of the same size,
neither the first nor the last ``n`` index: a fold reads its ``n`` index only through these) and
are added up the same way, each stepped pass being itself added up by units. So are outer passes
along k where every k tile holds the same shares of the weights and of the input (the weights a
whole multiple of k, the input of ``m x k``, or none of it reaching the DRAM): a fold reads its k
index only through these and whether it is the first or the last (partial sums read, final outputs).

When the innermost loop runs along k, the folds ``1 .. count - 2`` of each of its passes repeat
with the period of :func:`_reduction_period` (a fold reads its k index only through exact shares
and spread parts that come back after it; a filter loaded a period ahead is bounded, as for units)
and are added up alike in runs of whole periods (:func:`_step_reduction`), inside whatever steps
the pass: a unit, or a pass along n of one. So a layer of a single unit along m is stepped in a few
passes of a few runs each.

The DRAM traffic may be scaled by a memory plan (``scale_num / scale_den`` per traffic class,
:func:`.schedule.scale_dram_rows`): running totals times a fraction, rounded down, carry a
remainder from fold to fold, part of the state compared. A whole fraction (0 or 1) carries none,
nor does each fold scaled alone (rounding -1 or 1: the bounds ``accelsim.engine.periodic``
runs, both in one call: two timelines over one set of fold tables, each with its own scaled
traffic, stepped and added up together); otherwise a superunit is ``period`` units times the cycle
after which every remainder comes back (:func:`_remainder_cycle`, from the first superunit's
totals), and the passes along ``n`` and ``k`` are stepped, not added up.

A filter loaded a period ahead with the unit loop inside another (``fill_folds``'s
``prefetch_filter``: each pass of the loops outside the unit loop spreads the next pass's words over
its folds, shares that do not repeat from unit to unit) is taken with both bounds only: every fold's
part is the period's whole quotient in the first run and one word more in the second
(:func:`.schedule.ensure_whole_parts`, :func:`.schedule.raise_to_part_bounds`), constant over a pass
as a unit's folds need; the words the first run leaves out are added to its unscaled totals at the
end (:func:`.schedule.part_remainders`), from which the caller takes the exact counts.
"""

import numpy as np

from accelsim.kernels._jit import kernel, leaf
from accelsim.kernels.codes import FOLD_STAT_COUNT, TRAFFIC_FILTER
from accelsim.kernels.memory import (
    RESUME_COMPUTE, RESUME_DFINISH, RESUME_DPREV, RESUME_DSTART, RESUME_FINISH, RESUME_FREE, RESUME_PREV_DRAINED,
    RESUME_START, RESUME_STATE_SIZE, fill_transfer, resume_native_timeline,
)
from accelsim.kernels.schedule import (
    BOUNDS, DIM_K, DIM_M, DIM_N, ScheduleProblem, ensure_prefetch_words, ensure_whole_parts, fill_folds,
    lazy_prefetch_words, part_remainders, raise_to_part_bounds, scale_dram_bounds, scale_dram_rows, spreads_filter,
)
from accelsim.kernels.systolic import add_fold_sums, loop_counts, set_timeline_stats

_RELATIVE_SIZE = 14


@kernel(inline="always")
def _copy(source, target, count):
    """Copy the first ``count`` elements of the C-ordered array ``source`` into ``target``, one by one
    (a slice assignment may allocate a temporary, which a :func:`~accelsim.kernels._jit.leaf` cannot)."""
    to, of = target.reshape(-1), source.reshape(-1)
    for i in range(count):
        to[i] = of[i]


@kernel(inline="always")
def _add_scaled(target, now, before, times):
    """``target += times * (now - before)``, element by element (no temporary array)."""
    to, a, b = target.reshape(-1), now.reshape(-1), before.reshape(-1)
    for i in range(to.shape[0]):
        to[i] += times * (a[i] - b[i])


@kernel
def _relative(state, scaling, out):
    """Each run's timeline in ``state`` (one row a run) as later folds see it, and the remainders the
    memory plan's scaling carries (``running x numerator - scaled x denominator`` per table and
    traffic class, 0 for a whole fraction and for folds scaled alone), into ``out`` (int64[14] a run)."""
    scale_num, scale_den, rounding, _, _, totals, _ = scaling
    for r in range(state.shape[0]):
        o, start = _RELATIVE_SIZE * r, state[r, RESUME_START]
        out[o] = max(0, state[r, RESUME_PREV_DRAINED] - start)
        out[o + 1] = max(0, state[r, RESUME_FINISH] - start)
        for x in range(4):
            out[o + 2 + x] = max(0, state[r, RESUME_FREE + x] - start)
        out[o + 6] = state[r, RESUME_DPREV] - state[r, RESUME_DSTART]
        out[o + 7] = max(0, state[r, RESUME_DFINISH] - state[r, RESUME_DSTART])
        for t in range(2):
            for x in range(3):
                out[o + 8 + 3 * t + x] = 0 if rounding != 0 else \
                    totals[r, t, x, 0] * scale_num[x] - totals[r, t, x, 1] * scale_den[x]


@kernel
def _advance(state, before, times):
    """Move each run's timeline in ``state`` on by ``times`` repeats of the step from ``before`` to
    it: each timeline by its start's step (a time at or before the start, which nothing reads, moves
    with it too)."""
    for r in range(state.shape[0]):
        step, dram_step, compute_step = _steps(state[r], before[r])
        _shift(state[r], times * step, times * dram_step, times * compute_step)


@kernel
def _move_to(state, before, snapshot):
    """Set ``state`` to ``snapshot`` moved on by the step from ``before`` to ``state`` (as :func:`_advance`)."""
    for r in range(state.shape[0]):
        step, dram_step, compute_step = _steps(state[r], before[r])
        _copy(snapshot[r], state[r], state.shape[1])
        _shift(state[r], step, dram_step, compute_step)


@kernel(inline="always")
def _steps(state, before):
    """``(step, dram_step, compute_step)`` of one run's timeline from ``before`` to ``state``: its
    start's, the DRAM timeline's start's and its compute cycles'."""
    return (state[RESUME_START] - before[RESUME_START], state[RESUME_DSTART] - before[RESUME_DSTART],
            state[RESUME_COMPUTE] - before[RESUME_COMPUTE])


@kernel(inline="always")
def _shift(state, step, dram_step, compute_step):
    """Move the array's timeline in ``state`` by ``step`` cycles, the DRAM's by ``dram_step``, and its
    compute cycles by ``compute_step``."""
    state[RESUME_START] += step
    state[RESUME_PREV_DRAINED] += step
    state[RESUME_FINISH] += step
    for x in range(4):
        state[RESUME_FREE + x] += step
    state[RESUME_DSTART] += dram_step
    state[RESUME_DPREV] += dram_step
    state[RESUME_DFINISH] += dram_step
    state[RESUME_COMPUTE] += compute_step


MIN_PASSES = 5
"""Passes of a unit along n worth looking for a repetition in (two generic passes and the ends)."""


@kernel
def _new_memory(runs):
    """What :func:`_repeats` keeps between superunits or passes (of ``runs`` runs of the timeline):
    the relative timelines after the last one and the one before, the state, sums and scaling totals
    after the last one, and whether they are recorded."""
    return (np.zeros(_RELATIVE_SIZE * runs, np.int64), np.zeros(_RELATIVE_SIZE * runs, np.int64),
            np.zeros((runs, RESUME_STATE_SIZE), np.int64), np.zeros(FOLD_STAT_COUNT, np.int64), np.zeros(1, np.int64),
            np.zeros((runs, 2, 3, 2), np.int64))


@kernel(inline="always")
def _equal(a, b):
    """Whether the int64 arrays ``a`` and ``b`` (of one length) hold the same values (no temporary array)."""
    for i in range(a.shape[0]):
        if a[i] != b[i]:
            return False
    return True


@kernel
def _repeats(state, sums, scaling, run, last_run, memory):
    """After run ``run`` (a superunit or a pass; the generic ones go from ``run + 1`` of the first call
    up to ``last_run``, a first call after the run before the first generic one recording the state
    that one starts from): if it left the timeline and the scaling's remainders in the same relative
    state as the run before, the runs up to ``last_run`` repeat its step and are added to ``state``,
    ``sums`` and the scaling's running totals at once; returns how many (0: not repeated yet, and
    this run is recorded for the next one)."""
    relative, previous, before, sums_before, recorded, totals_before = memory
    totals = scaling[5]
    _relative(state, scaling, relative)
    if recorded[0] == 1 and last_run > run and _equal(relative, previous):
        times = last_run - run
        _advance(state, before, times)
        _add_scaled(sums, sums, sums_before, times)
        _add_scaled(totals, totals, totals_before, times)
        recorded[0] = 0
        return times
    _copy(relative, previous, relative.shape[0])
    _copy(state, before, state.size)
    _copy(sums, sums_before, sums.shape[0])
    _copy(totals, totals_before, totals.size)
    recorded[0] = 1
    return 0


@kernel
def _from_snapshot(state, sums, totals, memory, snapshot):
    """After :func:`_repeats` added up runs (``memory``: its record of the run that repeated): move
    ``state``, ``sums`` and the scaling's ``totals`` to where they stand the same number of units
    past the added runs as ``snapshot`` (state, sums, totals) stands past that run's start."""
    _, _, before, sums_before, _, totals_before = memory
    _move_to(state, before, snapshot[0])
    _add_scaled(sums, snapshot[1], sums_before, 1)
    _add_scaled(totals, snapshot[2], totals_before, 1)


@kernel(inline="always")
def _filter_tables(next_filter):
    """``(whole parts, words)``: the two halves of a spread filter's prefetch table (views), the one
    ``fill_folds`` reads first (and only: its entries past a period's are not read)."""
    half = next_filter.shape[0] // 2
    return next_filter[:half], next_filter[half:]


@leaf
def _step(p, first, folds, total, timing, tables, scaling, state, sums):
    """Step each run's timeline in ``state`` over the ``folds`` folds from ``first`` (of ``total``)
    and add the first run's sums; ``timing``: the array's and the DRAM's parameters, ``tables``: the
    fold tables to fill, the prefetched words and the second run's DRAM tables, ``scaling``: the
    memory plan's fractions, the rounding (``BOUNDS``: both bounds, a run each), the loop counts, each run's
    running totals (:func:`.schedule.scale_dram_rows`) and whether any fraction is not 1. The runs
    share the fold tables and differ in their scaled DRAM traffic only. Returns False where a scaled
    running total would pass int64."""
    rows_used, cols_used, stream_cycles, sram, dram, dram_bytes, _, next_in, next_filter, _, _ = tables
    last = first + folds == total
    stop = first + folds + (0 if last else 1)  # and the next fold, which the last one looks ahead to
    _fill(p, first, stop, next_in, next_filter, rows_used, cols_used, stream_cycles, sram, dram, dram_bytes)
    return _run_filled(p, first, folds, last, timing, tables, scaling, state, sums)


@kernel(inline="always")
def _fill(p, first, stop, next_in, next_filter, rows_used, cols_used, stream_cycles, sram, dram, dram_bytes):
    """:func:`.schedule.fill_folds` of the folds ``[first, stop)``, the prefetched words they read filled
    first (a filter's spread parts bounded: its whole parts, :func:`_filter_tables`)."""
    ensure_prefetch_words(p, next_in, False, first, stop)
    if spreads_filter(p):
        whole, words = _filter_tables(next_filter)
        ensure_whole_parts(p, words, whole, first, stop)
    else:
        ensure_prefetch_words(p, next_filter, True, first, stop)
    fill_folds(p, first, stop, next_in, next_filter, rows_used, cols_used, stream_cycles, sram, dram, dram_bytes)


@leaf
def _step_cached(p, first, folds, timing, tables, cache, slot, tag, scaling, state, sums):
    """:func:`_step` over one unit of ``folds`` folds from ``first`` that is not the layer's last, its
    fold tables (and the next fold's) those of ``cache`` slot ``slot``, filled first unless the slot
    holds ``tag``'s: a unit of a pass holds the same folds as the unit a period before it (module
    docstring), so a pass fills a slot per residue of its period once, however many units of the
    remainders' cycle it steps. The DRAM rows, scaled in place, are copied out."""
    rows_used, cols_used, stream_cycles, sram, dram, dram_bytes, held = cache
    _, _, _, _, work_dram, work_bytes, xfer, next_in, next_filter, run_dram, run_bytes = tables
    rows = folds + 1
    if held[slot] != tag:
        _fill(p, first, first + rows, next_in, next_filter, rows_used[slot], cols_used[slot], stream_cycles[slot],
              sram[slot], dram[slot], dram_bytes[slot])
        held[slot] = tag
    _copy(dram[slot], work_dram, rows * work_dram.shape[1])
    _copy(dram_bytes[slot], work_bytes, rows * work_bytes.shape[1])
    filled = (rows_used[slot], cols_used[slot], stream_cycles[slot], sram[slot], work_dram, work_bytes, xfer, next_in,
              next_filter, run_dram, run_bytes)
    return _run_filled(p, first, folds, False, timing, filled, scaling, state, sums)


@kernel(inline="always")  # as one with _step: a call per step would pass its tuples
def _run_filled(p, first, folds, last, timing, tables, scaling, state, sums):
    """:func:`_step` with the fold tables filled (and the next fold's, unless ``last``: the layer's
    last fold among them): the DRAM traffic scaled, the transfers, the timelines and the sums."""
    dataflow, array_rows, overlap, broadcast, prefetch_overlap, drain_overlap, rate_num, rate_den, channel, \
        latency = timing
    rows_used, cols_used, stream_cycles, sram, dram, dram_bytes, xfer, _, next_filter, run_dram, run_bytes = tables
    scale_num, scale_den, rounding, count, reduce_position, totals, scaled = scaling
    rows = folds + (0 if last else 1)
    if rounding == BOUNDS:  # rounded down in place, up in the second run's tables
        _copy(dram, run_dram, rows * dram.shape[1])
        _copy(dram_bytes, run_bytes, rows * dram_bytes.shape[1])
        if spreads_filter(p):  # the filter's spread parts at their upper bounds
            raise_to_part_bounds(p, _filter_tables(next_filter)[1], first, rows, run_dram, run_bytes)
        if scaled and not scale_dram_bounds(dram, dram_bytes, run_dram, run_bytes, scale_num, scale_den, count,
                                            reduce_position, first, p.drain, rows, folds, totals[0], totals[1]):
            return False
        fill_transfer(run_bytes, rate_num, rate_den, rows, xfer)
        resume_native_timeline(dataflow, array_rows, overlap, broadcast, rows_used, cols_used, stream_cycles, xfer,
                               channel, latency, prefetch_overlap, drain_overlap, folds, last, state[1])
    elif scaled and not scale_dram_rows(dram, dram_bytes, scale_num, scale_den, rounding, count, reduce_position, first,
                                        p.drain, rows, folds, totals[0]):
        return False
    fill_transfer(dram_bytes, rate_num, rate_den, rows, xfer)
    resume_native_timeline(dataflow, array_rows, overlap, broadcast, rows_used, cols_used, stream_cycles, xfer,
                           channel, latency, prefetch_overlap, drain_overlap, folds, last, state[0])
    add_fold_sums(rows_used, cols_used, stream_cycles, sram, dram, dram_bytes, folds, sums)
    return True


@kernel(inline="always")
def _cycle(parts, share):
    """Steps ``j`` after which ``share x j mod parts`` comes back: ``parts / gcd(parts, share mod parts)``."""
    a, b = parts, share % parts
    while b:
        a, b = b, a % b
    return parts // a


@kernel(inline="always")
def _lcm(a, b):
    """Least common multiple of two positive ints."""
    x, y = a, b
    while y:
        x, y = y, x % y
    return a // x * b


@leaf
def _reduction_period(p, first, next_in):
    """Folds after which the innermost pass along k that starts at fold ``first`` repeats (its folds
    ``1 .. count - 2``, :func:`_step_reduction`): a fold there reads its k index ``j`` only through
    shares ``floor(x (j + 1) s / k) - floor(x j s / k)`` (``s`` the k step), which come back after
    ``k / gcd(k, x s mod k)`` folds, of the m tile's ifmap words and the stored weights, and through
    spread parts ``part_of(x, j, parts)``, back after ``parts / gcd(parts, x mod parts)``, of the
    previous output tile drained over the pass and of the next period's ifmap loaded a period ahead
    (:func:`.schedule.fill_folds`); their least common multiple."""
    order, count, step, extent = p.order, p.count, p.step, p.extent
    lm, lk, ln = p.loop_of[DIM_M], p.loop_of[DIM_K], p.loop_of[DIM_N]
    shape1, shape2 = count[order[1]], count[order[2]]
    outer, middle = first // (shape1 * shape2), (first // shape2) % shape1
    i_m = outer if order[0] == lm else middle
    m_lo = i_m * step[lm]
    m_hi = min(m_lo + step[lm], extent[lm])
    m, k, s = p.dim_extent[DIM_M], p.dim_extent[DIM_K], step[lk]
    rows_words = p.ifmap_words * m_hi // m - p.ifmap_words * m_lo // m
    period = _lcm(_cycle(k, rows_words * s % k), _cycle(k, p.k_weights * s % k))
    tile = outer * shape1 + middle
    if p.drain and tile > 0:  # the previous output tile's words, spread over this pass
        i0, i1 = (tile - 1) // shape1, (tile - 1) % shape1
        size0 = min(step[order[0]], extent[order[0]] - i0 * step[order[0]])
        size1 = min(step[order[1]], extent[order[1]] - i1 * step[order[1]])
        period = _lcm(period, _cycle(shape2, size0 * size1))
    if p.ifmap_prefetch and order[1] == ln:  # the next period's ifmap, spread over this one (n's passes)
        ensure_prefetch_words(p, next_in, False, first, first + 1)
        period = _lcm(period, _cycle(shape1 * shape2, next_in[first // (shape1 * shape2)]))
    return period


CACHE_ROWS = 2**16
"""Fold-table rows :func:`_step_cached` keeps (a period's units and the fold after each; 120 bytes a row):
beyond them the units' tables are filled each time they are stepped."""
RUN_FOLDS = 8
"""Folds a stepped run of a pass along k holds at least (whole periods): a step costs ~10 folds' worth
more than its folds (``accelsim.engine.periodic.STEP_FOLDS``), so runs of a fold or two would cost
more than they save."""
MIN_RUNS = 6
"""Generic runs a pass along k needs for its repetition to be looked for: adding up costs 3 steps
(the first fold with the first run, the run that repeats, the rest: at most a run and two folds),
~30 folds' worth and 3 runs, stepping the pass whole 1 step, so it pays from ``3 x run + 22``
folds, ~6 runs of 8 folds."""
MIN_REDUCTION_FOLDS = MIN_RUNS * RUN_FOLDS + 3
"""Folds a pass along k needs for :func:`_step_reduction` (the shortest with :data:`MIN_RUNS` generic runs)."""
MAX_RUNS = 6
"""Runs stepped before a pass along k whose timeline has not repeated is stepped to its end at once."""


@leaf
def _step_reduction(p, first, folds, total, timing, tables, scaling, state, sums, memory):
    """:func:`_step` over one innermost pass along k of ``folds`` folds from fold ``first``: its folds
    ``1 .. folds - 2`` repeat with :func:`_reduction_period` (the caller's scaling whole), so runs
    of whole periods (at least :data:`RUN_FOLDS` folds) from fold 1 on are stepped until two leave
    the timeline alike and the rest of the generic ones (the next run's first fold generic too) are
    added up (:func:`_repeats`, ``memory`` from :func:`_new_memory`); the rest of the pass (past the
    generic runs, or past :data:`MAX_RUNS` runs that did not repeat) is stepped at once. A pass with
    fewer than :data:`MIN_RUNS` generic runs is stepped whole. Returns the folds stepped, -1 where a
    scaled running total would pass int64."""
    period = _reduction_period(p, first, tables[7])
    run = period * -(-RUN_FOLDS // period)
    last_generic = (folds - 3) // run - 1
    j = 0  # the next fold of the pass to step
    stepped = 0
    if last_generic >= MIN_RUNS - 1:
        memory[4][0] = 0
        r = 0
        while r <= last_generic and r < MAX_RUNS:
            end = 1 + (r + 1) * run  # run r's end (the first step also holds fold 0)
            if not _step(p, first + j, end - j, total, timing, tables, scaling, state, sums):
                return -1
            stepped += end - j
            times = _repeats(state, sums, scaling, r, last_generic, memory)
            j = end + run * times
            r += times + 1
    if not _step(p, first + j, folds - j, total, timing, tables, scaling, state, sums):
        return -1
    return stepped + folds - j


@leaf
def _step_inner(p, first, folds, total, timing, tables, scaling, state, sums, by_reduction, memory):
    """:func:`_step` over the ``folds`` folds from ``first`` (whole innermost passes), each pass by
    :func:`_step_reduction` when ``by_reduction`` (with ``memory``); returns the folds stepped, -1
    where a scaled running total would pass int64."""
    if not by_reduction:
        return folds if _step(p, first, folds, total, timing, tables, scaling, state, sums) else -1
    pass_folds = p.count[p.order[2]]
    stepped = 0
    for start in range(first, first + folds, pass_folds):
        done = _step_reduction(p, start, pass_folds, total, timing, tables, scaling, state, sums, memory)
        if done < 0:
            return -1
        stepped += done
    return stepped


@leaf
def _step_passes(p, first, passes, pass_folds, total, timing, tables, scaling, state, sums, by_reduction, memory,
                 run_memory):
    """:func:`_step_inner` over one unit of ``passes`` passes of ``pass_folds`` folds along n, from fold
    ``first``: passes ``1 .. passes - 2`` hold the same folds (an n tile of the same size, no first
    or last n index, the drained tile before them of the same size), so the generic ones (the next
    pass's first fold in that range too) are added up once they repeat (:func:`_repeats`, ``memory``;
    ``run_memory`` for :func:`_step_inner`). Returns the folds stepped, -1 where a scaled running total
    would pass int64."""
    memory[4][0] = 0
    last_generic = passes - 3
    stepped = 0
    b = 0
    while b < passes:
        done = _step_inner(p, first + b * pass_folds, pass_folds, total, timing, tables, scaling, state, sums,
                           by_reduction, run_memory)
        if done < 0:
            return -1
        stepped += done
        if b <= last_generic:  # pass 0 recorded: the state pass 1, the first generic one, starts from
            b += _repeats(state, sums, scaling, b, last_generic, memory)
        else:
            memory[4][0] = 0
        b += 1
    return stepped


@kernel(inline="always")
def _passes_along(order, count, outer, loop_position, loop):
    """Whether the ``outer`` passes outside the unit loop (at ``loop_position``) are ``loop``'s: it runs
    outside the unit loop and every other loop there has one iteration."""
    return outer == count[loop] and (order[0] == loop or order[1] == loop and loop_position == 2)


@kernel
def _remainder_cycle(scale_num, scale_den, before, after, limit):
    """Superunits after which every remainder of the memory plan's scaling is back where it was, when
    one superunit moves the running totals from ``before`` to ``after``: per table and class with a
    fraction ``a / d``, ``d / gcd(d, step x a mod d)``; their least common multiple, or ``limit + 1``
    past ``limit``."""
    cycle = np.int64(1)
    for t in range(2):
        for x in range(3):
            den = scale_den[x]
            if den == 1:
                continue
            a, b = den, (after[t, x, 0] - before[t, x, 0]) * scale_num[x] % den
            while b:
                a, b = b, a % b
            need = den // a
            a, b = cycle, need
            while b:
                a, b = b, a % b
            cycle = cycle // a * need
            if cycle > limit:
                return limit + 1
    return cycle


@kernel
def run_native_periodic(problem, dataflow, array_rows, array_cols, overlap, broadcast, prefetch_overlap, drain_overlap,
                        scale_num, scale_den, rounding, rate_num, rate_den, channel, latency, loop_position, period,
                        generic_end, budget, stats, totals, finish):
    """``run_fold_native``'s counters of the folds of :class:`~accelsim.kernels.schedule.ScheduleProblem`
    ``problem`` (its fields as a plain tuple), the DRAM traffic scaled by the memory plan's
    ``scale_num / scale_den`` (:func:`.schedule.scale_dram_rows`: running totals, or with ``rounding``
    -1 or 1 each fold alone rounded down or up, which carries no remainder; ``BOUNDS``: both, in two runs
    over one set of fold tables, :func:`.schedule.scale_dram_bounds`; the only rounding taken where a
    filter loads a period ahead, its spread parts bounded too), the repetition of its loop at
    ``loop_position`` exploited (module docstring): the first run's counters into ``stats``, each
    run's total cycles into ``finish`` (int64[runs]) and its scaling's totals (``scale_dram_rows``'s)
    into ``totals`` (int64[runs, 2, 3, 2]); the runs repeat together. Returns False, ``stats``
    unfinished, once ``budget`` folds were stepped, where the scaling's remainders do not come back
    within the pass's repeating units, or where a scaled running total would pass int64.

    ``generic_end``: the last unit of a pass that holds the repeating folds (``units - 2``, or
    ``units - 3`` when inputs load a period ahead and unit ``units - 2`` brings the last, maybe
    smaller, unit's). ``rate_num / rate_den``: each traffic class's DRAM bytes per cycle
    (``rate_num`` 0: unlimited), so that a fold's transfer takes ``ceil(bytes * rate_den /
    rate_num)`` cycles (``accelsim.lower.schedule.transfer_cycles``); ``channel``, ``latency``: the DRAM's.
    """
    p = ScheduleProblem(*problem)
    order, count = p.order, p.count
    outer, inner = 1, 1
    for position in range(3):
        if position < loop_position:
            outer *= count[order[position]]
        elif position > loop_position:
            inner *= count[order[position]]
    units = count[order[loop_position]]
    total = outer * units * inner
    timing = (dataflow, array_rows, overlap, broadcast, prefetch_overlap, drain_overlap, rate_num, rate_den, channel,
              latency)
    runs = 2 if rounding == BOUNDS else 1
    whole = rounding != 0 or (scale_den == 1).all()  # no remainder: each fold scaled alone
    # a filter loaded a period ahead (its periods: passes of the loops outside the unit loop) spreads each
    # period's words over the folds of the one before: bounded, every fold's part rounded down in the first
    # run and up in the second, the units of a pass hold the same folds as without it
    spread = spreads_filter(p)
    if spread and (rounding != BOUNDS or p.weight_bits % 8 != 0):
        return False
    # a unit of the outermost loop whose middle loop runs along n: its passes over the innermost loop
    # 1 .. passes - 2 hold the same folds (module docstring), found repeating like the units, unless
    # the ifmap loads a unit ahead (spread over the unit's folds, pass after pass) or the scaling
    # carries remainders
    passes, pass_folds = count[order[1]], count[order[2]]
    by_passes = (loop_position == 0 and order[1] == p.loop_of[DIM_N] and passes >= MIN_PASSES
                 and not p.ifmap_prefetch and whole)
    # units inside passes along n, or along k where every k tile holds the same shares of the weights and
    # of the input (or the input never reaches the DRAM), the loops outside m's that one and loops of one
    # iteration: its passes 1 .. outer - 2 likewise
    m_extent, k_extent = p.dim_extent[DIM_M], p.dim_extent[DIM_K]
    exact_k = p.k_weights % k_extent == 0 and (scale_num[0] == 0 or p.ifmap_words % (m_extent * k_extent) == 0)
    by_outer = outer >= MIN_PASSES and whole and (
        _passes_along(order, count, outer, loop_position, p.loop_of[DIM_N])
        or exact_k and _passes_along(order, count, outer, loop_position, p.loop_of[DIM_K]))
    # the innermost loop along k: each pass's folds 1 .. pass_folds - 2 repeat (_step_reduction)
    by_reduction = order[2] == p.loop_of[DIM_K] and whole and pass_folds >= MIN_REDUCTION_FOLDS
    chunk = pass_folds if by_passes or by_reduction else inner  # the most folds one _step call holds
    next_filter = lazy_prefetch_words(p, True)
    if spread:  # its whole parts, then its words (_filter_tables)
        next_filter = np.concatenate((next_filter, next_filter))
    tables = (np.empty(chunk + 1, np.int64), np.empty(chunk + 1, np.int64), np.empty(chunk + 1, np.int64),
              np.empty((chunk + 1, 4), np.int64), np.empty((chunk + 1, 4), np.int64),
              np.empty((chunk + 1, 4), np.int64), np.empty((chunk + 1, 4), np.int64),
              lazy_prefetch_words(p, False), next_filter,
              np.empty((chunk + 1 if runs > 1 else 0, 4), np.int64),
              np.empty((chunk + 1 if runs > 1 else 0, 4), np.int64))
    # a unit's fold tables per residue of its period (_step_cached) where the remainders' cycle makes
    # superunits of many periods (units stepped in one piece: no passes along n or k added up)
    cached = not whole and period * (inner + 1) <= CACHE_ROWS
    slots, width = (period, inner + 1) if cached else (0, 0)
    cache = (np.empty((slots, width), np.int64), np.empty((slots, width), np.int64), np.empty((slots, width), np.int64),
             np.empty((slots, width, 4), np.int64), np.empty((slots, width, 4), np.int64),
             np.empty((slots, width, 4), np.int64), np.zeros(slots, np.int64))
    ordered_counts, reduce_position = loop_counts(p)
    totals[:] = 0
    scaling = (scale_num, scale_den, rounding, ordered_counts, reduce_position, totals, (scale_num != scale_den).any())
    state = np.zeros((runs, RESUME_STATE_SIZE), np.int64)
    sums = np.zeros(FOLD_STAT_COUNT, np.int64)
    memory = _new_memory(runs)
    # units per superunit: ``period``, times the cycle of the scaling's remainders (found after the first)
    unit_period = period
    last_generic = (generic_end - 1) // unit_period - 1  # the last superunit whose next unit is at most generic_end
    # units from the last added-up superunit's end to unit generic_end: taken from the snapshot of the
    # repeating superunit's state that many units in, not stepped
    rest = (generic_end - 1) % unit_period
    snapshot = (np.zeros((runs, RESUME_STATE_SIZE), np.int64), np.zeros(FOLD_STAT_COUNT, np.int64),
                np.zeros((runs, 2, 3, 2), np.int64))
    snapshot_unit = -1  # the unit (of the whole loop, o x units + i) the snapshot's state starts
    first_totals = np.zeros((2, 3, 2), np.int64)
    outer_memory, pass_memory, run_memory = _new_memory(runs), _new_memory(runs), _new_memory(runs)
    # the last outer pass added up: the next pass's first fold generic too (pass 0 recorded only); a
    # spread filter's pass outer - 2 brings the last pass's words
    last_outer = outer - (4 if spread else 3)
    stepped = 0
    o = 0
    while o < outer:
        memory[4][0] = 0
        i = 0
        while i < units:
            if stepped >= budget:
                return False
            first = (o * units + i) * inner
            if cached and 1 <= i < generic_end:  # a repeating unit, and the first fold of the next
                done = inner if _step_cached(p, first, inner, timing, tables, cache, (i - 1) % period, o + 1, scaling,
                                             state, sums) else -1
            elif by_passes:
                done = _step_passes(p, first, passes, pass_folds, total, timing, tables, scaling, state, sums,
                                    by_reduction, pass_memory, run_memory)
            else:
                done = _step_inner(p, first, inner, total, timing, tables, scaling, state, sums, by_reduction,
                                   run_memory)
            if done < 0:
                return False
            stepped += done
            i += 1
            if not whole and o == 0 and i == 1:
                first_totals[:] = totals[0]
            if not whole and o == 0 and i == period + 1:  # one superunit stepped: its remainders' cycle
                unit_period = period * _remainder_cycle(scale_num, scale_den, first_totals, totals[0], units)
                last_generic, rest = (generic_end - 1) // unit_period - 1, (generic_end - 1) % unit_period
                # fewer than three superunits (none left to add once two repeat), or more stepping than
                # the budget allows (two superunits and the ends in every pass): give up now
                if last_generic < 2 or stepped + outer * (2 * unit_period + 3) * inner > budget:
                    return False
            # the superunit unit i - 1 ends, if (i - 1) % unit_period == 0; unit 0 recorded as superunit -1:
            # the state superunit 0 starts from
            superunit = (i - 1) // unit_period - 1
            if rest > 0 and (i - 1) % unit_period == rest:
                snapshot[0][:] = state
                snapshot[1][:] = sums
                snapshot[2][:] = totals
                snapshot_unit = o * units + i
            if (i - 1) % unit_period == 0 and superunit <= last_generic:
                times = _repeats(state, sums, scaling, superunit, last_generic, memory)
                i += unit_period * times
                if times > 0 and rest > 0 and snapshot_unit == o * units + i - (times + 1) * unit_period + rest:
                    # the snapshot lies in the superunit that repeated: from it, the units up to generic_end
                    _from_snapshot(state, sums, totals, memory, snapshot)
                    i += rest
        if by_outer and o <= last_outer:
            o += _repeats(state, sums, scaling, o, last_outer, outer_memory)
        o += 1
    if spread:  # the words the first run's whole parts left out, in its unscaled totals
        rest = part_remainders(p, _filter_tables(next_filter)[1])
        totals[0, 0, TRAFFIC_FILTER, 0] += rest
        totals[0, 1, TRAFFIC_FILTER, 0] += rest * (p.weight_bits // 8)
    stats[:] = sums
    set_timeline_stats(state[0, RESUME_FINISH], state[0, RESUME_COMPUTE], total, array_rows * array_cols, stats)
    for r in range(runs):
        finish[r] = state[r, RESUME_FINISH]
    return True
