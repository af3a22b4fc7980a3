"""Sweep throughput and crash safety.

Prints a table of points per second for:

* ``simulate loop``: a plain loop calling ``accelsim.simulate`` on every design point in this
  process (the baseline: no store, no executor);
* ``sweep serial`` / ``sweep local``: ``accelsim.dse.run_sweep`` on one process / all cores,
  including validation of every point, the Parquet store and the final tables;
* ``sweep dask``: a Dask LocalCluster with the same number of workers;
* ``resume``: rerunning the finished sweep (everything is read from the store);
* ``store only``: a sweep whose evaluator does nothing, i.e. the machinery's own ceiling.

``--worked`` times the worked ResNet-50 example of docs/dse.md
(``workloads/sweeps/resnet50_array_x_sram.yaml``, the default mapping: searched under native
timing) instead: a bare ``simulate``
loop over its tasks against ``run_sweep`` on 2 local workers (from empty memos), in one run; ``--grid`` adds a
1,000-point ResNet-50 sweep (5 x 5 array shapes x 4 ifmap x 5 filter buffer sizes x 2
dataflows, 2 workers, the default searched mapping).

With ``--kill N`` it also runs the sweep through the CLI in a subprocess, SIGKILLs it N times
at random moments, resumes it, and checks the table equals the straight run with every
point exactly once.

Each row also gives the CPU seconds of this process and of the sweep's workers (less moved by
other jobs on a shared machine than the wall time).

``--grid-only`` runs only that grid in a fresh process (nothing warmed before it): copied into
another checkout (as ``benchmarks/compare_corpus.py`` says), it times that checkout's code.

Usage: python benchmarks/bench_sweep.py [--workload workloads/tiny_cnn.yaml] [--kill 5]
       python benchmarks/bench_sweep.py --worked [--grid]
       python benchmarks/bench_sweep.py --grid-only
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accelsim.dse.executors import default_workers  # noqa: E402
from accelsim.dse.space import design_points  # noqa: E402
from accelsim.dse.spec import load_sweep_spec  # noqa: E402
from accelsim.dse.evaluate import default_evaluator  # noqa: E402
from accelsim.dse.sweep import plan, run_sweep  # noqa: E402
from accelsim.simulate import simulate  # noqa: E402
from accelsim.frontend.load import load_workload  # noqa: E402


def forget() -> None:
    """Empty the memos a warm loop left (the mapper's search, simulate's preparations and choices)."""
    from accelsim.mapper.gemm import clear_search_memos
    from accelsim.simulate import clear_memos

    clear_search_memos()
    clear_memos()


def nothing(arch, net):
    """An evaluator that does no work: measures the sweep machinery alone."""
    return {"cycles": arch.pes}, None


def write_spec(folder: Path, workload: str) -> Path:
    spec = {
        "name": "bench", "arch": str(ROOT / "arch_configs" / "edge_32x32.yaml"), "workloads": [str(ROOT / workload)],
        "axes": {"array.rows": [4, 8, 16, 32, 64, 128], "array.cols": [8, 16, 32, 64, 128],
                 "buffers.ifmap.size": ["16KiB", "32KiB", "64KiB", "128KiB"], "array.dataflow": ["ws", "os", "is"]},
        "objectives": ["latency_s", "energy_pj"],
    }
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def workers_cpu() -> float:
    """CPU seconds of this process's finished children (a sweep's workers, once joined)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return children.ru_utime + children.ru_stime


def timed(label, count, fn):
    start = time.perf_counter()
    cpu, children = time.process_time(), workers_cpu()
    result = fn()
    wall = time.perf_counter() - start
    return result, {"run": label, "points": count, "seconds": round(wall, 2),
                    "points_per_s": round(count / wall, 1) if wall else float("inf"),
                    "parent_cpu_s": round(time.process_time() - cpu, 2),
                    "workers_cpu_s": round(workers_cpu() - children, 2)}


def kill_check(spec: Path, folder: Path, straight: pd.DataFrame, kills: int) -> str:
    out = folder / "killed"
    rng = random.Random(0)
    for _ in range(kills):
        parts = out / "parts"
        before = len(list(parts.glob("points-*"))) if parts.exists() else 0
        proc = subprocess.Popen([sys.executable, "-m", "accelsim", "sweep", str(spec), "-o", str(out), "-q"],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:  # wait for this run's first commit
            if parts.exists() and len(list(parts.glob("points-*"))) > before:
                break
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 2.5))  # then kill it at a random moment mid-run
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        stored = len(pd.concat([pd.read_parquet(p) for p in (out / "parts").glob("points-*.parquet")])) \
            if (out / "parts").exists() and any((out / "parts").glob("points-*")) else 0
        print(f"  killed: {stored} rows stored so far", file=sys.stderr)
    resumed = run_sweep(spec, out, executor="local")
    same = resumed.points.reset_index(drop=True).equals(straight.reset_index(drop=True))
    return (f"{kills} kills, resumed computing {resumed.computed} of {resumed.planned}; rows {len(resumed.points)}, "
            f"unique keys {resumed.points['key'].nunique()}, identical to the straight run: {same}")


def grid_row(folder: Path) -> dict:
    """The 1,000-point ResNet-50 grid (5 x 5 array shapes x 4 ifmap x 5 filter buffer sizes x 2
    dataflows, the default searched mapping) on 2 local workers: its row of the table."""
    path = folder / "grid.yaml"
    path.write_text(yaml.safe_dump({
        "name": "grid1000", "arch": str(ROOT / "arch_configs" / "edge_32x32.yaml"),
        "workloads": [str(ROOT / "workloads" / "resnet50.yaml")],
        "axes": {"array.rows": [8, 16, 32, 64, 128], "array.cols": [8, 16, 32, 64, 128],
                 "buffers.ifmap.size": ["32KiB", "64KiB", "128KiB", "256KiB"],
                 "buffers.filter.size": ["16KiB", "32KiB", "64KiB", "128KiB", "256KiB"],
                 "array.dataflow": ["ws", "os"]},
        "objectives": ["latency_s", "energy_pj"]}, sort_keys=False))
    out, row = timed("1,000-point ResNet-50 grid, sweep local x2", 1000,
                     lambda: run_sweep(path, folder / "grid", executor="local", workers=2))
    row["points"] = out.computed
    return row


def worked(folder: Path, grid: bool) -> None:
    """The worked ResNet-50 example: a bare loop over its tasks vs the sweep on 2 workers (and the 1,000-point grid)."""
    spec = load_sweep_spec(ROOT / "workloads" / "sweeps" / "resnet50_array_x_sram.yaml")
    points, nets, tasks, _ = plan(spec, default_evaluator)
    simulate(points[0].arch, nets[0])  # compile or load the kernels before timing
    rows = []
    _, row = timed("simulate loop (baseline)", len(tasks),
                   lambda: [simulate(task.point.arch, nets[task.net_id]) for task in tasks])
    rows.append(row)
    forget()  # the workers start from empty memos, as in a fresh `accelsim sweep` (they are forked from this process)
    _, row = timed("sweep local x2", len(tasks), lambda: run_sweep(spec, folder / "worked", executor="local", workers=2))
    rows.append(row)
    if grid:
        forget()
        rows.append(grid_row(folder))
    table = pd.DataFrame(rows)
    table["vs_baseline"] = (table.loc[0, "seconds"] / table["seconds"] * table["points"] / table.loc[0, "points"]).round(2)
    print(f"worked example: {len(tasks)} tasks ({spec.name}), load average {os.getloadavg()[0]:.1f}")
    print(table.to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="workloads/tiny_cnn.yaml")
    parser.add_argument("--kill", type=int, default=0, help="also kill and resume the CLI sweep N times")
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--kill-only", action="store_true", help="skip the throughput table")
    parser.add_argument("--worked", action="store_true", help="the worked ResNet-50 example (docs/dse.md)")
    parser.add_argument("--grid", action="store_true", help="with --worked: also a 1,000-point ResNet-50 sweep")
    parser.add_argument("--grid-only", action="store_true", help="only the 1,000-point sweep, in this fresh process")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    if args.grid_only:
        print(f"load average {os.getloadavg()[0]:.1f}")
        print(pd.DataFrame([grid_row(folder)]).to_string(index=False))
        return
    if args.worked:
        worked(folder, args.grid)
        return
    spec_path = write_spec(folder, args.workload)
    spec = load_sweep_spec(spec_path)
    points, _ = design_points(spec)
    net = load_workload(ROOT / args.workload)
    n = len(points)
    workers = default_workers()
    rows = []
    simulate(points[0].arch, net)  # compile or load the kernels before timing
    if args.kill_only:
        straight = run_sweep(spec, folder / "serial", executor="local").points
        print(kill_check(spec_path, folder, straight, args.kill))
        return
    _, row = timed("simulate loop (baseline)", n, lambda: [simulate(p.arch, net) for p in points])
    rows.append(row)
    serial, row = timed("sweep serial", n, lambda: run_sweep(spec, folder / "serial", executor="serial"))
    rows.append(row)
    local, row = timed(f"sweep local x{workers}", n, lambda: run_sweep(spec, folder / "local", executor="local"))
    rows.append(row)
    if not args.no_dask:
        dask, row = timed(f"sweep dask LocalCluster x{workers}", n,
                          lambda: run_sweep(spec, folder / "dask", executor="dask"))
        rows.append(row)
        rows[-1]["same_table"] = dask.points.equals(serial.points)
    rows[2]["same_table"] = local.points.equals(serial.points)
    _, row = timed("resume (all stored)", n, lambda: run_sweep(spec, folder / "local", executor="local"))
    rows.append(row)
    _, row = timed("store only (no-op evaluator)", n,
                   lambda: run_sweep(spec, folder / "noop", executor="serial", evaluator=nothing))
    rows.append(row)
    table = pd.DataFrame(rows)
    base = table.loc[0, "seconds"]
    table["vs_baseline"] = (base / table["seconds"]).round(2)
    print(f"{n} design points of {args.workload}, {workers} workers, machine load {os.getloadavg()[0]:.1f}")
    print(table.to_string(index=False))
    if args.kill:
        print(kill_check(spec_path, folder, serial.points, args.kill))


if __name__ == "__main__":
    main()
