"""Energy actions and area of a PE's MAC unit by kind and operand widths (45 nm figures).

The throughput model :func:`accelsim.hw.mac.mac_rate` says which datapath a layer's operands
occupy; this module turns that into *actions per product* and the per-action energies:

* ``fixed``: ``mult_<fmt>`` for every listed format (a full-width multiply) and
  ``accumulate`` (an adder of ``accumulator_bits``; ``accumulate_fp`` for float formats).
  Narrower operands gate the unused multiplier bits, so one product is
  ``weight_bits * act_bits / (datapath bits product)`` multiplies of the listed format (energy
  grows with the product of widths, Horowitz); a decomposed product adds one accumulate per pass.
* ``bitfusion``: ``bitfusion_brick``, one BitBrick product with its share of the shift-add
  tree, taken as ``1/bricks`` of a multiplier of ``bricks * brick_bits^2`` bit products (the
  product a whole fusion unit computes in one cycle; an assumption, no published per-brick
  figure is at hand), plus ``accumulate``. A product uses ``(datapath bits product) /
  brick_bits^2`` bricks per pass.
* ``bit_serial``: ``bit_serial_step``, one cycle of one lane: a multiply of the parallel
  operand (widest listed width; ``serial_bits_per_cycle`` when both operands are serial) by
  ``serial_bits_per_cycle`` bits, plus an accumulate. A product takes ``cycles_per_product``
  steps.
"""

from __future__ import annotations

import functools

from accelsim.cost.arith import fp_adder, fp_multiplier, int_adder, int_multiplier
from accelsim.hw.mac import mac_rate, operand_format
from accelsim.spec.arch import MacKind, MacSpec, SerialOperands


def _formats(mac: MacSpec):
    """(integer widths, float formats) the unit lists, widest last."""
    fmts = [operand_format(p) for p in mac.precisions]
    ints = sorted({f.bits for f in fmts if not f.is_float})
    floats = sorted({f for f in fmts if f.is_float}, key=lambda f: (f.bits, f.mantissa_bits))
    return ints, floats


def _serial_product_bits(mac: MacSpec) -> int:
    ints, _ = _formats(mac)
    step = mac.serial_bits_per_cycle
    parallel = step if mac.serial_operands is SerialOperands.BOTH else ints[-1]
    return parallel * step


def mac_energy_entries(mac: MacSpec) -> dict[str, float]:
    """Per-action energies (pJ at 45 nm) of ``mac``, keyed by entry name."""
    ints, floats = _formats(mac)
    accumulate = int_adder(mac.accumulator_bits).energy_pj
    if mac.kind is MacKind.FIXED:
        entries = {f"mult_int{bits}": int_multiplier(bits * bits).energy_pj for bits in ints}
        entries |= {f"mult_{f.name}": fp_multiplier(f).energy_pj for f in floats}
        if ints:
            entries["accumulate"] = accumulate
        if floats:
            entries["accumulate_fp"] = fp_adder(mac.accumulator_bits).energy_pj
        return entries
    if mac.kind is MacKind.BITFUSION:
        fused = int_multiplier(mac.bricks * mac.brick_bits**2).energy_pj
        return {"bitfusion_brick": fused / mac.bricks, "accumulate": accumulate}
    return {"bit_serial_step": int_multiplier(_serial_product_bits(mac)).energy_pj + accumulate}


@functools.cache
def mac_actions(mac: MacSpec, weight: int | str, act: int | str) -> dict[str, float]:
    """Actions of each entry per product of ``weight`` x ``act`` operands (integer widths or
    format names, as :func:`accelsim.mac.mac_rate` takes them).

    Floats run in the listed float format that holds them (one ``mult_<fmt>`` and one
    ``accumulate_fp`` per product: a float multiplier is not gated by narrower operands).
    Raises UnsupportedError (from :func:`accelsim.hw.mac.mac_rate`) if the unit cannot run them.
    """
    rate = mac_rate(mac, weight, act)
    datapath = rate.weight_datapath_bits * rate.act_datapath_bits
    if operand_format(rate.unit_format).is_float:
        return {f"mult_{rate.unit_format}": 1.0, "accumulate_fp": 1.0}
    product = rate.weight_bits * rate.act_bits
    if mac.kind is MacKind.FIXED:
        return {f"mult_{rate.unit_format}": product / datapath, "accumulate": float(rate.passes)}
    if mac.kind is MacKind.BITFUSION:
        return {"bitfusion_brick": rate.passes * datapath / mac.brick_bits**2, "accumulate": float(rate.passes)}
    return {"bit_serial_step": float(rate.cycles_per_product)}


def mac_unit_area_um2(mac: MacSpec) -> float:
    """Area of one PE's MAC unit at 45 nm: ``lanes`` multipliers, each with an accumulator adder.

    A fixed unit listing several widths is one multiplier of the widest (narrower formats gate
    it); integer and float formats each get their own multiplier and adder.
    """
    ints, floats = _formats(mac)
    adder = int_adder(mac.accumulator_bits).area_um2
    if mac.kind is MacKind.FIXED:
        lane = 0.0
        if ints:
            lane += int_multiplier(ints[-1] ** 2).area_um2 + adder
        if floats:  # one multiplier serves every listed float format: the largest of them
            lane += max(fp_multiplier(f).area_um2 for f in floats) + fp_adder(mac.accumulator_bits).area_um2
    elif mac.kind is MacKind.BITFUSION:
        lane = int_multiplier(mac.bricks * mac.brick_bits**2).area_um2 + adder
    else:
        lane = int_multiplier(_serial_product_bits(mac)).area_um2 + adder
    return mac.lanes * lane


def widest_operand_bits(mac: MacSpec) -> int:
    """Bits of the widest operand the unit holds in one pass (sizes the PE registers)."""
    ints, floats = _formats(mac)
    return max([*ints, *(f.bits for f in floats)])
