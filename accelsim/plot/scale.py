"""Engineering units for people: one prefix per column or axis (mJ, us, mm2, KiB), from the column name.

Result columns carry their base unit in their name (``energy_pj``, ``latency_s``,
``area_um2``, ``dram_read_bytes``, ``cycles``). :func:`column_scale` picks the factor and unit
that put a column's largest value between 1 and 1000 (bytes: powers of 1024; area: always
mm2), so a table column or a plot axis reads "energy (mJ)" instead of "pJ" with a 1e9
offset. Imports no matplotlib: the command line uses it too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

_SI = ((1e-12, "p"), (1e-9, "n"), (1e-6, "u"), (1e-3, "m"), (1.0, ""), (1e3, "k"), (1e6, "M"), (1e9, "G"),
       (1e12, "T"))
_BINARY = ((1, "B"), (2**10, "KiB"), (2**20, "MiB"), (2**30, "GiB"), (2**40, "TiB"))
# name suffix -> (unit after the prefix, value of one stored unit in that unit, the stored unit)
_SUFFIXES = (("_pj_s", "J s", 1e-12, "pJ s"), ("_pj", "J", 1e-12, "pJ"), ("_s", "s", 1.0, "s"),
             ("_hz", "Hz", 1.0, "Hz"), ("_w", "W", 1.0, "W"))
_COUNTS = {"cycles": "cycles", "macs": "MACs", "mac_ops": "MAC ops"}


@dataclass(frozen=True)
class Scale:
    """Shown value = stored value x ``factor``, in ``unit`` (``"mJ"``, ``"KiB"``, ``"mm2"``; ``""``: none)."""

    factor: float
    unit: str

    def __call__(self, value: float) -> float:
        return value * self.factor


def _largest(values: Iterable[float]) -> float:
    finite = [abs(float(v)) for v in values if v is not None and math.isfinite(float(v))]
    return max(finite, default=0.0)


def si_prefix(value: float) -> tuple[float, str]:
    """``(factor, prefix)`` with ``value / factor`` in [1, 1000) (p .. T; 1 and no prefix for 0)."""
    if value == 0 or not math.isfinite(value):
        return 1.0, ""
    chosen = _SI[0]
    for factor, prefix in _SI:
        if abs(value) >= factor * (1 - 1e-9):
            chosen = (factor, prefix)
    return chosen


def binary_prefix(size: float) -> tuple[float, str]:
    """``(factor, unit)`` with ``size / factor`` in [1, 1024): B, KiB, MiB, GiB, TiB."""
    chosen = _BINARY[0]
    for factor, unit in _BINARY:
        if abs(size) >= factor:
            chosen = (factor, unit)
    return chosen


def base_unit(column: str) -> str | None:
    """The unit a column name carries (``"J"`` for ``*_pj``, ``"mm2"`` for ``*_um2``), or None."""
    if column.endswith(("_um2", "_mm2")):
        return "mm2"
    if column.endswith("_bytes") or column.endswith(".size"):
        return "B"
    for suffix, unit, _, _ in _SUFFIXES:
        if column.endswith(suffix):
            return unit
    name = column.rsplit(".", 1)[-1]
    if name in _COUNTS or name.endswith("_cycles"):
        return _COUNTS.get(name, "cycles")
    return None


def column_scale(column: str, values: Iterable[float] = ()) -> Scale:
    """The engineering unit for ``column`` that suits its largest value (without values: the stored
    unit; ``Scale(1, "")`` for a column without a unit)."""
    largest = _largest(values)
    if column.endswith("_um2"):
        return Scale(1e-6, "mm2")
    if column.endswith("_mm2"):
        return Scale(1.0, "mm2")
    if column.endswith("_bytes") or column.endswith(".size"):
        factor, unit = binary_prefix(largest)
        return Scale(1.0 / factor, unit)
    for suffix, unit, per, stored in _SUFFIXES:
        if column.endswith(suffix):
            if largest == 0:  # no values to suit: the stored unit
                return Scale(1.0, stored)
            factor, prefix = si_prefix(largest * per)
            return Scale(per / factor, prefix + unit)
    unit = base_unit(column)
    if unit is not None:  # counts: k, M, G
        factor, prefix = si_prefix(largest)
        return Scale(1.0 / factor, f"{prefix}{unit}" if prefix else unit)
    return Scale(1.0, "")


def quantity(value: float, column: str, digits: int = 3) -> str:
    """One value with its own engineering unit: ``quantity(3.0e10, "energy_pj") == "30 mJ"``."""
    if value is None or not math.isfinite(float(value)):
        return "-"
    scale = column_scale(column, [value])
    return f"{scale(float(value)):.{digits}g} {scale.unit}".rstrip()
