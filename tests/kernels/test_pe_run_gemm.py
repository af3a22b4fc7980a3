"""``run_gemm(..., fidelity="pe")`` on the shipped architectures: outputs against numpy, cycles
against the ``fold`` fidelity's compute cycles (the closed forms of docs/timing_models.md)."""

from __future__ import annotations

import numpy as np
import pytest

import accelsim as ax
from accelsim.engine.functional import run_gemm
from accelsim.errors import ConfigError

ARCHS = sorted((ax.load_arch(p) for p in __import__("pathlib").Path(__file__).parents[2].glob("arch_configs/*.yaml")),
               key=lambda a: a.name)


@pytest.mark.parametrize("arch", ARCHS, ids=lambda a: a.name)
def test_pe_on_shipped_archs_matches_numpy_and_fold(arch, rng):
    m, n, k = 37, 21, 45
    a = rng.integers(-128, 128, (m, k))
    b = rng.integers(-128, 128, (k, n))
    out, stats = run_gemm(arch, a, b, fidelity="pe")
    np.testing.assert_array_equal(out, a @ b)  # |sum| < 2**31: no 32-bit wrap
    _, fold_stats = run_gemm(arch, a, b, fidelity="fold")
    assert stats["cycles"] == fold_stats["compute_cycles"]
    assert stats["stall_cycles"] == 0
    assert stats["macs"] == m * n * k
    # the words the register model saw at its edges are the schedule's SRAM traffic
    assert stats["ifmap_words"] == fold_stats["ifmap_sram_reads"]
    assert stats["filter_words"] == fold_stats["filter_sram_reads"]


@pytest.mark.parametrize("a, b, key", [
    (np.ones((2, 3)), np.ones((4, 2)), "B"),
    (np.ones(3), np.ones((3, 2)), "A"),
    (np.array([["x"]]), np.ones((1, 1)), "A"),
    (np.array([[np.inf]]), np.ones((1, 1)), "A, B"),
    (np.array([[2**40]]), np.array([[2**40]]), "A, B"),
])
def test_bad_operands_name_the_problem(a, b, key):
    with pytest.raises(ConfigError, match=f"{key}:"):
        run_gemm(ARCHS[0], a, b)


def test_unknown_fidelity():
    with pytest.raises(ConfigError, match="fidelity"):
        run_gemm(ARCHS[0], np.ones((1, 1)), np.ones((1, 1)), fidelity="rtl")
