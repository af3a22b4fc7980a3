"""``run_gemm(..., fidelity="pe")`` on the shipped architectures: outputs against numpy, cycles
against the ``fold`` fidelity's compute cycles (the closed forms of docs/timing_models.md)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import accelsim as ax
from accelsim.engine.functional import run_gemm
from accelsim.errors import ConfigError
from accelsim.lower.gemm import ArrayRate
from accelsim.spec.arch import ArraysSpec


def one_array(arch):
    return dataclasses.replace(arch, arrays=ArraysSpec())


# a chip of several arrays contributes one of them: run_gemm runs one array (docs/multi_array.md)
ARCHS = sorted((one_array(ax.load_arch(p)) for p in __import__("pathlib").Path(__file__).parents[2].glob("arch_configs/*.yaml")),
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


def test_nm_layers_run_natively_in_pe_as_in_fold():
    """sparse-2of4 runs a 2:4 layer with K -> (K//4)*2 + min(K%4, 2) (its default hardware
    rate); pe measures the cycles fold computes, for a conv (K = 3*3*6 = 54 -> 27 slots) and a
    linear layer with a partial last group (K = 37 -> 9*2 + 1 = 19 slots)."""
    arch = next(a for a in ARCHS if a.name == "sparse-2of4")
    sparse = {"weight_bits": 8, "sparsity": {"pattern": "2:4"}}
    net = ax.spec.load.network_from_dict({"name": "nm", "layers": [
        {"op": "conv2d", "name": "c", "in_channels": 6, "out_channels": 70, "in_h": 6, "in_w": 6, "kernel": 3,
         "compression": sparse},
        {"op": "gemm", "name": "fc", "m": 5, "n": 66, "k": 37, "compression": sparse}]})
    pe_res = ax.simulate(arch, net, fidelity="pe")
    fold_res = ax.simulate(arch, net, fidelity="fold")
    assert pe_res.layers["cycles"].tolist() == fold_res.layers["compute_cycles"].tolist()
    # by hand, fc on 64x64 ws with overlap: Sr = 19 slots, Sc = 66 (64 + 2), T = 5;
    # s = 19, 19 + max(5, 19) = 38; ends 19 + 5 + 64 + 64 - 2 = 150 and 38 + 5 + 64 + 2 - 2 = 107
    assert int(pe_res.layers["cycles"].iloc[1]) == 150


def test_nm_run_gemm_computes_the_sparse_product(rng):
    arch = next(a for a in ARCHS if a.name == "sparse-2of4")
    a = rng.integers(-128, 128, (20, 30))
    b = rng.integers(-128, 128, (30, 70))
    b[np.arange(30) % 4 >= 2] = 0
    out, stats = run_gemm(arch, a, b, fidelity="pe", rate=ArrayRate(nm=(2, 4)))
    np.testing.assert_array_equal(out, a @ b)
    _, fold_stats = run_gemm(arch, a, b, fidelity="fold", rate=ArrayRate(nm=(2, 4)))
    assert stats["cycles"] == fold_stats["compute_cycles"]
    assert stats["filter_words"] == fold_stats["filter_sram_reads"] == 16 * 70  # 30 = 7*4 + 2 -> 7*2 + min(2, 2) = 16 slots
