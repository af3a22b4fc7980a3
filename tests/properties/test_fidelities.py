"""Three fidelities, one answer (DESIGN.md): ``fold``, ``cycle`` and ``pe`` on whole networks and
on random integer GEMMs through the shipped architectures: the same compute cycles, and the pe
fidelity's register-level product equal to the exact one."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import accelsim as ax
from accelsim.spec.arch import ArraysSpec

ROOT = Path(__file__).resolve().parents[2]
ARCHS = [p for p in sorted(ROOT.glob("arch_configs/*.yaml"))]


@pytest.fixture(scope="module")
def results():
    arch = ax.load_arch(ROOT / "arch_configs/edge_32x32.yaml")
    net = ax.load_workload(ROOT / "workloads/tiny_cnn.yaml")
    return {fid: ax.simulate(arch, net, fidelity=fid).layers for fid in ("fold", "cycle", "pe")}


def test_compute_cycles_are_one_answer(results):
    fold, cycle, pe = results["fold"], results["cycle"], results["pe"]
    np.testing.assert_array_equal(cycle["compute_cycles"], fold["compute_cycles"])
    np.testing.assert_array_equal(pe["compute_cycles"], fold["compute_cycles"])
    array = fold["stall_cycles"].notna() & (pe["stall_cycles"] == 0)
    assert array.any()
    # pe has an ideal memory: its total is its compute time, measured by stepping registers
    np.testing.assert_array_equal(pe.loc[array, "cycles"], fold.loc[array, "compute_cycles"])


def test_cycle_moves_the_same_traffic_and_never_beats_compute(results):
    fold, cycle = results["fold"], results["cycle"]
    for column in ("ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes", "dram_read_bytes",
                   "dram_write_bytes"):
        np.testing.assert_array_equal(cycle[column], fold[column], err_msg=column)
    assert (cycle["cycles"] >= cycle["compute_cycles"]).all()


@pytest.mark.parametrize("path", ARCHS, ids=lambda p: p.stem)
def test_random_integer_gemm_through_all_fidelities(path, rng):
    arch = ax.load_arch(path)
    arch = dataclasses.replace(arch, arrays=ArraysSpec())  # run_gemm runs one array of a chip of several
    a = rng.integers(-128, 128, (29, 40))
    b = rng.integers(-128, 128, (40, 19))
    outs, stats = {}, {}
    for fid in ("fold", "cycle", "pe"):
        try:
            outs[fid], stats[fid] = ax.run_gemm(arch, a, b, fidelity=fid)
        except ax.AccelsimError as exc:  # cycle steps the native timing only
            assert fid == "cycle" and arch.timing_model.value == "scalesim", exc
    # only pe computes the product (on its registers); fold and cycle model timing and return
    # numpy's product by definition, so their outputs are not evidence of anything
    exact = (a.astype(object) @ b.astype(object)).astype(np.int64)  # Python integers: no overflow
    np.testing.assert_array_equal(outs["pe"], exact)
    for fid, s in stats.items():
        assert s["compute_cycles"] == stats["pe"]["cycles"], fid
        if s["stall_cycles"] == 0:
            assert s["cycles"] == stats["pe"]["cycles"], fid
