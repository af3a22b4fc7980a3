"""Mask generators: each pattern's defining property checked with naive loops over the weights."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.compress.masks import (
    load_mask, make_mask, measure_sparsity, save_mask, weight_matrix, weight_tensor,
)
from accelsim.errors import WorkloadError
from accelsim.spec.workload import Compression, Conv2d, ConvTranspose2d, Gemm, Sparsity

CONV = Conv2d(name="c", in_channels=6, out_channels=5, in_h=8, in_w=8, kernel=(3, 2))
GEMM = Gemm(name="g", m=3, n=7, k=10)


def reduction_rows(mask: np.ndarray, layer) -> list[list]:
    """Per output, its weights in (kernel_h, kernel_w, channel) order, by explicit loops."""
    if isinstance(layer, Gemm):
        return [[mask[k, n] for k in range(layer.k)] for n in range(layer.n)]
    o_count, c_count, kh, kw = mask.shape
    return [[mask[o, c, i, j] for i in range(kh) for j in range(kw) for c in range(c_count)] for o in range(o_count)]


@pytest.mark.parametrize("layer", [CONV, GEMM], ids=["conv", "gemm"])
@pytest.mark.parametrize("n, m", [(2, 4), (1, 4), (4, 8)])
def test_nm_mask_keeps_top_n_of_every_group(rng, layer, n, m):
    weights = rng.standard_normal(layer.weight_shape)
    mask = make_mask(layer, Sparsity(pattern=f"{n}:{m}"), weights)
    for w_row, m_row in zip(reduction_rows(weights, layer), reduction_rows(mask, layer)):
        for start in range(0, len(w_row), m):
            group_w, group_m = np.abs(w_row[start:start + m]), m_row[start:start + m]
            assert sum(group_m) == min(n, len(group_w))
            kept = [w for w, k in zip(group_w, group_m) if k]
            dropped = [w for w, k in zip(group_w, group_m) if not k]
            assert not dropped or min(kept) >= max(dropped)
    assert measure_sparsity(weights * mask, layer).pattern in (f"{n}:{m}", "1:4", "2:4", "1:8", "2:8")


def test_unstructured_magnitude_and_random(rng):
    weights = rng.standard_normal(CONV.weight_shape)
    mask = make_mask(CONV, Sparsity(pattern="unstructured", density=0.3), weights)
    assert mask.sum() == round(0.3 * weights.size)
    assert np.abs(weights[mask]).min() >= np.abs(weights[~mask]).max()
    a = make_mask(CONV, Sparsity(pattern="unstructured", density=0.3), method="random", seed=1)
    b = make_mask(CONV, Sparsity(pattern="unstructured", density=0.3), method="random", seed=1)
    c = make_mask(CONV, Sparsity(pattern="unstructured", density=0.3), method="random", seed=2)
    assert (a == b).all() and (a != c).any() and a.sum() == c.sum() == round(0.3 * weights.size)


def test_block_and_channel_masks(rng):
    layer = Gemm(name="g", m=1, n=8, k=12)
    weights = rng.standard_normal(layer.weight_shape)
    mask = make_mask(layer, Sparsity(pattern="block", density=0.5, block=(2, 3)), weights)
    # blocks of 2 outputs x 3 reduction values are kept or dropped whole: 4 x 4 = 16 blocks, 8 kept
    blocks = {(n // 2, k // 3) for n in range(8) for k in range(12) if mask[k, n]}
    assert len(blocks) == 8
    for n in range(8):
        for k in range(12):
            assert mask[k, n] == ((n // 2, k // 3) in blocks)
    channels = make_mask(CONV, Sparsity(pattern="channel", density=0.4), rng.standard_normal(CONV.weight_shape))
    kept = [o for o in range(5) if channels[o].all()]
    assert len(kept) == 2 and all(not channels[o].any() for o in range(5) if o not in kept)


@settings(deadline=None, max_examples=25)
@given(groups=st.sampled_from([1, 2]), c=st.integers(1, 3), o=st.integers(1, 3), kh=st.integers(1, 3),
       kw=st.integers(1, 3))
def test_weight_matrix_round_trips(groups, c, o, kh, kw):
    for layer in (Conv2d(name="c", in_channels=c * groups, out_channels=o * groups, in_h=4, in_w=4, kernel=(kh, kw),
                         groups=groups),
                  ConvTranspose2d(name="t", in_channels=c * groups, out_channels=o * groups, in_h=4, in_w=4,
                                  kernel=(kh, kw), groups=groups)):
        values = np.arange(np.prod(layer.weight_shape)).reshape(layer.weight_shape)
        matrix = weight_matrix(values, layer)
        assert matrix.shape == (o * groups, layer.reduction_length)
        assert (weight_tensor(matrix, layer) == values).all()


def test_save_and_load_mask(tmp_path, rng):
    mask = make_mask(GEMM, Sparsity(pattern="2:4"), rng.standard_normal(GEMM.weight_shape))
    save_mask(mask, tmp_path / "m" / "g.npy")
    layer = Gemm(name="g", m=3, n=7, k=10,
                 compression=Compression(sparsity=Sparsity(pattern="2:4", mask="m/g.npy")))
    assert (load_mask(layer, tmp_path) == mask).all()
    wrong = Gemm(name="g", m=3, n=7, k=11, compression=layer.compression)
    with pytest.raises(WorkloadError, match="shape"):
        load_mask(wrong, tmp_path)
    with pytest.raises(WorkloadError, match="cannot read"):
        load_mask(layer, tmp_path / "nowhere")
