"""Numeric error of each implementation, measured by evaluating it against the exact function.

Errors are absolute (max and mean of ``|approx - exact|``) over stated inputs: the default
sets below (:func:`default_inputs`, seeded and described in words), or any array the caller
passes, such as real activations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from accelsim.spec.workload import NonlinearImpl, Op
from accelsim.vector.functions import REDUCTIONS, evaluate, reference

ELEMENTWISE_RANGE = (-8.0, 8.0)
ELEMENTWISE_POINTS = 100_001
ROWS = 256
SEED = 0


@dataclass(frozen=True)
class ApproxError:
    """Absolute error of one implementation of one op over ``samples`` inputs described by ``inputs``."""

    op: Op
    impl: NonlinearImpl
    max_abs_error: float
    mean_abs_error: float
    samples: int
    inputs: str


def default_inputs(op: Op) -> tuple[np.ndarray, str]:
    """The stated input set for ``op`` and its description."""
    rng = np.random.default_rng(SEED)
    if op is Op.SOFTMAX:
        return rng.uniform(-8.0, 8.0, (ROWS, 128)), f"{ROWS} rows x 128 logits ~ U(-8, 8), seed {SEED}"
    if op in (Op.LAYERNORM, Op.RMSNORM):
        means = rng.uniform(-2.0, 2.0, (ROWS, 1))
        stds = rng.uniform(0.1, 4.0, (ROWS, 1))
        return (means + stds * rng.standard_normal((ROWS, 768)),
                f"{ROWS} rows x 768 ~ N(mu, sigma), mu ~ U(-2, 2), sigma ~ U(0.1, 4), seed {SEED}")
    lo, hi = ELEMENTWISE_RANGE
    return np.linspace(lo, hi, ELEMENTWISE_POINTS), f"{ELEMENTWISE_POINTS} evenly spaced points in [{lo:g}, {hi:g}]"


def measure_error(op: Op, impl: NonlinearImpl, x: np.ndarray | None = None) -> ApproxError:
    """Evaluate ``impl`` of ``op`` on ``x`` (default: :func:`default_inputs`) against the exact op."""
    if x is None:
        x, description = default_inputs(op)
    else:
        x = np.asarray(x, dtype=np.float64)
        description = f"given array of shape {x.shape}, range [{x.min():.3g}, {x.max():.3g}]"
    if op in REDUCTIONS and x.ndim < 1:
        raise ValueError(f"{op.value} reduces along the last axis: give at least a 1-D array")
    error = np.abs(evaluate(op, impl, x) - reference(op, x))
    return ApproxError(op, impl, float(error.max()), float(error.mean()), int(x.size), description)


def error_table(ops: tuple[Op, ...], impls: tuple[NonlinearImpl, ...]) -> pd.DataFrame:
    """One row per (op, implementation): ``max_abs_error``, ``mean_abs_error`` and the inputs used."""
    rows = []
    for op in ops:
        for impl in impls:
            err = measure_error(op, impl)
            rows.append({"op": op.value, "impl": describe(impl), "max_abs_error": err.max_abs_error,
                         "mean_abs_error": err.mean_abs_error, "samples": err.samples, "inputs": err.inputs})
    return pd.DataFrame(rows)


def describe(impl: NonlinearImpl) -> str:
    """Short label: ``exact``, ``lut256``, ``lut64i`` (interpolated), ``pwl16``, ``poly3``, ``ibert16``."""
    kind = impl.kind.value
    detail = {"lut": f"{impl.entries}{'i' if impl.interpolate else ''}", "pwl": str(impl.segments),
              "poly": str(impl.degree), "ibert": str(impl.bits)}.get(kind, "")
    return kind + detail
