#!/usr/bin/env python3
"""Warm ``simulate()`` of this checkout against another one, timed alternately in one run.

    git worktree add /tmp/base <commit>            # or: git archive <commit> | tar -x -C /tmp/base
    python benchmarks/bench_ab.py /tmp/base [--pe] # ~1-2 min (--pe: a few more)

Each round runs every case in a fresh process of each checkout in turn (best of 7 warm calls per
case and round, best of ``--rounds`` rounds, default 2): both see the same machine load, so their
ratio holds where the absolute times do not. Cases: the zoo's ResNet-50 on edge_32x32 and
tpu_v1_like (batch 1 and 256 on each; ``--zoo-archs`` adds other shipped archs, with each
checkout's batch ratio from its best times), SCALE-Sim's ResNet-50 topology on a 32x32 ws array in
both timing models; with ``--pe``, one 256->256 3x3 conv on 28x28 at the ``pe`` fidelity on edge_32x32.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent("""
    import os, sys, time
    root = sys.argv[1]
    sys.path.insert(0, root)
    os.chdir(root)
    import accelsim as ax
    from accelsim.spec.load import arch_from_dict, network_from_dict

    def square(timing):
        return arch_from_dict({"name": "32x32-ws", "timing_model": timing, "array": {"rows": 32, "cols": 32, "dataflow": "ws"},
                               "buffers": {op: {"size": "64KiB"} for op in ("ifmap", "filter", "ofmap")}})

    zoo, csv = "workloads/resnet50.yaml", "workloads/scalesim/Resnet50.csv"
    cases = [("zoo ResNet-50, edge_32x32", ax.load_arch("arch_configs/edge_32x32.yaml"), ax.load_workload(zoo)),
             ("zoo ResNet-50, tpu_v1_like", ax.load_arch("arch_configs/tpu_v1_like.yaml"), ax.load_workload(zoo)),
             ("zoo ResNet-50 batch 256, edge_32x32", ax.load_arch("arch_configs/edge_32x32.yaml"),
              ax.load_workload(zoo, batch=256)),
             ("zoo ResNet-50 batch 256, tpu_v1_like", ax.load_arch("arch_configs/tpu_v1_like.yaml"),
              ax.load_workload(zoo, batch=256)),
             ("ResNet-50 csv, 32x32 ws native", square("native"), ax.load_workload(csv)),
             ("ResNet-50 csv, 32x32 ws scalesim", square("scalesim"), ax.load_workload(csv))]
    for name in sys.argv[3:]:  # --zoo-archs
        arch = ax.load_arch(f"arch_configs/{name}.yaml")
        cases += [(f"zoo ResNet-50, {name}", arch, ax.load_workload(zoo)),
                  (f"zoo ResNet-50 batch 256, {name}", arch, ax.load_workload(zoo, batch=256))]
    for name, arch, net in cases:
        ax.simulate(arch, net)
        times = []
        for _ in range(7):
            start = time.perf_counter()
            ax.simulate(arch, net)
            times.append(time.perf_counter() - start)
        print(f"{name}\\t{min(times) * 1e3:.2f}")
    if sys.argv[2] == "pe":  # one 256->256 3x3 conv on 28x28, pe fidelity (once: seconds)
        conv = {"op": "conv2d", "name": "conv", "in_channels": 256, "out_channels": 256, "in_h": 28, "in_w": 28,
                "kernel": 3, "stride": 1, "padding": 1}
        arch = ax.load_arch("arch_configs/edge_32x32.yaml")
        ax.simulate(arch, network_from_dict({"name": "c", "layers": [conv | {"in_h": 4, "in_w": 4}]}), "pe",
                    progress=False)
        start = time.perf_counter()
        ax.simulate(arch, network_from_dict({"name": "c", "layers": [conv]}), "pe", progress=False)
        print(f"pe, 256->256 3x3 conv 28x28, edge_32x32\\t{(time.perf_counter() - start) * 1e3:.2f}")
""")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path, help="the other checkout's root")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pe", action="store_true", help="add one pe-fidelity conv layer (~5-20 s per round)")
    parser.add_argument("--zoo-archs", nargs="*", default=[], metavar="ARCH",
                        help="shipped archs (arch_configs/ARCH.yaml) to add the zoo's ResNet-50 at batch 1 and 256 "
                             "on, with each checkout's batch 256 / 1 ratio")
    args = parser.parse_args()
    best = collections.defaultdict(lambda: float("inf"))
    for _ in range(args.rounds):
        for label, root in (("base", args.base.resolve()), ("this", ROOT)):
            out = subprocess.run([sys.executable, "-c", CHILD, str(root), "pe" if args.pe else "-", *args.zoo_archs],
                                 capture_output=True, text=True, check=True).stdout
            for line in out.strip().splitlines():
                name, ms = line.split("\t")
                best[name, label] = min(best[name, label], float(ms))
    print(f"load average {os.getloadavg()[0]:.1f}")
    for name in dict.fromkeys(name for name, _ in best):
        base, this = best[name, "base"], best[name, "this"]
        print(f"{name:38s} base {base:7.2f} ms  this {this:7.2f} ms  {base / this:5.2f}x")
    for arch in args.zoo_archs:
        one, many = f"zoo ResNet-50, {arch}", f"zoo ResNet-50 batch 256, {arch}"
        print(f"batch 256 / 1, {arch:25s} base {best[many, 'base'] / best[one, 'base']:5.2f}  "
              f"this {best[many, 'this'] / best[one, 'this']:5.2f}")


if __name__ == "__main__":
    main()
