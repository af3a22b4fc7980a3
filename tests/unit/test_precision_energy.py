"""Energy per MAC of every MAC kind never falls as operand bit widths grow.

Property check of the MAC throughput model (accelsim.hw.mac) together with the energy engineer's
per-action table (accelsim.cost.mac_unit, issue #8): energy per product is the sum over
actions of (actions per product) x (energy per action). Skips until that module exists.
"""

from __future__ import annotations

import pytest

from accelsim.spec.arch import MacKind, MacSpec, SerialOperands

mac_unit = pytest.importorskip("accelsim.cost.mac_unit")

KINDS = {
    "fixed int8/int16": MacSpec(precisions=("int8", "int16")),
    "fixed int8, decomposing": MacSpec(precisions=("int8",), decompose_wider=True),
    "bitfusion": MacSpec(kind=MacKind.BITFUSION, precisions=("int2", "int4", "int8", "int16")),
    "stripes": MacSpec(kind=MacKind.BIT_SERIAL, precisions=("int16",)),
    "loom 2b/cycle": MacSpec(kind=MacKind.BIT_SERIAL, precisions=("int16",),
                             serial_operands=SerialOperands.BOTH, serial_bits_per_cycle=2),
}


def energy_per_mac_pj(mac: MacSpec, weight_bits: int, act_bits: int) -> float:
    entries = mac_unit.mac_energy_entries(mac)
    return sum(count * entries[name] for name, count in mac_unit.mac_actions(mac, weight_bits, act_bits).items())


@pytest.mark.parametrize("mac", KINDS.values(), ids=KINDS.keys())
def test_energy_per_mac_is_monotonic_in_bit_width(mac):
    widths = range(1, 17)
    square = [energy_per_mac_pj(mac, b, b) for b in widths]
    assert all(x <= y for x, y in zip(square, square[1:])), square
    assert square[-1] > square[1]   # 16-bit operands cost more than 2-bit ones
    for fixed in (2, 8):
        weights = [energy_per_mac_pj(mac, b, fixed) for b in widths]
        acts = [energy_per_mac_pj(mac, fixed, b) for b in widths]
        assert all(x <= y for x, y in zip(weights, weights[1:])), weights
        assert all(x <= y for x, y in zip(acts, acts[1:])), acts
