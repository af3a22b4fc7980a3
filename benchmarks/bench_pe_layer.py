#!/usr/bin/env python3
"""Speed of the ``pe`` fidelity on one layer, as ratios measured in one run.

    python benchmarks/bench_pe_layer.py             # 256->256 3x3 conv on 28x28, edge_32x32 (~10-30 s)
    python benchmarks/bench_pe_layer.py --size 14   # a smaller layer

Prints, best of ``--repeats`` (default 2; compile excluded by a warm-up on a tiny layer):

* ``simulate()`` of the one-layer network at the ``pe`` and the ``fold`` fidelity, and their ratio;
* the parts of a ``pe`` layer: one PE run of its GEMM (:func:`accelsim.engine.pe.run_pe_gemm`)
  and the exact integer reference of the quantized GEMM two ways, an int64 numpy matmul (no
  BLAS) and :func:`accelsim.compress.quantize.exact_integer_product` (float64 BLAS where exact),
  with their ratio. A ``pe`` layer costs about one PE run plus the reference: before issue 17 it
  cost two PE runs (timing, then values) plus the int64 reference. The estimate of that cost
  times this checkout's PE kernel, a lower bound since the kernel was made faster since
  (ring registers, ``accelsim/kernels/pe.py``); ``python benchmarks/bench_ab.py <checkout> --pe``
  times the commit before issue 17 itself.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import accelsim as ax  # noqa: E402
from accelsim.compress.quantize import QuantSpec, exact_integer_product, quant_params, quantize  # noqa: E402
from accelsim.engine.pe import run_pe_gemm  # noqa: E402
from accelsim.lower.gemm import lower_layer  # noqa: E402
from accelsim.spec.load import network_from_dict  # noqa: E402


def conv_net(size: int, channels: int):
    return network_from_dict({"name": f"conv{channels}_{size}", "layers": [
        {"op": "conv2d", "name": "conv", "in_channels": channels, "out_channels": channels, "in_h": size,
         "in_w": size, "kernel": 3, "stride": 1, "padding": 1}]})


def best(thunk, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        thunk()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default=str(ROOT / "arch_configs" / "edge_32x32.yaml"))
    parser.add_argument("--size", type=int, default=28)
    parser.add_argument("--channels", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    arch = ax.load_arch(args.arch)
    ax.simulate(arch, conv_net(4, 4), "pe", progress=False)  # compile / load the kernels
    net = conv_net(args.size, args.channels)
    problem = lower_layer(net.layers[0], arch.timing_model)
    print(f"{net.name} on {arch.name}: GEMM M={problem.m} K={problem.k} N={problem.n}, "
          f"load average {os.getloadavg()[0]:.2f}")
    pe_s = best(lambda: ax.simulate(arch, net, "pe", progress=False), args.repeats)
    fold_s = best(lambda: ax.simulate(arch, net, "fold"), max(args.repeats, 5))
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((problem.m, problem.k)), rng.standard_normal((problem.k, problem.n))
    qa, qb = quantize(a, quant_params(a, 8, symmetric=True)), quantize(b, quant_params(b, 8, symmetric=True))
    run_s = best(lambda: run_pe_gemm(arch, qa, qb), args.repeats)
    int64_s = best(lambda: qa @ qb, args.repeats)
    blas_s = best(lambda: exact_integer_product(qa, qb), args.repeats)
    assert (exact_integer_product(qa, qb) == qa @ qb).all()
    print(f"simulate() pe {pe_s:.2f} s, fold {fold_s * 1e3:.1f} ms: pe / fold = {pe_s / fold_s:,.0f}x")
    print(f"one PE run {run_s:.2f} s; exact reference int64 {int64_s:.3f} s, BLAS {blas_s:.4f} s "
          f"({int64_s / blas_s:,.0f}x); pe simulate / one PE run = {pe_s / run_s:.2f}")
    print(f"before issue 17 (2 PE runs + int64 reference, this checkout's PE kernel: a lower bound) "
          f"~ {2 * run_s + int64_s:.2f} s: {(2 * run_s + int64_s) / pe_s:.1f}x the pe simulate() above "
          "(parts timed in this run)")


if __name__ == "__main__":
    main()
