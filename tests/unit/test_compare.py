"""compare: rows in (arch, workload, scheme) order, ratios to the first row checked by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from accelsim.dse.compare import compare
from accelsim.spec.load import arch_from_dict, network_from_dict


def arch(rows, cols, clock="1GHz", name=None):
    return arch_from_dict({"name": name or f"{rows}x{cols}", "clock": clock, "array": {"rows": rows, "cols": cols},
                           "buffers": {"unified": {"size": "64KiB"}}})


def gemm(name, m, n, k):
    return network_from_dict({"name": name, "layers": [{"op": "gemm", "name": "g", "m": m, "n": n, "k": k}]})


def macs_over_pes(arch, net):
    """cycles = MACs / PEs exactly (the shapes below divide evenly); energy = 2 pJ per MAC; DRAM = 1 B per MAC."""
    cycles = net.macs // arch.pes
    return {"cycles": cycles, "macs": net.macs, "energy_pj": 2.0 * net.macs, "dram_read_bytes": net.macs,
            "dram_write_bytes": 0, "numeric_error_rms": 0.0}, pd.DataFrame()


def test_architectures_side_by_side_with_speedup_against_the_first():
    table = compare([arch(8, 8), arch(16, 16), arch(16, 16, clock="500MHz", name="slow")], [gemm("g", 64, 64, 64)],
                    evaluator=macs_over_pes)
    # 262144 MACs: 4096 cycles on 64 PEs, 1024 on 256 PEs; at 500 MHz 1024 cycles take 2.048 us
    assert table["arch"].tolist() == ["8x8", "16x16", "slow"]
    assert table["cycles"].tolist() == [4096, 1024, 1024]
    assert table["latency_s"].tolist() == pytest.approx([4.096e-6, 1.024e-6, 2.048e-6])
    assert table["speedup"].tolist() == pytest.approx([1.0, 4.0, 2.0])
    assert table["energy_ratio"].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert table["edp_ratio"].tolist() == pytest.approx([1.0, 0.25, 0.5])
    assert table["dram_bytes"].tolist() == [262144] * 3
    assert "numeric_error_rms" in table


def test_networks_side_by_side_student_against_teacher():
    teacher, student = gemm("teacher", 64, 256, 256), gemm("student", 64, 64, 256)
    table = compare([arch(8, 8)], [teacher, student], evaluator=macs_over_pes)
    assert table["workload"].tolist() == ["teacher", "student"]
    assert table["speedup"].tolist() == pytest.approx([1.0, 4.0])
    assert table["energy_ratio"].tolist() == pytest.approx([1.0, 0.25])


def test_with_several_archs_each_arch_is_its_own_baseline():
    teacher, student = gemm("teacher", 64, 256, 256), gemm("student", 64, 64, 256)
    table = compare([arch(8, 8), arch(16, 16)], [teacher, student], evaluator=macs_over_pes)
    # the student has 1/4 of the MACs on either array: 4x on each, never 16x against the other arch
    assert table["cycles"].tolist() == [65536, 16384, 16384, 4096]
    assert table["speedup"].tolist() == pytest.approx([1.0, 4.0, 1.0, 4.0])
    assert table["energy_ratio"].tolist() == pytest.approx([1.0, 0.25, 1.0, 0.25])


def test_metrics_the_models_do_not_produce_are_absent():
    def cycles_only(arch, net):
        return {"cycles": net.macs // arch.pes}, None

    table = compare([arch(8, 8)], [gemm("g", 8, 8, 8)], evaluator=cycles_only)
    assert "energy_pj" not in table and "energy_ratio" not in table and "edp_pj_s" not in table
    assert table["speedup"].tolist() == [1.0]


def test_pe_fidelity_compare_shows_numeric_error(root):
    """int4 weights lose accuracy against int8: the pe fidelity's SQNR appears and is lower."""
    from accelsim.dse.compare import compare

    table = compare([root / "arch_configs" / "edge_32x32.yaml"], [root / "workloads" / "tiny_cnn.yaml"],
                    [root / "workloads" / "schemes" / "int8.yaml", root / "workloads" / "schemes" / "int4.yaml"],
                    fidelity="pe")
    assert "sqnr_db" in table.columns and "max_rel_error" in table.columns
    int8, int4 = table.sqnr_db.tolist()
    assert int4 < int8
