"""Cycles, energy per MAC and numeric error vs operand precision, for each MAC unit kind.

Layer: a ResNet-50 layer1 3x3 conv (64 -> 64 channels, 56 x 56, padding 1), im2col view
m = 3136, k = 576, n = 64. Every MAC kind sits in the same 16 x 16 weight-stationary array
with a 1 MiB unified buffer, 256 KiB of accumulators (partial sums stay on chip) and
unlimited DRAM bandwidth, so the layer is compute-bound and
only the MAC unit differs (one lane per PE for every kind, Stripes included). Weights and
activations have the same width in each row.

Columns: ``p``/``q`` (products per cycle, cycles per product: accelsim.hw.mac), ``cycles``
(simulate, fold fidelity), ``mac_pj_per_mac`` (MAC unit energy per MAC; the plotted energy)
and ``pj_per_mac`` (whole layer: MAC, registers, SRAM, DRAM, leakage), ``mac_area_um2`` (one
PE's MAC unit) from accelsim.cost (45 nm tables, issue #8; left out with a note when that
module is absent), and the quantization error of the layer's output against float64
(``sqnr_db``, ``max_rel_error``, ``overflowed_frac``: accelsim.compress.quantize on a
256-row slice of the layer with seeded random data, half-normal activations quantized
asymmetric per tensor, Gaussian weights symmetric per output channel, 32-bit wrapping
accumulators, which 16-bit codes summed over k = 576 overflow; the error depends on the bits,
not on the MAC kind). Ratios are against the fixed int8 unit at 8 bits, run in the same process.

Run: python benchmarks/bench_precision.py [--out precision.png] [--csv precision.csv]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import pandas as pd

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's accelsim, not an installed one

from accelsim.compress.quantize import QuantSpec, numpy_gemm, quantized_gemm
from accelsim.errors import UnsupportedError
from accelsim.lower.gemm import DENSE_RATE, ArrayRate
from accelsim.hw.mac import check_layer_precision, mac_rate
from accelsim.simulate import simulate
from accelsim.spec.arch import MacKind, MacSpec, SerialOperands
from accelsim.spec.load import arch_from_dict, network_from_dict

try:
    from accelsim.cost.energy import layer_energy
    from accelsim.cost.mac_unit import mac_unit_area_um2
except ImportError:  # the energy model (issue #8) has not landed: cycles only
    layer_energy = mac_unit_area_um2 = None

BITS = (2, 3, 4, 6, 8, 12, 16)
MACS = {
    "fixed int8 (16b in 4 passes)": MacSpec(precisions=("int8",), decompose_wider=True),
    "fixed int16": MacSpec(precisions=("int16",)),
    "bitfusion 16x2b bricks": MacSpec(kind=MacKind.BITFUSION, precisions=("int2", "int4", "int8", "int16")),
    "stripes (act serial)": MacSpec(kind=MacKind.BIT_SERIAL, precisions=("int16",)),
    "loom (both serial)": MacSpec(kind=MacKind.BIT_SERIAL, precisions=("int16",),
                                  serial_operands=SerialOperands.BOTH),
}
BASELINE = ("fixed int8 (16b in 4 passes)", 8)
ARCH = {"name": "bench-precision", "technology": "45nm", "clock": "1GHz",
        "array": {"rows": 16, "cols": 16, "dataflow": "ws", "accumulators": "256KiB"},
        "buffers": {"unified": {"size": "1MiB", "word_bits": 8, "banks": 8}}}
LAYER = {"op": "conv2d", "name": "layer1.conv2", "in_channels": 64, "out_channels": 64,
         "in_h": 56, "in_w": 56, "kernel": 3, "padding": 1}


def precision_rule(layer, arch) -> ArrayRate:
    """accelsim.hw.mac's rate of ``layer`` in the form simulate() takes."""
    rate = check_layer_precision(arch, layer)
    return DENSE_RATE if rate is None else ArrayRate(rate.products_per_cycle, rate.cycles_per_product)


def numeric_error(bits: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    a = np.abs(rng.normal(size=(256, 576)))          # post-ReLU activations
    w = rng.normal(size=(576, 64)) / 24.0            # weights ~ N(0, 1/k)
    res = quantized_gemm(a, w, QuantSpec(bits, symmetric=False), QuantSpec(bits, per_channel=True),
                         numpy_gemm(MacSpec(accumulator_bits=32)))
    return {"sqnr_db": res.error.sqnr_db, "max_rel_error": res.error.max_rel_error,
            "overflowed_frac": res.overflowed_outputs / res.out.size}


def sweep() -> pd.DataFrame:
    rows = []
    errors = {bits: numeric_error(bits) for bits in BITS}
    for label, mac in MACS.items():
        arch = dataclasses.replace(arch_from_dict(ARCH), mac=mac)
        for bits in BITS:
            net = network_from_dict({"name": "one-layer", "layers": [
                {**LAYER, "compression": {"weight_bits": bits, "act_bits": bits}}]})
            try:
                rate = mac_rate(mac, bits, bits)
            except UnsupportedError:
                continue                              # e.g. 12-bit operands on nothing wider than int8
            layers = simulate(arch, net, "fold", mac_rate=precision_rule).layers
            macs = int(layers["macs"].iloc[0])
            row = {"mac": label, "bits": bits, "p": rate.products_per_cycle, "q": rate.cycles_per_product,
                   "cycles": int(layers["cycles"].iloc[0]), "macs": macs}
            if layer_energy is not None:
                energy = layer_energy(layers, arch)
                row["mac_pj_per_mac"] = float(energy["energy_mac_pj"].iloc[0]) / macs
                row["pj_per_mac"] = float(energy["energy_pj"].iloc[0]) / macs
                row["mac_area_um2"] = mac_unit_area_um2(mac)
            rows.append({**row, **errors[bits]})
    table = pd.DataFrame(rows)
    base = table[(table["mac"] == BASELINE[0]) & (table["bits"] == BASELINE[1])].iloc[0]
    table["speedup_vs_int8"] = base["cycles"] / table["cycles"]
    if "pj_per_mac" in table:
        table["energy_saving_vs_int8"] = base["pj_per_mac"] / table["pj_per_mac"]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="save the plot (PNG/PDF)")
    parser.add_argument("--csv", help="save the table")
    args = parser.parse_args()
    start = time.perf_counter()
    table = sweep()
    elapsed = time.perf_counter() - start
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 3):
        print(table.to_string(index=False))
    if layer_energy is None:
        print("\nenergy: accelsim.cost.energy is not available, so this table reports cycles only")
    print(f"\n{len(table)} design points in {elapsed:.1f} s; baseline: {BASELINE[0]} at {BASELINE[1]} bits")
    if args.csv:
        table.to_csv(args.csv, index=False)
    if args.out:
        from accelsim.plot.precision import plot_precision

        plot_table = table.rename(columns={"mac_pj_per_mac": "energy_per_mac_pj"})
        plot_precision(plot_table, title="ResNet-50 layer1 3x3 conv on a 16x16 array").savefig(args.out, dpi=120)
        print(f"plot: {args.out}")


if __name__ == "__main__":
    main()
