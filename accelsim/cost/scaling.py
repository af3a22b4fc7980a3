"""Technology scaling of energy and area between CMOS nodes (Stillmaker and Baas, 2017).

Factors come from ``tables/technology_scaling.yaml``; between tabulated nodes accelsim
interpolates ``log(factor)`` linearly in ``log(node)``. DRAM energy is off chip and is not
scaled.
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


def _at(node_nm: float, column: int) -> float:
    nodes = _nodes()
    largest, smallest = nodes[0][0], nodes[-1][0]
    if not smallest <= node_nm <= largest:
        raise UnsupportedError(
            f"technology {node_nm:g} nm is outside the scaling table ({smallest:g} to {largest:g} nm, "
            "Stillmaker and Baas 2017)"
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


def scaling_table() -> pd.DataFrame:
    """The tabulated nodes with their energy and area relative to 45 nm."""
    return pd.DataFrame(_nodes(), columns=["node_nm", "energy_vs_45nm", "area_vs_45nm"])
