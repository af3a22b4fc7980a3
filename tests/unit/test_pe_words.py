"""Operand words of the ``pe`` array on dense weights (accelsim.engine.pe.reduction_words).

Expected values follow the rule in kernels/pe.py ("Words"), written out element by element here:
with ``p`` products per cycle, array row ``r`` holds reduction indices ``r*W .. r*W + W - 1``,
``W = min(p, K)``, and positions past ``K`` hold zeros.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from accelsim.engine.pe import reduction_words
from accelsim.lower.gemm import ArrayRate


@given(st.integers(1, 5), st.integers(1, 20), st.integers(1, 5), st.integers(1, 8), st.integers(0, 2**32 - 1))
def test_dense_words_hold_each_reduction_index_once(m, k, n, p, seed):
    gen = np.random.default_rng(seed)
    a = gen.integers(-100, 100, (m, k))
    b = gen.integers(-100, 100, (k, n))
    act, wgt = reduction_words(a, b, ArrayRate(p, 1, None))
    width = min(p, k)
    rows = -(-k // width)
    assert act.shape == (m, rows, width) and wgt.shape == (rows, width, n)
    for r in range(rows):
        for v in range(width):
            index = r * width + v
            want_a = a[:, index] if index < k else np.zeros(m)
            want_b = b[index, :] if index < k else np.zeros(n)
            assert (act[:, r, v] == want_a).all() and (wgt[r, v, :] == want_b).all()
