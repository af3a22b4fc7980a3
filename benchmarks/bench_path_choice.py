"""What the periodic path's cost estimate (accelsim.engine.periodic) loses against the quicker way.

Run: ``python benchmarks/bench_path_choice.py [--batch 256] [ARCH ...]`` (default: the eight shipped
native archs of the speed table). Every distinct fold run of the zoo's ResNet-50 (the calls of
``accelsim.engine.fold.run_problem`` that ``simulate()`` makes with its defaults) is timed three ways
in one process, best of 5 x 10 calls each: as the estimate chooses, the whole schedule forced
(``CALL_FOLDS`` past any layer), the path forced where it can run (``CALL_FOLDS`` far below zero);
the three give the same counters (checked). Prints per arch the runs, their time as chosen, and the
time lost against the quicker of the two ways, run by run (a few microseconds either side are the
timings' noise: a negative total means the choice was never measurably slower), with the runs that
lose the most.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import timeit
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accelsim import load_arch, load_workload, simulate  # noqa: E402
from accelsim.engine import fold, periodic  # noqa: E402
from accelsim.spec.memo import clear_spec_memos  # noqa: E402

ARCHS = ("edge_32x32", "tpu_v1_like", "scalesim_32x32_ws", "eyeriss_like", "tpu_v5e_like", "bitfusion_like",
         "sparse_2of4", "bit_serial_like")
CHOSEN, WHOLE, THROUGH_PATH = periodic.CALL_FOLDS, 2**62, -(2**62)


def fold_runs(arch, network) -> list[tuple]:
    """The distinct argument tuples of ``fold.run_problem`` in ``simulate(arch, network)``."""
    runs, original = {}, fold.run_problem

    def recorded(*args):
        runs.setdefault(args, None)
        return original(*args)

    fold.run_problem = recorded
    try:
        simulate(arch, network)
    finally:
        fold.run_problem = original
    return list(runs)


@contextlib.contextmanager
def call_folds(value: int):
    """The path's per-call cost (in folds) set to ``value``, the memoised plans cleared before and after."""
    clear_spec_memos()
    periodic.CALL_FOLDS = value
    try:
        yield
    finally:
        periodic.CALL_FOLDS = CHOSEN
        clear_spec_memos()


def timed(args: tuple, value: int) -> tuple[float, bool, np.ndarray]:
    """``(microseconds a call, whether the path ran, counters)`` of ``fold.run_problem(*args)``."""
    taken, original = [], periodic.run_native_periodic

    def counted(*kernel_args):
        taken.append(True)
        return original(*kernel_args)

    with call_folds(value):
        periodic.run_native_periodic = counted
        try:
            stats = fold.run_problem(*args)
        finally:
            periodic.run_native_periodic = original
        seconds = min(timeit.repeat(lambda: fold.run_problem(*args), number=10, repeat=5)) / 10
    return seconds * 1e6, bool(taken), stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archs", nargs="*", default=list(ARCHS))
    parser.add_argument("--batch", type=int, default=256)
    options = parser.parse_args()
    print(f"zoo ResNet-50, batch {options.batch}, load average {os.getloadavg()[0]:.1f}")
    network = load_workload(ROOT / "workloads" / "resnet50.yaml", batch=options.batch)
    for name in options.archs:
        arch = load_arch(ROOT / "arch_configs" / f"{name}.yaml")
        chosen_total = lost_total = 0.0
        losses = []
        runs = fold_runs(arch, network)
        for args in runs:
            chosen, path, stats = timed(args, CHOSEN)
            whole, _, whole_stats = timed(args, WHOLE)
            forced, forced_path, forced_stats = timed(args, THROUGH_PATH)
            assert np.array_equal(stats, whole_stats) and np.array_equal(stats, forced_stats)
            quickest = min(whole, forced) if forced_path else whole
            chosen_total += chosen
            lost_total += chosen - quickest
            problem = args[0]
            losses.append((chosen - quickest, f"m={problem.m} n={problem.n} k={problem.k}: chosen "
                                              f"{chosen:.0f} us ({'path' if path else 'whole'}), whole {whole:.0f}, "
                                              f"path {forced:.0f}" + ("" if forced_path else " (declined)")))
        print(f"{name}: {len(runs)} distinct runs, {chosen_total:.0f} us as chosen, {lost_total:.0f} us lost "
              "against the quicker way")
        for loss, text in sorted(losses, reverse=True)[:3]:
            if loss > 1:
                print(f"    {loss:4.0f} us lost, {text}")


if __name__ == "__main__":
    main()
