"""What a vector unit executes for one layer: passes over rows, each a mix of primitive ops.

A layer's tensor is a set of ``rows`` of ``row_len`` elements (the last axis, along which
reductions run). A :class:`Program` is the sequence of :class:`Pass`\\ es the unit makes over
every row: each pass applies ``per_element`` ops to every element (a reduction's in-lane
accumulation among them), optionally folds the partials of the lanes holding the row with a tree
of ``reduce`` ops (none when a lane holds the whole row, :class:`RowMapping`), then runs
``per_row`` scalar ops (a reciprocal, a square root). The counts are independent of the data,
so costing a program needs no values.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from accelsim.spec.arch import ArchSpec


class VectorOp(enum.Enum):
    """Primitive operations of a vector lane (``F``: floating point, ``I``: integer)."""

    FADD = "fadd"
    FMUL = "fmul"
    FCMP = "fcmp"
    FDIV = "fdiv"
    FEXP = "fexp"
    FSQRT = "fsqrt"
    IADD = "iadd"
    IMUL = "imul"
    ICMP = "icmp"
    IDIV = "idiv"
    SHIFT = "shift"
    CVT = "cvt"
    TABLE = "table"


class RowMapping(enum.Enum):
    """Where a row's elements go on the unit (``accelsim/kernels/vector.py``): side by side over the
    lanes, rows packed while they fit, a reduction ending in a tree; or one row per lane, its
    elements in time, the lane's accumulator holding the reduction."""

    ACROSS_LANES = "lanes"
    IN_TIME = "time"

    def lanes_per_row(self, row_len: int, lanes: int) -> int:
        """Lanes one row of ``row_len`` elements occupies on a unit of ``lanes`` lanes."""
        return min(row_len, lanes) if self is RowMapping.ACROSS_LANES else 1


VECTOR_OPS = tuple(VectorOp)
"""Column order of op-count arrays handed to the kernel."""


def op_slots(arch: ArchSpec) -> dict[VectorOp, int]:
    """Issue slots one op of each kind takes in a lane of ``arch``'s vector unit."""
    unit = arch.vector_unit
    slow = {VectorOp.FEXP: unit.exp_cycles, VectorOp.FDIV: unit.div_cycles, VectorOp.IDIV: unit.div_cycles,
            VectorOp.FSQRT: unit.sqrt_cycles}
    return {op: slow.get(op, 1) for op in VECTOR_OPS}


def ops(**counts: int) -> Mapping[VectorOp, int]:
    """``ops(FADD=2, FMUL=1)`` -> {VectorOp.FADD: 2, VectorOp.FMUL: 1}."""
    return {VectorOp[name]: count for name, count in counts.items() if count}


def merge(*parts: Mapping[VectorOp, int]) -> Mapping[VectorOp, int]:
    """Sum of op counts."""
    total: dict[VectorOp, int] = {}
    for part in parts:
        for op, count in part.items():
            total[op] = total.get(op, 0) + count
    return total


def scaled(part: Mapping[VectorOp, int], factor: int) -> Mapping[VectorOp, int]:
    return {op: count * factor for op, count in part.items()}


@dataclass(frozen=True)
class Pass:
    """One sweep over every row.

    ``per_element``: ops applied to each element, including the accumulation of the element into
    its lane's partial when the pass reduces; ``reduce``: the op of a cross-lane tree that folds
    the lanes' partial results into one value per row (None: no reduction);
    ``per_row``: scalar ops on that value; ``writes_row``: the pass produces a row-sized
    result (an intermediate, or the output if it is the last pass).
    """

    per_element: Mapping[VectorOp, int]
    reduce: VectorOp | None = None
    per_row: Mapping[VectorOp, int] = field(default_factory=dict)
    writes_row: bool = False


@dataclass(frozen=True)
class Program:
    """The passes of one layer; ``inputs`` tensors are read by the first pass (2 for a residual add).

    A last pass that does not write a row writes one value per row (pooling).
    """

    passes: tuple[Pass, ...]
    inputs: int = 1

    @property
    def reduces(self) -> bool:
        return any(p.reduce is not None for p in self.passes)
