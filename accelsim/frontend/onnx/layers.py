"""One ONNX node (or one recognized decomposed op) -> one accelsim layer.

Batch: a layer whose leading extent is a multiple of the network batch gets ``batch`` and the
per-sample rest. Operands a model does not quantize get ``default_bits``; the element types
they had are collected in :attr:`Converter.defaulted` for the importer's warning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from accelsim.compress.masks import measure_sparsity
from accelsim.errors import Problem, WorkloadError
from accelsim.frontend.onnx.fusion import Fused, reduce_axes
from accelsim.frontend.onnx.graph import MS, Graph, op_key, prod
from accelsim.frontend.onnx.quant import (
    ARRAY_OPS, QDQ, ArrayOperands, Operand, act_bits, constant, format_name, minus_zero_point, nbits_weights, type_of,
)
from accelsim.spec.number_format import operand_value
from accelsim.spec.workload import (
    Compression, Conv2d, ConvTranspose2d, Eltwise, EltwiseKind, Gemm, Layer, MatMul, Nonlinear, Op, Pool, PoolKind,
    Sparsity, UNARY_ELTWISE,
)

# Ops that move, reshape, relabel or (de)quantize data: no layer of their own.
FREE = frozenset({
    "Identity", "Dropout", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Concat", "Split", "Slice",
    "Gather", "GatherElements", "GatherND", "ScatterND", "ScatterElements", "Shape", "Size", "Constant",
    "ConstantOfShape", "Expand", "Pad", "Range", "Tile", "DepthToSpace", "SpaceToDepth", "DynamicQuantizeLinear",
    *QDQ, f"{MS}.QLinearConcat",
})
NONLINEAR = {"Relu": Op.RELU, "Clip": Op.RELU, "LeakyRelu": Op.RELU, "PRelu": Op.RELU, "Sigmoid": Op.SIGMOID,
             "Tanh": Op.TANH, "Gelu": Op.GELU, "Softmax": Op.SOFTMAX, "LayerNormalization": Op.LAYERNORM,
             "RMSNormalization": Op.RMSNORM, f"{MS}.QLinearSigmoid": Op.SIGMOID,
             f"{MS}.QLinearLeakyRelu": Op.RELU, f"{MS}.QLinearSoftmax": Op.SOFTMAX, f"{MS}.Gelu": Op.GELU,
             f"{MS}.FastGelu": Op.GELU, f"{MS}.BiasGelu": Op.GELU, f"{MS}.SimplifiedLayerNormalization": Op.RMSNORM,
             f"{MS}.SkipLayerNormalization": Op.LAYERNORM, f"{MS}.SkipSimplifiedLayerNormalization": Op.RMSNORM}
"""LeakyRelu/PRelu are costed as ReLU (their slope multiply is not counted), and the bias and skip
adds inside onnxruntime's fused BiasGelu/Skip*Normalization are not counted: approximations."""
ELTWISE = {"Add": EltwiseKind.ADD, "Sum": EltwiseKind.ADD, "Sub": EltwiseKind.SUB, "Mul": EltwiseKind.MUL,
           "Div": EltwiseKind.DIV, "Max": EltwiseKind.MAX, "Min": EltwiseKind.MIN, "Pow": EltwiseKind.POW,
           "Mod": EltwiseKind.MOD, "Where": EltwiseKind.WHERE, "Equal": EltwiseKind.COMPARE,
           "Less": EltwiseKind.COMPARE, "LessOrEqual": EltwiseKind.COMPARE, "Greater": EltwiseKind.COMPARE,
           "GreaterOrEqual": EltwiseKind.COMPARE, "And": EltwiseKind.COMPARE, "Or": EltwiseKind.COMPARE,
           "Xor": EltwiseKind.COMPARE, "Sqrt": EltwiseKind.SQRT, "Reciprocal": EltwiseKind.RECIPROCAL,
           "Exp": EltwiseKind.EXP, "Neg": EltwiseKind.NEG, "Abs": EltwiseKind.ABS, "Cast": EltwiseKind.CAST,
           "CastLike": EltwiseKind.CAST, "BatchNormalization": EltwiseKind.AFFINE,
           f"{MS}.QLinearAdd": EltwiseKind.ADD, f"{MS}.QLinearMul": EltwiseKind.MUL}
"""A BatchNormalization not folded into a conv/GEMM is a per-channel affine (inference statistics)."""
POOLS = ("MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool", f"{MS}.QLinearGlobalAveragePool",
         f"{MS}.QLinearAveragePool")
REDUCTIONS = {"ReduceMean": PoolKind.AVG, "ReduceSum": PoolKind.AVG, "ReduceMax": PoolKind.MAX,
              "ReduceMin": PoolKind.MAX}
"""Reductions as pooling: global pooling over spatial axes, else one window over the reduced axes
(ReduceSum costed as an average, one multiply per output more; ReduceMin as a max)."""
NORMS = {"InstanceNormalization": Op.LAYERNORM, "GroupNormalization": Op.LAYERNORM}
# Input positions of the data of QOperator vector ops (the other inputs are scales and zero points).
QLINEAR_INPUTS = {f"{MS}.QLinearAdd": (0, 3), f"{MS}.QLinearMul": (0, 3)}


class NotImported(Exception):
    """A node that cannot become a layer (the message says why)."""


@dataclass
class Converter:
    """Builds layers from the nodes of ``graph`` at network batch ``batch``."""

    graph: Graph
    batch: int
    default_bits: int | None  # None: float operands keep their own format (fp32, fp16, bf16, ...)
    defaulted: dict[str, set[str]] = field(default_factory=dict)  # layer name -> element types given default bits
    # layer name -> the tensors of its activation operands, in operand order (Layer.operand_elements)
    reads: dict[str, tuple[str, ...]] = field(default_factory=dict)

    # ---- helpers ---------------------------------------------------------------------------

    def split(self, leading: int) -> tuple[int, int]:
        """``(layer batch, per-sample extent)`` of a leading extent."""
        return (self.batch, leading // self.batch) if leading % self.batch == 0 else (1, leading)

    def per_sample(self, dims: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
        """``(layer batch, per-sample shape)`` of an activation shape."""
        if not dims:
            return 1, (1,)
        batch, first = self.split(dims[0])
        rest = dims[1:] if first == 1 and len(dims) > 1 else (first, *dims[1:])
        return batch, tuple(rest)

    def bits(self, layer_name: str, tensor: str) -> int:
        """Bits of an activation operand, ``default_bits`` (noted) when the model does not quantize it."""
        bits = act_bits(self.graph, tensor)
        if bits is not None:
            return bits
        return self._unquantized(layer_name, type_of(self.graph, tensor))

    def weight_bits(self, layer_name: str, weights: Operand) -> int:
        if weights.bits is not None:
            return weights.bits
        return self._unquantized(layer_name, weights.elem)

    def _unquantized(self, layer_name: str, elem: str) -> int | str:
        """An operand the model does not quantize: its own number format (``"fp32"``, ``"bf16"``,
        ``16`` for INT16, ...) unless ``default_bits`` overrides it or the type has no format
        (then ``default_bits`` or 8, noted for the importer's warning)."""
        fmt = format_name(elem)
        if self.default_bits is None and fmt is not None and fmt != "fp64":
            return operand_value(fmt)
        self.defaulted.setdefault(layer_name, set()).add(elem)
        return self.default_bits or 8

    # ---- dispatch ----------------------------------------------------------------------------

    def layer(self, node: Any, name: str) -> Layer:
        """The layer of ``node``; the tensors of its activation operands go to :attr:`reads`."""
        key = op_key(node)
        if key in ARRAY_OPS:
            return self._array_layer(node, name, ARRAY_OPS[key])
        if key in ELTWISE:
            return self._eltwise(node, name, ELTWISE[key])
        layer = self._one_operand(node, name, key)
        self.reads[name] = (node.input[0],)
        return layer

    def _one_operand(self, node: Any, name: str, key: str) -> Layer:
        """The layer of a node whose one activation operand is its first input."""
        if key == f"{MS}.MatMulNBits":
            return self._nbits(node, name)
        if key in POOLS:
            return self._pool(node, name)
        if key in REDUCTIONS:
            return self._reduction(node, name)
        if key in NONLINEAR:
            return self._nonlinear(NONLINEAR[key], node.input[0], node.output[0], name,
                                   self.graph.attrs(node).get("axis", -1))
        if key in NORMS:
            return self._channel_norm(node, name)
        raise NotImported("unsupported op")

    def fused(self, fused: Fused, name: str) -> Layer:
        layer = self._nonlinear(fused.op, fused.input, fused.output, name,
                                fused.axis if fused.axis is not None else -1)
        self.reads[name] = (fused.input,)
        return layer

    # ---- vector layers -------------------------------------------------------------------------

    def _eltwise(self, node: Any, name: str, kind: EltwiseKind) -> Eltwise:
        batch, shape = self.per_sample(self.graph.shape(node.output[0]))
        positions = (0,) if kind in UNARY_ELTWISE else QLINEAR_INPUTS.get(op_key(node), range(len(node.input)))
        data = [node.input[i] for i in positions if node.input[i]]
        values = [d for d in data if type_of(self.graph, d) != "BOOL"] or data  # Where's condition is not data
        self.reads[name] = tuple(data)
        return Eltwise(name=name, batch=batch, kind=kind, shape=shape, inputs=len(data),
                       compression=Compression(act_bits=self.bits(name, values[0])))

    def _nonlinear(self, op: Op, data: str, out: str, name: str, axis: int) -> Nonlinear:
        dims = self.graph.shape(out)
        compression = Compression(act_bits=self.bits(name, data))
        if op in (Op.SOFTMAX, Op.LAYERNORM, Op.RMSNORM) and dims:
            axis %= len(dims)
            if op is Op.SOFTMAX:  # the reduction axis goes last
                dims = (*dims[:axis], *dims[axis + 1:], dims[axis])
            else:  # normalised over axis..end
                dims = (*dims[:axis], math.prod(dims[axis:]))
            if axis == 0:  # the batch axis is inside the reduction: no per-sample split
                return Nonlinear(op=op, name=name, batch=1, shape=dims, compression=compression)
        batch, shape = self.per_sample(dims)
        return Nonlinear(op=op, name=name, batch=batch, shape=shape, compression=compression)

    def _channel_norm(self, node: Any, name: str) -> Nonlinear:
        """InstanceNorm (per channel) and GroupNorm (per group) over ``[N, C, *spatial]``."""
        x = self.graph.shape(node.input[0])
        groups = self.graph.attrs(node).get("num_groups", x[1]) if node.op_type == "GroupNormalization" else x[1]
        batch, _ = self.split(x[0])
        return Nonlinear(op=NORMS[node.op_type], name=name, batch=batch,
                         shape=(groups, x[1] // groups * prod(x[2:])),
                         compression=Compression(act_bits=self.bits(name, node.input[0])))

    def _pool(self, node: Any, name: str) -> Pool:
        x, y = self.graph.shape(node.input[0]), self.graph.shape(node.output[0])
        attrs = self.graph.attrs(node)
        if attrs.get("channels_last", 0):  # QLinearGlobalAveragePool on NHWC
            x, y = (x[0], x[-1], *x[1:-1]), (y[0], y[-1], *y[1:-1])
        if len(x) not in (3, 4):
            raise NotImported(f"{len(x) - 2}-D")
        x, y = as_2d(x), as_2d(y)
        kind = PoolKind.MAX if "Max" in node.op_type else PoolKind.AVG
        if "Global" in node.op_type:
            kernel, stride, padding = x[2:], (1, 1), (0, 0, 0, 0)
        else:
            if any(d != 1 for d in attrs.get("dilations", ())):
                raise NotImported("dilated")
            kernel, stride = ints2(attrs["kernel_shape"]), ints2(attrs.get("strides", (1, 1)))
            padding = conv_padding(attrs, x[2:], kernel, stride, (1, 1))
            # ceil_mode windows hanging over the end: extend the end padding to the graph's output size
            top, left, bottom, right = padding
            bottom += max(0, (y[2] - 1) * stride[0] + kernel[0] - (x[2] + top + bottom))
            right += max(0, (y[3] - 1) * stride[1] + kernel[1] - (x[3] + left + right))
            padding = (top, left, bottom, right)
        batch, _ = self.split(x[0])
        layer = Pool(name=name, batch=batch, kind=kind, channels=x[1], in_h=x[2], in_w=x[3], kernel=kernel,
                     stride=stride, padding=padding, compression=Compression(act_bits=self.bits(name, node.input[0])))
        self._agree(layer, (layer.out_h, layer.out_w), y[2:])
        return layer

    def _reduction(self, node: Any, name: str) -> Pool:
        x = self.graph.shape(node.input[0])
        axes = reduce_axes(self.graph, node, len(x))
        if axes is None:
            raise NotImported("axes not constant")
        if not axes:
            raise NotImported("reduces no axis")
        if axes != tuple(range(axes[0], axes[-1] + 1)):
            raise NotImported(f"axes {list(axes)} not contiguous")
        bits = Compression(act_bits=self.bits(name, node.input[0]))
        kind = REDUCTIONS[node.op_type]
        if len(x) == 4 and axes == (2, 3):  # global pooling
            batch, _ = self.split(x[0])
            return Pool(name=name, batch=batch, kind=kind, channels=x[1], in_h=x[2], in_w=x[3], kernel=x[2:],
                        compression=bits)
        before, window, after = prod(x[:axes[0]]), prod(x[axes[0]:axes[-1] + 1]), prod(x[axes[-1] + 1:])
        batch, rest = self.split(before) if axes[0] > 0 else (1, 1)
        return Pool(name=name, batch=batch, kind=kind, channels=rest * after, in_h=1, in_w=window,
                    kernel=(1, window), compression=bits)

    def _agree(self, layer: Layer, ours: tuple[int, ...], graph: tuple[int, ...]) -> None:
        if tuple(ours) != tuple(graph):
            raise WorkloadError(self.graph.source, [Problem(f"node {layer.name}", f"output size {ours} from the "
                                                            f"attributes differs from the inferred {graph}")])

    # ---- array layers --------------------------------------------------------------------------

    def _array_layer(self, node: Any, name: str, operands: ArrayOperands) -> Layer:
        a_name, b_name = node.input[operands.data], node.input[operands.weight]
        a_const, b_const = constant(self.graph, a_name), constant(self.graph, b_name)
        if operands.weight_zero is not None:  # integer ops: operands are stored relative to their zero points
            b_const = minus_zero_point(self.graph, node, b_const, operands)
        if "Conv" in node.op_type:
            layer, weights, data = self._conv(node, name, a_name, b_name), b_const, a_name
        else:
            layer, weights, data = self._gemm(node, name, a_name, b_name, a_const, b_const)
        act = operands.data_bits or self.bits(name, data)
        if weights is None:  # both operands are activations
            other = b_name if data == a_name else a_name
            self.reads[name] = (data, other)
            return replace(layer, compression=Compression(weight_bits=self.bits(name, other), act_bits=act))
        layer = with_compression(layer, Compression(weight_bits=self.weight_bits(name, weights), act_bits=act,
                                                    sparsity=measured(weights, layer),
                                                    weight_scale_bytes=weights.scale_bytes))
        self.reads[name] = (data,)
        return layer

    def _nbits(self, node: Any, name: str) -> Gemm:
        try:
            k, n, weights = nbits_weights(self.graph, node)
        except (KeyError, ValueError) as exc:
            raise NotImported(str(exc)) from None
        a = self.graph.shape(node.input[0])
        if a[-1] != k:
            raise WorkloadError(self.graph.source, [Problem(f"node {name}", f"input has {a[-1]} features, the "
                                                            f"MatMulNBits weights K={k}")])
        batch, m = self.split(prod(a[:-1]))
        layer = Gemm(name=name, batch=batch, m=m, n=n, k=k)
        return with_compression(layer, Compression(weight_bits=weights.bits, act_bits=self.bits(name, node.input[0]),
                                                   sparsity=measured(weights, layer),
                                                   weight_scale_bytes=weights.scale_bytes))

    def _conv(self, node: Any, name: str, x_name: str, w_name: str) -> Layer:
        x, w = self.graph.shape(x_name), self.graph.shape(w_name)
        if len(x) not in (3, 4):
            raise NotImported(f"{len(x) - 2}-D")
        attrs = self.graph.attrs(node)
        groups = attrs.get("group", 1)
        transposed = node.op_type == "ConvTranspose"
        weight_channels = w[0] if transposed else w[1] * groups
        if x[1] != weight_channels:
            raise WorkloadError(self.graph.source, [Problem(
                f"node {name}", f"input {x_name} has {x[1]} channels, the weights {w_name} {list(w)} "
                f"(group {groups}) take {weight_channels}")])
        y = as_2d(self.graph.shape(node.output[0]))
        x, w = as_2d(x), as_2d(w)
        kernel = w[2:]
        stride, dilation = ints2(attrs.get("strides", (1, 1))), ints2(attrs.get("dilations", (1, 1)))
        batch, _ = self.split(x[0])
        if transposed:
            padding = transpose_padding(attrs, x[2:], y[2:], kernel, stride, dilation)
            layer = ConvTranspose2d(name=name, batch=batch, in_channels=x[1], out_channels=w[1] * groups, in_h=x[2],
                                    in_w=x[3], kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                                    groups=groups, output_padding=ints2(attrs.get("output_padding", (0, 0))))
        else:
            padding = conv_padding(attrs, x[2:], kernel, stride, dilation)
            layer = Conv2d(name=name, batch=batch, in_channels=x[1], out_channels=w[0], in_h=x[2], in_w=x[3],
                           kernel=kernel, stride=stride, padding=padding, dilation=dilation, groups=groups)
        self._agree(layer, (layer.out_h, layer.out_w), y[2:])
        return layer

    def _gemm(self, node: Any, name: str, a_name: str, b_name: str, a_const: Operand | None,
              b_const: Operand | None) -> tuple[Layer, Operand | None, str]:
        """The layer, its weights (None for two activations) and the name of its data operand."""
        a, b = self.graph.shape(a_name), self.graph.shape(b_name)
        if node.op_type in ("Gemm", "QGemm"):
            attrs = self.graph.attrs(node)
            if attrs.get("transA", 0):
                a = a[::-1]
                a_const = a_const and replace(a_const, values=a_const.values.T)
            if attrs.get("transB", 0):
                b = b[::-1]
                b_const = b_const and replace(b_const, values=b_const.values.T)
        a = (1, *a) if len(a) == 1 else a
        b = (*b, 1) if len(b) == 1 else b
        k = a[-1]
        if b[-2] != k:
            raise WorkloadError(self.graph.source, [Problem(f"node {name}", f"operands {a_name} {list(a)} and "
                                                            f"{b_name} {list(b)} do not multiply (K {k} vs {b[-2]})")])
        if b_const is not None and len(b) == 2:  # X[..., m, k] @ W[k, n]
            batch, m = self.split(math.prod(a[:-1]))
            return Gemm(name=name, batch=batch, m=m, n=b[1], k=k), _reshaped(b_const, b), a_name
        if a_const is not None and len(a) == 2:  # W[n, k] @ X[..., k, m] is (X^T W^T)^T
            batch, m = self.split(math.prod(b[:-2]) * b[-1])
            weights = _reshaped(a_const, a)
            return Gemm(name=name, batch=batch, m=m, n=a[0], k=k), replace(weights, values=weights.values.T), b_name
        stack = tuple(np.broadcast_shapes(a[:-2], b[:-2]))
        m = a[-2]
        if stack:
            batch, heads = self.split(math.prod(stack))
        else:
            (batch, m), heads = self.split(m), 1
        return MatMul(name=name, batch=batch, heads=heads, m=m, n=b[-1], k=k), None, a_name


def estimated_macs(graph: Graph, node: Any) -> int | None:
    """Dense MACs of a conv/matmul-like node from its shapes (0 for vector ops, None when unknown)."""
    key = op_key(node)
    if key in ARRAY_OPS or key == f"{MS}.MatMulNBits":
        try:
            out = graph.shape(node.output[0])
            if key == f"{MS}.MatMulNBits":
                return prod(out) * int(graph.attrs(node)["K"])
            a = graph.shape(node.input[ARRAY_OPS[key].data])
            if node.op_type == "ConvTranspose":  # every input value times every weight of its group
                return prod(a) * prod(graph.shape(node.input[1])[1:])
            if "Conv" in node.op_type:
                return prod(out) * prod(graph.shape(node.input[ARRAY_OPS[key].weight])[1:])
            transposed = node.op_type in ("Gemm", "QGemm") and graph.attrs(node).get("transA", 0)
            return prod(out) * a[0 if transposed else -1]
        except Exception:  # noqa: BLE001 - an unknown shape or an odd rank: the size is unknown
            return None
    return 0 if node.domain in ("", "ai.onnx") and node.op_type not in STANDARD_MAC_OPS else None


STANDARD_MAC_OPS = frozenset({"Einsum", "LSTM", "GRU", "RNN", "Attention", "DeformConv"})
"""Standard ops with multiply-accumulates the importer does not read (every other standard op it
does not import is vector work: no MACs)."""


def _reshaped(operand: Operand, shape: tuple[int, ...]) -> Operand:
    return replace(operand, values=operand.values.reshape(shape))


def measured(weights: Operand, layer: Layer) -> Sparsity:
    values = weights.values
    if values.shape != layer.weight_shape:
        if values.size != math.prod(layer.weight_shape):
            raise NotImported(f"weights {list(values.shape)} do not fit the layer's {list(layer.weight_shape)}")
        values = values.reshape(layer.weight_shape)
    return measure_sparsity(values, layer)


def with_compression(layer: Layer, compression: Compression) -> Layer:
    """``layer`` with ``compression``, re-checked (a measured N:M density must fit the layer)."""
    layer = replace(layer, compression=compression)
    problems = layer.check()
    if problems:
        raise WorkloadError(layer.name, problems)
    return layer


def as_2d(dims: tuple[int, ...]) -> tuple[int, ...]:
    """An ``[N, C, L]`` (1-D) shape as ``[N, C, 1, L]``; 2-D shapes unchanged."""
    return (*dims[:2], 1, dims[2]) if len(dims) == 3 else tuple(dims)


def ints2(values: Any) -> tuple[int, int]:
    values = tuple(int(v) for v in values)
    return (1, values[0]) if len(values) == 1 else values  # type: ignore[return-value]


def conv_padding(attrs: dict, size: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...],
                 dilation: tuple[int, ...]) -> tuple[int, int, int, int]:
    """``(top, left, bottom, right)`` from ``pads`` or ``auto_pad`` (ONNX Conv/Pool semantics)."""
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for n, k, s, d in zip(size, kernel, stride, dilation):
            total = max(0, (math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n)
            small, large = total // 2, total - total // 2
            begin.append(small if auto == "SAME_UPPER" else large)
            end.append(large if auto == "SAME_UPPER" else small)
        return (begin[0], begin[1], end[0], end[1])
    if auto == "VALID":
        return (0, 0, 0, 0)
    pads = tuple(int(p) for p in attrs.get("pads", (0,) * 2 * len(size)))
    if len(pads) == 2:  # 1-D: [begin, end]
        return (0, pads[0], 0, pads[1])
    return pads  # type: ignore[return-value]


def transpose_padding(attrs: dict, size: tuple[int, ...], out: tuple[int, ...], kernel: tuple[int, ...],
                      stride: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, int, int, int]:
    """ConvTranspose ``(top, left, bottom, right)``: from ``pads``, or split from ``output_shape``/``auto_pad``."""
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if "output_shape" not in attrs and auto not in ("SAME_UPPER", "SAME_LOWER"):
        return conv_padding({"pads": attrs["pads"]} if "pads" in attrs else {}, size, kernel, stride, dilation)
    extra = ints2(attrs.get("output_padding", (0, 0)))
    begin, end = [], []
    for n, o, k, s, d, e in zip(size, out, kernel, stride, dilation, extra):
        total = s * (n - 1) + e + (k - 1) * d + 1 - o
        upper = auto == "SAME_UPPER"
        begin.append(total // 2 if upper else total - total // 2)
        end.append(total - total // 2 if upper else total // 2)
    return (begin[0], begin[1], end[0], end[1])
