#!/usr/bin/env python3
"""Speed of the ``scalesim`` timing model in SCALE-Sim's USER bandwidth mode, against SCALE-Sim 3.0.0.

    python benchmarks/bench_scalesim_user.py                     # ResNet-18 subset, 32x32, os/ws/is
    python benchmarks/bench_scalesim_user.py --rows 60000 --size 16

One SCALE-Sim ``.cfg`` per dataflow (USER mode, 64 KiB SRAMs, ifmap/filter bank bandwidth
``--bw``, OFMAP ``Bandwidth`` ``--bw``) is loaded by accelsim exactly as a user would
(``load_arch``), and run by SCALE-Sim in its venv (``/tmp/venv-scalesim``) on the ResNet-18
layers (SCALE-Sim's topology, in order, skipping any that would take the demand rows past
``--rows``). Printed per dataflow: SCALE-Sim's wall time, accelsim's warm time through
``simulate()`` and for the timing model alone (``engine.fold.run_layer`` on each distinct layer shape; best of 5), their
ratios, the same layers' CALC-mode model time (the baseline in this process: USER walks every
demand row, CALC counts most of them in closed form), and whether every exact column (Total
Cycles, stalls, incl. prefetch, DRAM counts per operand) equals SCALE-Sim's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import accelsim as ax  # noqa: E402
from bench_systolic import (SCALESIM_PY, model_seconds, run_scalesim, scalesim_cfg, scalesim_subset,  # noqa: E402
                            warm_seconds)

RESNET18 = ROOT / "workloads" / "scalesim" / "Resnet18.csv"
REPEATS = 5   # warm runs timed; the fastest is printed
# accelsim column -> (SCALE-Sim report, column index after LayerID)
EXACT = {"cycles": ("COMPUTE", 1), "stall_cycles": ("COMPUTE", 2), "cycles_incl_prefetch": ("COMPUTE", 0),
         "ifmap_dram_reads": ("DETAILED_ACCESS", 11), "filter_dram_reads": ("DETAILED_ACCESS", 14),
         "ofmap_dram_writes": ("DETAILED_ACCESS", 17)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=25_000, help="demand-row budget of the ResNet-18 subset")
    parser.add_argument("--size", type=int, default=32, help="array rows = columns")
    parser.add_argument("--bw", type=int, default=10, help="DRAM words/cycle of every operand")
    args = parser.parse_args()
    if not SCALESIM_PY.exists():
        print(f"{SCALESIM_PY} is missing. Create SCALE-Sim's venv with:\n"
              "  python3 -m venv /tmp/venv-scalesim && /tmp/venv-scalesim/bin/pip install scalesim==3.0.0 numpy==2.3.5")
        return 1
    resnet = ax.load_workload(RESNET18)
    print(f"SCALE-Sim 3.0.0 USER mode vs accelsim scalesim timing, ResNet-18 layers up to {args.rows:,} demand rows, "
          f"{args.size}x{args.size}, 64 KiB SRAMs, {args.bw} words/cycle per operand")
    print(f"{'df':3s} {'layers':>6s} {'rows':>7s} {'stalls':>8s} {'SCALE-Sim s':>11s} {'simulate ms':>11s} {'ratio':>7s} "
          f"{'model ms':>9s} {'ratio':>7s} {'CALC ms':>8s} {'USER/CALC':>9s} exact columns")
    for dataflow in ("os", "ws", "is"):
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            paths = {}
            for mode in ("USER", "CALC"):
                paths[mode] = work / f"{mode}.cfg"
                paths[mode].write_text(scalesim_cfg(args.size, dataflow, mode, args.bw))
            user, calc = ax.load_arch(paths["USER"]), ax.load_arch(paths["CALC"])
            net, rows = scalesim_subset(resnet, calc, args.rows)
            if net is None:
                continue
            ours = warm_seconds(user, net, REPEATS)
            model = model_seconds(user, net.layers, REPEATS)
            calc_model = model_seconds(calc, net.layers, REPEATS)
            got = ax.simulate(user, net).layers
            theirs, reports = run_scalesim(paths["USER"], net, work)
        want = {ours: [int(row[index]) for row in reports[report]] for ours, (report, index) in EXACT.items()}
        mismatched = [c for c in EXACT if [int(v) for v in got[c]] != want[c]]
        verdict = "all equal" if not mismatched else f"DIFFER in {mismatched}"
        print(f"{dataflow:3s} {len(net.layers):6d} {rows:7,d} {int(got.stall_cycles.sum()):8,d} {theirs:11.1f} "
              f"{ours * 1e3:11.1f} {theirs / ours:6,.0f}x {model * 1e3:9.1f} {theirs / model:6,.0f}x "
              f"{calc_model * 1e3:8.1f} {model / calc_model:8.1f}x {verdict}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
