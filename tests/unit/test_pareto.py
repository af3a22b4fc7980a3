"""Pareto fronts against the definition, checked pair by pair."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.dse.pareto import pareto_front, pareto_mask


def naive_front(rows):
    """Row i is on the front iff no row j is <= in every objective and < in one (NaN rows never are)."""
    out = []
    for i, a in enumerate(rows):
        if any(np.isnan(a)):
            out.append(False)
            continue
        dominated = any(all(bj <= ai for ai, bj in zip(a, b)) and any(bj < ai for ai, bj in zip(a, b))
                        for j, b in enumerate(rows) if j != i and not any(np.isnan(b)))
        out.append(not dominated)
    return out


values = st.sampled_from([0.0, 1.0, 2.0, 3.0, 5.0, float("nan")])


@settings(max_examples=60)
@given(st.integers(1, 3).flatmap(lambda k: st.lists(st.lists(values, min_size=k, max_size=k), min_size=1,
                                                      max_size=25)))
def test_mask_matches_definition(rows):
    assert pareto_mask(np.array(rows)).tolist() == naive_front(rows)


def test_hand_example_two_objectives():
    # (latency, energy): (1, 9) and (3, 3) and (9, 1) trade off; (4, 4) is beaten by (3, 3); (3, 3) twice: both kept.
    rows = [(1, 9), (3, 3), (4, 4), (9, 1), (3, 3)]
    assert pareto_mask(np.array(rows)).tolist() == [True, True, False, True, True]


def test_front_is_per_group():
    table = pd.DataFrame({"workload": ["a", "a", "b", "b"], "x": [1, 2, 5, 6], "y": [1, 2, 5, 0]})
    # in group b (5,5) and (6,0) trade off; (5,5) would be dominated by a's (1,1) if groups were merged
    assert pareto_front(table, ["x", "y"], by=["workload"]).tolist() == [True, False, True, True]
    assert pareto_front(table, ["x", "y"]).tolist() == [True, False, False, True]
