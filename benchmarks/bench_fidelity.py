"""Speed of the ``cycle`` and ``pe`` fidelities, and how far ``fold``'s memory model is from ``cycle``'s.

Run: ``python benchmarks/bench_fidelity.py [--quick]``. Prints three tables:

1. ``cycle``: simulated cycles per second on ResNet-18 (every conv/linear layer) on 32x32 and
   128x128 arrays, against the naive per-cycle Python reference (tests/reference/cycle_ref.py)
   on a small GEMM in the same process (baseline ratio).
2. ``pe``: PE register updates per second on ResNet-18 layers (the smaller ones: pe is
   O(cycles x PEs)) against the naive per-PE reference (tests/reference/pe_ref.py); then per
   dataflow (ws, is, os) and MAC rate (plain, 2 products per cycle, 2 cycles per product,
   native 2:4) on the last 6 of those layers, 32x32.
3. ``fold`` vs ``cycle`` per shipped native architecture on ResNet-18: total cycles and stall
   cycles of both, and the relative difference of the totals. Where the two differ, the memory
   model differs (docs/fidelities.md explains each approximation of ``fold``).
Compilation is excluded (one warm-up call per kernel). ``--repeats N`` times every ``pe`` row
N times and keeps the fastest (the machine is shared: the best run is the least disturbed).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import accelsim as ax  # noqa: E402
from accelsim.engine import cycle, fold, pe  # noqa: E402
from accelsim.lower.gemm import DENSE_RATE, ArrayRate, GemmProblem, lower_layer  # noqa: E402
from accelsim.lower.tiling import fixed_schedule  # noqa: E402
from accelsim.spec.arch import Dataflow  # noqa: E402
from accelsim.spec.workload import Conv2d, Gemm  # noqa: E402
from reference.cycle_ref import ref_cycle  # noqa: E402
from reference.pe_ref import ref_gemm  # noqa: E402


def with_array(arch, rows, cols):
    return dataclasses.replace(arch, array=dataclasses.replace(arch.array, rows=rows, cols=cols))


def array_layers(net):
    return [layer for layer in net.layers if isinstance(layer, (Conv2d, Gemm))]


def cycle_rate(arch, layers):
    """Simulated cycles per second of the cycle kernel over ``layers`` (one repeat each)."""
    cycle.run_layer(layers[0], arch)  # compile / load the cache
    total = 0
    start = time.perf_counter()
    for layer in layers:
        total += int(cycle.run_layer(layer, arch)[0]) // lower_layer(layer).repeats
    return total, time.perf_counter() - start


def cycle_reference_rate(arch):
    """The naive reference on one small GEMM: simulated cycles per second."""
    schedule = fixed_schedule(GemmProblem(m=64, n=16, k=24, repeats=1, ifmap_words=64 * 24), arch)
    bandwidth = arch.dram_bytes_per_cycle()
    frac = None if bandwidth is None else Fraction(bandwidth).limit_denominator(1000)
    start = time.perf_counter()
    out = ref_cycle({0: "os", 1: "ws", 2: "is"}[schedule.dataflow], schedule.array_rows, schedule.array_cols,
                    schedule.preload_overlap, 1,
                    list(zip(schedule.rows_used.tolist(), schedule.cols_used.tolist(), schedule.stream_cycles.tolist())),
                    schedule.sram_words.tolist(), schedule.dram_bytes.tolist(), [0] * 4, [frac] * 4,
                    arch.dram.latency_cycles, True, True, [0, 1, 2, 2], [2**40] * 4, [2**40] * 4)
    return out["cycles"], time.perf_counter() - start


def pe_rate(arch, layers, rate=DENSE_RATE, repeats=1):
    """PE register updates and the fastest of ``repeats`` runs (seconds) of the pe kernels on
    ``layers`` (synthetic int8 operands, N:M pruned if ``rate`` says so)."""
    a, b = pe.synthetic_operands(8, 8, 8, 8, 8, nm=rate.nm)
    pe.run_pe_gemm(arch, a, b, rate)  # compile / load the cache
    operands = [pe.synthetic_operands(p.m, p.n, p.k, 8, 8, nm=rate.nm) for p in map(lower_layer, layers)]
    best = float("inf")
    for _ in range(repeats):
        updates = 0
        start = time.perf_counter()
        for a, b in operands:
            out, stats = pe.run_pe_gemm(arch, a, b, rate)
            updates += stats["pe_updates"]
        best = min(best, time.perf_counter() - start)
        assert all(np.array_equal(pe.run_pe_gemm(arch, a, b, rate)[0], a @ b) for a, b in operands[-1:])
    return updates, best


def pe_reference_rate(rows, cols):
    rng = np.random.default_rng(0)
    a = rng.integers(-128, 128, (16, 24)).tolist()
    b = rng.integers(-128, 128, (24, 12)).tolist()
    start = time.perf_counter()
    _, stats = ref_gemm(a, b, rows, cols, "ws", overlap=True, bits=32)
    return stats["cycles"] * rows * cols, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer layers (a smoke run)")
    parser.add_argument("--repeats", type=int, default=1, help="pe rows: best of this many runs")
    args = parser.parse_args(argv)
    net = ax.load_workload(ROOT / "workloads/resnet18.yaml")
    layers = array_layers(net)
    if args.quick:
        layers = layers[-4:]
    edge = ax.load_arch(ROOT / "arch_configs/edge_32x32.yaml")

    print("1. cycle fidelity: simulated cycles per second (ResNet-18, %d array layers, one repeat each)" % len(layers))
    ref_cycles, ref_s = cycle_reference_rate(with_array(edge, 8, 8))
    ref_rate = ref_cycles / ref_s
    print(f"{'array':>9} {'cycles':>12} {'seconds':>8} {'cycles/s':>10} {'x naive ref':>12}")
    print(f"{'ref 8x8':>9} {ref_cycles:>12,} {ref_s:>8.2f} {ref_rate:>10.3g} {1:>12.0f}")
    for rows in (32, 128):
        cycles, seconds = cycle_rate(with_array(edge, rows, rows), layers)
        print(f"{rows}x{rows:<6} {cycles:>12,} {seconds:>8.2f} {cycles / seconds:>10.3g} {cycles / seconds / ref_rate:>12.0f}")

    pe_layers = layers[-4:] if args.quick else [lay for lay in layers if lower_layer(lay).m <= 3136]
    print(f"\n2. pe fidelity: PE register updates per second ({len(pe_layers)} ResNet-18 layers, int8)")
    ref_updates, ref_s = pe_reference_rate(8, 8)
    ref_rate = ref_updates / ref_s
    print(f"{'array':>9} {'updates':>14} {'seconds':>8} {'updates/s':>10} {'x naive ref':>12}")
    print(f"{'ref 8x8':>9} {ref_updates:>14,} {ref_s:>8.2f} {ref_rate:>10.3g} {1:>12.0f}")
    for rows in (32, 128):
        updates, seconds = pe_rate(with_array(edge, rows, rows), pe_layers, repeats=args.repeats)
        print(f"{rows}x{rows:<6} {updates:>14,} {seconds:>8.2f} {updates / seconds:>10.3g} {updates / seconds / ref_rate:>12.0f}")
    rates = {"plain": DENSE_RATE, "p=2": ArrayRate(products_per_cycle=2), "q=2": ArrayRate(cycles_per_product=2),
             "2:4": ArrayRate(nm=(2, 4))}
    print(f"\n2b. pe per dataflow and MAC rate, 32x32 (last {len(pe_layers[-6:])} of those layers, "
          f"best of {args.repeats}): PE register updates/s")
    print(f"{'dataflow':>9}" + "".join(f"{name:>10}" for name in rates))
    for dataflow in (Dataflow.WS, Dataflow.IS, Dataflow.OS):
        arch = with_array(edge, 32, 32)
        arch = dataclasses.replace(arch, array=dataclasses.replace(arch.array, dataflow=dataflow))
        cells = []
        for rate in rates.values():
            updates, seconds = pe_rate(arch, pe_layers[-6:], rate, args.repeats)
            cells.append(f"{updates / seconds:>10.3g}")
        print(f"{dataflow.value:>9}" + "".join(cells))

    print("\n3. fold vs cycle on ResNet-18 (whole network, every layer and repeat)")
    print(f"{'arch':<16} {'fold cycles':>13} {'fold stalls':>12} {'cycle cycles':>13} {'cycle stalls':>13} {'diff':>7}")
    for path in sorted(ROOT.glob("arch_configs/*.yaml")):
        arch = ax.load_arch(path)
        if arch.timing_model.value != "native" or arch.hierarchy is not None or arch.arrays.count > 1:
            continue  # cycle runs one array without PE storage (docs/hierarchy.md, docs/multi_array.md)
        f_total = f_stall = c_total = c_stall = 0
        for layer in layers:
            f = fold.run_layer(layer, arch)
            c = cycle.run_layer(layer, arch)
            f_total, f_stall = f_total + int(f[0]), f_stall + int(f[2])
            c_total, c_stall = c_total + int(c[0]), c_stall + int(c[2])
        print(f"{arch.name:<16} {f_total:>13,} {f_stall:>12,} {c_total:>13,} {c_stall:>13,} "
              f"{(c_total - f_total) / f_total:>+7.1%}")


if __name__ == "__main__":
    main()
