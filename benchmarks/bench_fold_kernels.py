#!/usr/bin/env python3
"""Where a layer run in one kernel call spends its time, part by part.

    python benchmarks/bench_fold_kernels.py                              # zoo ResNet-50, tpu_v5e_like, batch 256
    python benchmarks/bench_fold_kernels.py --arch edge_32x32 --batch 1 --workload resnet18

Runs ``simulate()`` once and keeps the arguments of every layer run that took the whole-schedule
kernel (``kernels.systolic.run_native_problem``, called by :func:`accelsim.engine.fold.run_problem`).
Then times, summed over those runs (each the best of ``--repeats`` batches of calls), the kernel
itself and the parts it chains, over the same folds: the fold tables
(``kernels.schedule.fill_folds``, with the prefetch word tables), the memory plan's scaling
(``scale_dram_rows``), the transfer cycles (``kernels.memory.fill_transfer``), the timeline
(``resume_native_timeline``) and the sums (``kernels.systolic.add_fold_sums``). The parts are timed
on one chunk of all the run's folds (the kernel takes 2,048 at a time), so they add up to about
the kernel's time. To compare two checkouts, copy this file into the older one and run it in each
in turn (the machine's speed drifts by more than most passes gain).
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
from accelsim.engine import fold  # noqa: E402
from accelsim.kernels.codes import FOLD_STAT_COUNT  # noqa: E402
from accelsim.kernels.memory import RESUME_STATE_SIZE, fill_transfer, resume_native_timeline  # noqa: E402
from accelsim.kernels.schedule import ScheduleProblem, fill_folds, prefetch_words, scale_dram_rows  # noqa: E402
from accelsim.kernels.systolic import add_fold_sums, loop_counts  # noqa: E402


def captured_runs(arch_name: str, workload: str, batch: int) -> list[tuple]:
    """The ``(problem, *arguments)`` of every whole-schedule kernel call of one warm ``simulate()``."""
    arch = ax.load_arch(ROOT / "arch_configs" / f"{arch_name}.yaml")
    net = ax.load_workload(ROOT / "workloads" / f"{workload}.yaml", batch=batch)
    ax.simulate(arch, net)  # compile and fill the memos, so that the second run calls what a warm one calls
    kernel, calls = fold.run_native_problem, []

    def keep(p, *args):
        calls.append((p, *args))
        return kernel(p, *args)

    fold.run_native_problem = keep
    try:
        ax.simulate(arch, net)
    finally:
        fold.run_native_problem = kernel
    return calls


def best_seconds(call, repeats: int, inner: int = 5) -> float:
    """Best of ``repeats`` batches of ``inner`` calls, per call."""
    call()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            call()
        best = min(best, (time.perf_counter() - start) / inner)
    return best


def part_seconds(run: tuple, repeats: int) -> dict[str, float]:
    """Seconds of the kernel and of each part on ``run``'s folds (one chunk)."""
    (problem, dataflow, array_rows, _cols, overlap, broadcast, prefetch_overlap, drain_overlap, scale_num, scale_den,
     rate_num, rate_den, channel, latency, _chunk, stats) = run
    p = ScheduleProblem(*problem)  # the kernel's argument is its fields as a plain tuple
    folds = p.stop - p.first
    size = folds + 1
    rows, cols, stream = (np.empty(size, np.int64) for _ in range(3))
    sram, dram, dram_bytes, xfer = (np.empty((size, 4), np.int64) for _ in range(4))
    next_in, next_filter = prefetch_words(p, False), prefetch_words(p, True)
    count, reduce_position = loop_counts(p)

    def tables():
        fill_folds(p, p.first, p.stop, prefetch_words(p, False), prefetch_words(p, True), rows, cols, stream, sram,
                   dram, dram_bytes)

    def scaled():
        fill_folds(p, p.first, p.stop, next_in, next_filter, rows, cols, stream, sram, dram, dram_bytes)
        scale_dram_rows(dram, dram_bytes, scale_num, scale_den, 0, count, reduce_position, p.first, p.drain, folds,
                        folds, np.zeros((2, 3, 2), np.int64))

    def timeline():
        resume_native_timeline(dataflow, array_rows, overlap, broadcast, rows, cols, stream, xfer, channel, latency,
                               prefetch_overlap, drain_overlap, folds, True, np.zeros(RESUME_STATE_SIZE, np.int64))

    scaled()
    fill_transfer(dram_bytes, rate_num, rate_den, folds, xfer)
    sums = np.zeros(FOLD_STAT_COUNT, np.int64)
    unscaled_tables = best_seconds(lambda: fill_folds(p, p.first, p.stop, next_in, next_filter, rows, cols, stream,
                                                      sram, dram, dram_bytes), repeats)
    return {"kernel": best_seconds(lambda: fold.run_native_problem(*run), repeats),
            "tables": best_seconds(tables, repeats),
            "scaling": best_seconds(scaled, repeats) - unscaled_tables,
            "transfer": best_seconds(lambda: fill_transfer(dram_bytes, rate_num, rate_den, folds, xfer), repeats),
            "timeline": best_seconds(timeline, repeats),
            "sums": best_seconds(lambda: add_fold_sums(rows, cols, stream, sram, dram, dram_bytes, folds, sums),
                                 repeats)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="tpu_v5e_like")
    parser.add_argument("--workload", default="resnet50")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    runs = captured_runs(args.arch, args.workload, args.batch)
    totals = dict.fromkeys(("kernel", "tables", "scaling", "transfer", "timeline", "sums"), 0.0)
    for run in runs:
        for part, seconds in part_seconds(run, args.repeats).items():
            totals[part] += seconds
    folds = sum(stop - first for *_, first, stop in (run[0] for run in runs))
    print(f"{args.workload} at batch {args.batch} on {args.arch}: {len(runs)} whole-schedule kernel calls, "
          f"{folds:,} folds, load average {os.getloadavg()[0]:.1f}")
    for part, seconds in totals.items():
        print(f"  {part:9s} {seconds * 1e3:7.3f} ms  {seconds / max(folds, 1) * 1e9:6.1f} ns a fold")


if __name__ == "__main__":
    main()
