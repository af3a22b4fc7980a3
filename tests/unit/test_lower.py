"""Lowering layers to GEMMs and the fixed tile schedule, against hand calculations."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.errors import UnsupportedError
from accelsim.lower import ArrayRate, fixed_schedule, lower_layer, spatial_mapping
from accelsim.lower.schedule import FILTER, IFMAP, OFMAP_READ, OFMAP_WRITE
from accelsim.lower.tiling import buffer_words
from accelsim.spec.arch import Dataflow, TimingModel
from accelsim.spec.load import arch_from_dict
from accelsim.frontend.load import load_arch
from accelsim.spec.workload import Conv2d, Gemm, MatMul, Nonlinear, Op
from conftest import ROOT


def arch(dataflow="ws", rows=4, cols=4, **array):
    return arch_from_dict({"name": "t", "array": {"rows": rows, "cols": cols, "dataflow": dataflow, **array},
                           "buffers": {op: {"size": "64KiB"} for op in ("ifmap", "filter", "ofmap")}})


def test_conv_with_padding_dilation_groups():
    # out = (8 + 1 + 1 - (2*(3-1)+1)) // 2 + 1 = 3 per side
    conv = Conv2d(name="c", in_channels=4, out_channels=6, in_h=8, in_w=8, kernel=(3, 3), stride=(2, 2),
                  padding=(1, 1, 1, 1), dilation=(2, 2), groups=2, batch=2)
    p = lower_layer(conv)
    assert (p.m, p.n, p.k, p.repeats) == (2 * 3 * 3, 3, 2 * 3 * 3, 2)
    assert p.ifmap_words == 2 * 2 * 8 * 8          # per group: batch x channels/group x H x W
    assert p.macs == conv.macs


def test_gemm_matmul_and_vector_ops():
    assert lower_layer(Gemm(name="g", m=3, n=5, k=7, batch=2)).m == 6
    mm = lower_layer(MatMul(name="a", m=4, n=6, k=8, heads=3, batch=2))
    assert (mm.m, mm.n, mm.k, mm.repeats) == (4, 6, 8, 6)
    assert lower_layer(Nonlinear(op=Op.SOFTMAX, name="s", shape=(10,))) is None


def test_scalesim_lowering_uses_ceil_dims_and_no_padding():
    # SCALE-Sim: Eh = ceil((H - R + S) / S): 224/7x7/s2 -> 110 (floor would be 109), 14/1x1/s2 -> 8
    big = Conv2d(name="c1", in_channels=3, out_channels=64, in_h=224, in_w=224, kernel=(7, 7), stride=(2, 2))
    assert lower_layer(big, TimingModel.SCALESIM).m == 110 * 110
    assert lower_layer(big).m == 109 * 109
    small = Conv2d(name="c2", in_channels=4, out_channels=8, in_h=14, in_w=14, kernel=(1, 1), stride=(2, 2))
    assert lower_layer(small, TimingModel.SCALESIM).m == 64
    padded = Conv2d(name="c3", in_channels=1, out_channels=1, in_h=5, in_w=5, kernel=(3, 3), padding=(1, 1, 1, 1))
    assert lower_layer(padded, TimingModel.SCALESIM).geometry.in_h == 7    # the padded ifmap
    gemm = lower_layer(Gemm(name="g", m=9, n=4, k=6), TimingModel.SCALESIM)
    assert (gemm.m, gemm.n, gemm.k, gemm.geometry.out_w) == (9, 4, 6, 1)
    with pytest.raises(UnsupportedError, match="dilat"):
        lower_layer(Conv2d(name="d", in_channels=1, out_channels=1, in_h=9, in_w=9, kernel=(3, 3), dilation=(2, 2)),
                    TimingModel.SCALESIM)


def test_depthwise_is_one_gemm_per_channel():
    dw = Conv2d(name="dw", in_channels=8, out_channels=8, in_h=6, in_w=6, kernel=(3, 3), groups=8)
    for timing in TimingModel:
        p = lower_layer(dw, timing)
        assert (p.n, p.k, p.repeats) == (1, 9, 8)


def test_spatial_mapping_table():
    assert spatial_mapping(Dataflow.OS, 2, 3, 5) == (2, 3, 5)
    assert spatial_mapping(Dataflow.WS, 2, 3, 5) == (5, 3, 2)
    assert spatial_mapping(Dataflow.IS, 2, 3, 5) == (5, 2, 3)


def test_array_rate_shrinks_and_stretches():
    assert ArrayRate().reduction(10) == 10
    assert ArrayRate(products_per_cycle=4).reduction(10) == 3          # ceil(10/4)
    # 2:4 over K=10: two full groups keep 2 each, the partial group of 2 can keep both: 4+2
    assert ArrayRate(nm=(2, 4)).reduction(10) == 6
    assert ArrayRate(nm=(2, 4)).reduction(6) == 4                       # 2 + min(2, 2), not ceil(6*2/4)=3
    assert ArrayRate(nm=(2, 4)).reduction(9) == 5                       # 4 + min(1, 2)
    assert ArrayRate(nm=(2, 4), products_per_cycle=2).reduction(11) == 3  # ceil((4 + min(3, 2))/2)
    with pytest.raises(ValueError):
        ArrayRate(cycles_per_product=0)


def test_dense_rate_leaves_schedule_unchanged_and_rates_apply():
    p = lower_layer(Gemm(name="g", m=6, n=5, k=7))
    base = fixed_schedule(p, arch())
    same = fixed_schedule(p, arch(), rate=ArrayRate(1, 1, None))
    for name in ("rows_used", "cols_used", "stream_cycles", "sram_words", "dram_words", "dram_bytes"):
        assert np.array_equal(getattr(base, name), getattr(same, name))
    # ws: K on the rows. p=2 -> K = 4 -> one row fold; q=3 -> every stream step takes 3 cycles
    fast = fixed_schedule(p, arch(), rate=ArrayRate(products_per_cycle=2, cycles_per_product=3))
    assert (fast.sr, fast.row_folds, fast.t) == (4, 1, 6)
    assert (fast.stream_cycles == 18).all()


def test_ws_schedule_hand_counted():
    """GEMM 6x5x7 on 4x4 ws: K=7 on rows (4+3), N=5 on cols (4+1), T = M = 6."""
    s = fixed_schedule(lower_layer(Gemm(name="g", m=6, n=5, k=7)), arch())
    assert list(zip(s.rows_used, s.cols_used)) == [(4, 4), (3, 4), (4, 1), (3, 1)]
    assert s.sram_words[:, IFMAP].tolist() == [24, 18, 24, 18]           # T * r
    assert s.sram_words[:, FILTER].tolist() == [16, 12, 4, 3]            # r * c
    # no accumulators: every row fold writes its partial sums, the second reads them back
    assert s.sram_words[:, OFMAP_WRITE].tolist() == [24, 24, 6, 6]
    assert s.sram_words[:, OFMAP_READ].tolist() == [0, 24, 0, 6]
    # everything fits: ifmap (42 words) once, split by K rows 4:3; weights once; outputs once
    assert s.dram_words[:, IFMAP].tolist() == [24, 18, 0, 0]
    assert s.dram_words[:, FILTER].tolist() == [16, 12, 4, 3]
    assert s.dram_words[:, OFMAP_WRITE].tolist() == [0, 24, 0, 6]
    acc = fixed_schedule(lower_layer(Gemm(name="g", m=6, n=5, k=7)), arch(accumulators="1KiB"))
    assert acc.sram_words[:, OFMAP_WRITE].tolist() == [0, 24, 0, 6]
    assert acc.sram_words[:, OFMAP_READ].sum() == 0


def test_refetch_when_the_ifmap_does_not_fit():
    tiny = arch_from_dict({"name": "t", "array": {"rows": 4, "cols": 4, "dataflow": "ws"},
                           "buffers": {"ifmap": {"size": "32B"}, "filter": {"size": "1KiB"}, "ofmap": {"size": "1KiB"}}})
    s = fixed_schedule(lower_layer(Gemm(name="g", m=6, n=5, k=7)), tiny)
    # 42 ifmap words > 16 (half of 32 B, double-buffered): fetched again for the second column fold
    assert s.dram_words[:, IFMAP].tolist() == [24, 18, 24, 18]


def test_unified_buffer_is_split_equally():
    tpu = load_arch(ROOT / "arch_configs" / "tpu_v1_like.yaml")
    assert buffer_words(tpu, "ifmap", 8) == 24 * 2**20 // 3
    assert buffer_words(tpu, "ofmap", 32) == 24 * 2**20 // 3 // 4
