"""Where each imported layer's activation operands come from: its ``producers`` (docs/memory_plan.md).

Every tensor a layer reads is traced back to the imported layer whose output holds its values,
through the nodes that are no layer of their own:

* the same values moved or relabelled (:data:`SAME`): Identity, Dropout, Reshape, Flatten,
  Squeeze, Unsqueeze, Transpose, DepthToSpace, SpaceToDepth and activation Q/DQ (the standard
  and ``com.microsoft`` forms, ``DynamicQuantizeLinear``'s data output); a BatchNormalization
  folded into its conv/GEMM (the importer's ``made`` names the conv for its output);
* Expand, Tile and Pad (:data:`GROWN`): the producer is named; the elements they add are more
  than it gives, so the memory plan reads that excess from DRAM (conservative: broadcast
  copies and padding are made on chip in practice);
* a part of one tensor (:data:`PARTS`): Split, Slice, and Gather with constant distinct indices
  read ``out/in`` of their input's elements, written ``name[a/b]`` (the fraction of the
  producer's output, not an offset: Q, K and V of a fused projection are each ``[1/3]``);
* Concat (and ``QLinearConcat``) of one layer's output with constants or graph inputs (a class
  token, a KV cache): that layer, the rest read from DRAM by the plan's size rule.

Everything else is ``dram``: graph inputs and constants, and, where the source cannot be told
honestly, Concat of several layers' outputs, Gather with computed indices, Scatter, the outputs
of nodes left out (``allow_partial``) or absorbed inside a fused op, and index arithmetic. DRAM
is the conservative side: the plan then counts the operand's bytes as DRAM reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from fractions import Fraction
from typing import Any

import numpy as np

from accelsim.frontend.onnx.graph import MS, Graph, UnknownShape, op_key, prod
from accelsim.frontend.onnx.quant import QDQ, constant
from accelsim.spec.workload import DRAM_INPUT, Layer

SAME = frozenset({"Identity", "Dropout", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "DepthToSpace",
                  "SpaceToDepth", "DynamicQuantizeLinear", *QDQ})
"""Ops whose first output holds the values of their first input, rearranged or (de)quantized."""
GROWN = frozenset({"Expand", "Tile", "Pad"})
"""Ops whose first output holds every value of their first input and more (copies, padding)."""
PARTS = frozenset({"Split", "Slice", "Gather"})
"""Ops whose outputs each hold a part of their first input's values (Gather: when the indices allow)."""
CONCATS = {"Concat": 0, f"{MS}.QLinearConcat": 2}
"""Concatenations and the position of their first data input (QLinearConcat's scale and zero point come first)."""

Source = tuple[str, Fraction] | None
"""The layer whose output a tensor holds and the part of that output it is, or None (DRAM)."""


def with_producers(graph: Graph, layers: list[Layer], made: Mapping[str, str],
                   reads: Mapping[str, tuple[str, ...]]) -> list[Layer]:
    """``layers`` with their ``producers`` filled.

    ``made``: tensor -> the name of the layer whose output it is; ``reads``: layer name -> the
    tensors of its activation operands, in operand order (``Layer.operand_elements``).
    """
    sources: dict[str, Source] = {}

    def source(tensor: str) -> Source:
        if tensor not in sources:
            sources[tensor] = _traced(graph, tensor, made, source)
        return sources[tensor]

    for node in graph.nodes:  # topological order: every trace finds its inputs' sources memoized
        for tensor in node.output:  # (no recursion deeper than one node, however long a chain)
            if tensor:
                source(tensor)
    return [replace(layer, producers=tuple(_entry(source(tensor)) for tensor in reads[layer.name]))
            for layer in layers]


def _entry(found: Source) -> str:
    """A ``producers`` entry: ``dram``, ``name`` or ``name[a/b]``."""
    if found is None:
        return DRAM_INPUT
    name, part = found
    return name if part == 1 else f"{name}[{part.numerator}/{part.denominator}]"


def _traced(graph: Graph, tensor: str, made: Mapping[str, str], source: Callable[[str], Source]) -> Source:
    """The :data:`Source` of ``tensor`` by the rules of the module docstring; ``source`` traces its inputs."""
    if tensor in made:
        return made[tensor], Fraction(1)
    node = graph.producer.get(tensor)
    if node is None or tensor in graph.static:
        return None
    key = op_key(node)
    if key in SAME or key in GROWN:
        return source(node.input[0]) if tensor == node.output[0] else None
    if key in PARTS:
        whole = source(node.input[0])
        part = _part(graph, node, tensor)
        return None if whole is None or part is None else (whole[0], whole[1] * part)
    if key in CONCATS:
        found = [source(name) for name in node.input[CONCATS[key]:] if name and name not in graph.static]
        from_layers = [s for s in found if s is not None]
        return from_layers[0] if len(from_layers) == 1 else None
    return None


def _part(graph: Graph, node: Any, tensor: str) -> Fraction | None:
    """The fraction of ``node``'s first input that its output ``tensor`` holds, or None when unknown
    (an unknown shape, or a Gather whose indices are computed or repeat)."""
    if node.op_type == "Gather" and not _distinct_indices(graph, node):
        return None
    try:
        whole, part = prod(graph.shape(node.input[0])), prod(graph.shape(tensor))
    except UnknownShape:
        return None
    return Fraction(part, whole) if 0 < part <= whole else None


def _distinct_indices(graph: Graph, node: Any) -> bool:
    """Whether a Gather's indices are constants that pick each position along its axis at most once."""
    indices = constant(graph, node.input[1])
    dims = graph.infos.get(node.input[0], (0, None))[1]
    if indices is None or dims is None:
        return False
    size = dims[graph.attrs(node).get("axis", 0) % len(dims)]
    if not isinstance(size, int) or size < 1:
        return False
    picked = np.asarray(indices.values, dtype=np.int64).ravel() % size
    return np.unique(picked).size == picked.size
