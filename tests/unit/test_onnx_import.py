"""ONNX import: shapes, MACs, densities and bit widths against independent calculations.

Models are built here with ``onnx.helper`` (nothing is downloaded). Output sizes are checked
against ``onnx.reference.ReferenceEvaluator`` actually running the node, MACs and densities
against hand formulas written out in each test.
"""

from __future__ import annotations

import logging
import math
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto as T  # noqa: E402
from onnx import helper as h  # noqa: E402
from onnx import numpy_helper as nh  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402
from onnx_graphs import attention_core  # noqa: E402

from accelsim.cli import main  # noqa: E402
from accelsim.errors import AccelsimError, WorkloadError  # noqa: E402
from accelsim.frontend.onnx import load_onnx  # noqa: E402
from accelsim.frontend.load import load_workload  # noqa: E402
from accelsim.spec.workload import Conv2d, ConvTranspose2d, Gemm, MatMul, Op  # noqa: E402


def save(tmp_path, nodes, inputs, inits=(), name="m", opset=21, outputs=None):
    """Write a model whose graph outputs are every node's last output (types left to inference)."""
    outs = outputs or [h.make_tensor_value_info(nodes[-1].output[0], T.FLOAT, None)]
    graph = h.make_graph(nodes, name, inputs, outs, list(inits))
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", opset)])
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, path)
    return path, model


def run_shape(model, feeds):
    """Output shape of the model's first output, computed by onnx's reference runtime."""
    return ReferenceEvaluator(model).run(None, feeds)[0].shape


CONV_CASES = [
    # (x shape, w shape, attributes)
    ((1, 3, 17, 19), (8, 3, 3, 5), dict(pads=[1, 2, 0, 1], strides=[2, 1], dilations=[1, 2])),
    ((1, 6, 9, 9), (6, 1, 3, 3), dict(group=6, auto_pad="SAME_UPPER", strides=[2, 2])),
    ((1, 6, 10, 7), (6, 1, 4, 4), dict(group=6, auto_pad="SAME_LOWER", strides=[3, 2])),
    ((1, 8, 11, 11), (4, 4, 3, 3), dict(group=2, auto_pad="VALID", dilations=[2, 3])),
    ((1, 4, 12), (5, 4, 3), dict(pads=[2, 1], strides=[2])),  # 1-D conv
    ((1, 3, 8, 8), (2, 3, 1, 1), dict()),
]


@pytest.mark.parametrize("x_shape, w_shape, attrs", CONV_CASES)
def test_conv_sizes_match_the_reference_runtime(tmp_path, rng, x_shape, w_shape, attrs):
    w = rng.standard_normal(w_shape).astype(np.float32)
    path, model = save(tmp_path, [h.make_node("Conv", ["x", "w"], ["y"], name="the_conv", **attrs)],
                       [h.make_tensor_value_info("x", T.FLOAT, list(x_shape))], [nh.from_array(w, "w")])
    out = run_shape(model, {"x": rng.standard_normal(x_shape).astype(np.float32)})
    (layer,) = load_onnx(path).layers
    assert isinstance(layer, Conv2d) and layer.name == "the_conv"
    assert layer.out_channels * layer.out_h * layer.out_w == math.prod(out[1:])
    assert (layer.out_h, layer.out_w) == ((1,) + out[2:] if len(out) == 3 else out[2:])
    # dense MACs: every output value sums (C / groups) x kernel taps; bias excluded
    assert layer.macs == math.prod(out) * math.prod(w_shape[1:])
    if "pads" in attrs and len(attrs["pads"]) == 4:
        assert layer.padding == tuple(attrs["pads"])


CONV_T_CASES = [
    ((1, 4, 5, 6), (4, 3, 3, 3), dict(strides=[2, 2], pads=[1, 0, 1, 2], output_padding=[1, 0])),
    ((1, 4, 5, 5), (4, 3, 4, 4), dict(strides=[2, 2], auto_pad="SAME_UPPER")),
    ((1, 2, 3, 4), (2, 5, 2, 3), dict(strides=[3, 1], dilations=[1, 2])),
]


@pytest.mark.parametrize("x_shape, w_shape, attrs", CONV_T_CASES)
def test_conv_transpose_sizes_match_the_reference_runtime(tmp_path, rng, x_shape, w_shape, attrs):
    w = rng.standard_normal(w_shape).astype(np.float32)
    path, model = save(tmp_path, [h.make_node("ConvTranspose", ["x", "w"], ["y"], name="up", **attrs)],
                       [h.make_tensor_value_info("x", T.FLOAT, list(x_shape))], [nh.from_array(w, "w")])
    out = run_shape(model, {"x": rng.standard_normal(x_shape).astype(np.float32)})
    (layer,) = load_onnx(path).layers
    assert isinstance(layer, ConvTranspose2d)
    assert (layer.out_channels, layer.out_h, layer.out_w) == out[1:]
    # scatter form: every input value times every weight of its group
    assert layer.macs == math.prod(x_shape) * (w_shape[1] * w_shape[2] * w_shape[3])


def test_conv_transpose_output_shape_by_hand(tmp_path, rng):
    """``output_shape`` given: the ONNX spec splits total padding, the larger half at the start."""
    w = rng.standard_normal((4, 2, 4, 4)).astype(np.float32)
    node = h.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 2], group=2, output_shape=[10, 11])
    path, _ = save(tmp_path, [node], [h.make_tensor_value_info("x", T.FLOAT, [1, 4, 5, 5])], [nh.from_array(w, "w")])
    (layer,) = load_onnx(path).layers
    # full output 2*(5-1) + 4 = 12: total padding 2 (H) -> 1 + 1, 1 (W) -> 1 + 0
    assert layer.padding == (1, 1, 1, 0) and (layer.out_channels, layer.out_h, layer.out_w) == (4, 10, 11)
    assert layer.name == "ConvTranspose_0" and layer.macs == 4 * 5 * 5 * (2 * 4 * 4)


def test_cnn_by_hand_with_pools_and_classifier(tmp_path, rng):
    w1 = rng.standard_normal((8, 3, 3, 5)).astype(np.float32)
    w2 = rng.standard_normal((8, 1, 3, 3)).astype(np.float32)
    fc = rng.standard_normal((10, 8)).astype(np.float32)
    nodes = [
        h.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", pads=[1, 2, 0, 1], strides=[2, 1], dilations=[1, 2]),
        h.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        h.make_node("Conv", ["r1", "w2"], ["c2"], name="dw", group=8, auto_pad="SAME_UPPER", strides=[2, 2]),
        h.make_node("MaxPool", ["c2"], ["p"], name="pool", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
        h.make_node("GlobalAveragePool", ["p"], ["g"], name="gap"),
        h.make_node("Flatten", ["g"], ["f"]),
        h.make_node("Gemm", ["f", "fc"], ["logits"], name="fc", transB=1),
        h.make_node("Softmax", ["logits"], ["y"], name="softmax"),
    ]
    path, _ = save(tmp_path, nodes, [h.make_tensor_value_info("x", T.FLOAT, ["N", 3, 17, 19])],
                   [nh.from_array(w1, "w1"), nh.from_array(w2, "w2"), nh.from_array(fc, "fc")])
    net = load_onnx(path, batch=2)
    assert [layer.name for layer in net.layers] == ["conv1", "relu1", "dw", "pool", "gap", "fc", "softmax"]
    conv1, relu1, dw, pool, gap, fc_layer, softmax = net.layers
    assert all(layer.batch == 2 for layer in net.layers) and net.batch == 2
    # conv1: H (17 + 1 + 0 - 3) // 2 + 1 = 8; W span 2*(5-1)+1 = 9, (19 + 2 + 1 - 9) + 1 = 14
    assert (conv1.out_h, conv1.out_w) == (8, 14) and conv1.macs == 2 * 8 * 8 * 14 * (3 * 3 * 5)
    assert relu1.op is Op.RELU and relu1.shape == (8, 8, 14)
    # depthwise SAME_UPPER stride 2: out ceil(8/2)=4, ceil(14/2)=7; pad total (4-1)*2+3-8=1 -> end
    assert dw.padding == (0, 0, 1, 1) and (dw.out_h, dw.out_w) == (4, 7) and dw.macs == 2 * 8 * 4 * 7 * 9
    # ceil-mode max pool 3/2 on 4x7: ceil((4-3)/2)+1 = 2, ceil((7-3)/2)+1 = 3
    assert (pool.out_h, pool.out_w) == (2, 3) and pool.vector_elements == 2 * 8 * 2 * 3 * 9
    assert gap.kernel == (2, 3) and (gap.out_h, gap.out_w) == (1, 1)
    assert isinstance(fc_layer, Gemm) and (fc_layer.m, fc_layer.n, fc_layer.k) == (1, 10, 8)
    assert softmax.op is Op.SOFTMAX and softmax.shape == (10,)
    assert net.macs == 2 * (8 * 8 * 14 * 45 + 8 * 4 * 7 * 9 + 10 * 8)


def attention_model(tmp_path, seq=6, dim=8, heads=2, quant=False):
    """One attention block: Q/K/V projections, QK^T, scale, softmax, AV, output projection, residual, LayerNorm."""
    rng = np.random.default_rng(7)
    dh = dim // heads
    inits = [nh.from_array(rng.standard_normal((dim, dim)).astype(np.float32), n) for n in ("wq", "wk", "wv", "wo")]
    inits += [nh.from_array(np.array([0, 0, heads, dh], np.int64), "split_heads"),
              nh.from_array(np.array([0, 0, dim], np.int64), "merge_heads"),
              nh.from_array(np.array(math.sqrt(dh), np.float32), "scale"),
              nh.from_array(np.ones(dim, np.float32), "gamma"), nh.from_array(np.zeros(dim, np.float32), "beta")]
    nodes = []
    for name in ("q", "k", "v"):
        nodes += [h.make_node("MatMul", ["x", f"w{name}"], [f"{name}_p"], name=f"attn.{name}_proj"),
                  h.make_node("Reshape", [f"{name}_p", "split_heads"], [f"{name}_r"]),
                  h.make_node("Transpose", [f"{name}_r"], [f"{name}_t"], perm=[0, 2, 3, 1] if name == "k" else [0, 2, 1, 3])]
    nodes += attention_core("merge_heads", "wo", "attn.out_proj", "res")
    nodes.append(h.make_node("LayerNormalization", ["res", "gamma", "beta"], ["y"], name="attn.norm", axis=-1))
    return save(tmp_path, nodes, [h.make_tensor_value_info("x", T.FLOAT, ["batch", seq, dim])], inits, "attn")


def test_attention_block_by_hand(tmp_path):
    seq, dim, heads = 6, 8, 2
    path, model = attention_model(tmp_path, seq, dim, heads)
    net = load_onnx(path, batch=3)
    layers = {layer.name: layer for layer in net.layers}
    assert list(layers) == ["attn.q_proj", "attn.k_proj", "attn.v_proj", "attn.qk", "attn.scale", "attn.softmax",
                            "attn.av", "attn.out_proj", "attn.residual", "attn.norm"]
    for name in ("attn.q_proj", "attn.k_proj", "attn.v_proj", "attn.out_proj"):
        proj = layers[name]
        assert isinstance(proj, Gemm) and (proj.batch, proj.m, proj.n, proj.k) == (3, seq, dim, dim)
    qk, av = layers["attn.qk"], layers["attn.av"]
    assert isinstance(qk, MatMul) and (qk.batch, qk.heads, qk.m, qk.n, qk.k) == (3, heads, seq, seq, dim // heads)
    assert isinstance(av, MatMul) and (av.batch, av.heads, av.m, av.n, av.k) == (3, heads, seq, dim // heads, seq)
    assert layers["attn.softmax"].shape == (heads, seq, seq)
    assert layers["attn.norm"].op is Op.LAYERNORM and layers["attn.norm"].shape == (seq, dim)
    assert layers["attn.residual"].shape == (seq, dim) and layers["attn.scale"].shape == (heads, seq, seq)
    # 4 projections + QK^T + AV, per sample: 4*S*D*D + 2*S*S*D
    assert net.macs == 3 * (4 * seq * dim * dim + 2 * seq * seq * dim)
    # the reference runtime agrees the graph is well formed at that batch
    x = np.zeros((3, seq, dim), np.float32)
    assert run_shape(model, {"x": x}) == (3, seq, dim)


def qdq(tensor: str, zero: str, out: str) -> list:
    return [h.make_node("QuantizeLinear", [tensor, "s", zero], [out + "_q"]),
            h.make_node("DequantizeLinear", [out + "_q", "s", zero], [out])]


@pytest.mark.parametrize("kind, np_type, bits", [(T.INT8, np.int8, 8), (T.UINT8, np.uint8, 8), (T.INT4, np.int8, 4)])
def test_qdq_bits_and_density_of_quantized_weights(tmp_path, rng, kind, np_type, bits):
    low, high = (-8, 8) if kind == T.INT4 else ((0, 256) if kind == T.UINT8 else (-128, 128))
    zero_w = 3 if kind == T.UINT8 else 0
    w_q = rng.integers(low, high, size=(4, 3, 3, 3)).astype(np_type)
    w_q.reshape(-1)[::5] = zero_w  # some weights equal to the zero point: real zeros
    nodes = [*qdq("x", "zx", "xd"),
             h.make_node("DequantizeLinear", ["wq", "ws", "zw"], ["wd"]),
             h.make_node("Conv", ["xd", "wd"], ["y"], name="qconv", pads=[1, 1, 1, 1])]
    inits = [h.make_tensor("wq", kind, w_q.shape, w_q.ravel().tolist()),
             h.make_tensor("zw", kind, [], [zero_w]), h.make_tensor("zx", kind, [], [0]),
             nh.from_array(np.array(0.1, np.float32), "s"), nh.from_array(np.array(0.02, np.float32), "ws")]
    path, _ = save(tmp_path, nodes, [h.make_tensor_value_info("x", T.FLOAT, [1, 3, 8, 8])], inits)
    (layer,) = load_onnx(path).layers
    assert (layer.compression.weight_bits, layer.compression.act_bits) == (bits, bits)
    expected = np.count_nonzero(w_q.astype(int) != zero_w) / w_q.size
    assert layer.compression.sparsity.kind.value == "unstructured"
    assert layer.compression.weight_density == pytest.approx(expected, abs=0)


def test_float_weights_quantized_in_graph_per_channel_int4(tmp_path, rng):
    w = rng.standard_normal((16, 6)).astype(np.float32)
    w[:, 0] = 0.01  # rounds to zero at scale 0.5
    scales = np.full(6, 0.5, np.float32)
    nodes = [*qdq("x", "zx", "xd"),
             h.make_node("QuantizeLinear", ["w", "ws", "zw"], ["w_q"], axis=1),
             h.make_node("DequantizeLinear", ["w_q", "ws", "zw"], ["wd"], axis=1),
             h.make_node("MatMul", ["xd", "wd"], ["y"], name="fc")]
    inits = [nh.from_array(w, "w"), nh.from_array(scales, "ws"), h.make_tensor("zw", T.INT4, [6], [0] * 6),
             h.make_tensor("zx", T.UINT4, [], [8]), nh.from_array(np.array(0.1, np.float32), "s")]
    path, _ = save(tmp_path, nodes, [h.make_tensor_value_info("x", T.FLOAT, [5, 16])], inits)
    (layer,) = load_onnx(path, batch=5).layers
    assert isinstance(layer, Gemm) and (layer.batch, layer.m, layer.n, layer.k) == (5, 1, 6, 16)
    assert (layer.compression.weight_bits, layer.compression.act_bits) == (4, 4)
    # independent: run the QuantizeLinear node itself in the reference runtime
    quant = h.make_model(h.make_graph([h.make_node("QuantizeLinear", ["w", "ws", "zw"], ["q"], axis=1)], "q",
                                      [h.make_tensor_value_info("w", T.FLOAT, [16, 6])],
                                      [h.make_tensor_value_info("q", T.INT4, [16, 6])], inits[1:3]),
                         opset_imports=[h.make_opsetid("", 21)])
    q = ReferenceEvaluator(quant).run(None, {"w": w})[0].astype(int)
    assert layer.compression.weight_density == np.count_nonzero(q) / q.size < 1


def test_qlinear_and_integer_ops(tmp_path, rng):
    w_conv = rng.integers(-128, 128, size=(4, 2, 3, 3)).astype(np.int8)
    w_conv[w_conv % 3 == 0] = 0
    w_mm = rng.integers(0, 16, size=(4 * 6 * 6, 5)).astype(np.uint8)
    zero_cols = np.array([1, 2, 3, 4, 5], np.uint8)  # per-column zero points of MatMulInteger
    scalar = lambda name, t, v: h.make_tensor(name, t, [], [v])  # noqa: E731
    nodes = [
        h.make_node("QLinearConv", ["x", "xs", "xz", "wc", "ws", "wz", "ys", "yz"], ["c"], name="qlconv",
                    pads=[1, 1, 1, 1]),
        h.make_node("Reshape", ["c", "flat"], ["c_flat"]),
        h.make_node("MatMulInteger", ["c_flat", "wm", "yz", "wmz"], ["y"], name="mmint"),
    ]
    inits = [scalar("xs", T.FLOAT, 0.1), scalar("xz", T.UINT8, 128), nh.from_array(w_conv, "wc"),
             scalar("ws", T.FLOAT, 0.05), scalar("wz", T.INT8, 0), scalar("ys", T.FLOAT, 0.2),
             scalar("yz", T.UINT8, 128), nh.from_array(np.array([1, -1], np.int64), "flat"),
             nh.from_array(w_mm, "wm"), nh.from_array(zero_cols, "wmz")]
    path, _ = save(tmp_path, nodes, [h.make_tensor_value_info("x", T.UINT8, [1, 2, 6, 6])], inits,
                   outputs=[h.make_tensor_value_info("y", T.INT32, None)])
    conv, mm = load_onnx(path).layers
    assert (conv.compression.weight_bits, conv.compression.act_bits) == (8, 8)
    assert conv.compression.weight_density == np.count_nonzero(w_conv) / w_conv.size
    assert conv.macs == 4 * 6 * 6 * 2 * 9
    assert isinstance(mm, Gemm) and (mm.m, mm.n, mm.k) == (1, 5, 144)
    assert mm.compression.weight_density == np.count_nonzero(w_mm.astype(int) - zero_cols) / w_mm.size


def test_qlinear_matmul_between_activations_is_a_matmul(tmp_path):
    scalar = lambda name, t, v: h.make_tensor(name, t, [], [v])  # noqa: E731
    nodes = [h.make_node("QLinearMatMul", ["a", "s", "z", "b", "s", "z", "s", "z"], ["y"], name="qk")]
    inits = [scalar("s", T.FLOAT, 0.1), scalar("z", T.INT8, 0)]
    path, _ = save(tmp_path, nodes, [h.make_tensor_value_info("a", T.INT8, [2, 4, 3, 7]),
                                     h.make_tensor_value_info("b", T.INT8, [2, 4, 7, 3])], inits,
                   outputs=[h.make_tensor_value_info("y", T.INT8, None)])
    (layer,) = load_onnx(path).layers
    assert isinstance(layer, MatMul) and (layer.batch, layer.heads, layer.m, layer.n, layer.k) == (2, 4, 3, 3, 7)
    assert (layer.compression.weight_bits, layer.compression.act_bits) == (8, 8)


def test_pruned_initializers_measure_nm_and_unstructured(tmp_path, rng):
    # conv weights [O, C, kh, kw]: 2:4 along input channels (C = 8) at every (o, kh, kw)
    w_nm = rng.standard_normal((4, 8, 3, 3)).astype(np.float32) + 5
    for o in range(4):
        for i in range(3):
            for j in range(3):
                for start in range(0, 8, 4):
                    w_nm[o, start + rng.choice(4, 2, replace=False), i, j] = 0
    # GEMM B [K, N]: 1 in 4 along K kept in every column
    w_14 = np.zeros((16, 3), np.float32)
    w_14[::4] = 1.0
    w_un = rng.standard_normal((16, 3)).astype(np.float32)
    w_un[rng.random(w_un.shape) < 0.3] = 0
    nodes = [h.make_node("Conv", ["x", "w_nm"], ["c"], name="conv_24", pads=[1, 1, 1, 1]),
             h.make_node("Reshape", ["c", "flat"], ["f"]),
             h.make_node("Slice", ["f", "zero", "sixteen", "one"], ["fs"]),
             h.make_node("MatMul", ["fs", "w_14"], ["g"], name="fc_14"),
             h.make_node("MatMul", ["fs", "w_un"], ["y"], name="fc_unstructured")]
    inits = [nh.from_array(w_nm, "w_nm"), nh.from_array(w_14, "w_14"), nh.from_array(w_un, "w_un"),
             nh.from_array(np.array([1, -1], np.int64), "flat"), nh.from_array(np.array([0], np.int64), "zero"),
             nh.from_array(np.array([16], np.int64), "sixteen"), nh.from_array(np.array([1], np.int64), "one")]
    path, _ = save(tmp_path, nodes, [h.make_tensor_value_info("x", T.FLOAT, [1, 8, 4, 4])], inits)
    conv, fc14, fcu = load_onnx(path).layers
    assert conv.compression.sparsity.pattern == "2:4" and conv.compression.weight_density == 0.5
    assert fc14.compression.sparsity.pattern == "1:4" and fc14.compression.weight_density == 0.25
    assert fcu.compression.sparsity.pattern == "unstructured"
    assert fcu.compression.weight_density == np.count_nonzero(w_un) / w_un.size


def test_unsupported_ops_stop_the_import_unless_partial_is_allowed(tmp_path, caplog, capsys):
    nodes = [h.make_node("Erf", ["x"], ["a"]), h.make_node("Relu", ["a"], ["b"], name="relu"),
             h.make_node("Erf", ["b"], ["c"]), h.make_node("HardSwish", ["c"], ["y"])]
    path, _ = save(tmp_path, nodes, [h.make_tensor_value_info("x", T.FLOAT, [1, 4])])
    with pytest.raises(WorkloadError, match=r"3 computing node\(s\) cannot be imported \(Erf x2, HardSwish x1\)"):
        load_onnx(path)
    assert main(["import", str(path), "-o", str(tmp_path / "m.yaml")]) == 2
    assert "Erf_0 (Erf: unsupported op)" in capsys.readouterr().err and not (tmp_path / "m.yaml").exists()
    with caplog.at_level(logging.WARNING):
        net = load_onnx(path, allow_partial=True)
    assert [layer.name for layer in net.layers] == ["relu"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "partial" in r.getMessage()]
    assert len(warnings) == 1 and "Erf x2" in warnings[0] and "HardSwish x1" in warnings[0]
    assert net.lost_macs == 0 and "partial import" in net.source  # elementwise ops: no MACs lost


def test_batch_norm_after_conv_is_folded_but_not_after_add(tmp_path, rng):
    w = rng.standard_normal((2, 2, 1, 1)).astype(np.float32)
    ones, zeros = np.ones(2, np.float32), np.zeros(2, np.float32)
    nodes = [h.make_node("Conv", ["x", "w"], ["c"], name="conv"),
             h.make_node("BatchNormalization", ["c", "g", "b", "m", "v"], ["n"], name="bn1"),
             h.make_node("Add", ["n", "x"], ["s"], name="add"),
             h.make_node("BatchNormalization", ["s", "g", "b", "m", "v"], ["y"], name="bn2")]
    inits = [nh.from_array(w, "w")] + [nh.from_array(a, n) for a, n in ((ones, "g"), (zeros, "b"), (zeros, "m"),
                                                                        (ones, "v"))]
    path, _ = save(tmp_path, nodes, [h.make_tensor_value_info("x", T.FLOAT, [1, 2, 3, 3])], inits)
    net = load_onnx(path)
    assert [layer.name for layer in net.layers] == ["conv", "add", "bn2"]
    assert net.layers[2].kind.value == "affine" and net.layers[2].shape == (2, 3, 3)


def test_batch_choice_and_names(tmp_path, rng):
    w = rng.standard_normal((4, 3)).astype(np.float32)
    nodes = [h.make_node("MatMul", ["x", "w"], ["a"]), h.make_node("Relu", ["a"], ["b"], name="act"),
             h.make_node("Sigmoid", ["b"], ["y"], name="act")]
    for dim0, batch, want in (("N", None, 1), ("N", 4, 4), (2, None, 2), (2, 5, 5)):
        path, _ = save(tmp_path, nodes, [h.make_tensor_value_info("x", T.FLOAT, [dim0, 4])], [nh.from_array(w, "w")])
        net = load_onnx(path, batch=batch)
        assert net.batch == want and all(layer.batch == want for layer in net.layers)
        assert net.macs == want * 4 * 3
        assert [layer.name for layer in net.layers] == ["MatMul_0", "act", "act_"]
    assert load_workload(path, batch=3).macs == 3 * 12


def test_symbolic_non_batch_axis_is_a_clear_error(tmp_path):
    path, _ = save(tmp_path, [h.make_node("Relu", ["x"], ["y"])], [h.make_tensor_value_info("x", T.FLOAT, [1, "seq"])])
    with pytest.raises(WorkloadError, match=r"input x: axis 1 has no fixed size \(seq\)"):
        load_onnx(path)


def test_cli_import_round_trips(tmp_path, capsys):
    path, _ = attention_model(tmp_path)
    out = tmp_path / "attn.yaml"
    assert main(["import", str(path), "-o", str(out), "--batch", "2"]) == 0
    assert "10 layers" in capsys.readouterr().out
    assert load_workload(out) == load_onnx(path, batch=2)


@pytest.mark.parametrize("content", [b"this is not a model", b"\x08\x07", b""])
def test_not_onnx_exits_2(tmp_path, capsys, content):
    path = tmp_path / "junk.onnx"
    path.write_bytes(content)
    assert main(["import", str(path), "-o", str(tmp_path / "x.yaml")]) == 2
    err = capsys.readouterr().err
    assert "is not an ONNX model" in err and "Traceback" not in err
    assert not (tmp_path / "x.yaml").exists()


def test_missing_onnx_package_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(AccelsimError, match=r"pip install accelsim\[onnx\]"):
        load_onnx(tmp_path / "m.onnx")
