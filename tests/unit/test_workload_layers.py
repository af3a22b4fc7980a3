"""Layer accounting (MACs, tensor sizes, vector work) against hand calculations and naive loops."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.errors import WorkloadError
from accelsim.spec.load import network_from_dict
from accelsim.spec.workload import (
    Compression, Conv2d, ConvTranspose2d, Eltwise, Gemm, MatMul, Nonlinear, Op, Pool, PoolKind, Sparsity,
)


def naive_conv_macs(layer: Conv2d) -> int:
    """Count products by looping over outputs and taps (padded taps included)."""
    count = 0
    for y in range(-layer.padding[0], layer.in_h + layer.padding[2], layer.stride[0]):
        if y + layer.dilation[0] * (layer.kernel[0] - 1) >= layer.in_h + layer.padding[2]:
            break
        for x in range(-layer.padding[1], layer.in_w + layer.padding[3], layer.stride[1]):
            if x + layer.dilation[1] * (layer.kernel[1] - 1) >= layer.in_w + layer.padding[3]:
                break
            count += layer.kernel[0] * layer.kernel[1]
    return layer.batch * count * layer.out_channels * (layer.in_channels // layer.groups)


def naive_conv_transpose_out(layer: ConvTranspose2d) -> tuple[int, int]:
    """Scatter every input position's kernel and measure the cropped output extent."""
    def extent(size, stride, kernel, dilation, begin, end, extra):
        last = max((i * stride + k * dilation for i in range(size) for k in range(kernel)))
        return last + 1 + extra - begin - end
    return (extent(layer.in_h, layer.stride[0], layer.kernel[0], layer.dilation[0], layer.padding[0],
                   layer.padding[2], layer.output_padding[0]),
            extent(layer.in_w, layer.stride[1], layer.kernel[1], layer.dilation[1], layer.padding[1],
                   layer.padding[3], layer.output_padding[1]))


@settings(deadline=None, max_examples=40)
@given(c=st.integers(1, 3), groups=st.integers(1, 3), o=st.integers(1, 3), h=st.integers(3, 9), w=st.integers(3, 9),
       k=st.tuples(st.integers(1, 3), st.integers(1, 3)), s=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       d=st.tuples(st.integers(1, 2), st.integers(1, 2)), p=st.tuples(*[st.integers(0, 2)] * 4),
       batch=st.integers(1, 3))
def test_conv_macs_equal_a_naive_count(c, groups, o, h, w, k, s, d, p, batch):
    layer = Conv2d(name="c", batch=batch, in_channels=c * groups, out_channels=o * groups, in_h=h, in_w=w, kernel=k,
                   stride=s, dilation=d, padding=p, groups=groups)
    if layer.check():
        return
    assert layer.macs == naive_conv_macs(layer)
    assert layer.output_elements == batch * o * groups * layer.out_h * layer.out_w
    assert layer.weight_elements == o * groups * c * k[0] * k[1]


@settings(deadline=None, max_examples=30)
@given(h=st.integers(1, 5), w=st.integers(1, 5), k=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       s=st.tuples(st.integers(1, 3), st.integers(1, 3)), p=st.tuples(*[st.integers(0, 1)] * 4),
       extra=st.tuples(st.integers(0, 2), st.integers(0, 2)))
def test_conv_transpose_size_by_scatter(h, w, k, s, p, extra):
    layer = ConvTranspose2d(name="t", in_channels=4, out_channels=6, in_h=h, in_w=w, kernel=k, stride=s, padding=p,
                            output_padding=extra, groups=2)
    if layer.check():
        return
    assert (layer.out_h, layer.out_w) == naive_conv_transpose_out(layer)
    # every input value times every weight of its group: 4 inputs x (6 / 2) outputs x taps
    assert layer.macs == h * w * 4 * 3 * k[0] * k[1] and layer.weight_shape == (4, 3, *k)


def test_depthwise_grouped_gemm_matmul_by_hand():
    dw = Conv2d(name="dw", batch=2, in_channels=32, out_channels=32, groups=32, in_h=56, in_w=56, kernel=(3, 3),
                stride=(2, 2), padding=(1, 1, 1, 1))
    assert dw.is_depthwise and (dw.out_h, dw.out_w) == (28, 28) and dw.macs == 2 * 32 * 28 * 28 * 9
    assert dw.weight_shape == (32, 1, 3, 3) and dw.reduction_length == 9
    grouped = Conv2d(name="g", in_channels=64, out_channels=128, groups=4, in_h=7, in_w=7, kernel=(1, 1))
    assert grouped.macs == 128 * 49 * 16 and not grouped.is_depthwise
    fc = Gemm(name="fc", batch=4, m=128, n=3072, k=768)
    assert fc.macs == 4 * 128 * 3072 * 768 and fc.weight_shape == (768, 3072)
    assert (fc.input_elements, fc.output_elements) == (4 * 128 * 768, 4 * 128 * 3072)
    qk = MatMul(name="qk", batch=2, heads=12, m=128, n=128, k=64)
    assert qk.macs == 2 * 12 * 128 * 128 * 64 and qk.weight_elements == 0
    assert qk.input_elements == 2 * 12 * (128 * 64 + 64 * 128) and qk.output_elements == 2 * 12 * 128 * 128


def test_vector_layers_by_hand():
    pool = Pool(name="p", batch=2, kind=PoolKind.MAX, channels=64, in_h=112, in_w=112, kernel=(3, 3),
                stride=(2, 2), padding=(1, 1, 1, 1))
    assert (pool.out_h, pool.out_w) == (56, 56) and pool.vector_elements == 2 * 64 * 56 * 56 * 9
    gap = Pool(name="gap", kind=PoolKind.AVG, channels=2048, in_h=7, in_w=7, kernel=(7, 7))
    assert (gap.out_h, gap.out_w) == (1, 1) and gap.vector_elements == 2048 * 49 and gap.macs == 0
    add = Eltwise(name="a", batch=3, shape=(256, 14, 14), inputs=3)
    assert add.vector_elements == 2 * 3 * 256 * 196 and add.input_elements == 3 * 3 * 256 * 196
    for op in (Op.SOFTMAX, Op.GELU, Op.LAYERNORM, Op.RELU, Op.SILU, Op.SIGMOID, Op.TANH):
        layer = Nonlinear(op=op, name=op.value, batch=2, shape=(12, 128, 128))
        assert layer.vector_elements == layer.output_elements == 2 * 12 * 128 * 128 and layer.macs == 0


def test_nm_density_bound_counts_the_short_last_group():
    # reduction 3 x 7 x 7 = 147 = 36 groups of 4 + 3: 2:4 keeps at most 72 + 2 = 74 values per output
    def conv(density):
        return {"op": "conv2d", "name": "c", "in_channels": 3, "out_channels": 4, "in_h": 9, "in_w": 9, "kernel": 7,
                "compression": {"sparsity": {"pattern": "2:4", "density": density}}}
    assert network_from_dict({"name": "n", "layers": [conv(74 / 147)]}).layers[0].compression.weight_density == 74 / 147
    with pytest.raises(WorkloadError, match="at most 0.503401 over a reduction of 147"):
        network_from_dict({"name": "n", "layers": [conv(0.52)]})


def test_batch_is_a_workload_parameter():
    net = network_from_dict({"name": "n", "batch": 8, "layers": [
        {"op": "conv_transpose2d", "name": "up", "in_channels": 4, "out_channels": 2, "in_h": 3, "in_w": 3,
         "kernel": 2, "stride": 2},
        {"op": "matmul", "name": "qk", "heads": 2, "m": 4, "n": 4, "k": 3}]})
    assert all(layer.batch == 8 for layer in net.layers)
    assert net.macs == 8 * (9 * 4 * 2 * 4 + 2 * 4 * 4 * 3)
    assert net.with_batch(1).macs * 8 == net.macs
    assert Gemm(name="g", m=1, n=2, k=3, compression=Compression(sparsity=Sparsity(pattern="2:4"))).check() == []
