"""simulate() and Result: hand-computed native cycle counts per dataflow, memory stalls, columns."""

from __future__ import annotations


import dataclasses

import pandas as pd
import pytest

import accelsim as ax
from accelsim.dse.spec import sweep_from_dict
from accelsim.errors import ConfigError, UnsupportedError
from accelsim.spec.arch import OperandDelivery, TimingModel
from accelsim.spec.options import Fidelity, MappingMode, Objective
from accelsim.spec.load import arch_from_dict, network_from_dict
from conftest import ROOT


def arch(dataflow, rows=4, cols=4, dram=None, **array):
    spec = {"name": "t", "array": {"rows": rows, "cols": cols, "dataflow": dataflow, **array},
            "buffers": {op: {"size": "1KiB"} for op in ("ifmap", "filter", "ofmap")}}
    if dram:
        spec["dram"] = dram
    return arch_from_dict(spec)


def net(*layers):
    return network_from_dict({"name": "n", "layers": list(layers)})


GEMM_6x5x7 = {"op": "gemm", "name": "g", "m": 6, "n": 5, "k": 7}


@pytest.mark.parametrize("dataflow, folds, per_fold", [
    # os: M=6 on rows (4+2), N=5 on cols (4+1), T=K=7; fold = T + r + c - 2 + R
    ("os", [(4, 4), (2, 4), (4, 1), (2, 1)], lambda r, c: 7 + r + c - 2 + 4),
    # ws: K=7 on rows (4+3), N=5 on cols, T=M=6; fold = r + T + R + c - 2
    ("ws", [(4, 4), (3, 4), (4, 1), (3, 1)], lambda r, c: r + 6 + 4 + c - 2),
    # is: K=7 on rows, M=6 on cols (4+2), T=N=5
    ("is", [(4, 4), (3, 4), (4, 2), (3, 2)], lambda r, c: r + 5 + 4 + c - 2),
])
def test_native_compute_cycles_by_hand(dataflow, folds, per_fold):
    want = sum(per_fold(r, c) for r, c in folds)          # 58 (os), 56 (ws), 54 (is)
    row = ax.simulate(arch(dataflow), net(GEMM_6x5x7)).layers.iloc[0]
    assert row.cycles == row.compute_cycles == want
    assert row.stall_cycles == 0                           # no DRAM bandwidth given: unlimited
    assert row.folds == 4
    assert row.utilization == pytest.approx(210 / (16 * want))
    assert row.mapping_efficiency == pytest.approx(sum(r * c for r, c in folds) / (4 * 16))


def test_preload_overlap_by_hand():
    # ws, folds (r, c) = (4,4), (3,4), (4,1), (3,1), T = 6, R = 4:
    # s0 = 4, s1 = 4+max(6,3) = 10, s2 = 10+max(6,4) = 16, s3 = 16+max(6,3) = 22;
    # ends s+T+R+c-2: 16, 22, 25, 31 -> 31
    row = ax.simulate(arch("ws", preload_overlap=True), net(GEMM_6x5x7)).layers.iloc[0]
    assert row.cycles == 31
    os_row = ax.simulate(arch("os", preload_overlap=True), net(GEMM_6x5x7)).layers.iloc[0]
    assert os_row.cycles == 58                             # os: output_overlap, not preload_overlap


@pytest.mark.parametrize("fidelity", ["fold", "cycle", "pe"])
@pytest.mark.parametrize("delivery, overlap, want", [
    # os, folds (r, c) = (4,4), (2,4), (4,1), (2,1), T = 7, R = 4 (docs/timing_models.md):
    # systolic: last MAC s + T-1 + r-1 + c-1 = s + 12, 10, 9, 7; its drain ends 4 cycles later.
    # Overlap: s_{f+1} = max(s_f + T, L_f + R + 2 - T): s = 0, max(7, 12+4+2-7 = 11) = 11,
    # max(18, 21+4+2-7 = 20) = 20, max(27, 29+4+2-7 = 28) = 28; end 28+7 + 4 + 1 = 40.
    ("systolic", True, 40),
    # broadcast: no skew, fold = T + R = 11: 4 x 11 = 44 without overlap; with it the drain
    # (4 cycles) hides under the next stream (7): s = 0, 7, 14, 21, end 21 + 11 = 32.
    ("broadcast", False, 44),
    ("broadcast", True, 32),
])
def test_os_output_overlap_and_broadcast_by_hand(fidelity, delivery, overlap, want):
    spec = arch("os", output_overlap=overlap, operand_delivery=delivery)
    row = ax.simulate(spec, net(GEMM_6x5x7), fidelity=fidelity).layers.iloc[0]
    assert row.cycles == row.compute_cycles == want


def test_broadcast_is_os_only_and_native_only():
    with pytest.raises(ConfigError, match="operand_delivery.*os dataflow only"):
        arch("ws", operand_delivery="broadcast")
    with pytest.raises(ConfigError, match="array.operand_delivery.*SCALE-Sim timing models a systolic array"):
        arch_from_dict({"name": "t", "timing_model": "scalesim",
                        "array": {"rows": 4, "cols": 4, "dataflow": "os", "operand_delivery": "broadcast"},
                        "buffers": {"unified": {"size": "1KiB"}}})
    built = dataclasses.replace(arch("ws"), array=dataclasses.replace(arch("ws").array,
                                                                      operand_delivery=OperandDelivery.BROADCAST))
    with pytest.raises(UnsupportedError, match="os dataflow only"):  # built without validation
        ax.simulate(built, net(GEMM_6x5x7))


def test_one_by_one_array_takes_t_plus_one_per_fold():
    for dataflow in ("os", "ws", "is"):
        row = ax.simulate(arch(dataflow, rows=1, cols=1), net({"op": "gemm", "name": "g", "m": 1, "n": 1, "k": 9})).layers
        folds, t = (1, 9) if dataflow == "os" else (9, 1)    # ws/is put K = 9 on the one row
        assert row.cycles.iloc[0] == folds * (t + 1)


def test_memory_stalls_by_hand():
    """4x4x4 GEMM on a 4x4 ws array at 2 B/cycle: one fold of 4+4+4+4-2 = 14 cycles.

    Before it: 16 B of weights + 16 B of inputs = 16 cycles on the one channel; after it the
    16 output bytes take 8 cycles. Total 16 + 14 + 8 = 38, 24 of them stalls.
    """
    gemm = {"op": "gemm", "name": "g", "m": 4, "n": 4, "k": 4}
    row = ax.simulate(arch("ws", dram={"bandwidth": "2B/cycle"}), net(gemm)).layers.iloc[0]
    assert (row.compute_cycles, row.cycles, row.stall_cycles) == (14, 38, 24)
    assert (row.dram_read_bytes, row.dram_write_bytes) == (32, 16)
    latency = ax.simulate(arch("ws", dram={"bandwidth": "2B/cycle", "latency": "10cycles"}), net(gemm)).layers
    assert latency.cycles.iloc[0] == 48                    # the first load waits 10 more cycles


def test_partial_sums_with_and_without_accumulators():
    plain = ax.simulate(arch("ws"), net(GEMM_6x5x7)).layers.iloc[0]
    assert (plain.ofmap_sram_writes, plain.ofmap_sram_reads) == (60, 30)   # T*c per fold; read back
    acc = ax.simulate(arch("ws", accumulators="1KiB"), net(GEMM_6x5x7)).layers.iloc[0]
    assert (acc.ofmap_sram_writes, acc.ofmap_sram_reads) == (30, 0)        # M*N once


def test_uncosted_layers_are_missing_not_zero():
    layers = [GEMM_6x5x7, {"op": "softmax", "name": "s", "shape": [5]}]
    res = ax.simulate(arch("ws"), net(*layers))          # no vector unit: the softmax is not costed
    soft = res.layers.set_index("layer").loc["s"]
    assert not soft.costed
    assert pd.isna(soft.cycles) and pd.isna(soft.utilization) and pd.isna(soft.dram_read_bytes)
    assert res.layers.cycles.dtype == "Int64"
    assert res.summary.cycles.iloc[0] == res.layers.cycles.iloc[0]
    assert res.summary.costed_layers.iloc[0] == 1 and res.summary.layers.iloc[0] == 2


def test_columns_of_the_public_api():
    res = ax.simulate(arch("ws"), net(GEMM_6x5x7))
    for name in ("layer", "op", "macs", "weight_bits", "act_bits", "weight_density", "act_density", "cycles",
                 "compute_cycles", "stall_cycles", "utilization", "mapping_efficiency", "compute_utilization",
                 "ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes", "ofmap_sram_reads",
                 "ifmap_dram_reads", "filter_dram_reads", "ofmap_dram_writes", "dram_read_bytes",
                 "dram_write_bytes", "folds", "costed"):
        assert name in res.layers.columns, name
    assert "cycles_incl_prefetch" not in res.layers.columns          # SCALE-Sim timing only


def test_unified_buffer_architecture_runs():
    tpu = ax.load_arch(ROOT / "arch_configs" / "tpu_v1_like.yaml")
    res = ax.simulate(tpu, ax.load_workload(ROOT / "workloads" / "tiny_cnn.yaml"))
    costed = res.layers[res.layers.op.isin(["conv2d", "gemm"])]
    assert (costed.cycles >= costed.compute_cycles).all()
    # everything fits in 8 MiB: each weight is read from DRAM exactly once
    weights = sum(layer.weight_elements for layer in res.network.layers)
    assert int(costed.filter_dram_reads.sum()) == weights


def test_unknown_fidelity_is_refused_with_one_error_class():
    with pytest.raises(ConfigError, match="fidelity: expected one of fold, cycle, pe, got 'exact'"):
        ax.simulate(arch("ws"), net(GEMM_6x5x7), fidelity="exact")
    with pytest.raises(ConfigError, match="fidelity: expected one of fold, cycle, pe, got 'exact'"):
        ax.run_gemm(arch("ws"), [[1]], [[1]], fidelity="exact")
    with pytest.raises(ConfigError, match="fidelity: expected one of fold, cycle, pe, got 'exact'"):
        sweep_from_dict({"arch": "a", "workloads": ["w"], "fidelity": "exact"})


def test_typed_options_and_their_strings_give_the_same_result():
    a, n = arch("ws"), net(GEMM_6x5x7)
    typed = ax.simulate(a, n, Fidelity.CYCLE, mapping=MappingMode.SEARCH, objective=Objective.EDP)
    named = ax.simulate(a, n, "cycle", mapping="search", objective="edp")
    pd.testing.assert_frame_equal(typed.layers, named.layers)
    assert typed.fidelity is Fidelity.CYCLE and typed.summary["fidelity"].iloc[0] == "cycle"


def test_counts_stay_exact_at_1e13_macs():
    huge = {"op": "gemm", "name": "big", "m": 2**20, "n": 2**14, "k": 2**10}   # 1.76e13 MACs
    row = ax.simulate(arch("os", rows=128, cols=128), net(huge)).layers.iloc[0]
    assert row.macs == 2**44
    folds = (2**20 // 128) * (2**14 // 128)
    assert row.cycles == folds * (2**10 + 128 + 128 - 2 + 128)
    assert row.ifmap_sram_reads == 2**20 * 2**10 * (2**14 // 128)


def test_layers_that_differ_only_in_name_cost_the_same_as_alone():
    """simulate() runs a repeated layer shape once; each row must equal the layer simulated alone,
    and a rate rule that looks at names still gets each layer's own rate."""
    from accelsim.lower.gemm import ArrayRate
    from accelsim.simulate import dense_rate, hardware_rate

    shapes = [GEMM_6x5x7 | {"name": name} for name in ("a", "b", "c")] + [{**GEMM_6x5x7, "name": "d", "k": 9}]
    slow = ArrayRate(1, 2, None)

    def rate_by_name(layer, spec):
        return slow if layer.name == "b" else dense_rate(layer, spec)

    for rule in (hardware_rate, rate_by_name):
        together = ax.simulate(arch("ws"), net(*shapes), mac_rate=rule).layers.set_index("layer")
        for shape in shapes:
            alone = ax.simulate(arch("ws"), net(shape), mac_rate=rule).layers.set_index("layer")
            pd.testing.assert_series_equal(together.loc[shape["name"]], alone.loc[shape["name"]])
    assert together.at["b", "cycles"] > together.at["a", "cycles"] == together.at["c", "cycles"]


def test_repeated_runs_are_independent_of_earlier_results():
    """simulate() memoizes its per-network preparation: a caller editing one result's frames, or a
    run that raised, changes nothing in the next run (hand counts: one 6x5x7 GEMM on 4x4 os is
    4 folds, 42 x 5 = 210 MACs)."""
    a, n = arch("os"), net(GEMM_6x5x7)
    first = ax.simulate(a, n, mapping="fixed")
    expected = first.layers.copy(deep=True)
    first.layers.loc[0, "macs"] = 1
    first.layers.loc[0, "layer"] = "edited"
    first.summary.loc[0, "cycles"] = 0
    again = ax.simulate(a, n, mapping="fixed")
    pd.testing.assert_frame_equal(again.layers, expected)
    assert (again.layers.loc[0, "macs"], again.layers.loc[0, "folds"], again.layers.loc[0, "layer"]) == (210, 4, "g")
    assert again.cycles == int(expected["cycles"].sum())
    scalesim = dataclasses.replace(a, timing_model=TimingModel.SCALESIM)
    for _ in range(2):  # the memory plan's refusal is raised on every call, not remembered as a result
        with pytest.raises(UnsupportedError, match="memory plan"):
            ax.simulate(scalesim, n, memory_plan=True)


def test_result_frames_are_built_on_first_access_and_pickle():
    """``cycles`` needs no frame; the frames, built once on first access, agree with it (the
    sum of the costed layers' cycles) and survive pickling (sweeps over processes); a frame a
    caller edits is the one ``cycles`` reads, as before frames were built lazily."""
    import pickle

    layers = [GEMM_6x5x7, {**GEMM_6x5x7, "name": "h", "k": 9}, {"op": "softmax", "name": "s", "shape": [5]}]
    res = ax.simulate(arch("os"), net(*layers), mapping="fixed")
    total = res.cycles
    assert "layers" not in vars(res) and "summary" not in vars(res)
    assert total == int(res.layers.cycles.sum()) == int(res.layers.cycles[res.layers.costed].sum())
    assert res.layers is res.layers and res.summary is res.summary
    assert total == res.summary.cycles.iloc[0]
    fresh = ax.simulate(arch("os"), net(*layers), mapping="fixed")
    for clone in (pickle.loads(pickle.dumps(res)), pickle.loads(pickle.dumps(fresh))):
        pd.testing.assert_frame_equal(clone.layers, res.layers)
        pd.testing.assert_frame_equal(clone.summary, res.summary)
        assert clone.cycles == total
    res.summary.loc[0, "cycles"] = 0
    assert res.cycles == 0
