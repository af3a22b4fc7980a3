"""Arithmetic units, registers and wires at 45 nm, from Horowitz (ISSCC 2014) and friends.

Each model is a power law fitted through the published points of ``tables/arithmetic_45nm.yaml``
(see :mod:`accelsim.cost.tables`): adders in their width, integer multipliers in the product of
their operand widths, floating-point units in their total width. Results are at 45 nm; scale
them with :mod:`accelsim.cost.scaling`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from accelsim.cost import scaling
from accelsim.cost.tables import PowerLaw, fit_power_law, load_table


@dataclass(frozen=True)
class Unit:
    """Energy per operation (pJ) and area (um^2) of one arithmetic unit at 45 nm."""

    energy_pj: float
    area_um2: float


@functools.cache
def _fits(name: str) -> tuple[PowerLaw, PowerLaw]:
    points = load_table("arithmetic_45nm")[name]["points"]
    xs = [p["x"] for p in points]
    return (fit_power_law(xs, [p["energy_pj"] for p in points]),
            fit_power_law(xs, [p["area_um2"] for p in points]))


def _unit(name: str, x: float) -> Unit:
    energy, area = _fits(name)
    return Unit(energy(x), area(x))


def int_adder(bits: int) -> Unit:
    """A ``bits``-wide integer adder."""
    return _unit("int_add", bits)


def int_multiplier(product_bits: int) -> Unit:
    """An integer multiplier whose operand widths multiply to ``product_bits`` (8x8: 64)."""
    return _unit("int_mult", product_bits)


def fp_adder(bits: int) -> Unit:
    """A ``bits``-wide floating-point adder."""
    return _unit("fp_add", bits)


def fp_multiplier(bits: int) -> Unit:
    """A ``bits``-wide floating-point multiplier."""
    return _unit("fp_mult", bits)


def register_energy_pj_per_bit(node_nm: float) -> float:
    """Energy of reading or writing one bit of a PE pipeline register at ``node_nm``."""
    entry = load_table("arithmetic_45nm")["register"]
    return entry["energy_pj_per_bit"] * scaling.energy_factor(entry["node_nm"], node_nm)


def flip_flop_area_um2_per_bit() -> float:
    """Area of one flip-flop bit at 45 nm."""
    return float(load_table("arithmetic_45nm")["flip_flop"]["area_um2_per_bit"])


def wire_energy_pj_per_bit_mm(node_nm: float) -> float:
    """Energy of moving one bit one millimetre on chip at ``node_nm``."""
    entry = load_table("arithmetic_45nm")["wire"]
    return entry["energy_pj_per_bit_mm"] * scaling.energy_factor(entry["node_nm"], node_nm)
