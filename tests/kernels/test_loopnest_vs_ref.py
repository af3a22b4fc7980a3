"""Closed-form loop-nest counts (accelsim.lower.loopnest) against the naive walker
(tests/reference/loopnest_ref.py) on many small mapped convolutions: every count equal."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from accelsim.lower.loopnest import DIMS, TENSORS, ConvProblem, Loop, LoopNest, all_boundaries
from tests.reference.loopnest_ref import walk

FIELDS = ("parent_reads", "child_fills", "parent_writes", "child_drains", "reduction_hops")


def _factor(value: int, parts: int, draw) -> list[int]:
    """``value`` split into ``parts`` factors (each a divisor of what is left)."""
    out = []
    for _ in range(parts - 1):
        divisors = [d for d in range(1, value + 1) if value % d == 0]
        d = draw(st.sampled_from(divisors))
        out.append(d)
        value //= d
    return out + [value]


@st.composite
def mapped_convs(draw):
    bounds = {"G": draw(st.sampled_from([1, 1, 2])), "N": draw(st.sampled_from([1, 2])),
              "K": draw(st.sampled_from([1, 2, 3, 4])), "C": draw(st.sampled_from([1, 2, 3])),
              "P": draw(st.sampled_from([1, 2, 3, 4])), "Q": draw(st.sampled_from([1, 2, 3])),
              "R": draw(st.sampled_from([1, 2, 3])), "S": draw(st.sampled_from([1, 2, 3]))}
    strides = (draw(st.sampled_from([1, 2, 3])), draw(st.sampled_from([1, 2])))
    # four slots: DRAM temporal, buffer temporal, buffer spatial (the PE array), PE temporal
    slots: list[list[tuple[str, int]]] = [[], [], [], []]
    for dim, bound in bounds.items():
        for slot, factor in zip(slots, _factor(bound, 4, draw)):
            if factor > 1 or draw(st.booleans()):
                slot.append((dim, factor))
    slots = [draw(st.permutations(slot)) for slot in slots]
    levels = (tuple(Loop(d, b) for d, b in slots[0]),
              tuple(Loop(d, b) for d, b in slots[1]) + tuple(Loop(d, b, True) for d, b in slots[2]),
              tuple(Loop(d, b) for d, b in slots[3]))
    keeps = (frozenset(TENSORS),
             frozenset(t for t in TENSORS if draw(st.booleans())),
             frozenset(t for t in TENSORS if draw(st.booleans())))
    return ConvProblem(tuple(bounds[d] for d in DIMS), *strides), LoopNest(levels, keeps)


def _plain(nest: LoopNest):
    return [[(loop.dim, loop.bound, loop.spatial) for loop in level] for level in nest.levels], list(nest.keeps)


def _compare(problem: ConvProblem, nest: LoopNest):
    levels, keeps = _plain(nest)
    want = walk(levels, keeps, dict(zip(DIMS, problem.bounds)), problem.stride_h, problem.stride_w)
    got = {(b.tensor, b.parent, b.child): {f: getattr(b, f) for f in FIELDS} for b in all_boundaries(problem, nest)}
    assert got == want


# row-stationary shape: R over rows and P over columns, an input window sliding along Q in the PE
RS = (ConvProblem.of(K=2, C=2, P=4, Q=5, R=3, S=3),
      LoopNest((((Loop("K", 2),)), (Loop("Q", 5), Loop("R", 3, True), Loop("P", 4, True)),
                (Loop("C", 2), Loop("S", 3))),
               (frozenset(TENSORS), frozenset({"ifmap", "ofmap"}), frozenset(TENSORS))))


@given(mapped_convs())
@example(RS)
@example((ConvProblem.of(P=3, R=2, stride_h=3),  # stride larger than the window: a gapped input row
          LoopNest(((Loop("P", 3),), (Loop("R", 2, True),), ()), (frozenset(TENSORS), frozenset(), frozenset()))))
def test_closed_form_counts_match_the_walker(case):
    _compare(*case)


def test_row_stationary_counts_by_hand():
    """The RS example worked by hand: each PE (r, p) keeps its 1x3 filter rows for both channels
    (6 words) once per K tile: 2 x 12 PEs x 6 = 144 filter fills; its input window (2 channels x 3
    columns) is filled fully at q = 0 and by 2 x 1 new words on each of 4 slides: (6 + 4 x 2) x 2 K
    tiles x 12 PEs = 336 fills. The buffer serves a word once per diagonal: rows h = p + r take 6
    distinct values, so 6 x 2 x 3 words at q = 0 and 6 x 2 x 1 per slide: (36 + 48) x 2 = 168 reads."""
    problem, nest = RS
    counts = {(b.tensor, b.parent, b.child): b for b in all_boundaries(problem, nest)}
    assert counts[("filter", 0, 2)].child_fills == 144
    assert counts[("ifmap", 1, 2)].child_fills == 336
    assert counts[("ifmap", 1, 2)].parent_reads == 168
    # psums: 2 x 5 x (2 K x 4 P) outputs, reduced over the 3 PE rows: 2 hops per output value
    out = counts[("ofmap", 1, 2)]
    assert out.parent_writes == 2 * 5 * 4 and out.reduction_hops == 2 * out.parent_writes


def test_nest_must_cover_the_problem():
    problem, nest = RS
    with pytest.raises(ValueError, match="multiply to"):
        all_boundaries(ConvProblem.of(K=4, C=2, P=4, Q=5, R=3, S=3), nest)
