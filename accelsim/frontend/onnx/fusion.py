"""Decomposed ops recognized as the op they implement, as exporters write them at opset < 20.

* GELU, Erf form: ``x / sqrt(2)`` (or ``x * 1/sqrt(2)``), ``Erf``, ``+ 1``, ``* x``, ``* 0.5`` (the
  half applied to x first or last);
* GELU, tanh form: ``tanh(sqrt(2/pi) * (x + 0.044715 * x^3))``, ``+ 1``, ``* x``, ``* 0.5``
  (``x^3`` as ``Pow`` or two ``Mul``);
* LayerNorm: ``ReduceMean``, ``Sub``, ``Pow 2`` (or ``d * d``), ``ReduceMean``, ``+ eps``, ``Sqrt``,
  ``Div`` (or ``Reciprocal``/``1 /`` and ``Mul``), then optionally ``* gamma`` and ``+ beta``;
* RMSNorm: ``Pow 2`` (or ``x * x``), ``ReduceMean``, ``+ eps``, ``Sqrt``, ``Div`` (or reciprocal and
  ``Mul``), optionally ``* gamma``;
* softmax: optionally ``x - ReduceMax(x)``, ``Exp``, ``ReduceSum``, ``Div``;
* SiLU (swish): ``x * Sigmoid(x)``.

Constants are checked (``sqrt(2)``, ``0.5``, ``0.044715``, ...) and every intermediate tensor
must be read only inside the pattern, so a look-alike that computes something else is left to
the per-node import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from accelsim.frontend.onnx.graph import MS, Graph, op_key
from accelsim.frontend.onnx.quant import QDQ, real_value
from accelsim.spec.workload import Op


@dataclass(frozen=True)
class Fused:
    """Nodes that together compute ``op`` from tensor ``input`` to ``output``.

    ``axis``: the first reduced axis (the reduction runs from it to the last axis; one axis
    for softmax); None for GELU.
    """

    op: Op
    nodes: tuple[Any, ...]
    input: str
    output: str
    axis: int | None = None


def _value(graph: Graph, name: str) -> np.ndarray | None:
    return real_value(graph, name) if name in graph.static else None


def _is(graph: Graph, name: str, target: float, rel: float = 1e-3) -> bool:
    """Whether constant ``name`` holds ``target`` (every element, to ``rel``)."""
    value = _value(graph, name)
    return value is not None and value.size >= 1 and bool(np.allclose(value, target, rtol=rel, atol=0))


def _static(graph: Graph, name: str) -> bool:
    return name in graph.static


def _other(node: Any, tensor: str) -> str | None:
    """The other input of a two-input node that reads ``tensor`` once."""
    inputs = list(node.input)
    if len(inputs) != 2 or inputs.count(tensor) != 1:
        return None
    return inputs[1 - inputs.index(tensor)]


def _made_by(graph: Graph, tensor: str, op_type: str, reader: Any) -> Any | None:
    """The ``op_type`` node making ``tensor`` when ``reader`` is its only reader."""
    node = graph.producer.get(tensor)
    ok = node is not None and node.op_type == op_type and graph.only_consumer(tensor) is reader
    return node if ok else None


def _next(graph: Graph, tensor: str, *op_types: str) -> Any | None:
    node = graph.only_consumer(tensor)
    return node if node is not None and node.op_type in op_types else None


def reduce_axes(graph: Graph, node: Any, rank: int) -> tuple[int, ...] | None:
    """Sorted non-negative axes a Reduce* node reduces (None when they cannot be read)."""
    attrs = graph.attrs(node)
    if "axes" in attrs:
        axes = attrs["axes"]
    elif len(node.input) > 1 and node.input[1]:
        value = _value(graph, node.input[1])
        if value is None:
            return None
        axes = value.astype(int).ravel().tolist()
    else:
        axes = [] if attrs.get("noop_with_empty_axes", 0) else list(range(rank))
    return tuple(sorted({int(a) % rank for a in axes})) if rank else ()


def _trailing(axes: tuple[int, ...] | None, rank: int) -> int | None:
    """The first axis when ``axes`` run from it to the last, else None."""
    if not axes or axes != tuple(range(axes[0], rank)):
        return None
    return axes[0]


def _rank(graph: Graph, name: str) -> int | None:
    dims = graph.infos.get(name, (0, None))[1]
    return None if dims is None else len(dims)


# ---- GELU ---------------------------------------------------------------------------------


def _gelu_tail(graph: Graph, tensor: str, x: str, nodes: list[Any]) -> str | None:
    """From ``erf(..)``/``tanh(..)``: ``+ 1``, ``* x`` and ``* 0.5`` in either order; the output."""
    add = _next(graph, tensor, "Add")
    if add is None or not _is(graph, _other(add, tensor) or "", 1.0):
        return None
    nodes.append(add)
    tensor, half, by_x = add.output[0], False, False
    while not (half and by_x):
        node = _next(graph, tensor, "Mul", "Div")
        other = node is not None and _other(node, tensor)
        if not other:
            return None
        if not half and ((node.op_type == "Mul" and _is(graph, other, 0.5)) or
                         (node.op_type == "Div" and _is(graph, other, 2.0))):
            half = True
        elif node.op_type == "Mul" and not by_x and other == x:
            by_x = True
        elif node.op_type == "Mul" and not by_x and not half:
            halved = _made_by(graph, other, "Mul", node)
            if halved is None or _other(halved, x) is None or not _is(graph, _other(halved, x), 0.5):
                return None
            nodes.append(halved)
            half = by_x = True
        else:
            return None
        nodes.append(node)
        tensor = node.output[0]
    return tensor


def _gelu_erf(graph: Graph, erf: Any) -> Fused | None:
    scaled = erf.input[0]
    node = graph.producer.get(scaled)
    if node is None or graph.only_consumer(scaled) is not erf or len(node.input) != 2:
        return None
    if node.op_type == "Div" and _is(graph, node.input[1], math.sqrt(2)):
        x = node.input[0]
    elif node.op_type == "Mul" and any(_is(graph, c, 1 / math.sqrt(2)) for c in node.input):
        x = next(c for c in node.input if not _is(graph, c, 1 / math.sqrt(2)))
    else:
        return None
    nodes = [node, erf]
    out = _gelu_tail(graph, erf.output[0], x, nodes)
    return out and Fused(Op.GELU, tuple(nodes), x, out)


def _cube(graph: Graph, tensor: str, reader: Any) -> tuple[str, list[Any]] | None:
    """``(x, nodes)`` when ``tensor`` is ``Pow(x, 3)`` or ``x * x * x`` read only by ``reader``."""
    node = graph.producer.get(tensor)
    if node is None or graph.only_consumer(tensor) is not reader:
        return None
    if node.op_type == "Pow" and _is(graph, node.input[1], 3.0):
        return node.input[0], [node]
    if node.op_type == "Mul":
        for x, square in (tuple(node.input), tuple(node.input)[::-1]):
            inner = _made_by(graph, square, "Mul", node)
            if inner is not None and list(inner.input) == [x, x]:
                return x, [inner, node]
    return None


def _gelu_tanh(graph: Graph, tanh: Any) -> Fused | None:
    scaled = graph.producer.get(tanh.input[0])
    if scaled is None or scaled.op_type != "Mul" or graph.only_consumer(tanh.input[0]) is not tanh:
        return None
    factors = [c for c in scaled.input if not _is(graph, c, math.sqrt(2 / math.pi))]
    if len(factors) != 1:
        return None
    inner = factors[0]
    total = _made_by(graph, inner, "Add", scaled)
    if total is None:
        return None
    for x, term in (tuple(total.input), tuple(total.input)[::-1]):
        times = _made_by(graph, term, "Mul", total)
        if times is None:
            continue
        cube_name = next((c for c in times.input if not _is(graph, c, 0.044715)), None)
        cube = cube_name and len(set(times.input)) == 2 and _cube(graph, cube_name, times)
        if cube and cube[0] == x:
            nodes = [*cube[1], times, total, scaled, tanh]
            out = _gelu_tail(graph, tanh.output[0], x, nodes)
            return out and Fused(Op.GELU, tuple(nodes), x, out)
    return None


# ---- normalizations --------------------------------------------------------------------------


def _square(graph: Graph, node: Any, x: str) -> bool:
    return (node.op_type == "Pow" and node.input[0] == x and _is(graph, node.input[1], 2.0)) or \
        (node.op_type == "Mul" and list(node.input) == [x, x])


def _inverse_std(graph: Graph, variance: str, x: str, nodes: list[Any]) -> str | None:
    """``x / sqrt(variance + eps)`` (also as ``x * (1 / sqrt(..))``): appends its nodes, returns the output."""
    add = _next(graph, variance, "Add")
    if add is None or not _static(graph, _other(add, variance) or ""):
        return None
    sqrt = _next(graph, add.output[0], "Sqrt")
    if sqrt is None:
        return None
    nodes += [add, sqrt]
    std = sqrt.output[0]
    node = _next(graph, std, "Div", "Reciprocal")
    if node is not None and node.op_type == "Div" and list(node.input) == [x, std]:
        nodes.append(node)
        return node.output[0]
    if node is None or (node.op_type == "Div" and not _is(graph, node.input[0], 1.0)) or \
            (node.op_type == "Div" and node.input[1] != std):
        return None
    scale = _next(graph, node.output[0], "Mul")
    if scale is None or _other(scale, node.output[0]) != x:
        return None
    nodes += [node, scale]
    return scale.output[0]


def _affine(graph: Graph, tensor: str, nodes: list[Any], ops: tuple[str, ...]) -> str:
    """Optional ``* gamma`` then ``+ beta`` (constants), in the order ``ops`` allows."""
    for op_type in ops:
        node = _next(graph, tensor, op_type)
        if node is None or not _static(graph, _other(node, tensor) or ""):
            break
        nodes.append(node)
        tensor = node.output[0]
    return tensor


def _layernorm(graph: Graph, mean: Any) -> Fused | None:
    x = mean.input[0]
    rank = _rank(graph, x)
    axis = _trailing(reduce_axes(graph, mean, rank), rank) if rank else None
    if axis is None or graph.attrs(mean).get("keepdims", 1) != 1:
        return None
    sub = _next(graph, mean.output[0], "Sub")
    if sub is None or list(sub.input) != [x, mean.output[0]]:
        return None
    centered = sub.output[0]
    readers = {id(n): n for n in graph.consumers.get(centered, [])}.values()
    squares = [n for n in readers if _square(graph, n, centered)]
    if len(readers) != 2 or len(squares) != 1 or centered in graph.graph_outputs:
        return None
    variance = _next(graph, squares[0].output[0], "ReduceMean")
    if variance is None or reduce_axes(graph, variance, rank) != reduce_axes(graph, mean, rank):
        return None
    nodes = [mean, sub, squares[0], variance]
    out = _inverse_std(graph, variance.output[0], centered, nodes)
    if out is None:
        return None
    out = _affine(graph, out, nodes, ("Mul", "Add"))
    return Fused(Op.LAYERNORM, tuple(nodes), x, out, axis)


def _rmsnorm(graph: Graph, mean: Any) -> Fused | None:
    square = graph.producer.get(mean.input[0])
    if square is None or graph.only_consumer(mean.input[0]) is not mean:
        return None
    x = square.input[0]
    rank = _rank(graph, x)
    axis = _trailing(reduce_axes(graph, mean, rank), rank) if rank else None
    if axis is None or not _square(graph, square, x) or graph.attrs(mean).get("keepdims", 1) != 1:
        return None
    nodes = [square, mean]
    out = _inverse_std(graph, mean.output[0], x, nodes)
    if out is None:
        return None
    out = _affine(graph, out, nodes, ("Mul",))
    return Fused(Op.RMSNORM, tuple(nodes), x, out, axis)


# ---- softmax ---------------------------------------------------------------------------------


def _softmax(graph: Graph, exp: Any) -> Fused | None:
    x, nodes, axes = exp.input[0], [], []
    sub = _made_by(graph, x, "Sub", exp)
    if sub is not None:
        peak = _made_by(graph, sub.input[1], "ReduceMax", sub)
        if peak is not None and peak.input[0] == sub.input[0]:
            x, nodes = sub.input[0], [peak, sub]
            axes.append(peak)
    rank = _rank(graph, x)
    readers = list({id(n): n for n in graph.consumers.get(exp.output[0], [])}.values())
    if not rank or len(readers) != 2 or exp.output[0] in graph.graph_outputs:
        return None
    total = next((n for n in readers if n.op_type == "ReduceSum" and n.input[0] == exp.output[0]), None)
    div = next((n for n in readers if n.op_type == "Div"), None)
    if total is None or div is None or list(div.input) != [exp.output[0], total.output[0]] or \
            graph.only_consumer(total.output[0]) is not div:
        return None
    found = {reduce_axes(graph, node, rank) for node in (*axes, total)}
    (reduced,) = found if len(found) == 1 else (None,)
    if reduced is None or len(reduced) != 1:
        return None
    return Fused(Op.SOFTMAX, (*nodes, exp, total, div), x, div.output[0], reduced[0])


# ---- SiLU --------------------------------------------------------------------------------------


def _silu(graph: Graph, sigmoid: Any) -> Fused | None:
    x = sigmoid.input[0]
    gate = _next(graph, sigmoid.output[0], "Mul")
    if gate is None or _other(gate, sigmoid.output[0]) != x:
        return None
    return Fused(Op.SILU, (sigmoid, gate), x, gate.output[0])


MATCHERS = {"Erf": (_gelu_erf,), "Tanh": (_gelu_tanh,), "ReduceMean": (_layernorm, _rmsnorm), "Exp": (_softmax,),
            "Sigmoid": (_silu,)}
"""Seed op type -> the patterns tried from a node of that type (first match wins)."""


def find_fusions(graph: Graph) -> list[Fused]:
    """Every decomposed op in ``graph`` (each node in at most one), read through the quantization
    onnxruntime puts inside the chains (:func:`_float_view`)."""
    view, originals = _float_view(graph)
    claimed: set[int] = set()
    found = []
    for node in view.nodes:
        if id(node) in claimed or view.is_static(node):
            continue
        for matcher in MATCHERS.get(node.op_type, ()):
            fused = matcher(view, node)
            if fused is not None and not any(id(n) in claimed for n in fused.nodes):
                claimed.update(id(n) for n in fused.nodes)
                found.append(replace(fused, nodes=tuple(originals[id(n)] for n in fused.nodes)))
                break
    return found


QLINEAR_BINARY = {f"{MS}.QLinearAdd": "Add", f"{MS}.QLinearMul": "Mul"}


def _float_view(graph: Graph) -> tuple[Graph, dict[int, Any]]:
    """``graph`` as float ops, and the original node of each node of the view.

    Activation ``QuantizeLinear``/``DequantizeLinear`` nodes are dropped: a tensor and its
    (de)quantized copies become one, named after the one a computing node makes. ``QLinearAdd``
    and ``QLinearMul`` become ``Add`` and ``Mul``, their quantized constants dequantized.
    """
    activation_qdq = [n for n in graph.nodes if op_key(n) in QDQ and not graph.is_static(n)]
    if not activation_qdq and not any(op_key(n) in QLINEAR_BINARY for n in graph.nodes):
        return graph, {id(node): node for node in graph.nodes}
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        while parent.get(name, name) != name:
            name = parent[name]
        return name

    for node in activation_qdq:  # one class per value: join each Q/DQ's input and output
        a, b = root(node.input[0]), root(node.output[0])
        if a != b:
            parent[b] = a
    made_by_qdq = {node.output[0] for node in activation_qdq}
    members = {*parent, *parent.values()}
    canonical = {root(name): name for name in sorted(members) if name not in made_by_qdq}  # made by a computing node
    view_constants, view_infos = dict(graph.constants), dict(graph.infos)

    def rename(name: str) -> str:
        return canonical.get(root(name), name) if name in members else name

    def real(node: Any, at: int) -> str:
        """A QLinear operand: its float tensor, or a dequantized copy of a constant."""
        name = node.input[at]
        if name not in graph.static:
            return rename(name)
        value = real_value_of(graph, name, node.input[at + 1], node.input[at + 2])
        if value is None:
            return name
        key = f"{name}::real"
        view_constants[key] = graph.onnx.numpy_helper.from_array(value.astype(np.float32), key)
        view_infos[key] = (graph.onnx.TensorProto.FLOAT, tuple(value.shape))
        return key

    dropped = {id(node) for node in activation_qdq}
    nodes, originals = [], {}
    for node in graph.nodes:
        if id(node) in dropped:
            continue
        twin = type(node)()
        twin.CopyFrom(node)
        del twin.input[:]
        if op_key(node) in QLINEAR_BINARY:
            twin.op_type, twin.domain = QLINEAR_BINARY[op_key(node)], ""
            twin.input.extend([real(node, 0), real(node, 3)])
        else:
            twin.input.extend(rename(name) for name in node.input)
        nodes.append(twin)
        originals[id(twin)] = node
    view = graph.rewired(nodes, constants=view_constants, infos=view_infos)
    return view, originals


def real_value_of(graph: Graph, quantized: str, scale: str, zero: str) -> np.ndarray | None:
    """``(quantized - zero) * scale`` of constants (per tensor)."""
    values = [real_value(graph, name) for name in (quantized, scale, zero)]
    if any(v is None for v in values) or values[1].size != 1 or values[2].size != 1:
        return None
    return (values[0] - values[2].reshape(())) * values[1].reshape(())
