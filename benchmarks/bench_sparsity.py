"""Speed-up and energy saving vs weight density on one layer: skipping vs gating vs N:M.

Layer: a ResNet-50 layer3 3x3 conv in its im2col view (m = 14*14 = 196 output pixels,
k = 3*3*256 = 2304, n = 256) on a 32 x 32 array. Unstructured masks are random with a fixed
seed; N:M points use the arch's native patterns. Energy is ``accelsim.cost.energy`` on the
array's counts (MACs performed/gated/skipped, cycles for leakage) plus the compulsory DRAM
reads of the stored weights and activations (data + format metadata, read once); SRAM traffic
is left out because it needs the tiling of a full simulation. Ratios are against the dense
run of the same dataflow. Also times the mask-measured kernel against the statistical model.

Run: python benchmarks/bench_sparsity.py [--out sparsity.png]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's accelsim, not an installed one

from accelsim.cost.energy import layer_energy
from accelsim.engine.sparse import sparse_gemm_counts
from accelsim.spec.arch import (
    ArchSpec, ArraySpec, BuffersSpec, BufferSpec, Dataflow, SparseFormat, SparsityMode, SparsitySpec,
)

M, K, N = 196, 2304, 256
DENSITIES = (0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
NM_PATTERNS = ("1:8", "1:4", "2:4", "4:4")


def arch(dataflow: Dataflow, mode: SparsityMode) -> ArchSpec:
    return ArchSpec(
        name=f"bench-{dataflow.value}-{mode.value}", technology_nm=16,
        array=ArraySpec(rows=32, cols=32, dataflow=dataflow),
        buffers=BuffersSpec(unified=BufferSpec(size_bytes=2 << 20, word_bits=8, banks=8)),
        sparsity=SparsitySpec(mode=mode, structured=("2:4", "1:4", "1:8"),
                              formats=(SparseFormat.BITMASK, SparseFormat.CSC, SparseFormat.RLE)),
    )


def row(scheme: str, a: ArchSpec, density: float, **kwargs) -> dict:
    counts = sparse_gemm_counts(a, M, N, K, **kwargs)
    dram = sum(counts[f"{p}_{kind}_bytes"] for p in ("weight", "act") for kind in ("data", "metadata"))
    frame = pd.DataFrame([{**counts, "weight_bits": 8, "act_bits": 8, "dram_read_bytes": dram}])
    energy = layer_energy(frame, a)
    return {"scheme": scheme, "dataflow": a.array.dataflow.value, "density": density, **counts,
            "dram_read_bytes": dram, "energy_pj": float(energy["energy_pj"].iloc[0]),
            "energy_mac_pj": float(energy["energy_mac_pj"].iloc[0])}


def sweep(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for density in DENSITIES:
        mask = rng.random((K, N)) < density
        for scheme, a in (("skip, os (per-PE)", arch(Dataflow.OS, SparsityMode.SKIP)),
                          ("skip, ws (column lockstep)", arch(Dataflow.WS, SparsityMode.SKIP)),
                          ("gate, ws", arch(Dataflow.WS, SparsityMode.GATE))):
            rows.append(row(scheme, a, density, weight_mask=mask, weight_pattern="unstructured"))
    for pattern in NM_PATTERNS:
        n, m = map(int, pattern.split(":"))
        rows.append(row("N:M, ws", arch(Dataflow.WS, SparsityMode.GATE), n / m, weight_pattern=pattern))
    points = pd.DataFrame(rows)
    dense = {df: row("dense", arch(Dataflow(df), SparsityMode.NONE), 1.0) for df in points["dataflow"].unique()}
    points["speedup"] = [dense[df]["cycles"] / c for df, c in zip(points["dataflow"], points["cycles"])]
    points["energy_saving"] = [dense[df]["energy_pj"] / e for df, e in zip(points["dataflow"], points["energy_pj"])]
    points["ideal"] = 1.0 / points["density"]
    return points


def kernel_vs_statistical(density: float = 0.3, repeats: int = 3) -> tuple[float, float]:
    a = arch(Dataflow.OS, SparsityMode.SKIP)
    mask = np.random.default_rng(1).random((K, N)) < density
    sparse_gemm_counts(a, M, N, K, weight_mask=mask)  # compile / load the kernel
    times = []
    for kwargs in ({"weight_mask": mask}, {"weight_density": density}):
        start = time.perf_counter()
        for _ in range(repeats):
            sparse_gemm_counts(a, M, N, K, **kwargs)
        times.append((time.perf_counter() - start) / repeats)
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the figure here (png/pdf/svg)")
    args = parser.parse_args()
    points = sweep()
    columns = ["scheme", "density", "cycles", "speedup", "ideal", "mac_ops", "gated_macs", "skipped_macs",
               "energy_mac_pj", "energy_saving", "weight_format", "weight_data_bytes", "weight_metadata_bytes"]
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(f"GEMM m={M} n={N} k={K} on 32x32, energy at 16 nm (array + leakage + compulsory DRAM reads)")
        print(points[columns].to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    mask_s, stat_s = kernel_vs_statistical()
    print(f"\nskip os, density 0.3: mask kernel {mask_s * 1e3:.1f} ms, statistical model {stat_s * 1e3:.1f} ms "
          f"(ratio {mask_s / stat_s:.1f}x)")
    if args.out:
        from accelsim.plot.sparsity import sparsity_figure

        sparsity_figure(points, f"GEMM {M}x{N}x{K} on a 32x32 array").savefig(args.out, dpi=120)
        print(f"figure: {args.out}")


if __name__ == "__main__":
    main()
