#!/usr/bin/env python3
"""Sweep throughput with searched mappings against fixed ones, in one run.

    python benchmarks/bench_sweep_mapping.py            # the worked ResNet-50 sweep of docs/dse.md
    python benchmarks/bench_sweep_mapping.py --spec workloads/sweeps/tiny_cnn_formats.yaml

Runs the sweep spec (``workloads/sweeps/resnet50_array_x_sram.yaml`` by default: 25 designs x 2
weight schemes) with ``mapping: fixed`` and with ``mapping: search`` (objective ``cycles``), each
serially and on all cores, from an empty results directory and empty memos (the mapper's and
:func:`accelsim.simulate.clear_memos`'), and prints points per second and the searched run's time
relative to the fixed one (``x fixed``), with the CPU seconds the run took in this process and its
workers (``cpu_s``: less moved by other jobs on a shared machine than the wall time) and those
every other process on the machine took meanwhile (``other_cpu_s``, from ``/proc/stat``: about
the run's seconds when another job kept one of 2 cores busy throughout). Every
point pays its own searches: a design's layers share the memo, designs do not share choices (they
share only what depends on inputs they have in common: docs/dse.md, "Throughput"). Rows
``replayed``: the fixed-mapping sweep again with an evaluator that hands back the simulator's
answers computed beforehand, so the sweep's own cost (planning, workers, commits to the store,
the tables) shows alone. Columns ``plan_s``, ``assemble_s`` and ``write_s``: the run's wall seconds
before the first evaluation (design points, networks, keys), assembling the tables from the store,
and writing the output files (``SweepOutcome.phases``); the rest of ``seconds`` is evaluating and
committing.
The last line is this machine's ceiling for the processes in the same run: the 50 points evaluated
by the simulator alone (no plan, store or tables; cold memos) in one process, and in ``workers``
forked processes side by side, each evaluating all of them (:func:`side_by_side`): on free cores
the second rate is ``workers`` times the first; a shared or throttled host gives less.
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accelsim.dse.evaluate import default_evaluator  # noqa: E402
from accelsim.dse.executors import default_workers  # noqa: E402
from accelsim.dse.spec import load_sweep_spec  # noqa: E402
from accelsim.dse.sweep import plan, run_sweep  # noqa: E402
from accelsim.mapper.gemm import clear_search_memos  # noqa: E402
from accelsim.simulate import clear_memos  # noqa: E402
from accelsim.spec.options import MappingMode  # noqa: E402


REPLAY: dict = {}
"""(arch, network) -> the default evaluator's answer, filled before the replayed runs (forked workers inherit it)."""


def replay(arch, net):
    """An evaluator that hands back the simulator's stored answer: what the sweep itself costs
    (plan, workers, commits, tables) with no simulation in it."""
    return REPLAY[(arch, net)]


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (the sweep's workers, once joined)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def machine_cpu_seconds() -> float:
    """CPU seconds every process on the machine has used since boot (``/proc/stat``: all but idle
    and iowait; NaN where there is no ``/proc``)."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(value) for value in stat.readline().split()[1:]]
    except OSError:
        return float("nan")
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


SIDE_BY_SIDE: dict = {}
"""The points and evaluator :func:`side_by_side` runs (forked processes inherit them)."""


def evaluate_all(_=None) -> tuple[float, float]:
    """Start and end (``time.time``) of the simulator evaluating :data:`SIDE_BY_SIDE`'s points, memos cleared first."""
    simulator = SIDE_BY_SIDE["evaluator"]
    clear_memos()
    start = time.time()
    for arch, net in SIDE_BY_SIDE["points"]:
        simulator(arch, net)
    return start, time.time()


def side_by_side(points: list, evaluator, processes: int, rounds: int = 3) -> tuple[float, float]:
    """Points per second of the simulator alone on ``points`` in this process, and of ``processes``
    forked processes each evaluating all of them at once (all the points they evaluated over the
    time from the first start to the last end); the best of ``rounds``, the two alternated."""
    SIDE_BY_SIDE.update(points=points, evaluator=evaluator)
    alone, together = [], []
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        for _ in range(rounds):
            start, end = evaluate_all()
            alone.append(end - start)
            spans = pool.map(evaluate_all, range(processes))
            together.append(max(end for _, end in spans) - min(start for start, _ in spans))
    return len(points) / min(alone), processes * len(points) / min(together)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", default="workloads/sweeps/resnet50_array_x_sram.yaml")
    args = parser.parse_args()
    spec = load_sweep_spec(ROOT / args.spec)
    folder = Path(tempfile.mkdtemp(prefix="bench-sweep-mapping-"))
    workers = default_workers()
    run_sweep(dataclasses.replace(spec, mapping=MappingMode.SEARCH), folder / "warm", executor="serial")  # compile
    rows = []

    def timed(executor: str, mapping: str, sweep_spec, evaluator=None) -> None:
        start, cpu, machine = time.perf_counter(), cpu_seconds(), machine_cpu_seconds()
        outcome = run_sweep(sweep_spec, folder / f"{executor}-{mapping}", executor=executor, evaluator=evaluator)
        seconds = time.perf_counter() - start
        used = cpu_seconds() - cpu
        rows.append({"executor": executor if executor == "serial" else f"local x{workers}", "mapping": mapping,
                     "points": outcome.computed, "seconds": round(seconds, 2),
                     "points_per_s": round(outcome.computed / seconds, 1), "cpu_s": round(used, 2),
                     "other_cpu_s": round(machine_cpu_seconds() - machine - used, 2),
                     **{f"{phase}_s": round(outcome.phases[phase], 3) for phase in ("plan", "assemble", "write")}})

    for executor in ("serial", "local"):
        for mode in (MappingMode.FIXED, MappingMode.SEARCH):
            clear_search_memos()
            clear_memos()
            timed(executor, mode.value, dataclasses.replace(spec, mapping=mode))
    fixed = dataclasses.replace(spec, mapping=MappingMode.FIXED)
    _, nets, tasks, _ = plan(fixed, default_evaluator())
    simulator = default_evaluator(fixed.fidelity, fixed.mapping, fixed.objective)
    REPLAY.update({(t.point.arch, nets[t.net_id]): simulator(t.point.arch, nets[t.net_id]) for t in tasks})
    for executor in ("serial", "local"):
        timed(executor, "replayed", fixed, replay)
    table = pd.DataFrame(rows)
    table = table.sort_values("executor", kind="stable", key=lambda e: e.map({"serial": 0}).fillna(1))
    table["x fixed"] = (table["seconds"] / table.groupby("executor")["seconds"].transform("first")).round(2)
    print(f"{spec.name}: {rows[0]['points']} points, {workers} workers, load average {os.getloadavg()[0]:.1f}")
    print(table.to_string(index=False))
    alone, together = side_by_side(list(REPLAY), simulator, workers)
    print(f"the simulator alone on these points: {alone:.0f} points/s in one process, {together:.0f} in {workers} "
          f"side by side ({together / alone:.2f}x)")


if __name__ == "__main__":
    main()
