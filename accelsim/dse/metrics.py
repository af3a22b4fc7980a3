"""Design metrics: numbers that describe a design (not a run), for constraints and tables.

The registry :data:`DESIGN_METRICS` (name -> how to compute it and how to parse a bound on it)
and :func:`parse_bound`, which sweep specs use to check their constraints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accelsim import units
from accelsim.cost.area import total_area_um2
from accelsim.spec.arch import ArchSpec


@dataclass(frozen=True)
class DesignMetric:
    """A number that describes a design (not a run), usable in constraints and tables."""

    of: Callable[[ArchSpec], float | None]
    parse: Callable[[Any], float]
    doc: str


def design_area_um2(arch: ArchSpec) -> float:
    """Total chip area (um^2) from :mod:`accelsim.cost` (the ``total`` row of ``area(arch)``, memoised per design)."""
    return total_area_um2(arch)


DESIGN_METRICS: dict[str, DesignMetric] = {
    "sram_bytes": DesignMetric(lambda a: a.buffers.total_bytes + a.array.accumulators_bytes, units.parse_bytes,
                               "on-chip SRAM: every buffer plus the accumulators"),
    "pes": DesignMetric(lambda a: a.pes, int, "processing elements (rows x cols x arrays)"),
    "clock_hz": DesignMetric(lambda a: a.clock_hz, units.parse_frequency, "clock frequency"),
    "area_um2": DesignMetric(design_area_um2, units.parse_area_um2, "chip area from accelsim.cost"),
}


def parse_bound(metric: str, raw: Any) -> float | None:
    """A constraint bound in the metric's base unit (``"1MiB"`` -> 1048576); None stays None."""
    return None if raw is None else float(DESIGN_METRICS[metric].parse(raw))


def design_metrics(arch: ArchSpec) -> dict[str, float]:
    """Every design metric that can be computed for ``arch`` (absent ones are left out)."""
    values = {name: metric.of(arch) for name, metric in DESIGN_METRICS.items()}
    return {name: value for name, value in values.items() if value is not None}
