"""The native ``fold`` model of a layer whose folds repeat along its ``m`` loop: time O(1) in the batch.

A layer's GEMM rows ``m`` (batch x output pixels) are the only dimension that grows with the
batch, so a long layer is long along the mapping's loop over ``m``. One iteration of that
loop is a *unit* (the folds of the loops inside it). Inside one pass of the loops outside it,
the units ``1 .. count - 2`` hold the same folds with period ``b = m / gcd(m, ifmap_words x
step)``: every fold table entry depends on the unit's index ``i`` only through its tile of
``m`` (the same size everywhere but the last), whether ``i`` is the first (weights come in),
and the ifmap words of the tile, ``floor(W (i+1) s / m) - floor(W i s / m)``, which repeat
with period ``b`` (``b = 1`` when the input words are a whole multiple of ``m``, as in every
conv whose input pixels are a whole multiple of its output pixels, and when the memory plan keeps
the whole input on chip: none of its words then reach the DRAM). The drained output tile of
a joint buffer is spread over the reduction loop, never the ``m`` loop, so it repeats too.
:func:`accelsim.kernels.periodic.run_native_periodic` steps the units and adds up the rest
once the timeline repeats: the counters are exactly those of the whole schedule run at once
(``tests/properties/test_fold_periodic.py``).

An input prefetched a period ahead (a joint buffer's kept footprint: the next period's words
spread over the current period's folds) keeps the repetition when its periods lie inside a unit
(the ifmap's, iterations of the loops outside ``n``'s, with ``n``'s loop inside ``m``'s): a
unit then also holds the next unit's words, so unit ``count - 2``, which brings the last unit's,
leaves the repeating range. With ``m``'s loop inside a loop along ``n`` (or along ``k`` whose tiles
hold equal shares) and loops of one iteration, the kernel also adds up that loop's passes
(:mod:`accelsim.kernels.periodic`). A filter prefetched a
period ahead with ``m``'s loop inside another (its periods: passes of the loops outside ``m``'s, each
spreading the next pass's words over its folds, ``floor`` shares that do not repeat from unit to unit)
is bounded, as below: every fold's part rounded down to the period's whole quotient, and one word up.

Inside a unit the kernel adds up repeating passes along ``n`` (``m``'s loop outermost, ``n``'s in
the middle) and the repeating folds of each pass along ``k`` (``k``'s loop innermost), so a layer
with one unit or a few (every fixed mapping of a ws array: all of ``m`` in one stream tile) is
taken too when those repeat: ResNet-50's layer4 3x3 conv on an 8x8 ws array, 36,864 folds in
one unit, is stepped in 135 folds.

Traffic scaled by the memory plan (running totals times a fraction ``a / d``, rounded down) carries
rounding remainders from fold to fold (whole fractions, 0 or 1: none). Such a layer is first run
from bounds (:func:`_bounded`): each fold's value alone times the fraction, rounded down and rounded
up, brackets the running totals' value for that fold and carries no remainder, so both runs (one
kernel call, sharing the fold tables) repeat like unscaled traffic; the timeline's times never fall
when a transfer grows, so where both give the same cycles the running totals do too, exactly, and
the scaled counts are the running totals' last values (per class, its folds' unscaled sum, which
the kernel keeps, times the fraction, rounded down). That takes the compute-bound layers whose
plan keeps a sliver of a tensor (denominators of a tensor's bytes, remainders back after millions
of units). Where the bounds differ (a layer bound by
the DRAM, each byte moving the cycles), the remainders are followed: a column whose running total
moves by ``s`` per superunit has its remainder back after ``d / gcd(d, s a mod d)`` of them, so the
kernel takes superunits of that many (their least common multiple) and compares the remainders with
the timeline.

Not taken (the path of :func:`accelsim.engine.fold.run_problem` that runs the whole schedule runs
instead): a filter prefetched a period ahead whose bounds differ, or whose bytes do not follow its
words (weights of other than a whole number of bytes), the ifmap prefetched with ``n``'s loop outside
``m``'s (unless it is kept on chip), traffic scaled by fractions other than whole ones
whose bounds differ, on layers shorter than :data:`REMAINDER_FOLDS` folds or whose remainders take
too many superunits to come back, sparsity that changes folds, shares that could pass int64, steps
of more than :data:`MAX_UNIT_FOLDS` folds, nothing to add up (fewer than :data:`MIN_SUPERUNITS`
repeating superunits per pass, no passes along ``n`` or ``k`` that repeat), too few folds for
stepping to pay (:func:`_stepped_folds`), and a timeline that has not repeated within the stepping
budget (counted before each unit).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from accelsim.engine import lowering
from accelsim.engine.blocks import loop_counts
from accelsim.kernels import codes
from accelsim.kernels import periodic as kernel_periodic
from accelsim.kernels.periodic import run_native_periodic
from accelsim.kernels.schedule import BOUNDS
from accelsim.lower.gemm import ArrayRate, GemmProblem
from accelsim.lower.memory_plan import NO_SCALE, TrafficScale
from accelsim.lower.schedule import dram_rates
from accelsim.lower.tiling import Mapping
from accelsim.spec.arch import ArchSpec
from accelsim.spec.memo import spec_memo

MAX_UNIT_FOLDS = 2**14
"""Folds one step of the kernel holds at a time (as a chunk of :mod:`accelsim.engine.blocks`): a unit,
or one pass of its innermost loop where the kernel steps passes."""
MIN_SUPERUNITS = 4
"""Repeating superunits a pass needs for the repetition of its units to be worth finding."""
STEPPED_UNITS, STEPPED_PASSES, STEPPED_RUNS = 8, 6, 3
"""Steps :func:`_stepped_folds` counts where a loop's iterations repeat: 5-6 units of a pass (the first,
two that repeat, the last two or three), 5 passes along n (the first, two that repeat, the last two),
both rounded up (an upper estimate: one that repeats suffices where the first left the timeline
settled); 3 steps over a pass along k (its first fold with a run, the run that repeats, the
rest: at most a run and two folds)."""
CALL_FOLDS, STEP_FOLDS = 128, 10
"""The cost estimate, in folds run whole (~45 ns each): a layer takes the path when its folds exceed
``CALL_FOLDS`` plus :func:`_stepped_folds`, times the runs it takes (two from bounds). A call of the
path costs ~4 us more than a whole run's, ~80 folds' worth (timeit on tpu_v1_like's ResNet-50
layer2.1.conv3 at batch 256, 26 folds: 12 us against 8 us), rounded up; a step of the kernel
(``kernels.periodic._step``) ~0.45 us more than its folds, ``STEP_FOLDS`` (a numba loop of steps of 1, 8
and 64 folds on ResNet-50's layer4 3x3 conv, 8x8 ws array: 0.43, 0.82 and 4.3 us; 1.7 ms for its 36,864
folds whole). A cost estimate, not a bound: both ways give the same counters. These timings predate
the kernels without reference counting (``kernels._jit.leaf``), which made both ways quicker; after
them ``benchmarks/bench_path_choice.py`` finds the choice at most 5% slower than the quicker way on a
batch-256 ResNet-50 (docs/limits.md)."""
SCALED_FOLD_COST = 2
"""A fold run whole with its traffic scaled by fractions other than whole ones (running totals, a
division a class: :func:`accelsim.kernels.schedule.scale_dram_rows`), in folds run unscaled: ~2
(timeit on tpu_v5e_like's 392-fold layers of its batch-256 ResNet-50, scaled by fractions of tens of
millions: 32-61 us whole, 82-156 ns a fold, against 19-23 us through the path), rounded down. Measured
before the scaling ran a column at a time (``kernels.schedule._scale``): since, a scaled fold run whole
costs 0.95-1.15 unscaled ones (timeit of the whole-schedule runs of 200 folds or more with fractions other
than whole ones in ResNet-50 at batch 16 and 256 on tpu_v5e_like, eyeriss_like, tpu_v1_like and
edge_32x32: 13 runs on eyeriss_like, 1 on tpu_v1_like, none on the others). Left at 2: ``benchmarks/bench_path_choice.py`` finds the
choice at most 5% slower than the quicker way (docs/limits.md)."""
REMAINDER_FOLDS = 2**14
"""Folds a layer needs for the path to follow the remainders of fractions other than whole ones
(where their bounds differ): the kernel learns their remainders' cycle only after stepping a
superunit and declines when it is too long, a try that pays on long layers only (a cost estimate, as
:data:`STEP_FOLDS`)."""
MIN_BUDGET, MAX_BUDGET = 2**16, 2**22
"""Folds stepped before giving up on a timeline that does not repeat: a quarter of the layer's,
within these bounds (stepping costs ~20-50 ns per fold; the fallback then runs the layer again)."""


class Plan(NamedTuple):
    """How :func:`run_periodic` runs a layer (:func:`_plan`): the arguments of
    :func:`~accelsim.kernels.periodic.run_native_periodic` but the traffic's fractions and the outputs."""

    head: tuple
    """Those before the fractions: the schedule problem (a plain tuple) and the array's wiring
    (:func:`accelsim.engine.lowering.native_wiring`)."""
    rounding: int
    """0 (the fractions' running totals), or ``BOUNDS`` (each fold's traffic bounded)."""
    tail: tuple
    """Those after the rounding: the DRAM's rates and latency, the repeating loop's position, its
    units' period, the last unit of a pass that repeats, the stepping budget."""


def run_periodic(problem: GemmProblem, arch: ArchSpec, mapping: Mapping, rate: ArrayRate, *, weight_bits: int,
                 act_bits: int, traffic: TrafficScale = NO_SCALE, counts: list[int] | None = None) -> np.ndarray | None:
    """``codes.FOLD_STAT_*`` counters of one repeat of ``problem`` (native timing, folds as
    scheduled, the DRAM traffic the memory plan's ``traffic`` leaves), or ``None`` where the module
    docstring says it is not taken. ``counts``: :func:`accelsim.engine.blocks.loop_counts` of the
    problem, if the caller has them."""
    fractions = lowering.traffic_fractions(traffic)
    if fractions is None:
        return None
    whole = _whole(traffic)
    args = (problem, arch, mapping, rate, weight_bits, act_bits, traffic.ifmap.numerator == 0)
    plan = _plan(*args, False, not whole)
    stats = None if plan is None else _run(plan, fractions) if plan.rounding == 0 else _bounded(plan, fractions)
    if stats is None and not whole:
        counts = loop_counts(problem, arch, mapping, rate) if counts is None else counts
        if math.prod(counts) >= REMAINDER_FOLDS:  # the remainders' cycle
            plan = _plan(*args, True, False)
            stats = None if plan is None else _run(plan, fractions)
    return stats


def _whole(traffic: TrafficScale) -> bool:
    """Whether every fraction of ``traffic`` is whole (0 or 1): no remainders carried from fold to fold."""
    return traffic.ifmap.denominator == 1 and traffic.filter.denominator == 1 and traffic.output.denominator == 1


_SCALED = ((codes.FOLD_STAT_IFMAP_DRAM_READS, codes.FOLD_STAT_DRAM_READ_BYTES),
           (codes.FOLD_STAT_FILTER_DRAM_READS, codes.FOLD_STAT_DRAM_READ_BYTES),
           (codes.FOLD_STAT_OFMAP_DRAM_WRITES, codes.FOLD_STAT_DRAM_WRITE_BYTES))
"""Per traffic class the memory plan scales (ifmap, filter, output writes): its words and bytes counters."""


def _bounded(plan: Plan, fractions: tuple[np.ndarray, np.ndarray]) -> np.ndarray | None:
    """The counters of ``plan``'s layer from the runs of its folds with their traffic bounded, or ``None``.

    Each bound is a fold's own traffic: scaled by a fraction whose remainders do not come back, its
    value times the fraction rounded down and rounded up (:func:`accelsim.kernels.schedule.scale_dram_rows`);
    a filter's part spread over a period, its whole quotient and one word more
    (:func:`accelsim.kernels.schedule.ensure_whole_parts`). The timeline's times never fall when a
    fold's transfer grows (its recurrences take sums and maxima of transfer cycles:
    ``kernels.memory.resume_native_timeline``). So where the folds all at their lower bounds and all at
    their upper bounds give the same cycles, so do the exact ones. The exact counts are the traffic's
    totals: per class and table, the folds' unscaled sum (the kernel keeps it, the filter's parts
    whole) times the fraction, rounded down, in place of the sum of the folds' lower bounds. Both
    bounds run in one kernel call over one set of fold tables (they differ in the DRAM traffic only)."""
    totals, finish = np.zeros((2, 2, 3, 2), dtype=np.int64), np.zeros(2, dtype=np.int64)
    stats = _run(plan, fractions, totals, finish)
    if stats is None or finish[0] != finish[1]:
        return None
    sums = totals[0].tolist()  # Python ints: a total times its numerator may pass int64
    for x, (numerator, denominator) in enumerate(zip(*(fraction.tolist() for fraction in fractions))):
        for t, index in enumerate(_SCALED[x]):
            value, rounded = sums[t][x]
            stats[index] += value * numerator // denominator - rounded
    return stats


def _run(plan: Plan, fractions: tuple[np.ndarray, np.ndarray], totals: np.ndarray | None = None,
         finish: np.ndarray | None = None) -> np.ndarray | None:
    """The path's counters of ``plan`` with the traffic scaled by ``fractions``, or ``None`` where not
    taken; ``totals`` and ``finish`` (if given, filled): :func:`~accelsim.kernels.periodic.run_native_periodic`'s
    (with ``BOUNDS``, the counters of the folds at their lower bounds)."""
    runs = 2 if plan.rounding == BOUNDS else 1
    stats = np.empty(codes.FOLD_STAT_COUNT, dtype=np.int64)
    done = run_native_periodic(*plan.head, *fractions, plan.rounding, *plan.tail, stats,
                               np.zeros((runs, 2, 3, 2), dtype=np.int64) if totals is None else totals,
                               np.zeros(runs, dtype=np.int64) if finish is None else finish)
    return stats if done else None


@spec_memo(4096)
def _plan(problem: GemmProblem, arch: ArchSpec, mapping: Mapping, rate: ArrayRate, weight_bits: int, act_bits: int,
          ifmap_kept: bool, carries: bool, bounds: bool) -> Plan | None:
    """:func:`_run`'s :class:`Plan`, or ``None`` where the path is not taken: what decides it but the
    traffic's fractions. ``ifmap_kept``: the memory plan keeps the whole input on
    chip (its fraction 0: no fold's input words reach the DRAM, so they do not set the units' period);
    ``carries``: the fractions carry remainders from fold to fold (the kernel follows them);
    ``bounds``: each fold's traffic is bounded instead (:func:`_bounded`), as it is anyway where a
    filter's part is spread over a period. Memoized (a pure function of frozen
    specs and of this module's constants, which tests that change them clear): a layer split among
    arrays runs it again at its share of the channel, and a network's repeated layers and runs again."""
    counts = loop_counts(problem, arch, mapping, rate)
    whole = not carries
    order, (loop_m, loop_k, loop_n) = mapping.order.value, lowering.LOOP_OF[mapping.dataflow]
    step = _fold_step(arch, mapping, loop_m, problem.m)  # rows of m per unit: checked first, before any table
    period = 1 if ifmap_kept else problem.m // math.gcd(problem.m, problem.ifmap_words * step)
    units = -(-problem.m // step)
    by_units = (units - 3) // period >= MIN_SUPERUNITS
    # passes along k inside a unit (kernels.periodic._step_reduction); passes along n inside a unit have k
    # innermost too, passes along n outside the units n's loop outside m's
    by_reduction = order[2] == loop_k
    position, position_n, position_k = order.index(loop_m), order.index(loop_n), order.index(loop_k)
    if not (by_units or (whole and (by_reduction or min(position_n, position_k) < position))):  # nothing repeats
        return None
    inner, folds = math.prod(counts[position + 1:]), math.prod(counts)
    by_passes = position == 0 and position_n == 1 and counts[1] >= kernel_periodic.MIN_PASSES and whole
    by_reduction = by_reduction and whole and counts[2] >= kernel_periodic.MIN_REDUCTION_FOLDS
    # units inside passes along n, or along k whose tiles hold the same shares of the weights and of the
    # input (or the input never reaches the DRAM): the loops outside m's that one and loops of one iteration
    k_map = rate.reduction(problem.k)
    exact_k = rate.stored_reduction(problem.k) % k_map == 0 and (
        ifmap_kept or problem.ifmap_words % (problem.m * k_map) == 0)
    by_outer = whole and any(
        along < position and math.prod(counts[:position]) == counts[along] >= kernel_periodic.MIN_PASSES
        for along in ((position_n, position_k) if exact_k else (position_n,)))
    if not (by_units or by_passes or by_reduction or by_outer):
        return None
    if (counts[2] if by_passes or by_reduction else inner) + 1 > MAX_UNIT_FOLDS:
        return None
    k_step = _fold_step(arch, mapping, loop_k, k_map)
    stepped = _stepped_folds(problem, rate, step, k_step, counts, position, min(units, STEPPED_UNITS) if by_units
                             else units, by_passes, by_reduction, by_outer)
    if _costs_less_whole(folds, stepped, bounds, 2 if bounds else 1):
        return None
    built = lowering.schedule_problem(problem, arch, mapping, rate=rate, weight_bits=weight_bits, act_bits=act_bits)
    if built is None:
        return None
    p, _ = built
    if p.filter_prefetch and position > 0:  # kernels.schedule.fill_folds's prefetch_filter: its parts bounded
        if carries or weight_bits % 8 != 0 or _costs_less_whole(folds, stepped, bounds, 2):
            return None
        bounds = True
    if p.ifmap_prefetch and not by_reduction and inner + 1 > MAX_UNIT_FOLDS:  # the kernel steps units whole
        return None
    generic_end = units - 2
    if p.ifmap_prefetch and position_n > 0 and not ifmap_kept:  # its prefetch_in: one unit less repeats
        generic_end -= 1
        if position_n < position or (by_units and (generic_end - 1) // period < MIN_SUPERUNITS):
            return None
    budget = max(MIN_BUDGET, min(folds // 4, MAX_BUDGET))
    return Plan((tuple(p), *lowering.native_wiring(arch, mapping)), BOUNDS if bounds else 0,
                (*dram_rates(arch), arch.dram.latency_cycles, position, period, generic_end, budget))


def _costs_less_whole(folds: int, stepped: int, scaled: bool, runs: int) -> bool:
    """Whether running the layer's ``folds`` whole costs no more than ``runs`` runs of the path, each
    :data:`CALL_FOLDS` and its ``stepped`` folds (:func:`_stepped_folds`); a fold run whole costs
    :data:`SCALED_FOLD_COST` where its traffic is ``scaled`` by fractions the path bounds."""
    return folds * (SCALED_FOLD_COST if scaled else 1) <= runs * (stepped + CALL_FOLDS)


def _stepped_folds(problem: GemmProblem, rate: ArrayRate, m_step: int, k_step: int, counts: list[int], position: int,
                   units: int, by_passes: bool, by_reduction: bool, by_outer: bool) -> int:
    """What :func:`~accelsim.kernels.periodic.run_native_periodic` costs, estimated in folds run whole
    (:data:`STEP_FOLDS`): ``units`` stepped units per pass of the loops outside them; a unit's loops
    inside it stepped whole but for repeating passes along n (``by_passes``) and along k
    (``by_reduction``: the first m tile's period, the drained tile and the ifmap loaded a period
    ahead aside, :func:`accelsim.kernels.periodic._reduction_period`); the loops outside whole, or
    their passes along n repeating (``by_outer``). An ifmap loaded a period ahead (a joint buffer)
    is not told apart: the kernel then steps each unit's passes along n."""
    pass_cost = counts[2] + STEP_FOLDS
    if by_reduction:
        k, k_weights = rate.reduction(problem.k), rate.stored_reduction(problem.k)
        rows_words = problem.ifmap_words * min(m_step, problem.m) // problem.m
        period = math.lcm(k // math.gcd(k, rows_words * k_step), k // math.gcd(k, k_weights * k_step))
        run = period * -(-kernel_periodic.RUN_FOLDS // period)
        if (counts[2] - 3) // run >= kernel_periodic.MIN_RUNS:
            pass_cost = STEPPED_RUNS * (run + STEP_FOLDS) + 2
    if position == 2:
        unit = 1 + STEP_FOLDS
    elif position == 1:
        unit = pass_cost
    elif by_passes or by_reduction:
        unit = pass_cost * (min(counts[1], STEPPED_PASSES) if by_passes else counts[1])
    else:
        unit = counts[1] * counts[2] + STEP_FOLDS
    outer = math.prod(counts[:position])
    return (min(outer, STEPPED_PASSES) if by_outer else outer) * units * unit


def _fold_step(arch: ArchSpec, mapping: Mapping, loop: str, extent: int) -> int:
    """The fold extent of the mapping's ``loop`` (:func:`accelsim.engine.lowering.schedule_problem`'s
    step) over a GEMM dimension of ``extent``: the array's rows or columns, or in time (the loop's
    extent being the dimension's) the stream tile."""
    if loop != "t":
        return arch.array.rows if loop == "r" else arch.array.cols
    return extent if mapping.t_tile is None else max(1, min(mapping.t_tile, extent))
