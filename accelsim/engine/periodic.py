"""The native ``fold`` model of a layer whose folds repeat along its ``m`` loop: time O(1) in the batch.

A layer's GEMM rows ``m`` (batch x output pixels) are the only dimension that grows with the
batch, so a long layer is long along the mapping's loop over ``m``. One iteration of that
loop is a *unit* (the folds of the loops inside it). Inside one pass of the loops outside it,
the units ``1 .. count - 2`` hold the same folds with period ``b = m / gcd(m, ifmap_words x
step)``: every fold table entry depends on the unit's index ``i`` only through its tile of
``m`` (the same size everywhere but the last), whether ``i`` is the first (weights come in),
and the ifmap words of the tile, ``floor(W (i+1) s / m) - floor(W i s / m)``, which repeat
with period ``b`` (``b = 1`` when the input words are a whole multiple of ``m``, as in every
conv whose input pixels are a whole multiple of its output pixels). The drained output tile of
a joint buffer is spread over the reduction loop, never the ``m`` loop, so it repeats too.
:func:`accelsim.kernels.periodic.run_native_periodic` steps the units and adds up the rest
once the timeline repeats: the counters are exactly those of the whole schedule run at once
(``tests/properties/test_fold_periodic.py``).

An input prefetched a period ahead (a joint buffer's kept footprint: the next period's words
spread over the current period's folds) keeps the repetition when its periods lie inside a unit
(the ifmap's, iterations of the loops outside ``n``'s, with ``n``'s loop inside ``m``'s): a
unit then also holds the next unit's words, so unit ``count - 2``, which brings the last unit's,
leaves the repeating range. With ``m``'s loop in the middle, inside a loop along ``n``, the
kernel also adds up that loop's passes (:mod:`accelsim.kernels.periodic`).

Traffic scaled by the memory plan (running totals times a fraction ``a / d``, rounded down)
keeps the repetition once the rounding remainders come back: a column whose running total
moves by ``s`` per superunit has its remainder back after ``d / gcd(d, s a mod d)`` of them
(whole fractions, 0 or 1: at once), so the kernel takes superunits of that many (their least
common multiple) and compares the remainders with the timeline.

Not taken (the path of :func:`accelsim.engine.fold.run_problem` that runs the whole schedule
runs instead): the filter prefetched a period ahead (its periods span whole passes over ``m``),
the ifmap prefetched with ``n``'s loop outside ``m``'s, traffic scaled by fractions other than
whole ones on layers shorter than :data:`REMAINDER_FOLDS` folds or whose remainders take too many
superunits to come back, sparsity that changes folds, shares that could pass int64, units of more than
:data:`MAX_UNIT_FOLDS` folds, fewer than :data:`MIN_SUPERUNITS` repeating superunits per pass
(nothing to add up), too few folds for stepping units to pay (:data:`STEPPED_UNITS`), and a
timeline that has not repeated within the stepping budget.
"""

from __future__ import annotations

import math

import numpy as np

from accelsim.engine import lowering
from accelsim.engine.blocks import loop_counts
from accelsim.kernels import codes
from accelsim.kernels import periodic as kernel_periodic
from accelsim.kernels.periodic import run_native_periodic
from accelsim.kernels.schedule import DIM_K, DIM_M, ScheduleProblem
from accelsim.lower.gemm import ArrayRate, GemmProblem
from accelsim.lower.memory_plan import NO_SCALE, TrafficScale
from accelsim.lower.schedule import dram_rates
from accelsim.lower.tiling import Mapping
from accelsim.spec.arch import ArchSpec

MAX_UNIT_FOLDS = 2**14
"""Folds one step of the kernel holds at a time (as a chunk of :mod:`accelsim.engine.blocks`): a unit,
or one pass of its innermost loop where the kernel steps passes."""
MIN_SUPERUNITS = 4
"""Repeating superunits a pass needs for the repetition of its units to be worth finding."""
MIN_PASSES = kernel_periodic.MIN_PASSES
STEPPED_UNITS, STEPPED_PASSES, STEPPED_RUNS, CALL_FOLDS = 8, 6, 4, 128
"""The cost estimate: a layer takes the path when its folds exceed ``CALL_FOLDS`` plus the folds the
kernel steps (:func:`_stepped_folds`): of a pass whose units repeat, 5-6 units (the first, two that
repeat, the last two or three), counted as ``STEPPED_UNITS``; of a loop along n whose passes repeat
(outside the units or inside one), 5 passes (the first, two that repeat, the last two), counted as
``STEPPED_PASSES``; of a pass along k that repeats, the first fold, two runs that repeat and at most
a run and a fold more, counted as ``STEPPED_RUNS`` runs (:data:`accelsim.kernels.periodic.RUN_FOLDS`
folds or more each); every other loop whole. A stepped fold costs about as much as one run whole
(~50 ns), and a call ~4 us more than a whole run's, ~80 folds' worth (timeit on tpu_v1_like's
ResNet-50 layer2.1.conv3 at batch 256, 26 folds: 12 us against 8 us); rounded up, towards the
whole run. A cost estimate, not a bound: both ways give the same counters."""
REMAINDER_FOLDS = 2**14
"""Folds a layer needs for the path to try traffic scaled by fractions other than whole ones: the
kernel learns their remainders' cycle only after stepping a superunit and declines when it is too
long, a try that pays on long layers only (a cost estimate, as :data:`STEPPED_UNITS`)."""
MIN_BUDGET, MAX_BUDGET = 2**16, 2**22
"""Folds stepped before giving up on a timeline that does not repeat: a quarter of the layer's,
within these bounds (stepping costs ~20-50 ns per fold; the fallback then runs the layer again)."""


def run_periodic(problem: GemmProblem, arch: ArchSpec, mapping: Mapping, rate: ArrayRate, *, weight_bits: int,
                 act_bits: int, traffic: TrafficScale = NO_SCALE, counts: list[int] | None = None) -> np.ndarray | None:
    """``codes.FOLD_STAT_*`` counters of one repeat of ``problem`` (native timing, folds as
    scheduled, the DRAM traffic the memory plan's ``traffic`` leaves), or ``None`` where the module
    docstring says it is not taken. ``counts``: :func:`accelsim.engine.blocks.loop_counts` of the
    problem, if the caller has them."""
    step = _m_step(problem, arch, mapping)  # rows of m per unit: checked first, before any table
    period = problem.m // math.gcd(problem.m, problem.ifmap_words * step)
    units = -(-problem.m // step)
    order, (loop_m, loop_k, loop_n) = mapping.order.value, lowering.LOOP_OF[mapping.dataflow]
    position, position_n = order.index(loop_m), order.index(loop_n)
    by_units = (units - 3) // period >= MIN_SUPERUNITS
    # passes along k inside a unit (kernels.periodic._step_reduction); the passes along n the kernel adds
    # up (inside a unit of the outermost loop, or outside units of the middle one) have k innermost too
    by_reduction = order[2] == loop_k
    if not (by_units or by_reduction):  # nothing repeats that the kernel adds up
        return None
    counts = loop_counts(problem, arch, mapping, rate) if counts is None else counts
    inner, folds = math.prod(counts[position + 1:]), math.prod(counts)
    whole = traffic.ifmap.denominator == traffic.filter.denominator == traffic.output.denominator == 1
    if not whole and not by_units:  # remainders: only the units' repetition adds them up
        return None
    fractions = lowering.traffic_fractions(traffic) if whole or folds >= REMAINDER_FOLDS else None
    if fractions is None:
        return None
    built = lowering.schedule_problem(problem, arch, mapping, rate=rate, weight_bits=weight_bits, act_bits=act_bits)
    if built is None:
        return None
    p, _ = built
    by_passes = position == 0 and position_n == 1 and counts[1] >= MIN_PASSES and not p.ifmap_prefetch and whole
    if (counts[2] if by_passes or (by_reduction and whole) else inner) + 1 > MAX_UNIT_FOLDS:
        return None
    stepped = _stepped_folds(p, counts, position, units if not by_units else min(units, STEPPED_UNITS),
                             by_passes, by_reduction and whole, position == 1 and position_n == 0 and whole)
    if folds <= stepped + CALL_FOLDS:
        return None
    if p.filter_prefetch and position > 0:  # kernels.schedule.fill_folds's prefetch_filter
        return None
    generic_end = units - 2
    if p.ifmap_prefetch and position_n > 0:  # its prefetch_in: periods inside a unit, one unit less repeats
        generic_end -= 1
        if position_n < position or (by_units and (generic_end - 1) // period < MIN_SUPERUNITS):
            return None
    stats = np.empty(codes.FOLD_STAT_COUNT, dtype=np.int64)
    done = run_native_periodic(p, *lowering.native_wiring(arch, mapping), *fractions, *dram_rates(arch),
                               arch.dram.latency_cycles, position, period, generic_end,
                               max(MIN_BUDGET, min(folds // 4, MAX_BUDGET)), stats)
    return stats if done else None


def _stepped_folds(p: ScheduleProblem, counts: list[int], position: int, units: int, by_passes: bool,
                   by_reduction: bool, by_outer: bool) -> int:
    """The folds :func:`~accelsim.kernels.periodic.run_native_periodic` steps, estimated
    (:data:`STEPPED_UNITS`): ``units`` stepped units per pass of the loops outside them; a unit's
    loops inside it whole but for repeating passes along n (``by_passes``) and along k (``by_reduction``;
    the first pass's period, drains and prefetches aside); the loops outside whole, or their passes
    along n repeating (``by_outer``)."""
    pass_folds = counts[2]
    if by_reduction:
        m, k = int(p.dim_extent[DIM_M]), int(p.dim_extent[DIM_K])
        s = int(p.step[p.loop_of[DIM_K]])
        rows_words = p.ifmap_words * min(int(p.step[p.loop_of[DIM_M]]), m) // m  # the first m tile's
        period = math.lcm(k // math.gcd(k, rows_words * s), k // math.gcd(k, p.k_weights * s))
        pass_folds = min(pass_folds, STEPPED_RUNS * period * -(-kernel_periodic.RUN_FOLDS // period) + 2)
    unit = pass_folds if position > 0 else pass_folds * (min(counts[1], STEPPED_PASSES) if by_passes else counts[1])
    if position == 2:
        unit = 1
    outer = math.prod(counts[:position])
    return (min(outer, STEPPED_PASSES) if by_outer else outer) * units * unit


def _m_step(problem: GemmProblem, arch: ArchSpec, mapping: Mapping) -> int:
    """The fold extent of the mapping's loop over ``m`` (:func:`accelsim.engine.lowering.schedule_problem`'s
    step): the array's rows or columns, or in time (the loop's extent being ``m`` itself) the stream tile."""
    loop = lowering.LOOP_OF[mapping.dataflow][0]
    if loop != "t":
        return arch.array.rows if loop == "r" else arch.array.cols
    return problem.m if mapping.t_tile is None else max(1, min(mapping.t_tile, problem.m))
