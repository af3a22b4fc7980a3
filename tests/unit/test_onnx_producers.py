"""ONNX import fills each layer's ``producers`` (accelsim/frontend/onnx/edges.py, docs/memory_plan.md).

Models are built here with ``onnx.helper``; the expected producers are read off each graph by
hand (which node makes each tensor a layer reads, through Reshape, Transpose, Q/DQ, folded
BatchNorm, ...). The memory-plan test compares an imported residual network with the same
network written by hand, and both with the conservation floor of an arch that holds everything
(DRAM reads = weights + network input, writes = network output).
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto as T  # noqa: E402
from onnx import helper as h  # noqa: E402
from onnx import numpy_helper as nh  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402
from onnx_graphs import attention_core  # noqa: E402

from accelsim import load_arch, simulate  # noqa: E402
from accelsim.frontend.onnx import load_onnx  # noqa: E402
from accelsim.lower.memory_plan import operand_sources, plan_memory  # noqa: E402
from accelsim.spec.load import network_from_dict  # noqa: E402

TPU = "arch_configs/tpu_v1_like.yaml"


def save(tmp_path, nodes, inputs, inits=(), outputs=None, opset=17, name="m"):
    outs = outputs or [h.make_tensor_value_info(nodes[-1].output[0], T.FLOAT, None)]
    model = h.make_model(h.make_graph(nodes, name, inputs, outs, list(inits)),
                         opset_imports=[h.make_opsetid("", opset)])
    model.ir_version = 8
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, path)
    return path, model


def fvi(name, dims, elem=T.FLOAT):
    return h.make_tensor_value_info(name, elem, dims)


def producers(net) -> dict[str, tuple[str, ...]]:
    return {layer.name: layer.producers for layer in net.layers}


class Builder:
    """Nodes and initializers of a small CNN; weights from a fixed seed."""

    def __init__(self, qdq: bool = False):
        self.nodes, self.inits, self.qdq = [], [], qdq
        self.rng = np.random.default_rng(3)
        if qdq:
            self.inits += [nh.from_array(np.array(0.05, np.float32), "s"), h.make_tensor("z", T.INT8, [], [0])]

    def q(self, tensor: str) -> str:
        """The tensor through a QuantizeLinear/DequantizeLinear pair (QDQ models), else itself."""
        if not self.qdq:
            return tensor
        self.nodes += [h.make_node("QuantizeLinear", [tensor, "s", "z"], [f"{tensor}_q"]),
                       h.make_node("DequantizeLinear", [f"{tensor}_q", "s", "z"], [f"{tensor}_dq"])]
        return f"{tensor}_dq"

    def weight(self, name: str, shape: tuple[int, ...]) -> str:
        values = self.rng.standard_normal(shape).astype(np.float32)
        if not self.qdq:
            self.inits.append(nh.from_array(values, name))
            return name
        q = np.clip(np.rint(values * 20), -127, 127).astype(np.int8)
        self.inits += [nh.from_array(q, f"{name}_int"), nh.from_array(np.array(0.05, np.float32), f"{name}_s")]
        self.nodes.append(h.make_node("DequantizeLinear", [f"{name}_int", f"{name}_s"], [name]))
        return name

    def conv(self, name: str, x: str, cin: int, cout: int, kernel: int = 3, stride: int = 1, bn: bool = True) -> str:
        """A conv (and a BatchNormalization after it when ``bn``); returns the output tensor."""
        w = self.weight(f"{name}.w", (cout, cin, kernel, kernel))
        pad = kernel // 2
        self.nodes.append(h.make_node("Conv", [self.q(x), w], [name], name=name, pads=[pad] * 4,
                                      strides=[stride, stride]))
        if not bn:
            return name
        params = [nh.from_array(v, f"{name}.bn.{k}") for k, v in (("g", np.ones(cout, np.float32)),
                                                                    ("b", np.zeros(cout, np.float32)),
                                                                    ("m", np.zeros(cout, np.float32)),
                                                                    ("v", np.ones(cout, np.float32)))]
        self.inits += params
        self.nodes.append(h.make_node("BatchNormalization", [name, *(p.name for p in params)], [f"{name}.bn"],
                                      name=f"{name}.bn"))
        return f"{name}.bn"

    def op(self, op_type: str, name: str, *inputs: str, **attrs) -> str:
        self.nodes.append(h.make_node(op_type, [self.q(x) for x in inputs], [name], name=name, **attrs))
        return name


def resnet_graph(qdq: bool = False, bn: bool = True) -> Builder:
    """A stem, an identity block and a downsample block, as torchvision's BasicBlock is exported:
    1x8x16x16 -> stem conv 8->16 (BN, ReLU) -> [conv 16->16, BN, ReLU, conv 16->16, BN, + stem, ReLU]
    -> [conv 16->32 stride 2, BN, ReLU, conv 32->32, BN, + (1x1 conv 16->32 stride 2, BN), ReLU]
    -> global average pool -> Flatten -> Gemm 32->10."""
    b = Builder(qdq)
    stem = b.op("Relu", "stem.relu", b.conv("stem", "x", 8, 16, bn=bn))
    mid = b.op("Relu", "b1.relu1", b.conv("b1.conv1", stem, 16, 16, bn=bn))
    out1 = b.op("Relu", "b1.relu2", b.op("Add", "b1.add", b.conv("b1.conv2", mid, 16, 16, bn=bn), stem))
    mid = b.op("Relu", "b2.relu1", b.conv("b2.conv1", out1, 16, 32, stride=2, bn=bn))
    main = b.conv("b2.conv2", mid, 32, 32, bn=bn)
    shortcut = b.conv("b2.down", out1, 16, 32, kernel=1, stride=2, bn=bn)
    out2 = b.op("Relu", "b2.relu2", b.op("Add", "b2.add", main, shortcut))
    flat = b.op("Flatten", "flat", b.op("GlobalAveragePool", "gap", out2))
    weight = b.weight("fc.w", (10, 32))
    b.nodes.append(h.make_node("Gemm", [b.q(flat), weight], ["y"], name="fc", transB=1))
    return b


RESNET_PRODUCERS = {  # by hand: the folded BatchNorms' outputs are their convs'
    "stem": ("dram",), "stem.relu": ("stem",),
    "b1.conv1": ("stem.relu",), "b1.relu1": ("b1.conv1",), "b1.conv2": ("b1.relu1",),
    "b1.add": ("b1.conv2", "stem.relu"), "b1.relu2": ("b1.add",),
    "b2.conv1": ("b1.relu2",), "b2.relu1": ("b2.conv1",), "b2.conv2": ("b2.relu1",),
    "b2.down": ("b1.relu2",),  # the shortcut reads the block input, not the layer before it
    "b2.add": ("b2.conv2", "b2.down"), "b2.relu2": ("b2.add",),
    "gap": ("b2.relu2",), "fc": ("gap",),  # through Flatten
}


def save_resnet(tmp_path, qdq=False, bn=True):
    b = resnet_graph(qdq, bn)
    return save(tmp_path, b.nodes, [fvi("x", [1, 8, 16, 16])], b.inits, name="resnet_qdq" if qdq else "resnet",
                opset=21 if qdq else 17)


@pytest.mark.parametrize("qdq", [False, True])
def test_residual_and_downsample_blocks_name_both_producers(tmp_path, qdq):
    """Float and QDQ-quantized (every activation through Q/DQ, weights through DequantizeLinear)."""
    path, model = save_resnet(tmp_path, qdq)
    net = load_onnx(path)
    assert producers(net) == RESNET_PRODUCERS
    if qdq:
        assert all(layer.compression.act_bits == 8 for layer in net.layers)
    x = np.zeros((1, 8, 16, 16), np.float32)
    assert ReferenceEvaluator(model).run(None, {"x": x})[0].shape == (1, 10)  # the graph is well formed


def test_chain_rule_alone_would_miss_the_shortcuts(tmp_path):
    """What the memory plan made of the import before: the adds' shortcuts from DRAM, the downsample
    conv's input from DRAM (its previous layer's output has another size). Now the graph's edges."""
    net = load_onnx(save_resnet(tmp_path)[0])
    names = [layer.name for layer in net.layers]
    now = operand_sources(net)
    before = operand_sources(replace(net, layers=tuple(replace(layer, producers=()) for layer in net.layers)))
    at = names.index
    assert before[at("b1.add")] == ((at("b1.conv2"), 1), (None, 1))
    assert now[at("b1.add")] == ((at("b1.conv2"), 1), (at("stem.relu"), 1))
    assert before[at("b2.down")] == ((None, 1),)
    assert now[at("b2.down")] == ((at("b1.relu2"), 1),)


def attention_graph(tmp_path, sizes=(8, 8, 8), seq=4, heads=2, split="Split"):
    """x [B, seq, 8] -> one fused projection to Q|K|V of ``sizes`` features -> Split (or three Slices)
    -> per head Reshape/Transpose -> QK^T, / sqrt(dh), softmax, AV -> Transpose/Reshape -> out
    projection -> + x. ``sizes`` other than thirds: grouped-query attention's fewer K/V heads
    (``heads * sizes[1] // sizes[0]`` of them, broadcast over the query heads)."""
    dim, dh, kv_heads = 8, sizes[0] // heads, heads * sizes[1] // sizes[0]
    rng = np.random.default_rng(5)
    inits = [nh.from_array(rng.standard_normal((dim, sum(sizes))).astype(np.float32), "w_qkv"),
             nh.from_array(rng.standard_normal((sizes[0], dim)).astype(np.float32), "w_o"),
             nh.from_array(np.array(sizes, np.int64), "sizes"),
             nh.from_array(np.array([0, 0, heads, dh], np.int64), "q_heads"),
             nh.from_array(np.array([0, 0, kv_heads, dh], np.int64), "kv_heads"),
             nh.from_array(np.array([0, 0, sizes[0]], np.int64), "merge"),
             nh.from_array(np.array(np.sqrt(dh), np.float32), "scale")]
    nodes = [h.make_node("MatMul", ["x", "w_qkv"], ["qkv"], name="attn.qkv")]
    if split == "Split":
        nodes.append(h.make_node("Split", ["qkv", "sizes"], ["q", "k", "v"], axis=-1))
    else:
        bounds = np.cumsum((0, *sizes))
        for part, start, end in zip("qkv", bounds[:-1], bounds[1:]):
            inits += [nh.from_array(np.array([start], np.int64), f"{part}_start"),
                      nh.from_array(np.array([end], np.int64), f"{part}_end"),
                      nh.from_array(np.array([2], np.int64), f"{part}_axis")]
            nodes.append(h.make_node("Slice", ["qkv", f"{part}_start", f"{part}_end", f"{part}_axis"], [part]))
    for part, heads_of, perm in (("q", "q_heads", [0, 2, 1, 3]), ("k", "kv_heads", [0, 2, 3, 1]),
                                 ("v", "kv_heads", [0, 2, 1, 3])):
        nodes += [h.make_node("Reshape", [part, heads_of], [f"{part}_r"]),
                  h.make_node("Transpose", [f"{part}_r"], [f"{part}_t"], perm=perm)]
    nodes += attention_core("merge", "w_o", "attn.out", "y")
    return save(tmp_path, nodes, [fvi("x", [1, seq, dim])], inits, name="attn")


@pytest.mark.parametrize("split", ["Split", "Slice"])
def test_fused_qkv_projection_is_read_in_thirds(tmp_path, split):
    """Q, K and V are each a third of the projection's output: ``[1/3]`` for all three (a part's
    size, not its offset). The plan then reads each whole from chip when the projection stays."""
    path, model = attention_graph(tmp_path, split=split)
    net = load_onnx(path, default_bits=8)
    assert producers(net) == {
        "attn.qkv": ("dram",), "attn.qk": ("attn.qkv[1/3]", "attn.qkv[1/3]"), "attn.scale": ("attn.qk", "dram"),
        "attn.softmax": ("attn.scale",), "attn.av": ("attn.softmax", "attn.qkv[1/3]"), "attn.out": ("attn.av",),
        "attn.residual": ("attn.out", "dram"),  # x is a graph input; the scale a constant
    }
    assert ReferenceEvaluator(model).run(None, {"x": np.zeros((1, 4, 8), np.float32)})[0].shape == (1, 4, 8)
    layers = {layer.name: layer for layer in net.layers}
    third = layers["attn.qkv"].output_elements // 3
    assert layers["attn.qk"].operand_elements == (third, third) and layers["attn.av"].operand_elements[1] == third
    traffic = dict(zip(layers, plan_memory(net, load_arch(TPU))))  # 24 MiB: everything stays
    for name in ("attn.qk", "attn.av"):
        assert traffic[name].operand_dram_bytes == (0, 0)
        assert traffic[name].operand_chip_bytes == traffic[name].operand_bytes


def test_unequal_parts_of_a_projection(tmp_path):
    """Grouped-query attention: Q 8, K 4, V 4 of 16 features: Q reads 1/2, K and V 1/4 each."""
    path, _ = attention_graph(tmp_path, sizes=(8, 4, 4), split="Slice")
    net = load_onnx(path, default_bits=8)
    assert producers(net)["attn.qk"] == ("attn.qkv[1/2]", "attn.qkv[1/4]")
    assert producers(net)["attn.av"] == ("attn.softmax", "attn.qkv[1/4]")
    index = [layer.name for layer in net.layers].index("attn.av")
    assert operand_sources(net)[index][1] == (0, Fraction(1, 4))


def test_pass_through_ops_and_graph_inputs(tmp_path):
    """Identity, Dropout, Flatten, Unsqueeze, Squeeze, Reshape, Transpose, Expand and Pad add no layer
    and keep the producer; a layer on two graph inputs reads both from DRAM."""
    rng = np.random.default_rng(1)
    inits = [nh.from_array(np.array([0], np.int64), "axis0"), nh.from_array(np.array([1, 2, 3], np.int64), "shape"),
             nh.from_array(np.array([0, 0, 0, 0, 0, 1], np.int64), "pads"),
             nh.from_array(np.array([2, 3, 3], np.int64), "wide")]
    nodes = [h.make_node("MatMul", ["a", "b"], ["ab"], name="mm"),                   # [1, 2, 4] @ [1, 4, 3]
             h.make_node("Identity", ["ab"], ["i"]), h.make_node("Dropout", ["i"], ["d"]),
             h.make_node("Flatten", ["d"], ["f"]), h.make_node("Unsqueeze", ["f", "axis0"], ["u"]),
             h.make_node("Squeeze", ["u", "axis0"], ["s"]), h.make_node("Relu", ["s"], ["r"], name="relu"),  # [1, 6]
             h.make_node("Reshape", ["r", "shape"], ["rs"]), h.make_node("Transpose", ["rs"], ["t"], perm=[0, 2, 1]),
             h.make_node("Sigmoid", ["t"], ["g"], name="sig"),                           # [1, 3, 2]
             h.make_node("Pad", ["g", "pads"], ["p"]), h.make_node("Tanh", ["p"], ["pt"], name="tanh_pad"),  # [1, 3, 3]
             h.make_node("Expand", ["pt", "wide"], ["e"]), h.make_node("Tanh", ["e"], ["y"], name="tanh")]  # [2, 3, 3]
    path, model = save(tmp_path, nodes, [fvi("a", [1, 2, 4]), fvi("b", [1, 4, 3])], inits)
    feeds = {"a": np.ones((1, 2, 4), np.float32), "b": np.ones((1, 4, 3), np.float32)}
    assert ReferenceEvaluator(model).run(None, feeds)[0].shape == (2, 3, 3)
    assert producers(load_onnx(path)) == {"mm": ("dram", "dram"), "relu": ("mm",), "sig": ("relu",),
                                          "tanh_pad": ("sig",), "tanh": ("tanh_pad",)}


def test_a_long_chain_of_pass_throughs_traces_without_deep_recursion(tmp_path):
    """5,000 Identity nodes between two layers (a depth Python's default recursion limit of 1,000
    could not trace recursively) still name the first layer."""
    chain = [h.make_node("Identity", [f"t{i}"], [f"t{i + 1}"]) for i in range(5000)]
    nodes = [h.make_node("Relu", ["x"], ["t0"], name="first"), *chain,
             h.make_node("Sigmoid", ["t5000"], ["y"], name="last")]
    path, _ = save(tmp_path, nodes, [fvi("x", [1, 8])])
    assert producers(load_onnx(path)) == {"first": ("dram",), "last": ("first",)}


def test_concat_of_several_layers_falls_back_to_dram(tmp_path):
    """Concat of two layers' outputs: one operand cannot name both, so DRAM (conservative). Concat of
    one layer's output with a constant (a class token) or a graph input (a KV cache): that layer,
    the rest read from DRAM by the plan's size rule."""
    rng = np.random.default_rng(2)
    inits = [nh.from_array(rng.standard_normal((1, 1, 4)).astype(np.float32), "cls"),
             nh.from_array(rng.standard_normal((4, 4)).astype(np.float32), "w")]
    nodes = [h.make_node("Relu", ["x"], ["a"], name="left"), h.make_node("Sigmoid", ["x"], ["b"], name="right"),
             h.make_node("Concat", ["a", "b"], ["ab"], axis=1), h.make_node("Tanh", ["ab"], ["t"], name="both"),
             h.make_node("Concat", ["cls", "a"], ["ca"], axis=1), h.make_node("Tanh", ["ca"], ["u"], name="with_token"),
             h.make_node("MatMul", ["b", "w"], ["k"], name="k_proj"),
             h.make_node("Concat", ["past", "k"], ["kk"], axis=1), h.make_node("Relu", ["kk"], ["y"], name="cached")]
    outputs = [fvi(name, None) for name in ("t", "u", "y")]
    path, _ = save(tmp_path, nodes, [fvi("x", [1, 3, 4]), fvi("past", [1, 5, 4])], inits, outputs=outputs)
    net = load_onnx(path)
    assert producers(net) == {"left": ("dram",), "right": ("dram",), "both": ("dram",), "with_token": ("left",),
                              "k_proj": ("right",), "cached": ("k_proj",)}
    layers = {layer.name: layer for layer in net.layers}
    traffic = dict(zip(layers, plan_memory(net, load_arch(TPU))))
    # "cached" reads the 12 new keys from chip, the 20 cached ones from DRAM (fp32: 4 bytes each)
    assert traffic["cached"].operand_chip_bytes == (12 * 4,) and traffic["cached"].operand_dram_bytes == (20 * 4,)


def test_gather_with_constant_or_computed_indices(tmp_path):
    """``x[:, 0]`` (the class token's row) is a part 1/5 of its producer's output; a Gather whose
    indices are computed, or repeat, cannot be told: DRAM."""
    inits = [nh.from_array(np.array(0, np.int64), "zero"), nh.from_array(np.array([1, 1], np.int64), "twice")]
    nodes = [h.make_node("Relu", ["x"], ["r"], name="relu"),
             h.make_node("Gather", ["r", "zero"], ["g0"], axis=1), h.make_node("Tanh", ["g0"], ["a"], name="row0"),
             h.make_node("Gather", ["r", "twice"], ["g1"], axis=1), h.make_node("Tanh", ["g1"], ["b"], name="repeat"),
             h.make_node("Gather", ["r", "ids"], ["g2"], axis=1), h.make_node("Tanh", ["g2"], ["c"], name="dynamic")]
    outputs = [fvi(name, None) for name in ("a", "b", "c")]
    path, _ = save(tmp_path, nodes, [fvi("x", [1, 5, 4]), fvi("ids", [2], T.INT64)], inits, outputs=outputs)
    assert producers(load_onnx(path)) == {"relu": ("dram",), "row0": ("relu[1/5]",), "repeat": ("dram",),
                                          "dynamic": ("dram",)}


def test_decomposed_gelu_and_left_out_nodes(tmp_path):
    """A GELU written as Div/Erf/Add/Mul/Mul is one layer: the next layer reads it, it reads the layer
    before the pattern. A node left out (allow_partial) gives nothing to read: DRAM."""
    consts = [nh.from_array(np.array(v, np.float32), n) for n, v in (("sqrt2", np.sqrt(2)), ("one", 1.0),
                                                                     ("half", 0.5))]
    nodes = [h.make_node("Relu", ["x"], ["r"], name="relu"),
             h.make_node("Div", ["r", "sqrt2"], ["d"], name="act/Div"),
             h.make_node("Erf", ["d"], ["e"], name="act/Erf"),
             h.make_node("Add", ["e", "one"], ["a"], name="act/Add"),
             h.make_node("Mul", ["r", "a"], ["m"], name="act/Mul"),
             h.make_node("Mul", ["m", "half"], ["gelu"], name="act/Mul_1"),
             h.make_node("Sigmoid", ["gelu"], ["s"], name="sig"),
             h.make_node("HardSwish", ["s"], ["hs"], name="unsupported"),
             h.make_node("Tanh", ["hs"], ["y"], name="tanh")]
    path, _ = save(tmp_path, nodes, [fvi("x", [1, 6])], consts)
    assert producers(load_onnx(path, allow_partial=True)) == {"relu": ("dram",), "act": ("relu",), "sig": ("act",),
                                                              "tanh": ("dram",)}


@pytest.mark.parametrize("quant_format", ["QDQ", "QOperator"])
def test_onnxruntime_quantized_residual_block(tmp_path, quant_format):
    """What ``quantize_static`` writes: the same edges as the float model, where a layer the quantizer
    removes (a ReLU merged into its conv's quantized range) is read through to its producer. QOperator
    names its nodes ``<name>_quant`` (QLinearConv, QLinearAdd, QLinearGlobalAveragePool, QGemm)."""
    quantization = pytest.importorskip("onnxruntime.quantization")
    float_path, _ = save_resnet(tmp_path, bn=False)
    quant_path = tmp_path / "resnet_ort.onnx"

    class Calibration(quantization.CalibrationDataReader):
        def __init__(self):
            rng = np.random.default_rng(0)
            self.feeds = iter([{"x": rng.standard_normal((1, 8, 16, 16)).astype(np.float32)} for _ in range(2)])

        def get_next(self):
            return next(self.feeds, None)

    quantization.quantize_static(str(float_path), str(quant_path), Calibration(),
                                 quant_format=getattr(quantization.QuantFormat, quant_format))
    kept = {name.removesuffix("_quant"): tuple(p.removesuffix("_quant") for p in entries)
            for name, entries in producers(load_onnx(quant_path)).items()}
    assert {"stem", "b1.add", "b2.add", "b2.down", "fc"} <= set(kept)

    def resolved(entry: str) -> str:  # a float-model producer the quantizer removed: its own producer
        while entry not in kept and entry != "dram":
            (entry,) = RESNET_PRODUCERS[entry]
        return entry

    assert kept == {name: tuple(resolved(p) for p in RESNET_PRODUCERS[name]) for name in kept}


def hand_written_resnet(producers_on: bool):
    """The network of :func:`resnet_graph` written by hand (int8), with or without its producers."""
    def conv(name, cin, cout, hw, kernel=3, stride=1):
        return {"op": "conv2d", "name": name, "in_channels": cin, "out_channels": cout, "in_h": hw, "in_w": hw,
                "kernel": kernel, "stride": stride, "padding": kernel // 2}

    layers = [conv("stem", 8, 16, 16), {"op": "relu", "name": "stem.relu", "shape": [16, 16, 16]},
              conv("b1.conv1", 16, 16, 16), {"op": "relu", "name": "b1.relu1", "shape": [16, 16, 16]},
              conv("b1.conv2", 16, 16, 16), {"op": "eltwise", "name": "b1.add", "shape": [16, 16, 16]},
              {"op": "relu", "name": "b1.relu2", "shape": [16, 16, 16]},
              conv("b2.conv1", 16, 32, 16, stride=2), {"op": "relu", "name": "b2.relu1", "shape": [32, 8, 8]},
              conv("b2.conv2", 32, 32, 8), conv("b2.down", 16, 32, 16, kernel=1, stride=2),
              {"op": "eltwise", "name": "b2.add", "shape": [32, 8, 8]},
              {"op": "relu", "name": "b2.relu2", "shape": [32, 8, 8]},
              {"op": "pool", "name": "gap", "kind": "avg", "channels": 32, "in_h": 8, "in_w": 8, "kernel": 8},
              {"op": "gemm", "name": "fc", "m": 1, "n": 10, "k": 32}]
    if producers_on:
        for layer in layers:
            layer["producers"] = list(RESNET_PRODUCERS[layer["name"]])
    return network_from_dict({"name": "resnet", "layers": layers})


def dram_totals(arch, net) -> tuple[int, int]:
    layers = simulate(arch, net, progress=False).layers
    return int(layers.dram_read_bytes.sum()), int(layers.dram_write_bytes.sum())


def sources(arch, net) -> dict[str, str]:
    """The ``ifmap_source`` column (per operand: chip, dram, chip+dram or path) by layer."""
    layers = simulate(arch, net, progress=False).layers
    return dict(zip(layers.layer, layers.ifmap_source))


def test_memory_plan_of_the_import_equals_the_hand_written_network(tmp_path):
    """On tpu_v1_like (24 MiB unified buffer, native timing, plan on) the small network fits: DRAM
    reads are the weights plus the network input and writes the 10 logits (int8), for the import
    and the hand-written network alike. Without producers the shortcuts are read from DRAM: more."""
    arch = load_arch(TPU)
    imported = load_onnx(save_resnet(tmp_path)[0], default_bits=8)
    hand = hand_written_resnet(producers_on=True)
    assert [layer.name for layer in imported.layers] == [layer.name for layer in hand.layers]
    floor = (hand.weight_elements + 8 * 16 * 16, 10)  # int8: one byte per weight, input value and logit
    assert dram_totals(arch, imported) == dram_totals(arch, hand) == floor
    stripped = replace(imported, layers=tuple(replace(layer, producers=()) for layer in imported.layers))
    reads, writes = dram_totals(arch, stripped)
    assert reads > floor[0] and writes >= floor[1]
    assert reads == dram_totals(arch, hand_written_resnet(producers_on=False))[0]
    # where the difference is: the shortcuts (and the downsample conv's input) come from chip now
    now, before = sources(arch, imported), sources(arch, stripped)
    assert (now["b1.add"], now["b2.add"], now["b2.down"]) == ("chip,chip", "chip,chip", "chip")
    assert (before["b1.add"], before["b2.add"], before["b2.down"]) == ("chip,dram", "chip,dram", "dram")
