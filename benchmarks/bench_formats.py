"""Cycles, energy, DRAM bytes and numeric error of one layer in each number format.

Layer: the ResNet-50 layer1 3x3 conv of bench_precision.py (m = 3136, k = 576, n = 64) on a
16 x 16 weight-stationary array with a 1 MiB unified buffer and DDR4 at 16 GB/s, whose fixed
MAC unit lists every format: int4, int8, fp8_e4m3 and fp8_e5m2 (both at twice the fp16 rate,
as on NVIDIA H100: 1978.9 vs 989.4 dense TFLOP/s), bf16, fp16 and fp32; fp32 accumulation for
the floats, 32-bit integer accumulators for the integers. Weights and activations share the
format in each row.

Columns: ``cycles`` (simulate, fold fidelity), ``mac_pj_per_mac`` (MAC unit energy per MAC:
Horowitz 45 nm for int8/fp16/fp32 multipliers, the stated model for bf16/fp8, docs/precision.md)
and ``pj_per_mac`` (whole layer), ``dram_bytes``, and the error of the layer's output against
float64 on a 256-row slice with seeded data (half-normal activations, Gaussian weights):
integers quantized (activations asymmetric per tensor, weights symmetric per output channel),
floats rounded to the format (no scaling) and summed in fp32 (accelsim.compress.float_quant).
Ratios are against int8, run in the same process.

Run: python benchmarks/bench_formats.py [--csv formats.csv]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's accelsim, not an installed one

from accelsim.compress.float_quant import float_gemm, numpy_float_gemm
from accelsim.compress.quantize import QuantSpec, numpy_gemm, quantized_gemm
from accelsim.compress.scheme import apply_scheme, scheme_from_dict
from accelsim.simulate import simulate
from accelsim.spec.arch import MacSpec
from accelsim.spec.load import arch_from_dict, network_from_dict
from accelsim.spec.number_format import number_format

FORMATS = ("int4", "int8", "fp8_e5m2", "fp8_e4m3", "bf16", "fp16", "fp32")
ARCH = {"name": "bench-formats", "technology": "45nm", "clock": "1GHz",
        "array": {"rows": 16, "cols": 16, "dataflow": "ws", "accumulators": "256KiB"},
        "buffers": {"unified": {"size": "1MiB", "word_bits": 8, "banks": 8}},
        "dram": {"kind": "ddr4", "bandwidth": "16GB/s"},
        "mac": {"precisions": ["int4", "int8", "fp8_e4m3", "fp8_e5m2", "bf16", "fp16", "fp32"],
                "rates": {"fp8_e4m3": 2, "fp8_e5m2": 2}}}
LAYER = {"op": "conv2d", "name": "layer1.conv2", "in_channels": 64, "out_channels": 64,
         "in_h": 56, "in_w": 56, "kernel": 3, "padding": 1}


def numeric_error(fmt: str, seed: int = 0) -> float:
    """SQNR (dB) of the layer slice's output in ``fmt``."""
    rng = np.random.default_rng(seed)
    a = np.abs(rng.normal(size=(256, 576)))          # post-ReLU activations
    w = rng.normal(size=(576, 64)) / 24.0            # weights ~ N(0, 1/k)
    f = number_format(fmt)
    if f.is_float:
        return float_gemm(a, w, fmt, fmt, numpy_float_gemm(32)).error.sqnr_db
    res = quantized_gemm(a, w, QuantSpec(f.bits, symmetric=False), QuantSpec(f.bits, per_channel=True),
                         numpy_gemm(MacSpec(accumulator_bits=32)))
    return res.error.sqnr_db


def table() -> pd.DataFrame:
    arch = arch_from_dict(ARCH, "bench_formats")
    base = network_from_dict({"name": "conv", "layers": [LAYER]})
    rows = []
    for fmt in FORMATS:
        net = apply_scheme(base, scheme_from_dict({"rules": [{"weight_bits": fmt, "act_bits": fmt}]}))
        layer = simulate(arch, net).layers.iloc[0]
        macs = int(layer["macs"])
        rows.append({"format": fmt, "cycles": int(layer["cycles"]),
                     "mac_pj_per_mac": layer["energy_mac_pj"] / macs, "pj_per_mac": layer["energy_pj"] / macs,
                     "dram_bytes": int(layer["dram_read_bytes"] + layer["dram_write_bytes"]),
                     "sqnr_db": numeric_error(fmt)})
    out = pd.DataFrame(rows)
    base_row = out.set_index("format").loc["int8"]
    out["speedup_vs_int8"] = base_row["cycles"] / out["cycles"]
    out["energy_vs_int8"] = out["pj_per_mac"] / base_row["pj_per_mac"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", help="also write the table here")
    args = parser.parse_args()
    out = table()
    print(out.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    if args.csv:
        out.to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
