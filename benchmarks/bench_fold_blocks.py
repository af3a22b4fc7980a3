"""The fold fidelity on long layers: blocks (accelsim.engine.blocks) against the one-piece run.

Run: ``python benchmarks/bench_fold_blocks.py``. Prints (1) a gemm of 262,144 folds on
edge_32x32 run in one piece and in blocks (same counters, time ratio in the same process), and
(2) the time of a gemm m = n = k = 1e6 (976,562,500 folds on a 32x32 array) on each shipped
native architecture, which only the block run can hold in memory.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accelsim import load_arch, simulate  # noqa: E402
from accelsim.engine import blocks, fold  # noqa: E402
from accelsim.spec.arch import TimingModel  # noqa: E402
from accelsim.spec.load import network_from_dict  # noqa: E402


def gemm(m: int, n: int, k: int):
    return network_from_dict({"name": "g", "layers": [{"op": "gemm", "name": "g", "m": m, "n": n, "k": k}]})


def best(run, repeats: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    arch = load_arch(ROOT / "arch_configs" / "edge_32x32.yaml")
    layer = gemm(4096, 16384, 16384).layers[0]
    fold.run_layer(layer, arch)  # warm-up
    blocked, by_blocks = best(lambda: fold.run_layer(layer, arch))
    saved, blocks.BLOCK_THRESHOLD = blocks.BLOCK_THRESHOLD, 2**62
    try:
        whole, in_one = best(lambda: fold.run_layer(layer, arch))
    finally:
        blocks.BLOCK_THRESHOLD = saved
    assert np.array_equal(by_blocks, in_one)
    print(f"gemm 4096x16384x16384 on edge_32x32 (262,144 folds): one piece {whole * 1e3:.0f} ms, "
          f"blocks {blocked * 1e3:.0f} ms ({whole / blocked:.1f}x), same counters")
    for path in sorted((ROOT / "arch_configs").glob("*.yaml")):
        arch = load_arch(path)
        if arch.timing_model is not TimingModel.NATIVE:
            continue
        seconds, result = best(lambda: simulate(arch, gemm(10**6, 10**6, 10**6)), repeats=1)
        print(f"gemm 1e6^3 on {path.stem}: {int(result.layers.folds.iloc[0]):,} folds in {seconds:.2f} s")


if __name__ == "__main__":
    main()
