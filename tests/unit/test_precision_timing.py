"""Compute-bound layers on each MAC kind: cycles follow the throughput arithmetic through the
lowering and every dataflow (``docs/timing_models.md``: K -> ceil(K/p), T -> q*T, fill and
drain unchanged).

The expected ``(p, q)`` of each case is derived by hand in its comment, and the expected
cycles from the native fold formula ``T + r + c + R - 2`` (every dataflow, no overlap), written
out here independently of the lowering.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from accelsim.hw.mac import check_layer_precision
from accelsim.spec.arch import Dataflow, MacKind, MacSpec, SerialOperands
from accelsim.spec.load import arch_from_dict, network_from_dict

simulate_module = pytest.importorskip("accelsim.simulate")
gemm_module = pytest.importorskip("accelsim.lower.gemm")

ROWS, COLS = 8, 4
BASE = {"name": "t", "array": {"rows": ROWS, "cols": COLS},
        "buffers": {"unified": {"size": "64MiB"}}}   # no DRAM bandwidth limit: compute-bound

BITFUSION = MacSpec(kind=MacKind.BITFUSION, precisions=("int2", "int4", "int8", "int16"))
CASES = [
    # Bit Fusion, 16 2-bit bricks, power-of-two fusion:
    (BITFUSION, 3, 5, 2, 1),     # 3 -> 4 bits (2 bricks), 5 -> 8 bits (4 bricks): 8 bricks, 16 // 8 = 2
    (BITFUSION, 6, 6, 1, 1),     # 8x8: 16 bricks, 1 product
    (BITFUSION, 1, 3, 8, 1),     # 2x4: 1 x 2 = 2 bricks, 16 // 2 = 8
    (BITFUSION, 12, 2, 2, 1),    # 16x2: 8 x 1 = 8 bricks, 2 products
    (BITFUSION, 10, 10, 1, 4),   # 16x16: 64 bricks, ceil(64 / 16) = 4 cycles
    (BITFUSION, 9, 7, 1, 2),     # 16x8: 32 bricks, 2 cycles
    # fixed int8 that decomposes wider operands: ceil(w/8) * ceil(a/8) passes
    (MacSpec(precisions=("int8",), decompose_wider=True), 5, 3, 1, 1),
    (MacSpec(precisions=("int8",), decompose_wider=True), 12, 20, 1, 6),    # 2 x 3 passes
    # Stripes: activation bits serial, 1 bit per cycle; 16-lane SIPs sum 16 products per step
    (MacSpec(kind=MacKind.BIT_SERIAL, precisions=("int16",)), 16, 5, 1, 5),
    (MacSpec(kind=MacKind.BIT_SERIAL, precisions=("int16",), lanes=16), 11, 13, 16, 13),
    # Loom: both serial; 2 bits per cycle: ceil(7/2) * ceil(3/2) = 4 * 2 = 8
    (MacSpec(kind=MacKind.BIT_SERIAL, precisions=("int16",), serial_operands=SerialOperands.BOTH), 3, 7, 1, 21),
    (MacSpec(kind=MacKind.BIT_SERIAL, precisions=("int16",), serial_operands=SerialOperands.BOTH,
             serial_bits_per_cycle=2), 3, 7, 1, 8),
]


def fold_formula_cycles(dataflow: Dataflow, m: int, n: int, k: int, p: int, q: int) -> int:
    """Sum over folds of ``T + r + c + R - 2`` with K -> ceil(K/p) and T -> q*T."""
    k = math.ceil(k / p)
    sr, sc, t = {Dataflow.OS: (m, n, k), Dataflow.WS: (k, n, m), Dataflow.IS: (k, m, n)}[dataflow]
    total = 0
    for i in range(math.ceil(sc / COLS)):
        c = min(COLS, sc - i * COLS)
        for j in range(math.ceil(sr / ROWS)):
            r = min(ROWS, sr - j * ROWS)
            total += q * t + r + c + ROWS - 2
    return total


def rule(layer, arch):
    """The mixed-precision MAC rate rule, in the form simulate() takes."""
    rate = check_layer_precision(arch, layer)
    if rate is None:
        return gemm_module.DENSE_RATE
    return gemm_module.ArrayRate(rate.products_per_cycle, rate.cycles_per_product)


@pytest.mark.parametrize("dataflow", list(Dataflow))
@pytest.mark.parametrize("mac, weight, act, p, q", CASES)
def test_compute_bound_cycles_follow_mac_rate(dataflow, mac, weight, act, p, q):
    arch = dataclasses.replace(arch_from_dict(BASE), mac=mac)
    arch = dataclasses.replace(arch, array=dataclasses.replace(arch.array, dataflow=dataflow))
    net = network_from_dict(_net(weight, act))
    rate = check_layer_precision(arch, net.layers[0])
    assert (rate.products_per_cycle, rate.cycles_per_product) == (p, q)
    res = simulate_module.simulate(arch, net, "fold", mac_rate=rule)
    assert int(res.layers["cycles"].iloc[0]) == fold_formula_cycles(dataflow, 13, 10, 37, p, q)


@pytest.mark.parametrize("fidelity", ["cycle", "pe"])
@pytest.mark.parametrize("mac, weight, act", [(BITFUSION, 4, 2), (BITFUSION, 16, 9),
                                              (MacSpec(kind=MacKind.BIT_SERIAL, precisions=("int16",), lanes=16), 11, 13)])
def test_other_fidelities_agree_with_fold(fidelity, mac, weight, act):
    """p > 1 (Bit Fusion 4x2 bits: 2 x 1 bricks, 8 products), q > 1 (16x9 bits run as 16x16:
    4 cycles) and both (16-lane bit-serial: p = 16, q = 13) give the same cycles in every
    fidelity."""
    arch = dataclasses.replace(arch_from_dict(BASE), mac=mac)
    net = network_from_dict(_net(weight, act))
    res = simulate_module.simulate(arch, net, fidelity, mac_rate=rule)
    fold = simulate_module.simulate(arch, net, "fold", mac_rate=rule)
    assert int(res.layers["cycles"].iloc[0]) == int(fold.layers["cycles"].iloc[0])


def _net(weight: int, act: int) -> dict:
    return {"name": "one", "layers": [{"op": "gemm", "name": "fc", "m": 13, "n": 10, "k": 37,
                                       "compression": {"weight_bits": weight, "act_bits": act}}]}
