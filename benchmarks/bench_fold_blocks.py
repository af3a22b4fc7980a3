"""The fold fidelity on long layers: blocks (accelsim.engine.blocks) and the repetition along ``m``
(accelsim.engine.periodic) against the one-piece run.

Run: ``python benchmarks/bench_fold_blocks.py``. Prints (1) a gemm of 262,144 folds on
edge_32x32 run in one piece and in blocks (same counters, time ratio in the same process),
(2) a 3x3 conv 128->128 on 28x28 on edge_32x32 (ws, stream tiles of 256 rows) at batch 16 and 256,
its units along ``m`` added up against the one-piece run (same counters, time ratio), and
(3) the time of a gemm m = n = k = 1e6 (976,562,500 folds on a 32x32 array) on each shipped
native architecture at its fixed mapping (the mapper refuses counts past its int64 range), which
only the block run can hold in memory.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accelsim import load_arch, simulate  # noqa: E402
from accelsim.engine import blocks, fold, periodic  # noqa: E402
from accelsim.lower.tiling import LoopOrder, Mapping  # noqa: E402
from accelsim.spec.arch import Dataflow, TimingModel  # noqa: E402
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


@contextlib.contextmanager
def only(units: bool, blocked: bool):
    """Runs with the periodic path (``units``: its repetitions along m, n and k added up) and the blocks
    (``blocked``) on or off."""
    saved = periodic.run_periodic, blocks.BLOCK_THRESHOLD
    periodic.run_periodic = saved[0] if units else lambda *args, **kwargs: None
    blocks.BLOCK_THRESHOLD = saved[1] if blocked else 2**62
    try:
        yield
    finally:
        periodic.run_periodic, blocks.BLOCK_THRESHOLD = saved


def main() -> None:
    arch = load_arch(ROOT / "arch_configs" / "edge_32x32.yaml")
    layer = gemm(4096, 16384, 16384).layers[0]
    with only(units=False, blocked=True):
        fold.run_layer(layer, arch)  # warm-up
        blocked, by_blocks = best(lambda: fold.run_layer(layer, arch))
    with only(units=False, blocked=False):
        whole, in_one = best(lambda: fold.run_layer(layer, arch))
    assert np.array_equal(by_blocks, in_one)
    print(f"gemm 4096x16384x16384 on edge_32x32 (262,144 folds): one piece {whole * 1e3:.0f} ms, "
          f"blocks {blocked * 1e3:.0f} ms ({whole / blocked:.1f}x), same counters")
    mapping = Mapping(Dataflow.WS, LoopOrder.TCR, 256, (True, True, True))
    for batch in (16, 256):
        conv = network_from_dict({"name": "c", "batch": batch, "layers": [
            {"op": "conv2d", "name": "c", "in_channels": 128, "out_channels": 128, "in_h": 28, "in_w": 28,
             "kernel": 3, "padding": 1}]}).layers[0]
        with only(units=True, blocked=False):
            fold.run_layer(conv, arch, mapping=mapping)  # warm-up
            added, by_units = best(lambda: fold.run_layer(conv, arch, mapping=mapping))
        with only(units=False, blocked=False):
            whole, in_one = best(lambda: fold.run_layer(conv, arch, mapping=mapping))
        assert np.array_equal(by_units, in_one)
        print(f"conv 128->128 3x3 28x28 batch {batch} on edge_32x32 ({int(in_one[fold.COUNT_COLUMNS['folds']]):,} "
              f"folds): one piece {whole * 1e3:.2f} ms, units added up {added * 1e3:.2f} ms "
              f"({whole / added:.1f}x), same counters")
    for path in sorted((ROOT / "arch_configs").glob("*.yaml")):
        arch = load_arch(path)
        if arch.timing_model is not TimingModel.NATIVE:
            continue
        seconds, result = best(lambda: simulate(arch, gemm(10**6, 10**6, 10**6), mapping="fixed"), repeats=1)
        print(f"gemm 1e6^3 on {path.stem}: {int(result.layers.folds.iloc[0]):,} folds in {seconds:.2f} s")


if __name__ == "__main__":
    main()
