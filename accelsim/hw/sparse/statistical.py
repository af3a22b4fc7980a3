"""Expected skipping behaviour of a fold when only densities are known (approximate).

Zeros are modelled as independent Bernoulli variables: an exploited operand is non-zero with
probability ``p_w`` (weights) or ``p_a`` (activations); an operand that is not exploited
counts as always non-zero (``p = 1``). For a lockstep group of ``gh x gw`` PEs the
probability that it has an effectual MAC at a stream step is exact:

* os (PE ``(i, j)`` = output ``(m_i, n_j)``, step = ``k``): ``q = (1-(1-p_a)^gh) (1-(1-p_w)^gw)``.
* ws (PE = weight ``(k_i, n_j)``, step = ``m``): each of the ``gh`` rows has a non-zero weight
  in the group with probability ``s = 1-(1-p_w)^gw``; given ``Z ~ Binomial(gh, s)`` such rows,
  ``q(Z) = 1-(1-p_a)^Z`` and the steps are independent.
* is (PE = input ``(k_i, m_j)``, step = ``n``): ws with the operands' roles swapped.

A group's step count is then a mixture of ``Binomial(T, q(Z))``. The fold streams for the
busiest of its groups. Groups that see exactly the same operands count once (with only
weights exploited, os PEs of one column do the same work; with only activations exploited,
ws columns do); the remaining ``G`` groups are treated as independent, which is the
approximation when they share operands: ``E[max] = sum_{x<T} 1 - F(x)^G``.
"""

from __future__ import annotations

import math

import numpy as np

from accelsim.spec.arch import Dataflow

_NEGLIGIBLE = 1e-15


def _binomial_pmf(trials: int, p: float) -> np.ndarray:
    """pmf of Binomial(trials, p) over 0..trials (log space, no overflow)."""
    if p <= 0.0 or p >= 1.0:
        pmf = np.zeros(trials + 1)
        pmf[trials if p >= 1.0 else 0] = 1.0
        return pmf
    x = np.arange(trials + 1)
    log_fact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, trials + 1)))])
    log_pmf = log_fact[trials] - log_fact[x] - log_fact[trials - x] + x * math.log(p) + (trials - x) * math.log1p(-p)
    return np.exp(log_pmf)


def group_step_mixture(dataflow: Dataflow, group_h: int, group_w: int, p_w: float, p_a: float):
    """``(weights, q)``: probabilities of the mixture components and each one's step probability."""
    if dataflow is Dataflow.OS:
        q = (1.0 - (1.0 - p_a) ** group_h) * (1.0 - (1.0 - p_w) ** group_w)
        return np.ones(1), np.array([q])
    stationary, streamed = (p_w, p_a) if dataflow is Dataflow.WS else (p_a, p_w)
    weights = _binomial_pmf(group_h, 1.0 - (1.0 - stationary) ** group_w)
    q = 1.0 - (1.0 - streamed) ** np.arange(group_h + 1)
    return weights, q


def distinct_groups(dataflow: Dataflow, rows: int, cols: int, group_h: int, group_w: int,
                    p_w: float, p_a: float) -> int:
    """Groups of a ``rows x cols`` fold whose work can differ (the others duplicate one of them).

    The effectual test reads ``a[m, k]`` and ``w[k, n]``; when one operand is never zero
    (``p = 1``) the work depends on fewer PE coordinates: on the column only (os, weights
    only) or on the row only (os activations only, ws activations only, is weights only).
    """
    by_row, by_col = rows // group_h, cols // group_w
    if dataflow is Dataflow.OS:
        if p_a >= 1.0:
            return by_col
        if p_w >= 1.0:
            return by_row
    elif (dataflow is Dataflow.WS and p_w >= 1.0) or (dataflow is Dataflow.IS and p_a >= 1.0):
        return by_row
    return by_row * by_col


def expected_fold(dataflow: Dataflow, t_len: int, group_h: int, group_w: int, groups: int,
                  p_w: float, p_a: float) -> tuple[float, float, float]:
    """``(E[T_eff], P[T_eff > 0], E[steps of one group])`` of a fold under skipping."""
    weights, q = group_step_mixture(dataflow, group_h, group_w, p_w, p_a)
    cdf = np.zeros(t_len + 1)
    for weight, q_z in zip(weights, q):
        if weight > _NEGLIGIBLE:
            cdf += weight * np.cumsum(_binomial_pmf(t_len, float(q_z)))
    cdf = np.clip(cdf, 0.0, 1.0)
    expected_max = float(np.sum(1.0 - cdf[:t_len] ** groups))
    runs = 1.0 - float(cdf[0]) ** groups
    return expected_max, runs, float(t_len * np.dot(weights, q))
