"""ONNX model -> validated :class:`Network`, and nothing left out silently.

A computing node that cannot be imported (an unsupported op, an unknown shape, a 3-D conv, ...)
stops the import with a :class:`WorkloadError` naming the nodes and the share of the model's
MACs they hold; ``allow_partial=True`` imports the rest and records the loss in
``Network.lost_macs`` and ``Network.source``. Unsupported ops on integer and boolean tensors only
(position ids, attention masks: ``CumSum``, ``Not``, ...) carry no MACs and are listed in a warning.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Mapping

from accelsim.errors import Problem, WorkloadError
from accelsim.frontend.onnx.edges import with_producers
from accelsim.frontend.onnx.fusion import find_fusions
from accelsim.frontend.onnx.graph import (
    Graph, UnknownShape, bind_inputs, graph_name, infer_shapes, onnx_module, onnxruntime_available, op_key,
    read_model,
)
from accelsim.frontend.onnx.layers import FREE, Converter, NotImported, estimated_macs
from accelsim.frontend.onnx.quant import format_name, type_of
from accelsim.spec.fields import to_dict, validated
from accelsim.spec.workload import Layer, Network

log = logging.getLogger(__name__)

LISTED = 8
"""Left-out nodes named one by one in the error; the rest are counted by op type."""

FOLDED_INTO = ("Conv", "ConvTranspose", "Gemm", "MatMul", "ConvInteger", "QLinearConv")
"""Producers a following BatchNormalization is folded into (as inference compilers do)."""


@dataclass(frozen=True)
class LeftOut:
    """A computing node the import could not turn into a layer."""

    name: str
    op: str
    reason: str
    macs: int | None  # None: unknown


def load_onnx(path: str | Path, batch: int | None = None, *, default_bits: int | None = None,
              dims: Mapping[str, int] | None = None, seq_len: int | None = None,
              allow_partial: bool = False) -> Network:
    """A :class:`Network` for the ONNX model at ``path``.

    Parameters
    ----------
    path : ONNX model file.
    batch : batch size (axis 0 of every graph input); None keeps a fixed one (or ``dims``'s), else 1.
    default_bits : bits of operands the model does not quantize (float tensors), 1..32; None (the
        default) keeps each float tensor's own format (fp32, fp16, bf16, fp8).
    dims : sizes of symbolic input dimensions by name, e.g. ``{"sequence": 128}``.
    seq_len : binds symbolic dimensions named ``*seq*`` and axis 1 of 2-D inputs.
    allow_partial : import what can be imported when some computing nodes cannot (the loss is
        recorded in ``lost_macs`` and ``source``) instead of raising.

    Raises
    ------
    WorkloadError
        Unreadable file, bad arguments, an unbound or unknown dimension, inconsistent shapes, or
        (without ``allow_partial``) nodes that cannot be imported.
    """
    source = str(path)
    if default_bits is not None and (isinstance(default_bits, bool) or not isinstance(default_bits, int)
                                     or not 1 <= default_bits <= 32):
        raise WorkloadError(source, [Problem("default_bits",
                                             f"expected an integer from 1 to 32, got {default_bits!r}")])
    onnx = onnx_module()
    path = Path(path)
    model = read_model(onnx, path)
    name = graph_name(model, path)
    batch = bind_inputs(model, source, batch, dims, seq_len)
    graph = Graph(onnx, infer_shapes(onnx, model, source), source)
    converter = Converter(graph, batch, default_bits)
    layers, left_out, unknown = _convert(graph, converter)
    imported = sum(layer.macs for layer in layers)
    lost = sum(item.macs or 0 for item in left_out)
    if left_out and not allow_partial:
        raise WorkloadError(source, [*_unknown_dims(graph, unknown),
                                     Problem("", _loss_text(left_out, imported, lost) + "; pass allow_partial=True "
                                             "(accelsim import --allow-partial) to import the rest")])
    note = f"ONNX: {path.name}"
    if left_out:
        text = _loss_text(left_out, imported, lost)
        log.warning("%s: partial import: %s", source, text)
        note += f"; partial import: {text}"
    if converter.defaulted:
        _warn_defaulted(source, converter.defaulted, default_bits or 8)
    if not layers:
        raise WorkloadError(source, [Problem("", "no computing node (Conv, Gemm, MatMul, pooling, elementwise or "
                                             "nonlinear op) in the model")])
    net = Network(name=name, batch=batch, layers=tuple(layers), source=note, lost_macs=lost)
    validated(Network, to_dict(net), source, error=WorkloadError)  # what `accelsim validate` checks
    return net


def _convert(graph: Graph, converter: Converter) -> tuple[list[Layer], list[LeftOut], list[UnknownShape]]:
    """The layers (with their ``producers``), the computing nodes left out, and the unknown shapes
    that left some out."""
    fusions = find_fusions(graph)
    fused_at = {id(f.nodes[-1]): f for f in fusions}
    absorbed = {id(node) for f in fusions for node in f.nodes}
    layers: list[Layer] = []
    left_out: list[LeftOut] = []
    unknown: list[UnknownShape] = []
    skipped: list[str] = []
    names: set[str] = set()
    made: dict[str, str] = {}  # tensor -> the layer whose output it is

    def unique(name: str) -> str:
        while name in names:
            name += "_"
        names.add(name)
        return name

    for index, node in enumerate(graph.nodes):
        fused = fused_at.get(id(node))
        if fused is not None:
            name, op, macs = unique(_common_scope([n.name for n in fused.nodes]) or f"{fused.op.value}_{index}"), \
                fused.op.value, 0
        elif _folded(graph, node):  # its output is its conv's or GEMM's
            if node.input[0] in made:
                made[node.output[0]] = made[node.input[0]]
            continue
        elif id(node) in absorbed or op_key(node) in FREE or graph.is_static(node):
            continue
        else:
            name, op, macs = unique(node.name or f"{node.op_type}_{index}"), op_key(node), estimated_macs(graph, node)
        try:
            layers.append(converter.fused(fused, name) if fused is not None else converter.layer(node, name))
            made[fused.output if fused is not None else node.output[0]] = name
        except NotImported as exc:
            if fused is None and macs == 0 and _index_arithmetic(graph, node):
                skipped.append(op)
            else:
                left_out.append(LeftOut(name, op, str(exc), macs))
        except UnknownShape as exc:
            left_out.append(LeftOut(name, op, str(exc), macs))
            unknown.append(exc)
    if skipped:
        log.warning("%s: %d node(s) of index or mask arithmetic (integer and boolean tensors, no MACs) not in the "
                    "workload: %s", graph.source, len(skipped),
                    ", ".join(f"{op} x{n}" for op, n in sorted(Counter(skipped).items())))
    return with_producers(graph, layers, made, converter.reads), left_out, unknown


INDEX_TYPES = ("INT32", "INT64", "UINT32", "UINT64", "BOOL")
"""Element types of positions, indices and masks (8-bit and narrower integers are quantized data)."""


def _index_arithmetic(graph: Graph, node: Any) -> bool:
    """Whether every tensor a node reads and writes holds indices or booleans (position ids, masks)."""
    names = [*graph.dynamic_inputs(node), *(out for out in node.output if out)]
    return all(type_of(graph, name) in INDEX_TYPES for name in names)


def _unknown_dims(graph: Graph, unknown: list[UnknownShape]) -> list[Problem]:
    """One problem per dimension the shape inference left unknown, naming where it first appears."""
    problems = []
    for dim in dict.fromkeys(d for exc in unknown for d in exc.missing):
        found = graph.origin(dim)
        where = f"; it first appears at the output {found[1]} of node {found[0].name or found[0].op_type} " \
                f"({op_key(found[0])})" if found else ""
        label = f"dimension {dim}" if dim != "?" else "an unnamed dimension"
        hint = "" if onnxruntime_available() else " or install onnxruntime (its symbolic shape inference " \
            "follows more shape arithmetic)"
        problems.append(Problem(label, f"unknown after ONNX and onnxruntime shape inference{where}: the model "
                                f"computes it from data; export it with fixed shapes{hint}"))
    return problems


def _folded(graph: Graph, node: Any) -> bool:
    """Whether a BatchNormalization directly follows a conv or GEMM that only it reads."""
    if node.op_type != "BatchNormalization":
        return False
    producer = graph.producer.get(node.input[0])
    return producer is not None and graph.only_consumer(node.input[0]) is node and producer.op_type in FOLDED_INTO


def _common_scope(names: list[str]) -> str:
    """The longest ``/``-separated prefix all node names share (torch's module path), or ''."""
    parts = [name.split("/")[:-1] for name in names if name]
    if len(parts) != len(names) or not parts:
        return ""
    common = []
    for level in zip(*parts):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return "/".join(common) if any(common) else ""


def _loss_text(left_out: list[LeftOut], imported: int, lost: int) -> str:
    unknown = sum(item.macs is None for item in left_out)
    listed = "; ".join(f"{item.name} ({item.op}: {item.reason})" for item in left_out[:LISTED])
    if len(left_out) > LISTED:
        listed += f"; and {len(left_out) - LISTED} more"
    total = imported + lost
    size = f"{lost:,} of {total:,} MACs ({lost / total:.1%})" if total else "no known MACs"
    if unknown:
        size += f", plus {unknown} node(s) of unknown size"
    counts = ", ".join(f"{op} x{n}" for op, n in _op_counts(left_out))
    return f"{len(left_out)} computing node(s) cannot be imported ({counts}): {listed}. They hold {size}"


def _op_counts(left_out: list[LeftOut]) -> list[tuple[str, int]]:
    return sorted(Counter(item.op for item in left_out).items())


def _warn_defaulted(source: str, defaulted: dict[str, set[str]], default_bits: int) -> None:
    types = sorted({t for found in defaulted.values() for t in found})
    named = ", ".join(f"{t} ({format_name(t)})" if format_name(t) else t for t in types)
    log.warning("%s: %d layer(s) have operands of %s: bits set to %d (default_bits, or 8 for "
                "types without a number format)", source, len(defaulted), named, default_bits)

