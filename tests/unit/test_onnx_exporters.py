"""ONNX import of what real tools write: each exporter/quantizer pattern built with ``onnx.helper``.

Expected MACs are hand formulas (conv ``N*K*P*Q*C*R*S/groups``, GEMM ``M*N*K``); expected
densities are counted on the integers the test wrote, or on the weights onnxruntime itself
dequantizes; shapes of recognized ops are checked against the tensor they replace.
"""

from __future__ import annotations

import logging
import math

import numpy as np

import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto as T  # noqa: E402
from onnx import helper as h  # noqa: E402
from onnx import numpy_helper as nh  # noqa: E402

from accelsim.cli import main  # noqa: E402
from accelsim.errors import WorkloadError  # noqa: E402
from accelsim.frontend.onnx import graph as onnx_graph  # noqa: E402
from accelsim.frontend.onnx import load_onnx  # noqa: E402
from accelsim.frontend.load import load_arch, load_workload  # noqa: E402
from accelsim.spec.load import save_workload  # noqa: E402
from accelsim.spec.workload import Conv2d, Eltwise, EltwiseKind, Gemm, MatMul, Op, Pool, PoolKind  # noqa: E402
from accelsim.vector.functions import layer_program  # noqa: E402

MS = "com.microsoft"


def save(tmp_path, nodes, inputs, inits=(), name="m", opset=17, outputs=None, graph_name="main_graph", ms=False):
    outs = outputs or [h.make_tensor_value_info(nodes[-1].output[0], T.FLOAT, None)]
    graph = h.make_graph(nodes, graph_name, inputs, outs, list(inits))
    opsets = [h.make_opsetid("", opset)] + ([h.make_opsetid(MS, 1)] if ms else [])
    model = h.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, path)
    return path


def const(name, value, dtype=np.float32):
    return nh.from_array(np.asarray(value, dtype=dtype), name)


def fvi(name, dims, elem=T.FLOAT):
    return h.make_tensor_value_info(name, elem, dims)


# ---- decomposed ops ------------------------------------------------------------------------


def gelu_erf(x, out, scope, half_first=False):
    """torch.nn.GELU (half last) or Hugging Face's gelu (x * 0.5 first), as the legacy exporter writes them."""
    nodes = [h.make_node("Div", [x, f"{scope}sqrt2"], [f"{scope}d"], name=f"{scope}/Div"),
             h.make_node("Erf", [f"{scope}d"], [f"{scope}e"], name=f"{scope}/Erf"),
             h.make_node("Add", [f"{scope}e", f"{scope}one"], [f"{scope}a"], name=f"{scope}/Add")]
    if half_first:
        nodes += [h.make_node("Mul", [x, f"{scope}half"], [f"{scope}hx"], name=f"{scope}/Mul"),
                  h.make_node("Mul", [f"{scope}hx", f"{scope}a"], [out], name=f"{scope}/Mul_1")]
    else:
        nodes += [h.make_node("Mul", [x, f"{scope}a"], [f"{scope}m"], name=f"{scope}/Mul"),
                  h.make_node("Mul", [f"{scope}m", f"{scope}half"], [out], name=f"{scope}/Mul_1")]
    inits = [const(f"{scope}sqrt2", 1.4142135381698608), const(f"{scope}one", 1.0), const(f"{scope}half", 0.5)]
    return nodes, inits


def gelu_tanh(x, out, scope, cube_by_pow=True):
    p = scope
    cube = [h.make_node("Pow", [x, f"{p}three"], [f"{p}c"], name=f"{p}/Pow")] if cube_by_pow else \
        [h.make_node("Mul", [x, x], [f"{p}sq"], name=f"{p}/Mul_sq"), h.make_node("Mul", [f"{p}sq", x], [f"{p}c"])]
    nodes = [*cube,
             h.make_node("Mul", [f"{p}k", f"{p}c"], [f"{p}kc"], name=f"{p}/Mul_k"),
             h.make_node("Add", [x, f"{p}kc"], [f"{p}in"], name=f"{p}/Add"),
             h.make_node("Mul", [f"{p}in", f"{p}s"], [f"{p}sin"], name=f"{p}/Mul_s"),
             h.make_node("Tanh", [f"{p}sin"], [f"{p}t"], name=f"{p}/Tanh"),
             h.make_node("Add", [f"{p}one", f"{p}t"], [f"{p}a"], name=f"{p}/Add_1"),
             h.make_node("Mul", [f"{p}a", x], [f"{p}m"], name=f"{p}/Mul_x"),
             h.make_node("Mul", [f"{p}m", f"{p}half"], [out], name=f"{p}/Mul_half")]
    inits = [const(f"{p}three", 3.0), const(f"{p}k", 0.044715), const(f"{p}s", math.sqrt(2 / math.pi)),
             const(f"{p}one", 1.0), const(f"{p}half", 0.5)]
    return nodes, inits


def layernorm(x, out, scope, dim, square_by_mul=False, reciprocal=False, axes_input=False):
    """LayerNorm over the last axis as ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add."""
    p = scope
    reduce = (lambda i, o, n: h.make_node("ReduceMean", [i, f"{p}axes"], [o], name=n)) if axes_input else \
        (lambda i, o, n: h.make_node("ReduceMean", [i], [o], name=n, axes=[-1]))
    square = h.make_node("Mul", [f"{p}c", f"{p}c"], [f"{p}sq"], name=f"{p}/Mul_sq") if square_by_mul else \
        h.make_node("Pow", [f"{p}c", f"{p}two"], [f"{p}sq"], name=f"{p}/Pow")
    nodes = [reduce(x, f"{p}mean", f"{p}/ReduceMean"),
             h.make_node("Sub", [x, f"{p}mean"], [f"{p}c"], name=f"{p}/Sub"), square,
             reduce(f"{p}sq", f"{p}var", f"{p}/ReduceMean_1"),
             h.make_node("Add", [f"{p}var", f"{p}eps"], [f"{p}ve"], name=f"{p}/Add"),
             h.make_node("Sqrt", [f"{p}ve"], [f"{p}std"], name=f"{p}/Sqrt")]
    if reciprocal:
        nodes += [h.make_node("Reciprocal", [f"{p}std"], [f"{p}inv"], name=f"{p}/Reciprocal"),
                  h.make_node("Mul", [f"{p}c", f"{p}inv"], [f"{p}n"], name=f"{p}/Mul_inv")]
    else:
        nodes.append(h.make_node("Div", [f"{p}c", f"{p}std"], [f"{p}n"], name=f"{p}/Div"))
    nodes += [h.make_node("Mul", [f"{p}n", f"{p}g"], [f"{p}ng"], name=f"{p}/Mul"),
              h.make_node("Add", [f"{p}ng", f"{p}b"], [out], name=f"{p}/Add_1")]
    inits = [const(f"{p}two", 2.0), const(f"{p}eps", 1e-12), const(f"{p}g", np.ones(dim)),
             const(f"{p}b", np.zeros(dim)), const(f"{p}axes", [-1], np.int64)]
    return nodes, inits


@pytest.mark.parametrize("half_first", [False, True])
def test_gelu_erf_form_is_one_gelu_layer(tmp_path, half_first):
    nodes, inits = gelu_erf("x", "y", "/ffn/act", half_first)
    path = save(tmp_path, nodes, [fvi("x", [2, 5, 12])], inits)
    (layer,) = load_onnx(path).layers
    assert layer.op is Op.GELU and layer.name == "/ffn/act" and (layer.batch, layer.shape) == (2, (5, 12))


@pytest.mark.parametrize("cube_by_pow", [True, False])
def test_gelu_tanh_form_is_one_gelu_layer(tmp_path, cube_by_pow):
    nodes, inits = gelu_tanh("x", "y", "/act", cube_by_pow)
    path = save(tmp_path, nodes, [fvi("x", [1, 7, 16])], inits)
    (layer,) = load_onnx(path).layers
    assert layer.op is Op.GELU and layer.shape == (7, 16)


def test_gelu_lookalike_with_other_constants_is_not_fused(tmp_path):
    nodes, inits = gelu_erf("x", "y", "/act")
    inits[0] = const("/actsqrt2", 2.0)  # erf(x / 2): not GELU
    path = save(tmp_path, nodes, [fvi("x", [1, 4])], inits)
    with pytest.raises(WorkloadError, match=r"/act/Erf \(Erf: unsupported op\)"):
        load_onnx(path)


@pytest.mark.parametrize("square_by_mul, reciprocal, axes_input, opset",
                         [(False, False, False, 17), (True, True, False, 17), (False, False, True, 18)])
def test_layernorm_chain_is_one_layernorm(tmp_path, square_by_mul, reciprocal, axes_input, opset):
    nodes, inits = layernorm("x", "y", "/enc/LayerNorm", 16, square_by_mul, reciprocal, axes_input)
    path = save(tmp_path, nodes, [fvi("x", [3, 6, 16])], inits, opset=opset)
    (layer,) = load_onnx(path).layers
    assert layer.op is Op.LAYERNORM and layer.name == "/enc/LayerNorm"
    assert (layer.batch, layer.shape) == (3, (6, 16))


def test_rmsnorm_chain_is_one_rmsnorm(tmp_path):
    nodes = [h.make_node("Pow", ["x", "two"], ["sq"], name="/norm/Pow"),
             h.make_node("ReduceMean", ["sq", "axes"], ["ms"], name="/norm/ReduceMean"),
             h.make_node("Add", ["ms", "eps"], ["mse"], name="/norm/Add"),
             h.make_node("Sqrt", ["mse"], ["rms"], name="/norm/Sqrt"),
             h.make_node("Div", ["one", "rms"], ["inv"], name="/norm/Div"),
             h.make_node("Mul", ["x", "inv"], ["n"], name="/norm/Mul"),
             h.make_node("Mul", ["w", "n"], ["y"], name="/norm/Mul_1")]
    inits = [const("two", 2.0), const("axes", [-1], np.int64), const("eps", 1e-6), const("one", 1.0),
             const("w", np.ones(32))]
    path = save(tmp_path, nodes, [fvi("x", [1, 9, 32])], inits, opset=18)
    (layer,) = load_onnx(path).layers
    assert layer.op is Op.RMSNORM and layer.name == "/norm" and layer.shape == (9, 32)


@pytest.mark.parametrize("with_max", [True, False])
def test_softmax_chain_is_one_softmax_with_its_axis_last(tmp_path, with_max):
    nodes = [h.make_node("ReduceMax", ["x"], ["mx"], axes=[1], name="/sm/ReduceMax"),
             h.make_node("Sub", ["x", "mx"], ["xs"], name="/sm/Sub")] if with_max else []
    src = "xs" if with_max else "x"
    nodes += [h.make_node("Exp", [src], ["e"], name="/sm/Exp"),
              h.make_node("ReduceSum", ["e", "axes"], ["s"], name="/sm/ReduceSum"),
              h.make_node("Div", ["e", "s"], ["y"], name="/sm/Div")]
    path = save(tmp_path, nodes, [fvi("x", [2, 5, 3, 4])], [const("axes", [1], np.int64)])
    (layer,) = load_onnx(path).layers
    assert layer.op is Op.SOFTMAX and (layer.batch, layer.shape) == (2, (3, 4, 5))


def test_reduce_mean_over_space_is_global_average_pooling(tmp_path):
    nodes = [h.make_node("ReduceMean", ["x", "axes"], ["g"], name="gap", keepdims=0),
             h.make_node("ReduceMax", ["g"], ["y"], name="channel_max", axes=[1], keepdims=1)]
    path = save(tmp_path, nodes, [fvi("x", [2, 8, 5, 7])], [const("axes", [2, 3], np.int64)], opset=18)
    gap, cmax = load_onnx(path).layers
    assert isinstance(gap, Pool) and gap.kind is PoolKind.AVG and (gap.batch, gap.channels) == (2, 8)
    assert gap.kernel == (5, 7) and (gap.out_h, gap.out_w) == (1, 1) and gap.vector_elements == 2 * 8 * 35
    # max over the 8 channels of each sample: one window of 8
    assert cmax.kind is PoolKind.MAX and (cmax.batch, cmax.channels, cmax.kernel) == (2, 1, (1, 8))


def test_other_elementwise_ops_are_eltwise_layers(tmp_path):
    nodes = [h.make_node("Sqrt", ["x"], ["a"], name="sqrt"),
             h.make_node("Mod", ["a", "three"], ["b"], name="mod", fmod=1),
             h.make_node("Pow", ["b", "x"], ["c"], name="pow"), h.make_node("Greater", ["c", "x"], ["m"], name="gt"),
             h.make_node("Where", ["m", "c", "x"], ["d"], name="where"),
             h.make_node("Cast", ["d"], ["y"], name="cast", to=T.FLOAT16)]
    path = save(tmp_path, nodes, [fvi("x", [1, 4, 6])], [const("three", 3.0)],
                outputs=[fvi("y", None, T.FLOAT16)])
    layers = {layer.name: layer for layer in load_onnx(path).layers}
    want = {"sqrt": (EltwiseKind.SQRT, 1), "mod": (EltwiseKind.MOD, 2), "pow": (EltwiseKind.POW, 2),
            "gt": (EltwiseKind.COMPARE, 2), "where": (EltwiseKind.WHERE, 3), "cast": (EltwiseKind.CAST, 1)}
    assert {name: (layer.kind, layer.inputs) for name, layer in layers.items()} == want
    for layer in layers.values():
        assert isinstance(layer, Eltwise) and layer.shape == (4, 6)
        program, rows, row_len = layer_program(layer)
        assert rows * row_len == 24 and program.inputs == layer.inputs
    # one lane op per element for unary ops and the select, inputs - 1 for the combinations
    assert layers["sqrt"].vector_elements == layers["where"].vector_elements == layers["pow"].vector_elements == 24


# ---- transformer with symbolic shapes ------------------------------------------------------


def bert_layer(tmp_path, seq_param="sequence", dim=16, heads=2, ffn=32):
    """One post-LN encoder layer as torch's legacy exporter writes it at opset 17: symbolic batch and
    sequence, position ids sliced to the sequence length read from Shape, head reshapes from
    Shape/Gather/Concat, decomposed
    LayerNorm and Erf GELU, the attention mask added before Softmax."""
    rng = np.random.default_rng(3)
    dh = dim // heads
    w = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    inits = [nh.from_array(w(50, dim), "tok"), nh.from_array(w(512, dim), "pos"),
             *(nh.from_array(w(dim, dim), f"w{n}") for n in "qkvo"), *(nh.from_array(w(dim), f"b{n}") for n in "qkvo"),
             nh.from_array(w(dim, ffn), "w1"), nh.from_array(w(ffn), "b1"), nh.from_array(w(ffn, dim), "w2"),
             nh.from_array(w(dim), "b2"), const("i0", 0, np.int64), const("i1", 1, np.int64),
             const("ax0", [0], np.int64), const("hd", [heads, dh], np.int64), const("dm", [dim], np.int64),
             const("scale", math.sqrt(dh)), const("neg", -10000.0), const("onef", 1.0),
             const("position_ids", np.arange(512)[None], np.int64), const("zero1", [0], np.int64),
             const("ax1", [1], np.int64)]
    nodes = [h.make_node("Gather", ["tok", "ids"], ["te"]),
             h.make_node("Shape", ["ids"], ["ids_shape"]), h.make_node("Gather", ["ids_shape", "i1"], ["seq"]),
             h.make_node("Unsqueeze", ["seq", "ax0"], ["seq1"]),  # position_ids[:, :seq] as Hugging Face writes it
             h.make_node("Slice", ["position_ids", "zero1", "seq1", "ax1"], ["pids"]),
             h.make_node("Gather", ["pos", "pids"], ["pe"]),
             h.make_node("Add", ["te", "pe"], ["emb"], name="/emb/Add")]
    ln, ln_inits = layernorm("emb", "x0", "/emb/LayerNorm", dim)
    nodes += ln
    inits += ln_inits
    nodes += [h.make_node("Shape", ["x0"], ["xs"]), h.make_node("Gather", ["xs", "i0"], ["b"]),
              h.make_node("Gather", ["xs", "i1"], ["s"]), h.make_node("Unsqueeze", ["b", "ax0"], ["bu"]),
              h.make_node("Unsqueeze", ["s", "ax0"], ["su"]),
              h.make_node("Concat", ["bu", "su", "hd"], ["split_shape"], axis=0),
              h.make_node("Concat", ["bu", "su", "dm"], ["merge_shape"], axis=0)]
    for n in "qkv":
        nodes += [h.make_node("MatMul", ["x0", f"w{n}"], [f"{n}m"], name=f"/attn/{n}/MatMul"),
                  h.make_node("Add", [f"b{n}", f"{n}m"], [f"{n}a"], name=f"/attn/{n}/Add"),
                  h.make_node("Reshape", [f"{n}a", "split_shape"], [f"{n}r"]),
                  h.make_node("Transpose", [f"{n}r"], [f"{n}t"], perm=[0, 2, 3, 1] if n == "k" else [0, 2, 1, 3])]
    nodes += [h.make_node("Unsqueeze", ["mask", "mask_axes"], ["mask4"]),  # [b, s] -> [b, 1, 1, s]
              h.make_node("Cast", ["mask4"], ["maskf"], to=T.FLOAT, name="/attn/mask/Cast"),
              h.make_node("Sub", ["onef", "maskf"], ["inv"], name="/attn/mask/Sub"),
              h.make_node("Mul", ["inv", "neg"], ["bias"], name="/attn/mask/Mul"),
              h.make_node("MatMul", ["qt", "kt"], ["scores"], name="/attn/MatMul"),
              h.make_node("Div", ["scores", "scale"], ["scaled"], name="/attn/Div"),
              h.make_node("Add", ["scaled", "bias"], ["masked"], name="/attn/Add"),
              h.make_node("Softmax", ["masked"], ["probs"], name="/attn/Softmax", axis=-1),
              h.make_node("MatMul", ["probs", "vt"], ["ctx"], name="/attn/MatMul_1"),
              h.make_node("Transpose", ["ctx"], ["ctx_t"], perm=[0, 2, 1, 3]),
              h.make_node("Reshape", ["ctx_t", "merge_shape"], ["ctx_m"]),
              h.make_node("MatMul", ["ctx_m", "wo"], ["om"], name="/attn/o/MatMul"),
              h.make_node("Add", ["bo", "om"], ["oa"], name="/attn/o/Add"),
              h.make_node("Add", ["oa", "x0"], ["res1"], name="/attn/residual")]
    inits.append(const("mask_axes", [1, 2], np.int64))
    ln, ln_inits = layernorm("res1", "x1", "/attn/LayerNorm", dim)
    nodes += ln
    inits += ln_inits
    nodes += [h.make_node("MatMul", ["x1", "w1"], ["f1"], name="/ffn/in/MatMul"),
              h.make_node("Add", ["b1", "f1"], ["f1b"], name="/ffn/in/Add")]
    gelu, gelu_inits = gelu_erf("f1b", "g", "/ffn/act")
    nodes += gelu
    inits += gelu_inits
    nodes += [h.make_node("MatMul", ["g", "w2"], ["f2"], name="/ffn/out/MatMul"),
              h.make_node("Add", ["b2", "f2"], ["f2b"], name="/ffn/out/Add"),
              h.make_node("Add", ["f2b", "x1"], ["res2"], name="/ffn/residual")]
    ln, ln_inits = layernorm("res2", "y", "/ffn/LayerNorm", dim)
    nodes += ln
    inits += ln_inits
    inputs = [fvi("ids", ["batch", seq_param], T.INT64), fvi("mask", ["batch", seq_param], T.INT64)]
    return save(tmp_path, nodes, inputs, inits, name="tiny_bert", outputs=[fvi("y", ["batch", seq_param, dim])])


def bert_macs(batch, seq, dim=16, ffn=32):
    """4 projections and 2 FFN matmuls per token, QK^T and AV per sample (heads split D)."""
    return batch * (seq * (4 * dim * dim + 2 * dim * ffn) + 2 * seq * seq * dim)


def test_bert_layer_with_symbolic_dims_by_hand(tmp_path):
    path = bert_layer(tmp_path)
    net = load_onnx(path, batch=2, dims={"sequence": 10})
    assert net.name == "tiny_bert" and net.macs == bert_macs(2, 10) and net.lost_macs == 0
    by_op = {}
    for layer in net.layers:
        by_op.setdefault(layer.op, []).append(layer)
    assert [layer.name for layer in by_op[Op.LAYERNORM]] == ["/emb/LayerNorm", "/attn/LayerNorm", "/ffn/LayerNorm"]
    assert all(layer.shape == (10, 16) and layer.batch == 2 for layer in by_op[Op.LAYERNORM])
    (gelu,) = by_op[Op.GELU]
    assert gelu.name == "/ffn/act" and gelu.shape == (10, 32)
    (softmax,) = by_op[Op.SOFTMAX]
    assert softmax.shape == (2, 10, 10)
    qk = next(layer for layer in net.layers if layer.name == "/attn/MatMul")
    assert isinstance(qk, MatMul) and (qk.batch, qk.heads, qk.m, qk.n, qk.k) == (2, 2, 10, 10, 8)
    mask_cast = next(layer for layer in net.layers if layer.name == "/attn/mask/Cast")
    assert mask_cast.kind is EltwiseKind.CAST and mask_cast.shape == (1, 1, 10)
    # the shorthands bind the same dimensions, from the command line too
    out = tmp_path / "bert.yaml"
    assert main(["import", str(path), "-o", str(out), "--batch", "2", "--dim", "sequence=10"]) == 0
    assert load_workload(out).macs == bert_macs(2, 10)
    assert main(["import", str(path), "-o", str(out), "--dim", "sequence"]) == 2
    assert load_onnx(path, batch=2, seq_len=10).macs == net.macs
    assert load_onnx(path, dims={"batch": 3, "sequence": 4}).macs == bert_macs(3, 4)


def test_without_onnxruntime_shape_inference_the_unknown_dimension_is_named(tmp_path, monkeypatch):
    """ONNX's own inference cannot follow Slice(ends=Shape(..)): onnxruntime's symbolic inference can."""
    path = bert_layer(tmp_path)
    monkeypatch.setattr(onnx_graph, "_onnxruntime_inferred", lambda model: None)
    with pytest.raises(WorkloadError) as info:
        load_onnx(path, batch=1, seq_len=8)
    text = str(info.value)
    assert "unknown after ONNX and onnxruntime shape inference; it first appears at the output pids of node " \
           "Slice (Slice)" in text and "/attn/q/MatMul (MatMul: shape of x0 unknown (unk__" in text
    partial = load_onnx(path, batch=1, seq_len=8, allow_partial=True)
    assert partial.macs < bert_macs(1, 8) and "partial import" in partial.source


def test_symbolic_input_dims_must_be_bound(tmp_path):
    path = bert_layer(tmp_path)
    with pytest.raises(WorkloadError, match=r"input ids: axis 1 has no fixed size \(sequence\); bind it with "
                                            r"dims=\{'sequence': N\} \(accelsim import --dim sequence=N\)"):
        load_onnx(path)
    with pytest.raises(WorkloadError, match=r"dims.sequnce: no graph input has a dimension named 'sequnce' "
                                            r"\(did you mean 'sequence'\?\)"):
        load_onnx(path, dims={"sequnce": 8})


@pytest.mark.parametrize("kwargs, key", [(dict(batch=-2), "batch"), (dict(batch=0), "batch"),
                                         (dict(default_bits=0), "default_bits"), (dict(seq_len=0), "seq_len"),
                                         (dict(dims={"sequence": 0}), "dims.sequence")])
def test_bad_arguments_are_errors_naming_them(tmp_path, kwargs, key):
    path = bert_layer(tmp_path)
    with pytest.raises(WorkloadError, match=key):
        load_onnx(path, **{"dims": {"sequence": 4}, **kwargs})


def test_zero_size_input_axis_is_an_error(tmp_path):
    path = save(tmp_path, [h.make_node("Relu", ["x"], ["y"])], [fvi("x", [1, 0, 4])])
    with pytest.raises(WorkloadError, match=r"input x: axis 1 has size 0"):
        load_onnx(path)


def test_imported_workload_passes_validate(tmp_path, capsys):
    path = bert_layer(tmp_path)
    net = load_onnx(path, batch=2, seq_len=6)
    out = tmp_path / "bert.yaml"
    save_workload(net, out)
    assert main(["validate", str(out)]) == 0
    assert load_workload(out).macs == net.macs == bert_macs(2, 6)


# ---- names, channels, float warning, partial imports -----------------------------------------


def conv_model(tmp_path, graph_name="main_graph", channels=3, name="resnet_tiny"):
    w = np.ones((4, 3, 3, 3), np.float32)
    return save(tmp_path, [h.make_node("Conv", ["x", "w"], ["y"], name="conv", pads=[1, 1, 1, 1])],
                [fvi("x", [1, channels, 8, 8])], [nh.from_array(w, "w")], name=name, graph_name=graph_name)


@pytest.mark.parametrize("graph_name, want", [("main_graph", "resnet_tiny"), ("torch_jit", "resnet_tiny"),
                                              ("torch-jit-export", "resnet_tiny"), ("ResNetTiny", "ResNetTiny")])
def test_network_named_after_the_file_unless_the_graph_has_a_real_name(tmp_path, graph_name, want):
    assert load_onnx(conv_model(tmp_path, graph_name)).name == want


def test_channel_mismatch_is_an_error_not_a_dropped_conv(tmp_path):
    path = conv_model(tmp_path, channels=5)
    with pytest.raises(WorkloadError, match=r"node conv: input x has 5 channels, the weights w \[4, 3, 3, 3\] "
                                            r"\(group 1\) take 3"):
        load_onnx(path)


def test_float_model_keeps_its_format_unless_bits_are_given(tmp_path, caplog):
    path = conv_model(tmp_path)
    (layer,) = load_onnx(path).layers
    assert (layer.compression.weight_bits, layer.compression.act_bits) == ("fp32", "fp32")
    with caplog.at_level(logging.WARNING):
        (layer,) = load_onnx(path, default_bits=16).layers
    assert (layer.compression.weight_bits, layer.compression.act_bits) == (16, 16)
    assert "operands of FLOAT (fp32): bits set to 16" in caplog.text


def test_partial_import_names_nodes_and_the_share_of_macs(tmp_path):
    w3 = np.ones((2, 3, 2, 2, 2), np.float32)
    w2 = np.ones((4, 3, 3, 3), np.float32)
    nodes = [h.make_node("Conv", ["v", "w3"], ["v3"], name="conv3d"),
             h.make_node("Conv", ["x", "w2"], ["y"], name="conv2d")]
    path = save(tmp_path, nodes, [fvi("v", [1, 3, 4, 4, 4]), fvi("x", [1, 3, 6, 6])],
                [nh.from_array(w3, "w3"), nh.from_array(w2, "w2")])
    conv3d = 2 * 3 * 3 * 3 * (3 * 2 * 2 * 2)  # K * out D*H*W * C*R*S*T
    conv2d = 4 * 4 * 4 * (3 * 3 * 3)
    share = f"{conv3d / (conv3d + conv2d):.1%}"
    with pytest.raises(WorkloadError, match=rf"conv3d \(Conv: 3-D\)\. They hold {conv3d:,} of "
                                            rf"{conv3d + conv2d:,} MACs \({share}\)"):
        load_onnx(path)
    net = load_onnx(path, allow_partial=True)
    assert net.macs == conv2d and net.lost_macs == conv3d and share in net.source
    out = tmp_path / "partial.yaml"
    save_workload(net, out)
    assert load_workload(out).lost_macs == conv3d
    assert out.read_text().splitlines()[0] == f"# accelsim workload: m ({conv2d:,} MACs; {conv3d:,} MACs of the " \
                                               "source model left out)"


# ---- quantized graphs ----------------------------------------------------------------------------


def test_com_microsoft_qdq_int4_below_opset_21(tmp_path, rng):
    """quantize_static(weight_type=QInt4) at opset 17 writes com.microsoft Q/DQ, unknown to ONNX inference."""
    wq = rng.integers(-8, 8, size=(6, 4, 3, 3))
    wq.reshape(-1)[::4] = 0
    fc = rng.integers(-8, 8, size=(6 * 5 * 5, 10))
    nodes = [h.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"], domain=MS),
             h.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"], domain=MS),
             h.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"], domain=MS, axis=0),
             h.make_node("Conv", ["xd", "wd"], ["c"], name="conv"),
             h.make_node("Relu", ["c"], ["r"], name="relu"),
             h.make_node("Flatten", ["r"], ["f"]),
             h.make_node("DequantizeLinear", ["fq", "fs", "fz"], ["fd"], domain=MS),
             h.make_node("MatMul", ["f", "fd"], ["y"], name="fc")]
    inits = [const("xs", 0.1), h.make_tensor("xz", T.UINT8, [], [128]),
             h.make_tensor("wq", T.INT4, wq.shape, wq.ravel().tolist()), const("ws", np.full(6, 0.05)),
             h.make_tensor("wz", T.INT4, [6], [0] * 6), h.make_tensor("fq", T.INT4, fc.shape, fc.ravel().tolist()),
             const("fs", 0.02), h.make_tensor("fz", T.INT4, [], [0])]
    path = save(tmp_path, nodes, [fvi("x", [1, 4, 7, 7])], inits, ms=True)
    conv, relu, fc_layer = load_onnx(path).layers
    assert conv.macs == 6 * 5 * 5 * (4 * 3 * 3) and fc_layer.macs == 150 * 10
    assert (conv.compression.weight_bits, conv.compression.act_bits) == (4, 8)
    assert conv.compression.weight_density == np.count_nonzero(wq) / wq.size
    assert fc_layer.compression.weight_bits == 4 and relu.shape == (6, 5, 5)
    # per-channel scales (6 fp32) and int4 zero points (6 x 4 bits) are the conv weights' metadata
    assert conv.compression.weight_scale_bytes == 6 * 4 + 3


def scalar(name, elem, value):
    return h.make_tensor(name, elem, [], [value])


def test_qoperator_graph_by_hand(tmp_path, rng):
    """QuantFormat.QOperator: QLinearConv, QLinearAdd, QLinearSigmoid, QLinearLeakyRelu,
    QLinearGlobalAveragePool and QGemm (the com.microsoft ones unknown to ONNX inference)."""
    wc = rng.integers(-127, 128, size=(8, 4, 3, 3)).astype(np.int8)
    wg = rng.integers(0, 256, size=(10, 8)).astype(np.uint8)  # QGemm B with transB
    wg[:, ::3] = 7  # equal to the zero point: zeros
    q = ["qs", "qz"]
    nodes = [h.make_node("QLinearConv", ["x", *q, "wc", "ws", "wz", *q], ["c"], name="conv", pads=[1, 1, 1, 1]),
             h.make_node("QLinearAdd", ["c", *q, "c", *q, *q], ["a"], name="add", domain=MS),
             h.make_node("QLinearSigmoid", ["a", *q, *q], ["s"], name="sigmoid", domain=MS),
             h.make_node("QLinearLeakyRelu", ["s", *q, *q], ["l"], name="leaky", domain=MS, alpha=0.1),
             h.make_node("QLinearGlobalAveragePool", ["l", *q, *q], ["g"], name="gap", domain=MS, channels_last=0),
             h.make_node("Flatten", ["g"], ["f"]),
             h.make_node("QGemm", ["f", *q, "wg", "gs", "gz", "", *q], ["y"], name="fc", domain=MS, transB=1)]
    inits = [scalar("qs", T.FLOAT, 0.1), scalar("qz", T.UINT8, 128), nh.from_array(wc, "wc"),
             scalar("ws", T.FLOAT, 0.01), scalar("wz", T.INT8, 0), nh.from_array(wg, "wg"),
             scalar("gs", T.FLOAT, 0.01), scalar("gz", T.UINT8, 7)]
    path = save(tmp_path, nodes, [fvi("x", [1, 4, 6, 6], T.UINT8)], inits, ms=True,
                outputs=[fvi("y", None, T.UINT8)])
    conv, add, sig, leaky, gap, fc = load_onnx(path).layers
    assert isinstance(conv, Conv2d) and conv.macs == 8 * 6 * 6 * 4 * 9
    assert add.kind is EltwiseKind.ADD and add.inputs == 2 and add.shape == (8, 6, 6)
    assert (sig.op, leaky.op) == (Op.SIGMOID, Op.RELU) and sig.shape == (8, 6, 6)
    assert gap.kernel == (6, 6) and gap.channels == 8
    assert isinstance(fc, Gemm) and (fc.m, fc.n, fc.k) == (1, 10, 8) and fc.macs == 80
    assert fc.compression.weight_density == np.count_nonzero(wg.astype(int) - 7) / wg.size
    assert all(layer.compression.act_bits == 8 for layer in (conv, add, sig, leaky, gap, fc))


def test_dynamic_quantization_ops(tmp_path, rng):
    wc = rng.integers(0, 256, size=(4, 3, 1, 1)).astype(np.uint8)
    wm = rng.integers(-128, 128, size=(4 * 5 * 5, 6)).astype(np.int8)
    nodes = [h.make_node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"]),
             h.make_node("ConvInteger", ["xq", "wc", "xz", "wcz"], ["ci"], name="conv"),
             h.make_node("Cast", ["ci"], ["cf"], to=T.FLOAT, name="cast"),
             h.make_node("Reshape", ["cf", "flat"], ["f"]),
             h.make_node("DynamicQuantizeLinear", ["f"], ["fq", "fs", "fz"]),
             h.make_node("MatMulInteger", ["fq", "wm", "fz"], ["y"], name="fc")]
    inits = [nh.from_array(wc, "wc"), scalar("wcz", T.UINT8, 128), nh.from_array(wm, "wm"),
             const("flat", [1, -1], np.int64)]
    path = save(tmp_path, nodes, [fvi("x", [1, 3, 5, 5])], inits, outputs=[fvi("y", None, T.INT32)])
    conv, cast, fc = load_onnx(path).layers
    assert conv.macs == 4 * 25 * 3 and fc.macs == 100 * 6
    assert (conv.compression.weight_bits, conv.compression.act_bits, fc.compression.act_bits) == (8, 8, 8)
    assert conv.compression.weight_density == np.count_nonzero(wc.astype(int) - 128) / wc.size
    assert cast.kind is EltwiseKind.CAST and cast.compression.act_bits == 32  # the int32 accumulators


def pack_nbits(values: np.ndarray, bits: int) -> np.ndarray:
    """Pack unsigned ``bits``-bit values, low bits first, along the last axis (independently of the importer)."""
    per = 8 // bits
    out = np.zeros((*values.shape[:-1], values.shape[-1] // per), np.uint8)
    for i in range(per):
        out |= (values[..., i::per].astype(np.uint8) << (bits * i)).astype(np.uint8)
    return out


@pytest.mark.parametrize("with_zero_points", [False, True])
def test_matmul_nbits_bits_blocks_density_and_scale_bytes(tmp_path, rng, with_zero_points):
    k, n, block, bits, m = 40, 6, 16, 4, 3
    blocks = math.ceil(k / block)  # 3 blocks, the last one padded
    q = rng.integers(0, 16, size=(n, blocks * block))
    zeros = rng.integers(0, 16, size=(n, blocks)) if with_zero_points else np.full((n, blocks), 8)
    q[:, ::5] = np.repeat(zeros, block, axis=1)[:, ::5]  # some weights equal their zero point
    b = pack_nbits(q, bits).reshape(n, blocks, block * bits // 8)
    scales = rng.uniform(0.5, 1.0, size=n * blocks).astype(np.float32)
    inputs = ["a", "b", "scales"] + (["zp"] if with_zero_points else [])
    node = h.make_node("MatMulNBits", inputs, ["y"], name="fc", domain=MS, K=k, N=n, bits=bits, block_size=block)
    inits = [nh.from_array(b, "b"), nh.from_array(scales, "scales")]
    if with_zero_points:  # two per byte, per row of N, padded to whole bytes
        padded = np.concatenate([zeros, np.zeros((n, 1), int)], axis=1)
        inits.append(nh.from_array(pack_nbits(padded, 4).reshape(-1), "zp"))
    path = save(tmp_path, [node], [fvi("a", [1, m, k])], inits, ms=True)
    (layer,) = load_onnx(path).layers
    assert isinstance(layer, Gemm) and (layer.m, layer.n, layer.k) == (m, n, k) and layer.macs == m * n * k
    assert layer.compression.weight_bits == 4
    kept = (q - np.repeat(zeros, block, axis=1))[:, :k]
    assert layer.compression.weight_density == pytest.approx(np.count_nonzero(kept) / kept.size, abs=0)
    zp_bytes = n * 2 if with_zero_points else 0
    assert layer.compression.weight_scale_bytes == n * blocks * 4 + zp_bytes
    ort = pytest.importorskip("onnxruntime")
    # independent check of which weights are zero: onnxruntime dequantizes them (identity input)
    eye = np.eye(k, dtype=np.float32)[None]
    eye_path = save(tmp_path, [node], [fvi("a", [1, k, k])], inits, name="eye", ms=True,
                    outputs=[fvi("y", [1, k, n])])
    dequantized = ort.InferenceSession(str(eye_path), providers=["CPUExecutionProvider"]).run(None, {"a": eye})[0]
    assert layer.compression.weight_density == np.count_nonzero(dequantized) / dequantized.size


def test_qdq_pairs_inside_a_gelu_chain_are_looked_through(tmp_path):
    """quantize_static(QDQ) puts Q/DQ after every quantized op, and quantizes the chain's constants."""
    def qdq(t):
        return [h.make_node("QuantizeLinear", [t, "s", "z"], [f"{t}_q"]),
                h.make_node("DequantizeLinear", [f"{t}_q", "s", "z"], [f"{t}_dq"])]
    nodes = [*qdq("x"),
             h.make_node("Div", ["x_dq", "sqrt2"], ["d"], name="/act/Div"),
             h.make_node("Erf", ["d"], ["e"], name="/act/Erf"),
             *qdq("e"),
             h.make_node("DequantizeLinear", ["one_q", "one_s", "z"], ["one"]),
             h.make_node("Add", ["e_dq", "one"], ["a"], name="/act/Add"), *qdq("a"),
             h.make_node("Mul", ["x_dq", "a_dq"], ["m"], name="/act/Mul"), *qdq("m"),
             h.make_node("DequantizeLinear", ["half_q", "half_s", "z"], ["half"]),
             h.make_node("Mul", ["m_dq", "half"], ["y"], name="/act/Mul_1")]
    inits = [const("s", 0.05), scalar("z", T.INT8, 0), const("sqrt2", math.sqrt(2)), scalar("one_q", T.INT8, 127),
             const("one_s", 1 / 127), scalar("half_q", T.INT8, 127), const("half_s", 0.5 / 127)]
    path = save(tmp_path, nodes, [fvi("x", [1, 3, 8])], inits)
    (layer,) = load_onnx(path).layers
    assert layer.op is Op.GELU and layer.name == "/act" and layer.shape == (3, 8)
    assert layer.compression.act_bits == 8  # its input is quantized to int8 before the chain reads it


def test_run_on_a_partial_model_exits_2_and_the_summary_carries_the_loss(tmp_path, capsys):
    from accelsim import simulate

    w3, w2 = np.ones((2, 3, 2, 2, 2), np.float32), np.ones((4, 3, 3, 3), np.float32)
    nodes = [h.make_node("Conv", ["v", "w3"], ["v3"], name="conv3d"), h.make_node("Conv", ["x", "w2"], ["y"], name="c")]
    path = save(tmp_path, nodes, [fvi("v", [1, 3, 4, 4, 4]), fvi("x", [1, 3, 6, 6])],
                [nh.from_array(w3, "w3"), nh.from_array(w2, "w2")])
    assert main(["run", "arch_configs/edge_32x32.yaml", str(path)]) == 2
    assert "conv3d (Conv: 3-D)" in capsys.readouterr().err
    # an fp32 model on an int8-only array: refused, naming the format (a scheme quantizes it)
    assert main(["run", "arch_configs/edge_32x32.yaml", str(path), "--allow-partial", "-q"]) == 2
    assert "fp32" in capsys.readouterr().err
    out = tmp_path / "partial.yaml"
    assert main(["import", str(path), "-o", str(out), "--allow-partial"]) == 0
    assert "lost" in out.read_text().splitlines()[0].lower() or "MACs" in out.read_text().splitlines()[0]
    net = load_onnx(path, allow_partial=True, default_bits=8)
    summary = simulate(load_arch("arch_configs/edge_32x32.yaml"), net).summary
    assert summary["lost_macs"].iloc[0] == 2 * 27 * 24 and summary["macs"].iloc[0] == 4 * 16 * 27


def test_index_and_mask_arithmetic_is_warned_not_fatal(tmp_path, caplog):
    """RoBERTa's position ids: cumsum of the non-padding mask (integer tensors, no MACs)."""
    nodes = [h.make_node("Equal", ["ids", "pad"], ["is_pad"], name="eq"), h.make_node("Not", ["is_pad"], ["keep"]),
             h.make_node("Cast", ["keep"], ["keep_i"], to=T.INT64, name="cast"),
             h.make_node("CumSum", ["keep_i", "axis"], ["pos"], name="cumsum"),
             h.make_node("Gather", ["table", "pos"], ["pe"]), h.make_node("Relu", ["pe"], ["y"], name="relu")]
    inits = [const("pad", 1, np.int64), const("axis", 1, np.int64), const("table", np.ones((20, 4)))]
    path = save(tmp_path, nodes, [fvi("ids", [1, 6], T.INT64)], inits)
    with caplog.at_level(logging.WARNING):
        net = load_onnx(path)
    assert [layer.name for layer in net.layers] == ["eq", "cast", "relu"] and net.lost_macs == 0
    assert "2 node(s) of index or mask arithmetic" in caplog.text and "CumSum x1, Not x1" in caplog.text


def test_qgemm_per_channel_zero_points_follow_transb(tmp_path, rng):
    wg = rng.integers(0, 256, size=(5, 12)).astype(np.uint8)  # [N, K] with transB
    zeros = np.arange(5, dtype=np.uint8) + 100
    wg[:, ::4] = zeros[:, None]
    q = ["qs", "qz"]
    node = h.make_node("QGemm", ["x", *q, "wg", "gs", "gz", "", *q], ["y"], name="fc", domain=MS, transB=1)
    inits = [scalar("qs", T.FLOAT, 0.1), scalar("qz", T.UINT8, 128), nh.from_array(wg, "wg"),
             const("gs", np.full(5, 0.01)), nh.from_array(zeros, "gz")]
    path = save(tmp_path, [node], [fvi("x", [2, 12], T.UINT8)], inits, ms=True, outputs=[fvi("y", None, T.UINT8)])
    (fc,) = load_onnx(path, batch=2).layers
    assert (fc.batch, fc.m, fc.n, fc.k) == (2, 1, 5, 12)
    assert fc.compression.weight_density == np.count_nonzero(wg.astype(int) - zeros[:, None].astype(int)) / wg.size
    assert fc.compression.weight_scale_bytes == 5 * 4 + 5  # fp32 scale and uint8 zero point per output channel


def test_format_names_of_onnx_element_types():
    from accelsim.frontend.onnx.quant import format_name

    want = {T.FLOAT: "fp32", T.FLOAT16: "fp16", T.BFLOAT16: "bf16", T.FLOAT8E4M3FN: "fp8_e4m3",
            T.FLOAT8E5M2: "fp8_e5m2", T.INT8: "int8", T.UINT8: "uint8", T.INT4: "int4", T.UINT4: "uint4",
            T.INT16: "int16", T.INT64: None, T.STRING: None}
    assert {elem: format_name(elem) for elem in want} == want
    assert format_name("BFLOAT16") == "bf16"


def test_sigmoid_times_its_input_is_silu(tmp_path):
    nodes = [h.make_node("Sigmoid", ["x"], ["s"], name="/act/Sigmoid"),
             h.make_node("Mul", ["x", "s"], ["m"], name="/act/Mul"),
             h.make_node("Sigmoid", ["m"], ["g"], name="gate"), h.make_node("Mul", ["g", "x"], ["y"], name="scale")]
    path = save(tmp_path, nodes, [fvi("x", [1, 6, 4, 4])])
    silu, gate, scale = load_onnx(path).layers  # the second Sigmoid gates another tensor: not a SiLU
    assert silu.op is Op.SILU and silu.name == "/act" and silu.shape == (6, 4, 4)
    assert gate.op is Op.SIGMOID and scale.kind is EltwiseKind.MUL


def test_dynamic_quantize_matmul(tmp_path, rng):
    """com.microsoft.DynamicQuantizeMatMul: float A quantized to 8 bits inside, int8 B with per-column zero points."""
    b = rng.integers(-128, 128, size=(16, 4)).astype(np.int8)
    zeros = np.array([0, 1, 2, 3], np.int8)
    b[::3] = zeros
    node = h.make_node("DynamicQuantizeMatMul", ["a", "b", "bs", "bz"], ["y"], name="fc", domain=MS)
    path = save(tmp_path, [node], [fvi("a", [1, 5, 16])],
                [nh.from_array(b, "b"), const("bs", np.full(4, 0.1)), nh.from_array(zeros, "bz")], ms=True)
    (fc,) = load_onnx(path).layers
    assert (fc.m, fc.n, fc.k) == (5, 4, 16) and fc.macs == 5 * 4 * 16
    assert (fc.compression.weight_bits, fc.compression.act_bits) == (8, 8)
    assert fc.compression.weight_density == np.count_nonzero(b.astype(int) - zeros) / b.size


def test_unsupported_op_on_quantized_data_stops_the_import(tmp_path):
    q = ["qs", "qz"]
    node = h.make_node("QLinearLpPool", ["x", *q, *q], ["y"], name="pool", domain=MS, kernel_shape=[2, 2])
    path = save(tmp_path, [node], [fvi("x", [1, 4, 6, 6], T.UINT8)],
                [scalar("qs", T.FLOAT, 0.1), scalar("qz", T.UINT8, 128)], ms=True, outputs=[fvi("y", None, T.UINT8)])
    with pytest.raises(WorkloadError, match=r"pool \(com.microsoft.QLinearLpPool: unsupported op\)"):
        load_onnx(path)


@pytest.mark.parametrize("attrs, out", [(dict(kernel_shape=[3, 3], strides=[2, 2]), (3, 4)),
                                        (dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1), (4, 4)),
                                        (dict(kernel_shape=[2, 2], pads=[1, 0, 1, 0]), (9, 8))])
def test_qlinear_average_pool(tmp_path, attrs, out):
    q = ["qs", "qz"]
    node = h.make_node("QLinearAveragePool", ["x", *q, *q], ["y"], name="pool", domain=MS, **attrs)
    path = save(tmp_path, [node], [fvi("x", [1, 4, 8, 9], T.UINT8)],
                [scalar("qs", T.FLOAT, 0.1), scalar("qz", T.UINT8, 128)], ms=True, outputs=[fvi("y", None, T.UINT8)])
    (pool,) = load_onnx(path).layers
    # AveragePool's output: floor (ceil with ceil_mode) of (n + pads - k) / s, plus 1
    assert pool.kind is PoolKind.AVG and (pool.out_h, pool.out_w) == out and pool.compression.act_bits == 8


def test_onnxruntime_fused_transformer_ops(tmp_path, rng):
    """What onnxruntime's transformer optimizer writes: SkipLayerNormalization and BiasGelu (their
    output shapes come from onnxruntime's symbolic shape inference, so onnxruntime must be installed)."""
    pytest.importorskip("onnxruntime")
    w = rng.standard_normal((8, 16)).astype(np.float32)
    nodes = [h.make_node("SkipLayerNormalization", ["x", "skip", "g", "b"], ["n"], name="ln", domain=MS, epsilon=1e-5),
             h.make_node("MatMul", ["n", "w"], ["m"], name="fc"),
             h.make_node("BiasGelu", ["m", "bias"], ["y"], name="gelu", domain=MS)]
    inits = [const("g", np.ones(8)), const("b", np.zeros(8)), nh.from_array(w, "w"), const("bias", np.zeros(16))]
    path = save(tmp_path, nodes, [fvi("x", [2, 5, 8]), fvi("skip", [2, 5, 8])], inits, ms=True)
    ln, fc, gelu = load_onnx(path, batch=2).layers
    assert ln.op is Op.LAYERNORM and (ln.batch, ln.shape) == (2, (5, 8))
    assert fc.macs == 2 * 5 * 8 * 16 and gelu.op is Op.GELU and gelu.shape == (5, 16)


def test_instance_and_group_norm_normalize_per_channel_and_per_group(tmp_path):
    nodes = [h.make_node("InstanceNormalization", ["x", "s4", "b4"], ["i"], name="inorm"),
             h.make_node("GroupNormalization", ["i", "s2", "b2"], ["y"], name="gnorm", num_groups=2)]
    inits = [const("s4", np.ones(4)), const("b4", np.zeros(4)), const("s2", np.ones(2)), const("b2", np.zeros(2))]
    path = save(tmp_path, nodes, [fvi("x", [2, 4, 5, 6])], inits, opset=18)
    inorm, gnorm = load_onnx(path).layers
    # one row per (sample, channel) of H*W values; per (sample, group) of C/G*H*W values
    assert (inorm.op, inorm.batch, inorm.shape) == (Op.LAYERNORM, 2, (4, 30))
    assert (gnorm.op, gnorm.batch, gnorm.shape) == (Op.LAYERNORM, 2, (2, 60))


def test_model_local_functions_are_inlined(tmp_path, rng):
    """Exporters may wrap ops in model-local functions (a custom domain): the ops inside are imported."""
    linear = h.make_function("local", "Linear", ["x", "w", "b"], ["y"],
                             [h.make_node("MatMul", ["x", "w"], ["m"]), h.make_node("Add", ["m", "b"], ["y"])],
                             [h.make_opsetid("", 17)])
    node = h.make_node("Linear", ["x", "w", "b"], ["y"], domain="local", name="fc")
    graph = h.make_graph([node], "g", [fvi("x", [3, 8])], [fvi("y", None)],
                         [nh.from_array(rng.standard_normal((8, 4)).astype(np.float32), "w"), const("b", np.zeros(4))])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17), h.make_opsetid("local", 1)], functions=[linear])
    model.ir_version = 8
    onnx.save(model, tmp_path / "local.onnx")
    layers = load_onnx(tmp_path / "local.onnx", batch=3).layers
    assert [layer.op for layer in layers] == [Op.GEMM, Op.ELTWISE] and layers[0].macs == 3 * 8 * 4
