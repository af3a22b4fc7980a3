"""ONNX import of models quantized by onnxruntime itself: MACs equal the float model's, bits as asked.

The float models are built with ``onnx.helper``; their MACs are hand formulas. Each quantized
variant is what ``onnxruntime.quantization`` writes: QDQ int8, QOperator (QLinearConv, QGemm,
QLinearAdd, QLinearGlobalAveragePool, ...), QInt4 weights below opset 21 (``com.microsoft``
Q/DQ), dynamic (ConvInteger, MatMulInteger) and MatMulNBits (when its ``onnx_ir`` dependency is
installed).
"""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
quantization = pytest.importorskip("onnxruntime.quantization")
from onnx import TensorProto as T  # noqa: E402
from onnx import helper as h  # noqa: E402
from onnx import numpy_helper as nh  # noqa: E402

from accelsim.frontend.onnx import load_onnx  # noqa: E402
from accelsim.spec.workload import Op  # noqa: E402

pytestmark = pytest.mark.slow

QuantFormat, QuantType = quantization.QuantFormat, quantization.QuantType


def cnn(path, rng):
    """conv 3->8 3x3 pad 1, ReLU, conv 8->8 3x3 pad 1, residual add, sigmoid, global pool, FC 8->10 on 1x3x16x16."""
    w = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    nodes = [h.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
             h.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             h.make_node("Conv", ["r1", "w2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
             h.make_node("Add", ["c2", "r1"], ["s"], name="add"),
             h.make_node("Sigmoid", ["s"], ["sg"], name="sigmoid"),
             h.make_node("GlobalAveragePool", ["sg"], ["g"], name="gap"),
             h.make_node("Flatten", ["g"], ["f"]),
             h.make_node("Gemm", ["f", "fc", "b"], ["y"], name="fc", transB=1)]
    graph = h.make_graph(nodes, "main_graph", [h.make_tensor_value_info("x", T.FLOAT, [1, 3, 16, 16])],
                         [h.make_tensor_value_info("y", T.FLOAT, [1, 10])],
                         [nh.from_array(w(8, 3, 3, 3), "w1"), nh.from_array(w(8, 8, 3, 3), "w2"),
                          nh.from_array(w(10, 8), "fc"), nh.from_array(w(10), "b")])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return 16 * 16 * 8 * (3 * 9) + 16 * 16 * 8 * (8 * 9) + 10 * 8


def mlp(path, rng, k=64, n=32, tokens=4):
    """Two linear layers (MatMul) with a ReLU between, on [1, tokens, k]."""
    w = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    nodes = [h.make_node("MatMul", ["x", "w1"], ["a"], name="fc1"), h.make_node("Relu", ["a"], ["r"], name="relu"),
             h.make_node("MatMul", ["r", "w2"], ["y"], name="fc2")]
    graph = h.make_graph(nodes, "mlp", [h.make_tensor_value_info("x", T.FLOAT, [1, tokens, k])],
                         [h.make_tensor_value_info("y", T.FLOAT, [1, tokens, n])],
                         [nh.from_array(w(k, n), "w1"), nh.from_array(w(n, n), "w2")])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return tokens * (k * n + n * n)


class Calibration(quantization.CalibrationDataReader):
    def __init__(self, rng, shape):
        self.feeds = iter([{"x": rng.standard_normal(shape).astype(np.float32)} for _ in range(4)])

    def get_next(self):
        return next(self.feeds, None)


@pytest.mark.parametrize("options, weight_bits, act_bits, domains", [
    (dict(quant_format=QuantFormat.QDQ), 8, 8, {""}),
    (dict(quant_format=QuantFormat.QOperator), 8, 8, {"", "com.microsoft"}),
    (dict(quant_format=QuantFormat.QDQ, weight_type=QuantType.QInt4), 4, 8, {"", "com.microsoft"}),
    (dict(quant_format=QuantFormat.QDQ, weight_type=QuantType.QInt16, activation_type=QuantType.QInt16), 16, 16, {""}),
])
def test_static_quantization_keeps_the_float_macs(tmp_path, rng, options, weight_bits, act_bits, domains):
    float_path, quant_path = tmp_path / "cnn.onnx", tmp_path / "cnn_q.onnx"
    macs = cnn(float_path, rng)
    assert load_onnx(float_path).macs == macs
    quantization.quantize_static(str(float_path), str(quant_path), Calibration(rng, (1, 3, 16, 16)), **options)
    assert {node.domain for node in onnx.load(quant_path).graph.node} == domains
    net = load_onnx(quant_path)
    assert net.macs == macs and net.lost_macs == 0 and net.name == "cnn_q"
    arrays = [layer for layer in net.layers if layer.macs]
    assert len(arrays) == 3
    assert all((layer.compression.weight_bits, layer.compression.act_bits) == (weight_bits, act_bits)
               for layer in arrays)
    assert {Op.SIGMOID, Op.POOL, Op.ELTWISE} <= {layer.op for layer in net.layers}


def test_dynamic_quantization_keeps_the_float_macs(tmp_path, rng):
    float_path, quant_path = tmp_path / "cnn.onnx", tmp_path / "cnn_dyn.onnx"
    macs = cnn(float_path, rng)
    quantization.quantize_dynamic(str(float_path), str(quant_path))
    ops = {node.op_type for node in onnx.load(quant_path).graph.node}
    assert {"ConvInteger", "MatMulInteger", "DynamicQuantizeLinear"} <= ops
    net = load_onnx(quant_path)
    assert net.macs == macs and all(layer.compression.weight_bits == 8 for layer in net.layers if layer.macs)


def test_matmul_nbits_keeps_the_float_macs(tmp_path, rng):
    pytest.importorskip("onnx_ir")  # matmul_nbits_quantizer imports it
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    float_path, quant_path = tmp_path / "mlp.onnx", tmp_path / "mlp_4bit.onnx"
    macs = mlp(float_path, rng)
    quantizer = MatMulNBitsQuantizer(onnx.load(float_path), block_size=32, is_symmetric=True)
    quantizer.process()
    quantizer.model.save_model_to_file(str(quant_path))
    assert "MatMulNBits" in {node.op_type for node in onnx.load(quant_path).graph.node}
    net = load_onnx(quant_path)
    fc1 = next(layer for layer in net.layers if layer.name.startswith("fc1"))
    assert net.macs == macs and fc1.compression.weight_bits == 4
    assert fc1.compression.weight_scale_bytes == 32 * (64 // 32) * 4  # one fp32 scale per block of 32


class TokenCalibration(quantization.CalibrationDataReader):
    def __init__(self, rng, seq):
        self.feeds = iter([{"ids": rng.integers(0, 50, (1, seq)), "mask": np.ones((1, seq), np.int64)}
                           for _ in range(3)])

    def get_next(self):
        return next(self.feeds, None)


@pytest.mark.parametrize("options, weight_bits", [
    (dict(quant_format=QuantFormat.QDQ), 8), (dict(quant_format=QuantFormat.QOperator), 8),
    (dict(quant_format=QuantFormat.QDQ, weight_type=QuantType.QInt4), 4)])
def test_quantized_encoder_layer_keeps_macs_and_recognized_ops(tmp_path, rng, options, weight_bits):
    """The decomposed LayerNorms and GELU survive the Q/DQ pairs and QLinearAdd/QLinearMul put inside them."""
    from test_onnx_exporters import bert_layer, bert_macs

    float_path, quant_path = bert_layer(tmp_path), tmp_path / "bert_q.onnx"
    quantization.quantize_static(str(float_path), str(quant_path), TokenCalibration(rng, 8), **options)
    net = load_onnx(quant_path, batch=1, seq_len=8)
    assert net.macs == bert_macs(1, 8) and net.lost_macs == 0
    ops = [layer.op for layer in net.layers]
    assert (ops.count(Op.LAYERNORM), ops.count(Op.GELU), ops.count(Op.SOFTMAX)) == (3, 1, 1)
    projections = [layer for layer in net.layers if layer.op is Op.GEMM]
    assert len(projections) == 6 and all(layer.compression.weight_bits == weight_bits for layer in projections)
