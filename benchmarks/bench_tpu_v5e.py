#!/usr/bin/env python3
"""GEMMs from 32 to 8192 per side on the TPU v5e-like chip: achieved TFLOP/s against size.

    python benchmarks/bench_tpu_v5e.py                          # bf16, searched and fixed mappings
    python benchmarks/bench_tpu_v5e.py --format int8 --mapping search

``arch_configs/tpu_v5e_like.yaml`` is built from published figures only (its comments give each
source and what is not published). For every GEMM ``A[M, K] @ B[K, N]`` (square sides 32 to 8192
in powers of two, and a few rectangular shapes) the table gives the simulated cycles and time,
the achieved TFLOP/s (``2 M N K / time``) and its fraction of the chip's peak (``2 x 4 x 128 x 128 x
products per cycle x clock``: 197 TFLOP/s bf16, 394 TOPS int8), the split of the layer over the four
MXUs (``mapping`` column), and how much faster the four arrays are than one (the same arch with
``arrays.count: 1``, its one MXU keeping all of VMEM).

Nothing is fitted: ``dispatch_overhead`` and the HBM latency are 0 because no figure is published,
so small GEMMs come out faster than a real chip runs them (whose per-kernel launch time is not
modelled). The wall time of each simulation is printed to show what a sweep over sizes costs.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import accelsim as ax  # noqa: E402
from accelsim.spec.load import network_from_dict  # noqa: E402

SQUARE = tuple(2**e for e in range(5, 14))
RECTANGULAR = ((8192, 8192, 128), (8192, 128, 8192), (128, 8192, 8192), (16, 8192, 8192), (8192, 16, 8192),
               (4096, 1024, 512))


def gemm(m: int, n: int, k: int, fmt: str):
    layer = {"op": "gemm", "name": f"{m}x{n}x{k}", "m": m, "n": n, "k": k,
             "compression": {"weight_bits": fmt, "act_bits": fmt}}
    return network_from_dict({"name": layer["name"], "layers": [layer]})


def peak_flops(arch: ax.ArchSpec, fmt: str) -> float:
    """2 FLOP per product, every PE of every array, at the format's products per cycle."""
    return 2.0 * arch.pes * arch.mac.rates.get(fmt, 1) * arch.clock_hz


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default=str(ROOT / "arch_configs" / "tpu_v5e_like.yaml"))
    parser.add_argument("--format", default="bf16", help="operand format of both operands (bf16, int8)")
    parser.add_argument("--mapping", choices=("fixed", "search", "both"), default="both")
    args = parser.parse_args()
    arch = ax.load_arch(args.arch)
    one = dataclasses.replace(arch, arrays=dataclasses.replace(arch.arrays, count=1, shared_buffers=()))
    peak = peak_flops(arch, args.format)
    mappings = ("fixed", "search") if args.mapping == "both" else (args.mapping,)
    print(f"# {arch.name}: {arch.arrays.count} arrays of {arch.array.rows}x{arch.array.cols}, {arch.clock_hz / 1e9:.3f} GHz, "
          f"{args.format} peak {peak / 1e12:.1f} TFLOP/s, DRAM {arch.dram.bandwidth.bytes_per_unit / 1e9:g} GB/s")
    print(f"{'M x N x K':>18} {'mapping':>7} {'cycles':>11} {'time_us':>10} {'TFLOP/s':>8} {'of peak':>7} "
          f"{'4 vs 1':>6} {'stall %':>7} {'wall_s':>6}  split | per-array mapping")
    for m, n, k in [(s, s, s) for s in SQUARE] + list(RECTANGULAR):
        net = gemm(m, n, k, args.format)
        for mode in mappings:
            start = time.perf_counter()
            four = ax.simulate(arch, net, mapping=mode, progress=False).layers.iloc[0]
            wall = time.perf_counter() - start
            single = ax.simulate(one, net, mapping=mode, progress=False).layers.iloc[0]
            seconds = four.cycles / arch.clock_hz
            flops = 2.0 * m * n * k / seconds
            print(f"{f'{m}x{n}x{k}':>18} {mode:>7} {four.cycles:>11,} {seconds * 1e6:>10.2f} {flops / 1e12:>8.1f} "
                  f"{flops / peak:>7.1%} {single.cycles / four.cycles:>6.2f} {four.stall_cycles / four.cycles:>7.1%} "
                  f"{wall:>6.2f}  {four.mapping}")


if __name__ == "__main__":
    main()
