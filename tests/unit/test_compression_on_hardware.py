"""Compression paying off (or not) on simulated hardware, end to end through ``simulate``.

Every expected number is derived by hand in the test from the fold formula of
docs/timing_models.md (ws: ``r + T + R + c - 2`` per fold; with ``preload_overlap``
``s_0 = r_0``, ``s_{f+1} = s_f + max(T_f, r_{f+1})``, total ``max_f s_f + T_f + R + c_f - 2``),
the Bit Fusion brick rule of docs/precision.md and the N:M slot count of docs/sparsity.md.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import accelsim as ax
from accelsim.compress.masks import read_masks
from accelsim.compress.scheme import apply_scheme, load_scheme
from accelsim.errors import UnsupportedError, WorkloadError
from accelsim.lower.gemm import lower_layer
from accelsim.simulate import dense_rate
from accelsim.spec.arch import DramSpec, SparsityMode
from accelsim.spec.load import arch_from_dict, network_from_dict, save_workload
from conftest import ROOT

ARCHS = ROOT / "arch_configs"
WORKLOADS = ROOT / "workloads"


def ws_compute_cycles(rows: int, cols: int, sr: int, sc: int, t: int, overlap: bool) -> int:
    """Native ws compute cycles by hand, folds column-fold-major."""
    folds = [(min(rows, sr - i * rows), min(cols, sc - j * cols))
             for j in range(math.ceil(sc / cols)) for i in range(math.ceil(sr / rows))]
    if not overlap:
        return sum(r + t + rows + c - 2 for r, c in folds)
    start, end = folds[0][0], 0
    for f, (r, c) in enumerate(folds):
        end = max(end, start + t + rows + c - 2)
        if f + 1 < len(folds):
            start += max(t, folds[f + 1][0])
    return end


def slots_2of4(k: int) -> int:
    """2:4 slots along a reduction of k: 2 per full group of 4, a partial group keeps min(rest, 2)."""
    full, rest = divmod(k, 4)
    return 2 * full + min(rest, 2)


def gemm_net(m: int, n: int, k: int, **compression) -> object:
    layer = {"op": "gemm", "name": "fc", "m": m, "n": n, "k": k}
    if compression:
        layer["compression"] = compression
    return network_from_dict({"name": "one", "layers": [layer]})


def test_bitfusion_int4_vs_int8_compute_bound():
    """16 x 32 ws Bit Fusion array, GEMM m=256 n=64 k=512, fixed mapping.

    The config states ``preload_overlap`` (weights come from each unit's own bank), so the folds
    run back to back: ``16 + folds x 256 + 16 + 32 - 2``.
    int8 x int8 needs 4 x 4 = 16 bricks: p = 1, K stays 512 -> 32 row folds x 2 column folds:
    16 + 64 x 256 + 46 = 16446.
    int4 x int4 needs 2 x 2 = 4 bricks: p = 16 // 4 = 4, K -> 128 -> 8 x 2 folds: 16 + 16 x 256 + 46 = 4158.
    """
    arch = ax.load_arch(ARCHS / "bitfusion_like.yaml")
    assert arch.array.preload_overlap
    int8 = ax.simulate(arch, gemm_net(256, 64, 512, weight_bits=8, act_bits=8), mapping="fixed").layers.iloc[0]
    int4 = ax.simulate(arch, gemm_net(256, 64, 512, weight_bits=4, act_bits=4), mapping="fixed").layers.iloc[0]
    assert int8["compute_cycles"] == 16 + 64 * 256 + 46 == ws_compute_cycles(16, 32, 512, 64, 256, True)
    assert int4["compute_cycles"] == 16 + 16 * 256 + 46
    # the dense override ignores the MAC unit: int4 then runs as fast as int8
    same = ax.simulate(arch, gemm_net(256, 64, 512, weight_bits=4, act_bits=4), mac_rate=dense_rate, mapping="fixed")
    assert same.layers.iloc[0]["compute_cycles"] == 16 + 64 * 256 + 46
    # int4 weights x int8 activations: 2 x 4 = 8 bricks, p = 2, K -> 256: 16 x 2 folds
    mixed = ax.simulate(arch, gemm_net(256, 64, 512, weight_bits=4, act_bits=8), mapping="fixed").layers.iloc[0]
    assert mixed["compute_cycles"] == 16 + 32 * 256 + 46
    # without the overlap every fold pays its load, skew and drain: 16 + 256 + 16 + 32 - 2 = 318 each
    plain = dataclasses.replace(arch, array=dataclasses.replace(arch.array, preload_overlap=False))
    int8_plain = ax.simulate(plain, gemm_net(256, 64, 512, weight_bits=8, act_bits=8), mapping="fixed").layers.iloc[0]
    assert int8_plain["compute_cycles"] == 64 * 318 == ws_compute_cycles(16, 32, 512, 64, 256, False)


def test_2of4_on_sparse_array_hand_cycles_and_macs():
    """sparse_2of4: 64 x 64 ws with preload overlap. GEMM m=100 n=64 k=258 at 2:4.

    K_eff = 2*64 + min(2, 2) = 130 (not ceil(258/2) = 129): row folds r = 64, 64, 2; T = 100,
    c = 64. s = 64, 164, 264; ends s + 100 + 64 + 64 - 2: the last is 264 + 226 = 490.
    Dense: K = 258 -> r = 64 x 4, 2: s = 64, 164, 264, 364, 464 -> 690.
    MACs: 100 x 64 x (258 - 130) skipped; the 130 x 64 slots hold 0.5 x 258 x 64 = 8256 weights,
    so 100 x (8320 - 8256) = 6400 products meet an empty slot and are gated (mode skip).
    """
    arch = ax.load_arch(ARCHS / "sparse_2of4.yaml")
    assert slots_2of4(258) == 130
    nm = ax.simulate(arch, gemm_net(100, 64, 258, sparsity={"pattern": "2:4"})).layers.iloc[0]
    dense = ax.simulate(arch, gemm_net(100, 64, 258)).layers.iloc[0]
    assert nm["compute_cycles"] == 490 == ws_compute_cycles(64, 64, 130, 64, 100, True)
    assert dense["compute_cycles"] == 690 == ws_compute_cycles(64, 64, 258, 64, 100, True)
    assert nm["sparsity_model"] == "nm" and nm["weight_format"] == "nm_index"
    assert nm["skipped_macs"] == 100 * 64 * 128
    assert nm["gated_macs"] == 6400
    assert nm["mac_ops"] == 100 * 64 * 129
    # 2-bit index per slot: 130 x 64 x 2 bits
    assert nm["weight_metadata_bytes"] == 130 * 64 * 2 // 8
    # weight DRAM traffic: 8320 int8 slots plus 2080 index bytes, as words of 8 bits
    assert nm["filter_dram_reads"] == 130 * 64 + 130 * 64 * 2 // 8


def test_unsupported_precision_names_every_layer_and_the_supported_set():
    arch = ax.load_arch(ARCHS / "sparse_2of4.yaml")
    net = network_from_dict({"name": "wide", "layers": [
        {"op": "gemm", "name": "ok", "m": 4, "n": 4, "k": 4},
        {"op": "gemm", "name": "wide_a", "m": 4, "n": 4, "k": 4, "compression": {"weight_bits": 16}},
        {"op": "gemm", "name": "wide_b", "m": 4, "n": 4, "k": 4, "compression": {"act_bits": 32}},
    ]})
    with pytest.raises(UnsupportedError) as info:
        ax.simulate(arch, net)
    text = str(info.value)
    assert "2 layers of wide cannot run" in text
    assert "'wide_a'" in text and "'wide_b'" in text and "'ok'" not in text
    assert "int8, fp16" in text


def test_dense_layers_equal_the_dense_rate_run_on_every_shipped_arch():
    """Without compression the hardware rule is the dense array, number for number (every
    shipped arch runs int8 x int8 at one product per cycle, but the bit-serial one and those that
    list a faster int8 rate)."""
    net = network_from_dict({"name": "plain", "layers": [
        {"op": "conv2d", "name": "c1", "in_channels": 3, "out_channels": 16, "in_h": 16, "in_w": 16,
         "kernel": 3, "padding": 1},
        {"op": "conv2d", "name": "c2", "in_channels": 16, "out_channels": 32, "in_h": 16, "in_w": 16,
         "kernel": 3, "stride": 2, "padding": 1},
        {"op": "gemm", "name": "fc", "m": 1, "n": 10, "k": 2048},
    ]})
    for path in sorted(ARCHS.glob("*.yaml")):
        arch = ax.load_arch(path)
        if arch.mac.kind.value == "bit_serial":   # int8 activations take 8 serial cycles: not dense
            continue
        if arch.mac.rates.get("int8", 1) != 1:    # tpu_v5e_like: two int8 products per cycle, not dense
            continue
        got = ax.simulate(arch, net).layers
        want = ax.simulate(arch, net, mac_rate=dense_rate).layers
        assert (got["sparsity_model"] == "dense").all(), path.name
        assert got.equals(want), path.name


def _gate(arch):
    return dataclasses.replace(arch, sparsity=dataclasses.replace(arch.sparsity, mode=SparsityMode.GATE,
                                                                   structured=()))


def test_gate_keeps_dense_cycles_and_lowers_mac_energy():
    """Gating, statistical: 30 % of the weights kept -> 70 % of the products gated, none skipped,
    compute cycles as dense, MAC energy down."""
    arch = _gate(ax.load_arch(ARCHS / "sparse_2of4.yaml"))
    sparse = ax.simulate(arch, gemm_net(96, 128, 512, sparsity={"pattern": "unstructured", "density": 0.3}))
    dense = ax.simulate(arch, gemm_net(96, 128, 512))
    row, ref = sparse.layers.iloc[0], dense.layers.iloc[0]
    assert row["sparsity_model"] == "statistical"
    assert row["compute_cycles"] == ref["compute_cycles"]
    assert row["skipped_macs"] == 0
    assert row["mac_ops"] == round(0.3 * 96 * 128 * 512)
    assert row["energy_mac_pj"] < ref["energy_mac_pj"]


def test_skip_from_a_mask_file_read_relative_to_the_workload(tmp_path):
    """4 x 4 ws array, no overlap, column lockstep; GEMM m=6 n=4 k=8 with weight rows 4..7 all
    zero. Fold 1 (k 0..3) streams T = 6: 4 + 6 + 4 + 4 - 2 = 16; fold 2 has no effectual MAC:
    T_eff = 0, it still loads and drains: 4 + 0 + 4 + 4 - 2 = 10. Dense: 2 x 16 = 32.
    MACs: 6 x 16 performed, 6 x 16 skipped."""
    arch = arch_from_dict({"name": "tiny-skip", "array": {"rows": 4, "cols": 4, "dataflow": "ws"},
                           "buffers": {"unified": {"size": "64KiB"}},
                           "sparsity": {"mode": "skip", "formats": ["bitmask"]}})
    mask = np.zeros((8, 4), bool)
    mask[:4] = True
    (tmp_path / "masks").mkdir()
    np.save(tmp_path / "masks" / "fc.npy", mask)
    unread = gemm_net(6, 4, 8, sparsity={"pattern": "unstructured", "mask": "masks/fc.npy"})
    save_workload(unread, tmp_path / "net.yaml")
    net = ax.load_workload(tmp_path / "net.yaml")  # reads masks/fc.npy next to the file
    assert (net.layers[0].compression.sparsity.mask.values == mask).all()
    assert read_masks(unread, tmp_path) == net
    row = ax.simulate(arch, net).layers.iloc[0]
    assert row["sparsity_model"] == "mask"
    assert row["compute_cycles"] == 16 + 10
    assert (row["mac_ops"], row["gated_macs"], row["skipped_macs"]) == (96, 0, 96)
    assert row["weight_format"] == "bitmask"
    assert row["weight_metadata_bytes"] == 32 // 8
    assert ax.simulate(arch, gemm_net(6, 4, 8)).layers.iloc[0]["compute_cycles"] == 32
    with pytest.raises(WorkloadError, match="cannot read it as the mask of layer fc"):
        read_masks(unread, tmp_path / "elsewhere")
    with pytest.raises(WorkloadError, match="masks/fc.npy was not read"):
        ax.simulate(arch, unread)


def test_tiny_cnn_int4_sparse24_end_to_end():
    """tiny_cnn on sparse_2of4 with int4 + 2:4 on conv/gemm layers vs int8.

    With ideal memory (no DRAM bandwidth limit) every layer's cycles are its compute cycles, so
    the speed-up is derived exactly: array layers by the fold formula with K -> K_eff (the fixed
    int8 unit gains nothing from int4: p = 1), vector layers unchanged. With the real HBM2 the
    sparse network must be faster, by less than its compute speed-up plus what smaller weights
    save (checked: faster, and MACs conserved)."""
    arch = ax.load_arch(ARCHS / "sparse_2of4.yaml")
    ideal = dataclasses.replace(arch, dram=DramSpec())
    base = ax.load_workload(WORKLOADS / "tiny_cnn.yaml")
    dense_net = apply_scheme(base, load_scheme(WORKLOADS / "schemes" / "int8.yaml"))
    sparse_net = apply_scheme(base, load_scheme(WORKLOADS / "schemes" / "int4_sparse24.yaml"))
    dense, sparse = ax.simulate(ideal, dense_net), ax.simulate(ideal, sparse_net)
    expected_dense = expected_sparse = 0
    for layer_d, layer_s, row_d in zip(dense_net.layers, sparse_net.layers, dense.layers.itertuples()):
        problem = lower_layer(layer_d)
        if problem is None:   # vector work: the same in both
            expected_dense += row_d.cycles
            expected_sparse += row_d.cycles
            continue
        k_dense = problem.k if layer_d.compression.sparsity.n_m is None else slots_2of4(problem.k)
        k_sparse = slots_2of4(problem.k) if layer_s.compression.sparsity.n_m == (2, 4) else problem.k
        expected_dense += problem.repeats * ws_compute_cycles(64, 64, k_dense, problem.n, problem.m, True)
        expected_sparse += problem.repeats * ws_compute_cycles(64, 64, k_sparse, problem.n, problem.m, True)
    assert dense.cycles == expected_dense
    assert sparse.cycles == expected_sparse
    assert expected_sparse < expected_dense
    real_dense, real_sparse = ax.simulate(arch, dense_net), ax.simulate(arch, sparse_net)
    assert real_sparse.cycles < real_dense.cycles
    for result in (real_dense, real_sparse):
        rows = result.layers[result.layers["costed"]]
        assert (rows["mac_ops"] + rows["gated_macs"] + rows["skipped_macs"] == rows["macs"]).all()


def test_skipping_needs_the_fixed_mapping():
    """T_eff per fold is measured on the fixed column-fold-major order; a searched mapping
    (other loop order, stream tiles or dataflow) is refused rather than misaligned."""
    arch = arch_from_dict({"name": "skip16", "array": {"rows": 16, "cols": 16, "dataflow": "ws"},
                           "buffers": {"unified": {"size": "8KiB"}}, "sparsity": {"mode": "skip"}})
    net = gemm_net(200, 64, 300, sparsity={"pattern": "unstructured", "density": 0.3})
    fixed = ax.simulate(arch, net).layers.iloc[0]
    assert fixed["sparsity_model"] == "statistical"
    # an 8 KiB buffer cannot hold the fixed mapping's tiles, so the search tiles the stream
    with pytest.raises(UnsupportedError, match="fixed mapping"):
        ax.simulate(arch, net, mapping="search")
