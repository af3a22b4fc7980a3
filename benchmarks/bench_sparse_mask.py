"""Speed of the mask-measured sparse array kernel on ResNet-50-sized layers, and of whole networks.

Per layer: warm time of :func:`accelsim.engine.sparse.run_sparse_array` (50 % random weight
mask, and weights + 50 % activations) for each dataflow and lockstep group on a 64 x 64 array,
against the statistical model on the same layer in the same process (the ratio column). Then
a whole network: ``simulate`` of ResNet-50 with magnitude masks (``unstructured50`` scheme with
masks) on ``arch_configs/sparse_2of4.yaml``, mask mode vs statistical mode.

Run: python benchmarks/bench_sparse_mask.py [--network]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import sys

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's accelsim, not an installed one

from accelsim.engine.sparse import run_sparse_array, statistical_counts
from accelsim.spec.arch import Dataflow, SparsityMode, SyncGroup

LAYERS = {"res2 3x3 (m=3136 k=576 n=64)": (3136, 64, 576), "res4 3x3 (m=196 k=2304 n=256)": (196, 256, 2304)}
CASES = [(Dataflow.WS, SyncGroup.COLUMN), (Dataflow.WS, SyncGroup.FOLD), (Dataflow.OS, SyncGroup.PE),
         (Dataflow.OS, SyncGroup.ROW), (Dataflow.IS, SyncGroup.COLUMN)]


def _best(fn, repeats: int) -> float:
    fn()  # compile / load
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def layer_table(repeats: int = 3) -> pd.DataFrame:
    rows = []
    rng = np.random.default_rng(0)
    for name, (m, n, k) in LAYERS.items():
        wmask = rng.random((k, n)) < 0.5
        amask = rng.random((m, k)) < 0.5
        for dataflow, sync in CASES:
            for operands, masks, dens in (("w", (wmask, None), (0.5, 1.0)), ("w+a", (wmask, amask), (0.5, 0.5))):
                kernel_s = _best(lambda: run_sparse_array(64, 64, dataflow, SparsityMode.SKIP, sync, m, n, k, *masks),
                                 repeats)
                stat_s = _best(lambda: statistical_counts(64, 64, dataflow, SparsityMode.SKIP, sync, m, n, k, *dens),
                               repeats)
                rows.append(dict(layer=name, dataflow=dataflow.value, sync=sync.value, exploited=operands,
                                 mask_ms=kernel_s * 1e3, statistical_ms=stat_s * 1e3, ratio=kernel_s / stat_s))
    return pd.DataFrame(rows)


def network_times() -> str:
    import accelsim as ax
    from accelsim.compress.scheme import apply_scheme, scheme_from_dict

    arch = ax.load_arch("arch_configs/sparse_2of4.yaml")
    net = ax.load_workload("workloads/resnet50.yaml")
    rule = {"match": {"op": ["conv2d", "gemm"]}, "sparsity": {"pattern": "unstructured", "density": 0.5}}
    stat_net = apply_scheme(net, scheme_from_dict({"name": "u50", "rules": [rule]}))
    with tempfile.TemporaryDirectory() as tmp:
        masked = apply_scheme(net, scheme_from_dict({"name": "u50m", "rules": [{**rule, "masks": {"seed": 0}}]}),
                              mask_dir=Path(tmp))
        mask_s = _best(lambda: ax.simulate(arch, masked), 1)
    stat_s = _best(lambda: ax.simulate(arch, stat_net), 1)
    return (f"ResNet-50, unstructured 50 % weights, sparse_2of4 (ws, column lockstep): simulate with masks "
            f"{mask_s:.2f} s, statistical {stat_s:.2f} s (ratio {mask_s / stat_s:.1f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", action="store_true", help="also time a whole ResNet-50 in mask mode")
    args = parser.parse_args()
    with pd.option_context("display.width", 200):
        print(layer_table().to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    if args.network:
        print(network_times())


if __name__ == "__main__":
    main()
