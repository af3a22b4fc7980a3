"""ONNX models -> :class:`Network`: shapes from ONNX shape inference, compression from the weights.

One layer per compute node, named after the node (``<OpType>_<index>`` when it has no name):

* ``Conv`` / ``ConvInteger`` / ``QLinearConv`` -> ``conv2d`` (1-D convs as height 1), with the
  padding the graph applies (``pads`` or ``auto_pad``), dilation and groups; ``ConvTranspose``
  -> ``conv_transpose2d``;
* ``Gemm``, ``MatMul``, ``MatMulInteger``, ``QLinearMatMul`` -> ``gemm`` when one operand is a
  constant (the weights), else ``matmul`` (attention's QK^T and AV) with its broadcast batch
  dimensions as ``heads``;
* ``MaxPool`` / ``AveragePool`` / ``Global*Pool`` -> ``pool``; ``Add``/``Sub``/``Mul``/``Div``/
  ``Max``/``Min``/``Sum`` -> ``eltwise``; ``Relu``, ``Clip`` (ReLU6), ``Sigmoid``, ``Tanh``,
  ``Gelu``, ``Softmax``, ``LayerNormalization``, ``RMSNormalization`` -> nonlinear layers, with the
  reduction axis moved last.

Ops that only move or relabel data (``Reshape``, ``Transpose``, ``Concat``, ``Q/DQ``, ...) add
no layer; ``BatchNormalization`` right after a conv or GEMM is folded into it, as inference
compilers do. Every other op is left out and listed, with counts, in one warning.

Batch: the first axis of every graph input is set to ``batch`` (or kept when fixed, 1 when
symbolic) before shape inference; a layer whose leading extent is a multiple of the batch gets
``batch`` and the per-sample rest. Weight density and N:M conformance are measured from the
initializers (after quantization, so a weight equal to its zero point counts as zero); bit widths
come from the integer types feeding ``DequantizeLinear`` and the ``QLinear*``/``*Integer`` ops
(int4/uint4 included); operands without one get ``default_bits``. The importer knows nothing
about hardware.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from accelsim.compress.masks import measure_sparsity
from accelsim.errors import AccelsimError, Problem, WorkloadError
from accelsim.spec.workload import (
    Compression, Conv2d, ConvTranspose2d, Eltwise, EltwiseKind, Gemm, Layer, MatMul, Network, Nonlinear, Op, Pool,
    PoolKind, Sparsity,
)

log = logging.getLogger(__name__)

# Ops that move, reshape, relabel or (de)quantize data: no layer of their own.
PASS_THROUGH = frozenset({
    "Identity", "Dropout", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Concat", "Split", "Slice",
    "Gather", "Shape", "Size", "Constant", "ConstantOfShape", "Cast", "CastLike", "Expand", "Pad", "Range", "Tile",
    "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear",
})
NONLINEAR = {"Relu": Op.RELU, "Clip": Op.RELU, "Sigmoid": Op.SIGMOID, "Tanh": Op.TANH, "Gelu": Op.GELU,
             "Softmax": Op.SOFTMAX, "LayerNormalization": Op.LAYERNORM, "RMSNormalization": Op.RMSNORM}
ELTWISE = {"Add": EltwiseKind.ADD, "Sum": EltwiseKind.ADD, "Sub": EltwiseKind.SUB, "Mul": EltwiseKind.MUL,
           "Div": EltwiseKind.DIV, "Max": EltwiseKind.MAX, "Min": EltwiseKind.MIN}
# Bits of the integer and low-precision float element types (onnx.TensorProto names).
TYPE_BITS = {"INT8": 8, "UINT8": 8, "INT4": 4, "UINT4": 4, "INT2": 2, "UINT2": 2, "INT16": 16, "UINT16": 16,
             "FLOAT8E4M3FN": 8, "FLOAT8E4M3FNUZ": 8, "FLOAT8E5M2": 8, "FLOAT8E5M2FNUZ": 8, "FLOAT8E8M0": 8,
             "FLOAT4E2M1": 4, "FLOAT6E2M3": 6, "FLOAT6E3M2": 6}
# Input positions of (data, weight) and of their quantization zero points per op.
OPERANDS = {"Conv": (0, 1), "ConvTranspose": (0, 1), "ConvInteger": (0, 1), "QLinearConv": (0, 3),
            "Gemm": (0, 1), "MatMul": (0, 1), "MatMulInteger": (0, 1), "QLinearMatMul": (0, 3)}
ZERO_POINTS = {"ConvInteger": (2, 3), "MatMulInteger": (2, 3), "QLinearConv": (2, 5), "QLinearMatMul": (2, 5)}


def _onnx():
    try:
        import onnx
    except ImportError:
        raise AccelsimError("reading ONNX models needs the onnx package: pip install accelsim[onnx]") from None
    return onnx


class _Skip(Exception):
    """A node that cannot become a layer (its reason goes into the unsupported-ops warning)."""


@dataclass(frozen=True)
class _Operand:
    """A constant operand: its values (integers after quantization) and bits (None: not quantized)."""

    values: np.ndarray
    bits: int | None


def load_onnx(path: str | Path, batch: int | None = None, *, default_bits: int = 8) -> Network:
    """A :class:`Network` for the ONNX model at ``path``.

    Parameters
    ----------
    path : ONNX model file.
    batch : batch size (first axis of every graph input); None keeps a fixed one, or 1.
    default_bits : weight/activation bits of operands the model does not quantize.
    """
    onnx = _onnx()
    model = _read(onnx, Path(path))
    graph = _Graph(onnx, model, batch, str(path))
    layers: list[Layer] = []
    skipped: Counter[str] = Counter()
    names: set[str] = set()
    for index, node in enumerate(graph.nodes):
        op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
        if op in PASS_THROUGH or (op == "BatchNormalization" and graph.folds_into_producer(node)):
            continue
        name = node.name or f"{node.op_type}_{index}"
        while name in names:
            name += "_"
        try:
            layer = graph.layer(node, name, default_bits)
        except _Skip as exc:
            skipped[f"{op} ({exc})" if str(exc) else op] += 1
            continue
        names.add(name)
        layers.append(layer)
    if skipped:
        listing = ", ".join(f"{op} x{count}" for op, count in sorted(skipped.items()))
        log.warning("%s: %d node(s) not in the workload (unsupported): %s", path, sum(skipped.values()), listing)
    if not layers:
        raise WorkloadError(str(path), [Problem("", "no supported compute node (Conv, Gemm, MatMul, pooling, "
                                                    "elementwise or nonlinear op) in the model")])
    return Network(name=graph.name, batch=graph.batch, layers=tuple(layers), source=f"ONNX: {Path(path).name}")


def _read(onnx, path: Path) -> Any:
    if not path.exists():
        raise WorkloadError(str(path), [Problem("", "no such file")])
    if path.is_dir():
        raise WorkloadError(str(path), [Problem("", "is a directory, expected a file")])
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # protobuf raises DecodeError, RuntimeWarning-like errors, ...
        raise WorkloadError(str(path), [Problem("", f"is not an ONNX model ({type(exc).__name__}: {exc})")]) from None
    if model.ir_version < 1 or not model.HasField("graph") or not model.graph.node:
        raise WorkloadError(str(path), [Problem("", "is not an ONNX model (no IR version or no graph nodes)")])
    return model


class _Graph:
    """Shapes, element types, constants and producers of an inferred ONNX graph."""

    def __init__(self, onnx, model: Any, batch: int | None, source: str):
        self.onnx = onnx
        self.source = source
        self.name = model.graph.name or Path(source).stem
        initializers = {t.name for t in model.graph.initializer}
        self.batch = self._set_batch(model, batch, initializers)
        try:
            model = onnx.shape_inference.infer_shapes(model, check_type=False, strict_mode=False, data_prop=True)
        except Exception as exc:
            raise WorkloadError(source, [Problem("", f"ONNX shape inference failed: {exc}")]) from None
        g = model.graph
        self.nodes = list(g.node)
        self.shapes: dict[str, tuple[int | None, ...]] = {}
        self.types: dict[str, int] = {}
        for info in (*g.input, *g.value_info, *g.output):
            tensor = info.type.tensor_type
            if info.type.HasField("tensor_type"):
                self.types[info.name] = tensor.elem_type
                if tensor.HasField("shape"):
                    self.shapes[info.name] = tuple(d.dim_value if d.HasField("dim_value") else None
                                                   for d in tensor.shape.dim)
        self.constants: dict[str, Any] = {t.name: t for t in g.initializer}
        for t in g.initializer:
            self.shapes[t.name], self.types[t.name] = tuple(t.dims), t.data_type
        self.producer: dict[str, Any] = {}
        for node in self.nodes:
            for out in node.output:
                self.producer[out] = node
            if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
                self.constants[node.output[0]] = node.attribute[0].t
                self.shapes[node.output[0]] = tuple(node.attribute[0].t.dims)
                self.types[node.output[0]] = node.attribute[0].t.data_type
        self.consumers: Counter[str] = Counter(name for node in self.nodes for name in node.input)

    def _set_batch(self, model: Any, batch: int | None, initializers: set[str]) -> int:
        inputs = [i for i in model.graph.input if i.name not in initializers and i.type.HasField("tensor_type")]
        fixed = {i.type.tensor_type.shape.dim[0].dim_value for i in inputs
                 if i.type.tensor_type.shape.dim and i.type.tensor_type.shape.dim[0].HasField("dim_value")}
        chosen = batch if batch is not None else (fixed.pop() if len(fixed) == 1 else 1)
        for i in inputs:
            dims = i.type.tensor_type.shape.dim
            for axis, dim in enumerate(dims):
                if axis == 0:
                    dim.Clear()
                    dim.dim_value = chosen
                elif not dim.HasField("dim_value"):
                    raise WorkloadError(self.source, [Problem(f"input {i.name}", f"axis {axis} has no fixed size "
                                                              f"({dim.dim_param or 'unnamed'}); export the model with "
                                                              "fixed shapes apart from the batch axis")])
        return chosen

    # ---- looking things up -------------------------------------------------------------

    def shape(self, name: str) -> tuple[int, ...]:
        dims = self.shapes.get(name)
        if dims is None or any(d is None or d == 0 for d in dims):
            raise _Skip("shape unknown")
        return dims  # type: ignore[return-value]

    def attrs(self, node: Any) -> dict[str, Any]:
        return {a.name: self.onnx.helper.get_attribute_value(a) for a in node.attribute}

    def type_bits(self, name: str) -> int | None:
        return TYPE_BITS.get(self.onnx.TensorProto.DataType.Name(self.types.get(name, 0)))

    def array(self, name: str) -> np.ndarray:
        values = self.onnx.numpy_helper.to_array(self.constants[name])
        if values.dtype.kind in "iub":
            return values.astype(np.int64)
        return values if values.dtype.kind == "f" else values.astype(np.float64)  # int4, float8, ... (ml_dtypes)

    def constant(self, name: str) -> _Operand | None:
        """The constant behind ``name``, followed through Identity/Cast/Transpose and Q/DQ nodes."""
        if name in self.constants:
            return _Operand(self.array(name), self.type_bits(name))
        node = self.producer.get(name)
        if node is None:
            return None
        if node.op_type in ("Identity", "Cast"):
            return self.constant(node.input[0])
        if node.op_type == "Transpose":
            inner = self.constant(node.input[0])
            perm = self.attrs(node).get("perm")
            return inner and _Operand(np.transpose(inner.values, perm), inner.bits)
        if node.op_type == "DequantizeLinear":
            inner = self.constant(node.input[0])
            if inner is None:
                return None
            zero = self._broadcast_zero_point(node, inner.values)
            return _Operand(inner.values - zero, self.type_bits(node.input[0]))
        if node.op_type == "QuantizeLinear":
            inner = self.constant(node.input[0])
            scale = self.constant(node.input[1])
            if inner is None or scale is None:
                return None
            scaled = np.rint(inner.values / self._along_axis(node, scale.values, inner.values))
            return _Operand(scaled + self._broadcast_zero_point(node, inner.values), self.type_bits(node.output[0]))
        return None

    def _along_axis(self, node: Any, param: np.ndarray, values: np.ndarray) -> np.ndarray:
        """A per-tensor, per-axis or blocked quantization parameter broadcast to ``values``."""
        if param.ndim == 0 or param.size == 1:
            return param.reshape(())
        attrs = self.attrs(node)
        axis = attrs.get("axis", 1) % values.ndim
        if param.ndim == values.ndim:  # blocked quantization (opset 21)
            return np.repeat(param, attrs.get("block_size", 1), axis=axis)[tuple(slice(0, n) for n in values.shape)]
        shape = [1] * values.ndim
        shape[axis] = param.size
        return param.reshape(shape)

    def _broadcast_zero_point(self, node: Any, values: np.ndarray) -> np.ndarray | int:
        if len(node.input) < 3 or not node.input[2]:
            return 0
        zero = self.constant(node.input[2])
        return 0 if zero is None else self._along_axis(node, zero.values, values)

    def act_bits(self, name: str) -> int | None:
        """Bits of an activation: the integer type feeding the DequantizeLinear that made it, or its own."""
        node = self.producer.get(name)
        if node is not None and node.op_type == "DequantizeLinear":
            return self.type_bits(node.input[0])
        return self.type_bits(name)

    def folds_into_producer(self, node: Any) -> bool:
        """Whether a BatchNormalization directly follows a conv or GEMM that only it reads."""
        producer = self.producer.get(node.input[0])
        return (producer is not None and self.consumers[node.input[0]] == 1
                and producer.op_type in ("Conv", "ConvTranspose", "Gemm", "MatMul", "ConvInteger", "QLinearConv"))

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

    # ---- nodes to layers -----------------------------------------------------------------

    def layer(self, node: Any, name: str, default_bits: int) -> Layer:
        op = node.op_type
        if node.domain not in ("", "ai.onnx"):
            raise _Skip("")
        if op in OPERANDS:
            return self._array_layer(node, name, default_bits)
        if op in ("MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool"):
            return self._pool(node, name, default_bits)
        if op in ELTWISE:
            batch, shape = self.per_sample(self.shape(node.output[0]))
            return Eltwise(name=name, batch=batch, kind=ELTWISE[op], shape=shape, inputs=max(2, len(node.input)),
                           compression=Compression(act_bits=self.act_bits(node.input[0]) or default_bits))
        if op in NONLINEAR:
            return self._nonlinear(node, name, default_bits)
        raise _Skip("")

    def _nonlinear(self, node: Any, name: str, default_bits: int) -> Nonlinear:
        dims = self.shape(node.output[0])
        kind = NONLINEAR[node.op_type]
        if kind in (Op.SOFTMAX, Op.LAYERNORM, Op.RMSNORM) and dims:
            axis = self.attrs(node).get("axis", -1) % len(dims)
            if kind is Op.SOFTMAX:  # the reduction axis goes last
                dims = (*dims[:axis], *dims[axis + 1:], dims[axis])
            else:  # normalised over axis..end
                dims = (*dims[:axis], math.prod(dims[axis:]))
            if axis == 0:  # the batch axis is inside the reduction: no per-sample split
                return Nonlinear(op=kind, name=name, batch=1, shape=dims,
                                 compression=Compression(act_bits=self.act_bits(node.input[0]) or default_bits))
        batch, shape = self.per_sample(dims)
        return Nonlinear(op=kind, name=name, batch=batch, shape=shape,
                         compression=Compression(act_bits=self.act_bits(node.input[0]) or default_bits))

    def _pool(self, node: Any, name: str, default_bits: int) -> Pool:
        x, y = self.shape(node.input[0]), self.shape(node.output[0])
        if len(x) not in (3, 4):
            raise _Skip(f"{len(x) - 2}-D")
        x, y = _as_2d(x), _as_2d(y)
        kind = PoolKind.MAX if "Max" in node.op_type else PoolKind.AVG
        if node.op_type.startswith("Global"):
            kernel, stride, padding = x[2:], (1, 1), (0, 0, 0, 0)
        else:
            attrs = self.attrs(node)
            if any(d != 1 for d in attrs.get("dilations", ())):
                raise _Skip("dilated")
            kernel, stride = _ints2(attrs["kernel_shape"]), _ints2(attrs.get("strides", (1, 1)))
            padding = _padding(attrs, x[2:], kernel, stride, (1, 1))
            # ceil_mode windows hanging over the end: extend the end padding to the graph's output size
            top, left, bottom, right = padding
            bottom += max(0, (y[2] - 1) * stride[0] + kernel[0] - (x[2] + top + bottom))
            right += max(0, (y[3] - 1) * stride[1] + kernel[1] - (x[3] + left + right))
            padding = (top, left, bottom, right)
        batch, _ = self.split(x[0])
        layer = Pool(name=name, batch=batch, kind=kind, channels=x[1], in_h=x[2], in_w=x[3], kernel=kernel,
                     stride=stride, padding=padding,
                     compression=Compression(act_bits=self.act_bits(node.input[0]) or default_bits))
        self._agree(layer, (layer.out_h, layer.out_w), y[2:])
        return layer

    def _agree(self, layer: Layer, ours: tuple[int, ...], graph: tuple[int, ...]) -> None:
        if tuple(ours) != tuple(graph):
            raise WorkloadError(self.source, [Problem(f"node {layer.name}", f"output size {ours} from the attributes "
                                                      f"differs from the inferred {graph}")])

    def _array_layer(self, node: Any, name: str, default_bits: int) -> Layer:
        data_at, weight_at = OPERANDS[node.op_type]
        inputs = list(node.input)
        a_name, b_name = inputs[data_at], inputs[weight_at]
        a_const, b_const = self.constant(a_name), self.constant(b_name)
        if node.op_type in ZERO_POINTS:  # integer ops: operands are stored relative to their zero points
            b_const = self._minus_zero_point(node, b_const, ZERO_POINTS[node.op_type][1])
        if "Conv" in node.op_type:
            layer, weights, data = self._conv(node, name, self.shape(a_name), self.shape(b_name)), b_const, a_name
        else:
            layer, weights, data = self._gemm(node, name, a_name, b_name, a_const, b_const)
        act_bits = self.act_bits(data) or default_bits
        if weights is None:  # both operands are activations
            other = b_name if data == a_name else a_name
            compression = Compression(weight_bits=self.act_bits(other) or default_bits, act_bits=act_bits)
        else:
            compression = Compression(weight_bits=weights.bits or default_bits, act_bits=act_bits,
                                      sparsity=self._measure(weights, layer))
        return _with_compression(layer, compression)

    def _minus_zero_point(self, node: Any, weights: _Operand | None, zero_at: int) -> _Operand | None:
        """Integer-op weights minus their zero point (per tensor, or per output channel/column)."""
        inputs = list(node.input)
        zero = self.constant(inputs[zero_at]) if len(inputs) > zero_at and inputs[zero_at] else None
        if weights is None or zero is None:
            return weights
        shape = [1] * weights.values.ndim
        if zero.values.size > 1:  # axis 0 of conv weights [M, C, kh, kw], the last of matmul's [K, N]
            shape[0 if "Conv" in node.op_type else -1] = zero.values.size
        return _Operand(weights.values - zero.values.reshape(shape), weights.bits)

    def _measure(self, weights: _Operand | None, layer: Layer) -> Sparsity:
        if weights is None:
            return Sparsity()
        values = weights.values
        if values.shape != layer.weight_shape:
            if values.size != math.prod(layer.weight_shape):
                raise _Skip("weight shape unexpected")
            values = values.reshape(layer.weight_shape)
        return measure_sparsity(values, layer)

    def _conv(self, node: Any, name: str, x: tuple[int, ...], w: tuple[int, ...]) -> Layer:
        if len(x) not in (3, 4):
            raise _Skip(f"{len(x) - 2}-D")
        y = _as_2d(self.shape(node.output[0]))
        x, w = _as_2d(x), _as_2d(w)
        attrs = self.attrs(node)
        kernel = w[2:]
        stride, dilation = _ints2(attrs.get("strides", (1, 1))), _ints2(attrs.get("dilations", (1, 1)))
        groups = attrs.get("group", 1)
        batch, _ = self.split(x[0])
        if node.op_type == "ConvTranspose":
            padding = _transpose_padding(attrs, x[2:], y[2:], kernel, stride, dilation)
            extra = _ints2(attrs.get("output_padding", (0, 0)))
            layer = ConvTranspose2d(name=name, batch=batch, in_channels=x[1], out_channels=w[1] * groups, in_h=x[2],
                                    in_w=x[3], kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                                    groups=groups, output_padding=extra)
        else:
            padding = _padding(attrs, x[2:], kernel, stride, dilation)
            layer = Conv2d(name=name, batch=batch, in_channels=x[1], out_channels=w[0], in_h=x[2], in_w=x[3],
                           kernel=kernel, stride=stride, padding=padding, dilation=dilation, groups=groups)
        self._agree(layer, (layer.out_h, layer.out_w), y[2:])
        return layer

    def _gemm(self, node: Any, name: str, a_name: str, b_name: str, a_const: _Operand | None,
              b_const: _Operand | None) -> tuple[Layer, _Operand | None, str]:
        """The layer, its weights (None for two activations) and the name of its data operand."""
        a, b = self.shape(a_name), self.shape(b_name)
        attrs = self.attrs(node)
        if node.op_type == "Gemm":
            if attrs.get("transA", 0):
                a = a[::-1]
                a_const = a_const and _Operand(a_const.values.T, a_const.bits)
            if attrs.get("transB", 0):
                b = b[::-1]
                b_const = b_const and _Operand(b_const.values.T, b_const.bits)
        a = (1, *a) if len(a) == 1 else a
        b = (*b, 1) if len(b) == 1 else b
        k = a[-1]
        if b_const is not None and len(b) == 2:  # X[..., m, k] @ W[k, n]
            batch, m = self.split(math.prod(a[:-1]))
            return Gemm(name=name, batch=batch, m=m, n=b[1], k=k), _reshaped(b_const, b), a_name
        if a_const is not None and len(a) == 2:  # W[n, k] @ X[..., k, m] is (X^T W^T)^T
            batch, m = self.split(math.prod(b[:-2]) * b[-1])
            weights = _reshaped(a_const, a)
            return Gemm(name=name, batch=batch, m=m, n=a[0], k=k), _Operand(weights.values.T, weights.bits), b_name
        stack = tuple(np.broadcast_shapes(a[:-2], b[:-2]))
        m = a[-2]
        if stack:
            batch, heads = self.split(math.prod(stack))
        else:
            (batch, m), heads = self.split(m), 1
        return MatMul(name=name, batch=batch, heads=heads, m=m, n=b[-1], k=k), None, a_name


def _reshaped(operand: _Operand, shape: tuple[int, ...]) -> _Operand:
    return _Operand(operand.values.reshape(shape), operand.bits)


def _with_compression(layer: Layer, compression: Compression) -> Layer:
    """``layer`` with ``compression``, re-checked (a measured N:M density must fit the layer)."""
    layer = replace(layer, compression=compression)
    problems = layer.check()
    if problems:
        raise WorkloadError(layer.name, problems)
    return layer


def _as_2d(dims: tuple[int, ...]) -> tuple[int, ...]:
    """An ``[N, C, L]`` (1-D) shape as ``[N, C, 1, L]``; 2-D shapes unchanged."""
    return (*dims[:2], 1, dims[2]) if len(dims) == 3 else tuple(dims)


def _ints2(values: Any) -> tuple[int, int]:
    values = tuple(int(v) for v in values)
    return (1, values[0]) if len(values) == 1 else values  # type: ignore[return-value]


def _padding(attrs: dict, size: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...],
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


def _transpose_padding(attrs: dict, size: tuple[int, ...], out: tuple[int, ...], kernel: tuple[int, ...],
                       stride: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, int, int, int]:
    """ConvTranspose ``(top, left, bottom, right)``: from ``pads``, or split from ``output_shape``/``auto_pad``."""
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if "output_shape" not in attrs and auto not in ("SAME_UPPER", "SAME_LOWER"):
        return _padding({"pads": attrs["pads"]} if "pads" in attrs else {}, size, kernel, stride, dilation)
    extra = _ints2(attrs.get("output_padding", (0, 0)))
    begin, end = [], []
    for n, o, k, s, d, e in zip(size, out, kernel, stride, dilation, extra):
        total = s * (n - 1) + e + (k - 1) * d + 1 - o
        upper = auto == "SAME_UPPER"
        begin.append(total // 2 if upper else total - total // 2)
        end.append(total - total // 2 if upper else total // 2)
    return (begin[0], begin[1], end[0], end[1])
