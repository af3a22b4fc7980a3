"""A memory hierarchy with storage inside the PEs (the arch's optional ``hierarchy:`` section).

The levels of a hierarchy, outermost first: DRAM (``dram:``), the arch's ``buffers:`` (the
global buffer, unified or per operand), then ``hierarchy.levels``: further on-chip levels,
the last of which may be ``per_pe`` (a register file or scratchpad per operand inside every
PE). An operand a level does not list bypasses it. ``noc`` says how the PE array's fabric
delivers each input operand (one multicast send reaching every PE that needs the word, or
one unicast send per PE); partial sums are reduced through PE-to-PE hops. Absent, the arch is
one of today's designs (one buffer level, no PE storage) and runs the native models.

Operand names are the arch's (``ifmap``, ``filter``, ``ofmap``; ``ofmap`` holds partial sums
until they are final). docs/hierarchy.md describes the model.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from accelsim import units
from accelsim.errors import Problem, did_you_mean
from accelsim.spec.fields import FrozenMap, spec_field

OPERANDS = ("ifmap", "filter", "ofmap")


class Delivery(enum.Enum):
    """How the array's fabric delivers one word to the PEs that need it."""

    MULTICAST = "multicast"
    UNICAST = "unicast"


class HierarchyDataflow(enum.Enum):
    """The mapping template the mapper searches (docs/hierarchy.md)."""

    ROW_STATIONARY = "row_stationary"
    OUTPUT_STATIONARY = "output_stationary"


def _operand_sizes(value) -> Mapping[str, int]:
    if not isinstance(value, Mapping) or not value:
        raise ValueError(f"expected a mapping of operands ({', '.join(OPERANDS)}) to sizes, e.g. "
                         f"{{filter: 448B, ifmap: 24B, ofmap: 48B}}, got {value!r}")
    unknown = [k for k in value if k not in OPERANDS]
    if unknown:
        raise ValueError(f"unknown operand {unknown[0]!r}; valid operands: {', '.join(OPERANDS)}"
                         f"{did_you_mean(str(unknown[0]), OPERANDS)}")
    sizes = {str(k): units.parse_bytes(v) for k, v in value.items()}
    if any(size <= 0 for size in sizes.values()):
        raise ValueError(f"expected sizes > 0 bytes (leave an operand out to bypass the level), got {value!r}")
    return FrozenMap(sizes)


def _operands(value) -> tuple[str, ...]:
    values = value if isinstance(value, (list, tuple)) else [value]
    unknown = [v for v in values if v not in OPERANDS]
    if unknown:
        raise ValueError(f"unknown operand {unknown[0]!r}; valid operands: {', '.join(OPERANDS)}"
                         f"{did_you_mean(str(unknown[0]), OPERANDS)}")
    return tuple(values)


@dataclass(frozen=True, kw_only=True)
class LevelSpec:
    """One on-chip storage level below the global buffer.

    ``sizes``: bytes per operand it holds (each operand its own partition); operands left out
    bypass it. ``per_pe``: one copy in every PE (the sizes are per PE).
    """

    name: str = spec_field(doc="a name for reports, e.g. pe_spad")
    sizes: Mapping[str, int] = spec_field(parse=_operand_sizes, doc="bytes per operand, e.g. {filter: 448B}")
    per_pe: bool = spec_field(False, doc="one copy inside every PE")
    word_bits: int = spec_field(16, minimum=1, doc="bits of one stored word")
    bandwidth_words: int = spec_field(0, minimum=0, doc="words per cycle (per copy) it serves; 0: as many as asked")


@dataclass(frozen=True, kw_only=True)
class NocSpec:
    """How the PE array's fabric delivers input operands (partial sums move by PE-to-PE hops)."""

    ifmap: Delivery = spec_field(Delivery.MULTICAST)
    filter: Delivery = spec_field(Delivery.MULTICAST)


@dataclass(frozen=True, kw_only=True)
class HierarchySpec:
    """Levels below the global buffer, the array fabric, and the dataflow to map onto them."""

    levels: tuple[LevelSpec, ...] = spec_field(doc="on-chip levels below buffers:, outermost first")
    buffer_bypass: tuple[str, ...] = spec_field(
        (), parse=lambda v: _operands(v), doc="operands that skip the global buffer (DRAM to the next level)",
    )
    noc: NocSpec = spec_field(NocSpec())
    dataflow: HierarchyDataflow = spec_field(HierarchyDataflow.ROW_STATIONARY)

    @property
    def pe_level(self) -> LevelSpec | None:
        """The storage inside each PE, if any."""
        return self.levels[-1] if self.levels and self.levels[-1].per_pe else None

    def check(self) -> list[Problem]:
        problems = [Problem(f"levels[{i}].per_pe", "only the innermost level can sit inside the PEs")
                    for i, level in enumerate(self.levels[:-1]) if level.per_pe]
        names = [level.name for level in self.levels]
        problems += [Problem("levels", f"level name {name!r} is used twice") for name in set(names)
                     if names.count(name) > 1]
        if self.pe_level is None or len(self.levels) != 1:
            problems.append(Problem("levels", f"{self.dataflow.value} maps onto exactly one level below the "
                                    "global buffer, inside the PEs (per_pe: true)"))
        return problems
