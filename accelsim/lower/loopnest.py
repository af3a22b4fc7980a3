"""A convolution as a loop nest over a memory hierarchy, and its access counts in closed form.

Dimensions follow Timeloop's convolution alphabet: ``G`` groups, ``N`` batch (GEMM rows), ``K``
output channels (of a group), ``C`` input channels (of a group), ``P``/``Q`` output rows and
columns, ``R``/``S`` filter rows and columns. Input row ``h = p * stride_h + r`` (dilation 1);
the input is taken padded, so pad elements count as data (an approximation: a chip may skip them).

A :class:`LoopNest` places loops at storage levels, outermost first (level 0 is DRAM): each
level's temporal loops (in order, outer to inner), then its spatial loops (parallel instances
of every level below). Bounds must divide their dimensions exactly (perfect factorization).

Residency (what the counts mean; ``tests/reference/loopnest_ref.py`` walks every iteration
with explicit buffers under the same rules): the tile a level holds is the data its own and
all inner loops touch. It changes when a loop of a level above advances on a dimension the
tensor depends on. A change where only the innermost such loop advanced by one step is a
*slide*: the level keeps the overlap (an input window) and fetches the rest; any other change
refetches the whole tile. Each fill is delivered to every instance that needs it; one read of
the parent serves all instances that take the same word at that change (a multicast).
Output tiles write back on every change, and read back their partial sums from the parent
when the tile was written there before. The MAC is the innermost "level": a tile of one
element per operand.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

from accelsim.errors import UnsupportedError
from accelsim.spec.workload import Conv2d, Gemm, Layer

DIMS = ("G", "N", "K", "C", "P", "Q", "R", "S")
TENSORS = ("filter", "ifmap", "ofmap")
# The axes of each tensor: a dimension, or an input row/column made of (output dim, filter dim).
AXES: dict[str, tuple[tuple[str, ...], ...]] = {
    "filter": (("G",), ("K",), ("C",), ("R",), ("S",)),
    "ifmap": (("G",), ("N",), ("C",), ("P", "R"), ("Q", "S")),
    "ofmap": (("G",), ("N",), ("K",), ("P",), ("Q",)),
}
RELEVANT = {tensor: frozenset(d for axis in axes for d in axis) for tensor, axes in AXES.items()}


@dataclass(frozen=True)
class ConvProblem:
    """Loop bounds of one layer (``bounds[d]`` for ``d`` in :data:`DIMS`) and its strides."""

    bounds: tuple[int, ...]
    stride_h: int = 1
    stride_w: int = 1

    def bound(self, dim: str) -> int:
        return self.bounds[DIMS.index(dim)]

    @property
    def macs(self) -> int:
        return math.prod(self.bounds)

    def stride(self, axis: tuple[str, ...]) -> int:
        """Input stride of a two-dimension axis (``("P", "R")``: ``stride_h``)."""
        return self.stride_h if axis[0] == "P" else self.stride_w

    @classmethod
    def of(cls, **bounds: int) -> ConvProblem:
        """``ConvProblem.of(K=4, C=2, P=3, R=3, stride_h=2)``: unnamed dimensions are 1."""
        strides = (bounds.pop("stride_h", 1), bounds.pop("stride_w", 1))
        unknown = set(bounds) - set(DIMS)
        if unknown:
            raise ValueError(f"unknown dimensions {sorted(unknown)}; valid: {', '.join(DIMS)}")
        return cls(tuple(bounds.get(d, 1) for d in DIMS), *strides)


def conv_problem(layer: Layer) -> ConvProblem | None:
    """The loop bounds of a Conv2d or Gemm layer (a GEMM is a 1x1 convolution with ``N = batch x m``);
    None for layers that are not array work.

    Raises UnsupportedError for a dilated convolution.
    """
    if isinstance(layer, Gemm):
        return ConvProblem.of(N=layer.batch * layer.m, K=layer.n, C=layer.k)
    if not isinstance(layer, Conv2d):
        return None
    if layer.dilation != (1, 1):
        raise UnsupportedError(f"layer {layer.name}: the hierarchy model maps dilation 1 only "
                               f"(got {layer.dilation}); docs/hierarchy.md")
    g = layer.groups
    return ConvProblem.of(G=g, N=layer.batch, K=layer.out_channels // g, C=layer.in_channels // g,
                          P=layer.out_h, Q=layer.out_w, R=layer.kernel[0], S=layer.kernel[1],
                          stride_h=layer.stride[0], stride_w=layer.stride[1])


@dataclass(frozen=True)
class Loop:
    dim: str
    bound: int
    spatial: bool = False


@dataclass(frozen=True)
class LoopNest:
    """Loops per storage level, outermost level first (level 0: DRAM); ``keeps[i]``: the tensors
    level ``i`` stores (the others bypass it). Within a level, temporal loops come first."""

    levels: tuple[tuple[Loop, ...], ...]
    keeps: tuple[frozenset[str], ...]

    def check(self, problem: ConvProblem) -> None:
        """Raise ValueError unless the bounds of every dimension multiply to the problem's."""
        for dim in DIMS:
            got = math.prod(loop.bound for level in self.levels for loop in level if loop.dim == dim)
            if got != problem.bound(dim):
                raise ValueError(f"loops over {dim} multiply to {got}, not {problem.bound(dim)}")
        for level in self.levels:
            kinds = [loop.spatial for loop in level]
            if kinds != sorted(kinds):
                raise ValueError("a level lists its temporal loops before its spatial ones")
        if "filter" not in self.keeps[0] or self.keeps[0] != frozenset(TENSORS):
            raise ValueError("level 0 (DRAM) keeps every tensor")

    def describe(self) -> str:
        """``L0[K2 C3] L1[Q5 | R3 P5] L2[C2 S3]`` (spatial loops after the bar)."""
        parts = []
        for i, level in enumerate(self.levels):
            temporal = " ".join(f"{loop.dim}{loop.bound}" for loop in level if not loop.spatial and loop.bound > 1)
            spatial = " ".join(f"{loop.dim}{loop.bound}" for loop in level if loop.spatial and loop.bound > 1)
            parts.append(f"L{i}[{temporal}{' | ' + spatial if spatial else ''}]")
        return " ".join(parts)


@dataclass(frozen=True)
class BoundaryCounts:
    """Traffic of one tensor between a parent level and its child level (or the MACs), summed over
    all instances, in words.

    ``parent_reads``: words read from the parent (one read may reach several children);
    ``child_fills``: words written into children (every delivery); ``parent_writes`` and
    ``child_drains``: partial sums written back up (ofmap only); ``reduction_hops``: partial
    sums passed PE to PE to be added on the way up (ofmap, spatial reduction).
    """

    tensor: str
    parent: int
    child: int
    parent_reads: int
    child_fills: int
    parent_writes: int = 0
    child_drains: int = 0
    reduction_hops: int = 0


def _flat(nest: LoopNest) -> list[tuple[int, Loop]]:
    """Every loop with its level, in nest order (outermost first)."""
    return [(i, loop) for i, level in enumerate(nest.levels) for loop in level]


def _strides(flat: list[tuple[int, Loop]]) -> list[int]:
    """Index stride of each loop on its dimension: the product of the bounds inner to it."""
    out, inner = [0] * len(flat), dict.fromkeys(DIMS, 1)
    for position in range(len(flat) - 1, -1, -1):
        loop = flat[position][1]
        out[position] = inner[loop.dim]
        inner[loop.dim] *= loop.bound
    return out


def _offsets(loops: Iterable[tuple[int, int]]) -> set[int]:
    """Every index ``sum(i * stride)`` the (bound, stride) loops reach."""
    values = {0}
    for bound, stride in loops:
        values = {v + i * stride for v in values for i in range(bound)}
    return values


class _Axis:
    """The index set of one tensor axis: tile values per instance, grouped by spatial index."""

    def __init__(self, axis: tuple[str, ...], problem: ConvProblem, tile, spatial):
        self.axis = axis
        self.stride = problem.stride(axis) if len(axis) == 2 else 1
        self._tile = {d: [(b, s) for dim, b, s in tile if dim == d] for d in axis}
        self._spatial = [(dim, b, s) for dim, b, s in spatial if dim in axis]

    def _values(self, extra: dict[str, int]) -> frozenset[int]:
        per_dim = [{v + extra.get(d, 0) for v in _offsets(self._tile[d])} for d in self.axis]
        if len(per_dim) == 1:
            return frozenset(per_dim[0])
        return frozenset(p * self.stride + r for p in per_dim[0] for r in per_dim[1])

    def instances(self) -> list[dict[str, int]]:
        """The offset each spatial instance adds per dimension of this axis."""
        combos = itertools.product(*(range(b) for _, b, _ in self._spatial))
        out = []
        for combo in combos:
            shift: dict[str, int] = {}
            for (dim, _, stride), i in zip(self._spatial, combo):
                shift[dim] = shift.get(dim, 0) + i * stride
            out.append(shift)
        return out

    def sizes(self, slide: tuple[str, int] | None) -> tuple[int, int, int, int]:
        """(tile per instance, union over instances, slide delta per instance, union of slide deltas).

        A one-dimension axis in closed form: every loop outside the tile's (a spatial loop, the
        sliding loop) strides by at least the tile's extent, so instances and slides never overlap.
        """
        if len(self.axis) == 1:
            tile = math.prod(b for b, _ in self._tile[self.axis[0]])
            union = tile * math.prod(b for _, b, _ in self._spatial)
            return tile, union, tile, union
        base = self._values({})
        union: set[int] = set()
        delta_union: set[int] = set()
        for shift in self.instances():
            values = self._values(shift)
            union |= values
            if slide is not None:
                moved = self._values({**shift, slide[0]: shift.get(slide[0], 0) + slide[1]})
                delta_union |= moved - values
        if slide is None:
            return len(base), len(union), len(base), len(union)
        moved = self._values({slide[0]: slide[1]})
        return len(base), len(union), len(moved - base), len(delta_union)


def boundary_counts(problem: ConvProblem, nest: LoopNest, tensor: str, parent: int, child: int) -> BoundaryCounts:
    """Closed-form traffic of ``tensor`` between level ``parent`` and level ``child``
    (``child == len(nest.levels)``: the MACs), summed over every instance.

    Changes of the child's tile: ``prod(b_i, i <= j)`` for the innermost relevant temporal loop
    ``j`` above the child; ``prod(b_i, i < j) * (b_j - 1)`` of them are slides. Tile sizes are
    products over the tensor's axes of index sets counted exactly per axis (an input row
    ``p * stride + r`` by its distinct values).
    """
    flat = _flat(nest)
    strides = _strides(flat)
    above = [(loop, s) for (lvl, loop), s in zip(flat, strides) if lvl < child and not loop.spatial and loop.bound > 1]
    relevant = [k for k, (loop, _) in enumerate(above) if loop.dim in RELEVANT[tensor]]
    parent_instances = math.prod(loop.bound for lvl, loop in flat if lvl < parent and loop.spatial)
    child_instances = math.prod(loop.bound for lvl, loop in flat if lvl < child and loop.spatial)
    tile = [(loop.dim, loop.bound, s) for (lvl, loop), s in zip(flat, strides) if lvl >= child]
    fanout = [(loop.dim, loop.bound, s) for (lvl, loop), s in zip(flat, strides)
              if parent <= lvl < child and loop.spatial]
    if relevant:
        j = relevant[-1]
        outer = math.prod(loop.bound for loop, _ in above[:j])
        fulls, slides = outer, outer * (above[j][0].bound - 1)
        slide = (above[j][0].dim, above[j][1])
        distinct = math.prod(above[k][0].bound for k in relevant)
    else:
        fulls, slides, slide, distinct = 1, 0, None, 1
    changes = fulls + slides
    tile_size = union_size = delta_size = delta_union = 1
    for axis in AXES[tensor]:
        sliding = slide if slide is not None and slide[0] in axis else None
        t, u, d, du = _Axis(axis, problem, tile, fanout).sizes(sliding)
        if slide is not None and sliding is None:
            d, du = t, u
        tile_size, union_size = tile_size * t, union_size * u
        delta_size, delta_union = delta_size * d, delta_union * du
    if slide is None:
        delta_size, delta_union = tile_size, union_size
    if tensor == "ofmap":
        refills = (changes - distinct) * union_size * parent_instances
        drains = changes * tile_size * child_instances
        writes = changes * union_size * parent_instances
        return BoundaryCounts(tensor, parent, child, parent_reads=refills, child_fills=refills,
                              parent_writes=writes, child_drains=drains, reduction_hops=drains - writes)
    reads = (fulls * union_size + slides * delta_union) * parent_instances
    fills = (fulls * tile_size + slides * delta_size) * child_instances
    return BoundaryCounts(tensor, parent, child, parent_reads=reads, child_fills=fills)


def tile_words(problem: ConvProblem, nest: LoopNest, tensor: str, level: int) -> int:
    """Words of ``tensor`` one instance of ``level`` holds (its full tile)."""
    flat = _flat(nest)
    tile = [(loop.dim, loop.bound, s) for (lvl, loop), s in zip(flat, _strides(flat)) if lvl >= level]
    return math.prod(_Axis(axis, problem, tile, []).sizes(None)[0] for axis in AXES[tensor])


def chain(nest: LoopNest, tensor: str) -> list[int]:
    """Levels that keep ``tensor``, outermost first, then the MACs (``len(nest.levels)``)."""
    return [i for i, keeps in enumerate(nest.keeps) if tensor in keeps] + [len(nest.levels)]


def all_boundaries(problem: ConvProblem, nest: LoopNest) -> list[BoundaryCounts]:
    """:func:`boundary_counts` for every tensor between each pair of consecutive levels keeping it."""
    nest.check(problem)
    return [boundary_counts(problem, nest, tensor, parent, child)
            for tensor in TENSORS for parent, child in itertools.pairwise(chain(nest, tensor))]


def compute_cycles(nest: LoopNest) -> int:
    """Cycles of the MACs: the product of every temporal bound (one MAC per instance per cycle)."""
    return math.prod(loop.bound for level in nest.levels for loop in level if not loop.spatial)
