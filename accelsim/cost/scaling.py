"""Technology scaling of energy and area between CMOS nodes.

Logic energy and area follow Stillmaker and Baas (2017); SRAM macros have their own area
factor (CACTI 7 at each node it models, published bit cells below; ``sram_area`` in
``tables/technology_scaling.yaml``), since SRAM cells shrink less than logic below 45 nm.
Between tabulated nodes accelsim interpolates ``log(factor)`` linearly in ``log(node)``. DRAM
energy is off chip and is not scaled.
"""

from __future__ import annotations

import math

import pandas as pd

from accelsim.cost.tables import load_table
from accelsim.errors import UnsupportedError


def _nodes() -> list[tuple[float, float, float]]:
    """(node_nm, energy vs 45 nm, area vs 45 nm) from the largest node to the smallest."""
    rows = []
    for node in load_table("technology_scaling")["nodes"]:
        a, b, c = node["energy_poly"]
        vdd = node["vdd_nominal_v"]
        rows.append((float(node["node_nm"]), a * vdd * vdd + b * vdd + c, float(node["area_vs_45nm"])))
    ref = next(energy for nm, energy, _ in rows if nm == 45.0)
    return sorted(((nm, energy / ref, area) for nm, energy, area in rows), reverse=True)


def _sram_nodes() -> list[tuple[float, float]]:
    """(node_nm, SRAM area vs 45 nm) from the largest node to the smallest."""
    rows = load_table("technology_scaling")["sram_area"]
    return sorted(((float(r["node_nm"]), float(r["sram_area_vs_45nm"])) for r in rows), reverse=True)


def sram_size_sources() -> dict[float, float]:
    """node_nm -> the node whose CACTI runs give an SRAM macro's size dependence there (itself
    for the nodes CACTI 7 models; ``size_from_nm`` in ``tables/technology_scaling.yaml`` otherwise)."""
    rows = load_table("technology_scaling")["sram_area"]
    return {float(r["node_nm"]): float(r.get("size_from_nm", r["node_nm"])) for r in rows}


def at_node(node_nm: float, points: list[tuple[float, float]]) -> float:
    """The value at ``node_nm`` of (node_nm, value) points given largest node first, ``log(value)``
    interpolated linearly in ``log(node)`` like every factor here (UnsupportedError outside them)."""
    return _at(node_nm, 1, points)


def _at(node_nm: float, column: int, nodes: list[tuple] | None = None) -> float:
    nodes = nodes or _nodes()
    largest, smallest = nodes[0][0], nodes[-1][0]
    if not smallest <= node_nm <= largest:
        raise UnsupportedError(
            f"technology {node_nm:g} nm is outside the scaling table ({smallest:g} to {largest:g} nm, "
            "accelsim/cost/tables/technology_scaling.yaml)"
        )
    for upper, lower in zip(nodes, nodes[1:]):
        if lower[0] <= node_nm <= upper[0]:
            t = math.log(node_nm / upper[0]) / math.log(lower[0] / upper[0])
            return math.exp((1 - t) * math.log(upper[column]) + t * math.log(lower[column]))
    return nodes[0][column]


def energy_factor(from_nm: float, to_nm: float) -> float:
    """Energy of a circuit at ``to_nm`` divided by its energy at ``from_nm`` (nominal supplies)."""
    return _at(to_nm, 1) / _at(from_nm, 1)


def area_factor(from_nm: float, to_nm: float) -> float:
    """Area of a circuit at ``to_nm`` divided by its area at ``from_nm``."""
    return _at(to_nm, 2) / _at(from_nm, 2)


def sram_area_factor(from_nm: float, to_nm: float) -> float:
    """Area of an SRAM macro at ``to_nm`` divided by its area at ``from_nm``."""
    nodes = _sram_nodes()
    return _at(to_nm, 1, nodes) / _at(from_nm, 1, nodes)


def scaling_table() -> pd.DataFrame:
    """The tabulated nodes with their energy and area relative to 45 nm."""
    return pd.DataFrame(_nodes(), columns=["node_nm", "energy_vs_45nm", "area_vs_45nm"])
