"""Quantized ONNX graphs as onnxruntime writes them: element types, Q/DQ, QOperator and N-bit weights.

* QDQ: ``QuantizeLinear``/``DequantizeLinear`` in the standard domain (int4/uint4 from opset
  21, blocked from 21) and in ``com.microsoft`` (what ``quantize_static`` writes for int4/int16
  below opset 21). A weight behind a DequantizeLinear is its integers minus the zero point.
* QOperator and dynamic quantization: ``QLinearConv``, ``QLinearMatMul``, ``ConvInteger``,
  ``MatMulInteger``, ``com.microsoft.QGemm`` and ``DynamicQuantizeMatMul`` (:data:`ARRAY_OPS`).
* ``com.microsoft.MatMulNBits``: ``bits``-bit weights in blocks of ``block_size`` along K, one
  scale (and zero point, default ``2**(bits-1)``) per block (:func:`nbits_weights`).

Scales and zero points of a quantized weight are its metadata (``weight_scale_bytes``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from accelsim.frontend.onnx.graph import MS, Graph, onnx_module, op_key

# Bits of every element type (onnx.TensorProto names).
ELEM_BITS = {"FLOAT": 32, "DOUBLE": 64, "FLOAT16": 16, "BFLOAT16": 16, "INT8": 8, "UINT8": 8, "INT4": 4, "UINT4": 4,
             "INT2": 2, "UINT2": 2, "INT16": 16, "UINT16": 16, "INT32": 32, "UINT32": 32, "INT64": 64, "UINT64": 64,
             "BOOL": 8, "FLOAT8E4M3FN": 8, "FLOAT8E4M3FNUZ": 8, "FLOAT8E5M2": 8, "FLOAT8E5M2FNUZ": 8,
             "FLOAT8E8M0": 8, "FLOAT4E2M1": 4, "FLOAT6E2M3": 6, "FLOAT6E3M2": 6}
# Element types whose bits are an operand's bits: what quantizers write, and int32 accumulators.
QUANTIZED = ("INT8", "UINT8", "INT4", "UINT4", "INT2", "UINT2", "INT16", "UINT16", "INT32", "UINT32",
             "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "FLOAT8E8M0", "FLOAT4E2M1",
             "FLOAT6E2M3", "FLOAT6E3M2")
FORMAT_NAMES = {"FLOAT": "fp32", "DOUBLE": "fp64", "FLOAT16": "fp16", "BFLOAT16": "bf16",
                "FLOAT8E4M3FN": "fp8_e4m3", "FLOAT8E5M2": "fp8_e5m2", "INT8": "int8", "UINT8": "uint8",
                "INT4": "int4", "UINT4": "uint4", "INT2": "int2", "UINT2": "uint2", "INT16": "int16",
                "UINT16": "uint16", "INT32": "int32", "UINT32": "uint32"}

QDQ = frozenset({"QuantizeLinear", "DequantizeLinear", f"{MS}.QuantizeLinear", f"{MS}.DequantizeLinear"})


@dataclass(frozen=True)
class ArrayOperands:
    """Input positions of an array op: data, weight, their zero points and the weight scale;
    ``data_bits`` for an op that quantizes its float data itself."""

    data: int
    weight: int
    data_zero: int | None = None
    weight_zero: int | None = None
    weight_scale: int | None = None
    data_bits: int | None = None


ARRAY_OPS = {
    "Conv": ArrayOperands(0, 1), "ConvTranspose": ArrayOperands(0, 1), "Gemm": ArrayOperands(0, 1),
    "MatMul": ArrayOperands(0, 1), "ConvInteger": ArrayOperands(0, 1, 2, 3), "MatMulInteger": ArrayOperands(0, 1, 2, 3),
    "QLinearConv": ArrayOperands(0, 3, 2, 5, 4), "QLinearMatMul": ArrayOperands(0, 3, 2, 5, 4),
    f"{MS}.QGemm": ArrayOperands(0, 3, 2, 5, 4),
    f"{MS}.DynamicQuantizeMatMul": ArrayOperands(0, 1, None, 3, 2, data_bits=8),  # quantizes A to uint8
}


def type_name(graph: Graph, elem_type: int) -> str:
    try:
        return graph.onnx.TensorProto.DataType.Name(elem_type)
    except ValueError:
        return "UNDEFINED"


def format_name(elem_type: int | str) -> str | None:
    """The workload number-format name of an ONNX element type (``TensorProto.FLOAT`` or ``"FLOAT"``
    -> ``"fp32"``, ``INT4`` -> ``"int4"``), or None for types without one."""
    if not isinstance(elem_type, str):
        try:
            elem_type = onnx_module().TensorProto.DataType.Name(elem_type)
        except ValueError:
            return None
    return FORMAT_NAMES.get(elem_type)


def quantized_bits(graph: Graph, name: str) -> int | None:
    """Bits of a tensor whose element type a quantizer writes (None for floats and others)."""
    kind = type_name(graph, graph.elem_type(name))
    return ELEM_BITS[kind] if kind in QUANTIZED else None


def act_bits(graph: Graph, name: str) -> int | None:
    """Bits of an activation: the quantized type feeding the DequantizeLinear that made it, its own,
    or that of the QuantizeLinear reading it (an op whose Q/DQ pairs sit inside a recognized op)."""
    node = graph.producer.get(name)
    if node is not None and op_key(node) in QDQ and node.op_type == "DequantizeLinear":
        return quantized_bits(graph, node.input[0])
    readers = [n for n in graph.consumers.get(name, []) if op_key(n) in QDQ and n.op_type == "QuantizeLinear"]
    return quantized_bits(graph, name) or (quantized_bits(graph, readers[0].output[0]) if readers else None)


def type_of(graph: Graph, name: str) -> str:
    """The element type name of a tensor (``FLOAT``, ``INT64``, ``UNDEFINED``, ...)."""
    return type_name(graph, graph.elem_type(name))


def stored_bytes(graph: Graph, name: str) -> int:
    """Bytes of a constant tensor at its element type's bits (0 for a missing one)."""
    if not name or name not in graph.infos:
        return 0
    dims = graph.infos[name][1] or ()
    bits = ELEM_BITS.get(type_name(graph, graph.elem_type(name)), 32)
    return math.ceil(math.prod(d for d in dims if isinstance(d, int)) * bits / 8)


@dataclass(frozen=True)
class Operand:
    """A constant operand: its values (integers minus zero points when quantized), its bits (None:
    not quantized), the bytes of its scales and zero points, and its element type name."""

    values: np.ndarray
    bits: int | None
    scale_bytes: int = 0
    elem: str = "UNDEFINED"


def constant(graph: Graph, name: str) -> Operand | None:
    """The constant behind ``name``, followed through Identity/Cast/Transpose/Reshape and Q/DQ nodes."""
    if name in graph.constants:
        kind = type_name(graph, graph.elem_type(name))
        return Operand(graph.array(name), ELEM_BITS[kind] if kind in QUANTIZED else None,
                       elem=kind)
    node = graph.producer.get(name)
    if node is None:
        return None
    key = op_key(node)
    if key in ("Identity", "Cast"):
        return constant(graph, node.input[0])
    if key == "Transpose":
        inner = constant(graph, node.input[0])
        perm = graph.attrs(node).get("perm")
        return inner and Operand(np.transpose(inner.values, perm), inner.bits, inner.scale_bytes, inner.elem)
    if key == "Reshape" and name in graph.infos and graph.infos[name][1] is not None:
        inner = constant(graph, node.input[0])
        shape = graph.infos[name][1]
        if inner is None or not all(isinstance(d, int) for d in shape) or math.prod(shape) != inner.values.size:
            return None
        return Operand(inner.values.reshape(shape), inner.bits, inner.scale_bytes, inner.elem)
    if key in QDQ and node.op_type == "DequantizeLinear":
        inner = constant(graph, node.input[0])
        if inner is None:
            return None
        zero = _zero_point(graph, node, inner.values)
        scale_bytes = inner.scale_bytes or stored_bytes(graph, node.input[1]) + stored_bytes(graph, _input(node, 2))
        return Operand(inner.values - zero, quantized_bits(graph, node.input[0]), scale_bytes)
    if key in QDQ and node.op_type == "QuantizeLinear":
        inner, scale = constant(graph, node.input[0]), constant(graph, node.input[1])
        if inner is None or scale is None:
            return None
        scaled = np.rint(inner.values / _along_axis(graph, node, scale.values, inner.values))
        return Operand(scaled + _zero_point(graph, node, inner.values), quantized_bits(graph, node.output[0]))
    return None


def real_value(graph: Graph, name: str) -> np.ndarray | None:
    """The float value of a constant, dequantized when it comes out of a DequantizeLinear."""
    operand = constant(graph, name)
    if operand is None:
        return None
    node = graph.producer.get(name)
    values = np.asarray(operand.values, dtype=np.float64)
    if node is not None and op_key(node) in QDQ and node.op_type == "DequantizeLinear":
        scale = constant(graph, node.input[1])
        return None if scale is None else values * _along_axis(graph, node, scale.values, values)
    return values


def _input(node: Any, index: int) -> str:
    return node.input[index] if len(node.input) > index else ""


def _along_axis(graph: Graph, node: Any, param: np.ndarray, values: np.ndarray) -> np.ndarray:
    """A per-tensor, per-axis or blocked quantization parameter broadcast to ``values``."""
    if param.ndim == 0 or param.size == 1:
        return param.reshape(())
    attrs = graph.attrs(node)
    axis = attrs.get("axis", 1) % values.ndim
    if param.ndim == values.ndim:  # blocked quantization (opset 21)
        return np.repeat(param, attrs.get("block_size", 1), axis=axis)[tuple(slice(0, n) for n in values.shape)]
    shape = [1] * values.ndim
    shape[axis] = param.size
    return param.reshape(shape)


def _zero_point(graph: Graph, node: Any, values: np.ndarray) -> np.ndarray | int:
    if not _input(node, 2):
        return 0
    zero = constant(graph, node.input[2])
    return 0 if zero is None else _along_axis(graph, node, zero.values, values)


def minus_zero_point(graph: Graph, node: Any, weights: Operand | None, operands: ArrayOperands) -> Operand | None:
    """QOperator/integer-op weights minus their zero point (per tensor, or per output channel/column),
    with the bytes of their scale and zero point."""
    at = operands.weight_zero
    zero_name = _input(node, at) if at is not None else ""
    zero = constant(graph, zero_name) if zero_name else None
    scale_bytes = stored_bytes(graph, zero_name) + (stored_bytes(graph, _input(node, operands.weight_scale))
                                                    if operands.weight_scale is not None else 0)
    if weights is None:
        return None
    values = weights.values
    if zero is not None:
        shape = [1] * values.ndim
        if zero.values.size > 1:  # per output channel: axis 0 of conv [M, C, kh, kw] and QGemm's transposed
            rows_out = "Conv" in node.op_type or graph.attrs(node).get("transB", 0)  # [N, K]; last of [K, N]
            shape[0 if rows_out else -1] = zero.values.size
        values = values - zero.values.reshape(shape)
    return Operand(values, weights.bits, weights.scale_bytes or scale_bytes, weights.elem)


def nbits_weights(graph: Graph, node: Any) -> tuple[int, int, Operand]:
    """``(K, N, weights [K, N])`` of a ``com.microsoft.MatMulNBits`` node.

    ``B`` is ``uint8[N, blocks, block_size * bits / 8]``, the values of each block packed
    low bits first; ``scales`` hold one value per block, zero points (optional, packed the same
    way, or of the scales' type) default to ``2**(bits-1)``.
    """
    attrs = graph.attrs(node)
    k, n, bits, block = attrs["K"], attrs["N"], attrs.get("bits", 4), attrs["block_size"]
    if bits not in (1, 2, 4, 8):
        raise ValueError(f"MatMulNBits with bits={bits}: only 1, 2, 4 and 8 unpack from bytes")
    blocks = -(-k // block)
    q = _unpack(graph.array(node.input[1]).reshape(n, -1), bits)[:, :blocks * block]
    zero_name = _input(node, 3)
    if zero_name and type_name(graph, graph.elem_type(zero_name)) == "UINT8":
        zero = _unpack(graph.array(zero_name).reshape(n, -1), bits)[:, :blocks]
    elif zero_name:
        zero = graph.array(zero_name).reshape(n, blocks)
    else:
        zero = np.full((n, blocks), 2 ** (bits - 1))
    values = (q - np.repeat(zero, block, axis=1))[:, :k]
    scale_bytes = stored_bytes(graph, node.input[2]) + stored_bytes(graph, zero_name)
    return k, n, Operand(values.T, bits, scale_bytes)


def _unpack(packed: np.ndarray, bits: int) -> np.ndarray:
    """``bits``-bit values packed low bits first in each byte of the last axis."""
    per_byte = 8 // bits
    shifts = bits * np.arange(per_byte)
    values = (packed[..., None].astype(np.int64) >> shifts) & (2 ** bits - 1)
    return values.reshape(*packed.shape[:-1], packed.shape[-1] * per_byte)
