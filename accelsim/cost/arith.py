"""Arithmetic units, registers and wires at 45 nm, from Horowitz (ISSCC 2014) and friends.

Each model is a power law fitted through the published points of ``tables/arithmetic_45nm.yaml``
(see :mod:`accelsim.cost.tables`): adders in their width, integer multipliers in the product of
their operand widths, floating-point adders in their total width; floating-point multipliers
follow a two-term model in significand and total width (:func:`fp_multiplier`). Results are at 45 nm; scale
them with :mod:`accelsim.cost.scaling`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from accelsim.cost import scaling
from accelsim.cost.tables import PowerLaw, fit_power_law, load_table
from accelsim.spec.number_format import NumberFormat, number_format


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


def fp_multiplier(fmt: NumberFormat | str) -> Unit:
    """A floating-point multiplier of format ``fmt`` (a :class:`NumberFormat` or its name).

    An approximation: ``y = a (m + 1)^2 + b w`` for significand ``m + 1`` and total width ``w``
    bits, with ``a`` and ``b`` solved through Horowitz's fp16 and fp32 multipliers (energy and
    area separately; ``tables/arithmetic_45nm.yaml`` states the reasoning). fp16 and fp32 are
    the published figures themselves; bf16 (m = 7) and fp8 (m = 3 or 2) follow from the model.
    """
    fmt = number_format(fmt)
    if not fmt.is_float:
        raise ValueError(f"fp_multiplier needs a float format, got {fmt.name}")
    for point in load_table("arithmetic_45nm")["fp_mult"]["points"]:  # published: used as they are
        if (point["mantissa_bits"], point["x"]) == (fmt.mantissa_bits, fmt.bits):
            return Unit(point["energy_pj"], point["area_um2"])
    terms = ((fmt.mantissa_bits + 1) ** 2, fmt.bits)
    energy, area = _significand_fit()
    return Unit(sum(c * t for c, t in zip(energy, terms)), sum(c * t for c, t in zip(area, terms)))


@functools.cache
def _significand_fit() -> tuple[tuple[float, float], tuple[float, float]]:
    """``(a, b)`` of the fp multiplier model for energy and for area (Cramer's rule on two points)."""
    points = load_table("arithmetic_45nm")["fp_mult"]["points"]
    (s1, w1), (s2, w2) = (((p["mantissa_bits"] + 1) ** 2, p["x"]) for p in points)
    det = s1 * w2 - s2 * w1

    def solve(key: str) -> tuple[float, float]:
        y1, y2 = (p[key] for p in points)
        return (y1 * w2 - y2 * w1) / det, (s1 * y2 - s2 * y1) / det

    return solve("energy_pj"), solve("area_um2")


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
