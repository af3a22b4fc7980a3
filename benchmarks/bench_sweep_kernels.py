#!/usr/bin/env python3
"""Where a fixed-mapping sweep point's fold kernels go, per array size.

    python benchmarks/bench_sweep_kernels.py            # the worked ResNet-50 sweep of docs/dse.md

Evaluates every point of the sweep spec (``workloads/sweeps/resnet50_array_x_sram.yaml`` by
default) with ``mapping: fixed``, serially, each from empty memos
(:func:`accelsim.simulate.clear_memos`), best of 3 rounds, and prints per array size the
milliseconds a point takes and those spent in the two fold kernels that run a layer
(``run_native_problem``: the whole schedule in one call; ``run_native_periodic``: the repeating
loops added up, :mod:`accelsim.engine.periodic`), and how many layer runs take each.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accelsim.dse.evaluate import default_evaluator  # noqa: E402
from accelsim.dse.spec import load_sweep_spec  # noqa: E402
from accelsim.dse.sweep import plan  # noqa: E402
from accelsim.engine import fold, periodic  # noqa: E402
from accelsim.simulate import clear_memos  # noqa: E402
from accelsim.spec.options import MappingMode  # noqa: E402


def timed(kernel, seconds: dict, calls: collections.Counter):
    """``kernel`` adding its wall time and a call to ``seconds`` and ``calls`` under its name."""
    def run(*args):
        start = time.perf_counter()
        try:
            return kernel(*args)
        finally:
            seconds[kernel.__name__] += time.perf_counter() - start
            calls[kernel.__name__] += 1
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", default="workloads/sweeps/resnet50_array_x_sram.yaml")
    spec = load_sweep_spec(ROOT / parser.parse_args().spec)
    fixed = dataclasses.replace(spec, mapping=MappingMode.FIXED)
    _, networks, tasks, _ = plan(fixed, default_evaluator())
    simulate = default_evaluator(fixed.fidelity, fixed.mapping, fixed.objective)
    for task in tasks:  # warm: compiled kernels
        simulate(task.point.arch, networks[task.net_id])
    seconds: dict = collections.defaultdict(float)
    calls: collections.Counter = collections.Counter()
    fold.run_native_problem = timed(fold.run_native_problem, seconds, calls)
    periodic.run_native_periodic = timed(periodic.run_native_periodic, seconds, calls)
    best = None
    for _ in range(3):
        point_s, kernel_s = collections.defaultdict(float), collections.defaultdict(float)
        seconds.clear()
        calls.clear()
        for task in tasks:
            clear_memos()
            before, start = sum(seconds.values()), time.perf_counter()
            simulate(task.point.arch, networks[task.net_id])
            point_s[task.point.arch.array.rows] += time.perf_counter() - start
            kernel_s[task.point.arch.array.rows] += sum(seconds.values()) - before
        if best is None or sum(point_s.values()) < sum(best[0].values()):
            best = point_s, kernel_s, dict(seconds), dict(calls)
    point_s, kernel_s, seconds, calls = best
    points = collections.Counter(task.point.arch.array.rows for task in tasks)
    print(f"{spec.name}, mapping fixed, {len(tasks)} points serially, empty memos per point, best of 3")
    print(f"{'array':>9s} {'points':>6s} {'ms/point':>9s} {'kernel ms/point':>16s}")
    for rows in sorted(points):
        print(f"{rows:>4d}x{rows:<4d} {points[rows]:>6d} {point_s[rows] / points[rows] * 1e3:>9.2f} "
              f"{kernel_s[rows] / points[rows] * 1e3:>16.2f}")
    total = sum(point_s.values())
    print(f"{'all':>9s} {len(tasks):>6d} {total / len(tasks) * 1e3:>9.2f} "
          f"{sum(kernel_s.values()) / len(tasks) * 1e3:>16.2f}   ({len(tasks) / total:.1f} points/s)")
    for name in ("run_native_problem", "run_native_periodic"):
        print(f"{name}: {calls.get(name, 0)} layer runs, {seconds.get(name, 0.0) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
