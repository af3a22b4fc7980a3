"""Transformers end to end: time and energy in GEMM vs nonlinear vs data movement, per
nonlinear implementation, and the numeric error of each implementation.

Workloads: the model zoo's BERT-base (128 tokens), ViT-B/16 (197 tokens), GPT-2 prefill
(512 tokens) and GPT-2 decode (one token over a 513-token KV cache). Arch: ``--arch``
(default arch_configs/edge_32x32.yaml: 32x32 int8 WS array, 32-lane vector unit, LPDDR4
12.8 GB/s). Every nonlinear/elementwise layer gets the implementation of the row through a
one-rule compression scheme. ``error_max``/``error_mean`` are the measured absolute errors
of that implementation for GELU (over [-8, 8]) and softmax (rows of U(-8, 8) logits).
Speed: simulate() wall time per network, and the ratio to the exact implementation's run in
the same process.

Run: python benchmarks/bench_transformer.py [--arch A.yaml] [--out transformer.png] [--csv t.csv]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

import sys

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's accelsim, not an installed one

from accelsim.compress.scheme import apply_scheme, scheme_from_dict
from accelsim.simulate import simulate
from accelsim.frontend.load import load_arch, load_workload
from accelsim.spec.workload import Op
from accelsim.analysis.breakdown import breakdown
from accelsim.vector.error import describe, measure_error

NETWORKS = ("bert_base", "vit_b16", "gpt2_prefill512", "gpt2_decode_kv512")
IMPLS = ({"kind": "exact"}, {"kind": "lut", "entries": 256}, {"kind": "lut", "entries": 64, "interpolate": True},
         {"kind": "pwl", "segments": 16}, {"kind": "poly", "degree": 4}, {"kind": "ibert", "bits": 16})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default=str(ROOT / "arch_configs" / "edge_32x32.yaml"))
    parser.add_argument("--out", default="transformer.png")
    parser.add_argument("--csv", default=None)
    args = parser.parse_args()
    arch = load_arch(args.arch)
    simulate(arch, load_workload(ROOT / "workloads" / "tiny_cnn.yaml"))  # compile/load kernels once
    rows = []
    for name in NETWORKS:
        base = load_workload(ROOT / "workloads" / f"{name}.yaml")
        exact_s = None
        for spec in IMPLS:
            net = apply_scheme(base, scheme_from_dict({"rules": [{"nonlinear_impl": spec}]}))
            impl = net.layers[[layer.op for layer in net.layers].index(Op.SOFTMAX)].compression.nonlinear_impl
            start = time.perf_counter()
            result = simulate(arch, net)
            seconds = time.perf_counter() - start
            exact_s = exact_s or seconds
            gelu = measure_error(Op.GELU, impl)
            softmax = measure_error(Op.SOFTMAX, impl)
            for row in breakdown(result).itertuples(index=False):
                rows.append({"network": name, "impl": describe(impl), "category": row.category,
                             "cycles": row.cycles, "energy_pj": row.energy_pj, "cycles_share": row.cycles_share,
                             "energy_share": row.energy_share, "total_cycles": result.cycles,
                             "gelu_error_max": gelu.max_abs_error, "softmax_error_max": softmax.max_abs_error,
                             "simulate_s": seconds, "vs_exact_run": seconds / exact_s})
    table = pd.DataFrame(rows)
    wide = table.pivot_table(index=["network", "impl"], columns="category", values="cycles_share", sort=False)
    wide.columns = [f"{c}_time" for c in wide.columns]
    energy = table.pivot_table(index=["network", "impl"], columns="category", values="energy_share", sort=False)
    for c in energy.columns:
        wide[f"{c}_energy"] = energy[c]
    extra = table.groupby(["network", "impl"], sort=False)[
        ["total_cycles", "gelu_error_max", "softmax_error_max", "simulate_s", "vs_exact_run"]].first()
    summary = wide.join(extra)
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.float_format", "{:.4g}".format):
        print(f"arch: {arch.name}")
        print(summary.to_string())
    if args.csv:
        table.to_csv(args.csv, index=False)
    from accelsim.plot.transformer import plot_breakdown

    plot_breakdown(table).savefig(args.out, dpi=120)
    print(f"plot: {args.out}")


if __name__ == "__main__":
    main()
