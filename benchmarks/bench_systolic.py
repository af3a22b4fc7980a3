#!/usr/bin/env python3
"""Speed of the systolic ``fold`` fidelity on whole networks, optionally against SCALE-Sim 3.0.0.

    python benchmarks/bench_systolic.py                 # accelsim only
    python benchmarks/bench_systolic.py --scalesim      # + SCALE-Sim on a subset, ratio, cycle check
    python benchmarks/bench_systolic.py --skip-table --scalesim --scalesim-network ResNet-50 --scalesim-rows 0
                                                        # + SCALE-Sim on the whole network (~10 min per run)

For ResNet-18 and ResNet-50 (SCALE-Sim's topologies, ``workloads/scalesim/``) on 32x32 and
128x128 arrays with 64 KiB per-operand SRAMs, each dataflow, in both timing models (``native``
with unlimited DRAM bandwidth, and ``scalesim`` = SCALE-Sim's CALC mode, whose exact DRAM counts
need a walk over the demand stream of every overlapping-window conv):

* ``warm ms``: one whole network through ``simulate`` (best of ``--repeats``, default 5: the
  machine is shared, and the fastest run is the least disturbed one); ``+frames ms``: the same
  with the result's DataFrames read (``Result`` builds them on first access);
* ``model ms``: the timing model alone, ``engine.fold.run_layer`` on each distinct layer shape
  as ``simulate`` runs them, without result frames and energy;
* the numba compile time (a fresh process with an empty cache) and the peak memory of one warm run;
* the zoo's ResNet-50 (array and vector layers) on edge_32x32, tpu_v1_like and scalesim_32x32_ws (or
  ``--zoo-archs``) at batch 1 and 256, timed in turn (best of ``--repeats`` each), and their ratio.

With ``--scalesim``: SCALE-Sim runs in its own venv (``/tmp/venv-scalesim``). It steps one demand
row at a time (~1e4 rows/s), so by default it runs on the ResNet-18 layers (in order, skipping any that would not
fit) whose demand rows add up to at most ``--scalesim-rows`` (default 150,000, a few tens of seconds per dataflow);
``--scalesim-rows 0`` runs the whole network (``--scalesim-network``). accelsim runs the same layers, the speed ratio
is for those layers, and cycles are checked for equality.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import accelsim as ax  # noqa: E402
from accelsim.engine.fold import run_layer  # noqa: E402
from accelsim.spec.load import arch_from_dict, network_from_dict  # noqa: E402

SCALESIM_PY = Path("/tmp/venv-scalesim/bin/python")
NETWORKS = {"ResNet-18": ROOT / "workloads" / "scalesim" / "Resnet18.csv",
            "ResNet-50": ROOT / "workloads" / "scalesim" / "Resnet50.csv"}


def make_arch(size: int, dataflow: str, timing: str):
    return arch_from_dict({"name": f"{size}x{size}-{dataflow}", "timing_model": timing,
                           "array": {"rows": size, "cols": size, "dataflow": dataflow},
                           "buffers": {op: {"size": "64KiB"} for op in ("ifmap", "filter", "ofmap")}})


ZOO_ARCHS = ("edge_32x32", "tpu_v1_like", "scalesim_32x32_ws")
"""Archs of the zoo's batch table by default (``--zoo-archs``)."""


def warm_seconds(arch, net, repeats: int, frames: bool = False) -> float:
    """Best time of ``simulate(arch, net)`` after a first call; ``frames``: reading ``layers`` and ``summary`` too."""
    def run() -> None:
        result = ax.simulate(arch, net)
        if frames:
            result.layers, result.summary  # built on first access

    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def alternate_warm_seconds(arch, nets, repeats: int) -> list[float]:
    """Best time of ``simulate(arch, net)`` for each of ``nets``, after a first call, the networks
    timed in turn ``repeats`` times: each sees the same machine load, so their ratio holds."""
    for net in nets:
        ax.simulate(arch, net)
    best = [float("inf")] * len(nets)
    for _ in range(repeats):
        for i, net in enumerate(nets):
            start = time.perf_counter()
            ax.simulate(arch, net)
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def model_seconds(arch, layers, repeats: int) -> float:
    """Warm time of the timing model alone: ``engine.fold.run_layer`` on each distinct layer shape (as
    ``simulate`` runs them), no result frames."""
    layers = list({dataclasses.replace(layer, name=""): layer for layer in layers}.values())
    for layer in layers:
        run_layer(layer, arch)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for layer in layers:
            run_layer(layer, arch)
        times.append(time.perf_counter() - start)
    return min(times)


def peak_bytes(arch, net) -> int:
    tracemalloc.start()
    ax.simulate(arch, net)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def compile_seconds() -> float:
    """First simulate() of each timing model in a fresh process with an empty numba cache."""
    code = textwrap.dedent(f"""
        import time, sys
        sys.path.insert(0, {str(ROOT)!r})
        import accelsim as ax
        from accelsim.spec.load import arch_from_dict, network_from_dict
        net = network_from_dict({{"name": "n", "layers": [{{"op": "gemm", "name": "g", "m": 8, "n": 8, "k": 8}}]}})
        start = time.perf_counter()
        for timing in ("native", "scalesim"):
            ax.simulate(arch_from_dict({{"name": "a", "timing_model": timing, "array": {{"rows": 4, "cols": 4}},
                        "buffers": {{op: {{"size": "64KiB"}} for op in ("ifmap", "filter", "ofmap")}}}}), net)
        print(time.perf_counter() - start)
    """)
    with tempfile.TemporaryDirectory() as cache:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={**os.environ, "NUMBA_CACHE_DIR": cache})
    return float(out.stdout.split()[-1])


def scalesim_cfg(size: int, dataflow: str, mode: str = "CALC", bandwidth: int = 10) -> str:
    """A SCALE-Sim 3.0.0 config: ``size`` x ``size``, 64 KiB per operand, ``bandwidth`` words/cycle."""
    return textwrap.dedent(f"""\
        [general]
        run_name = bench
        [architecture_presets]
        ArrayHeight: {size}
        ArrayWidth: {size}
        IfmapSramSzkB: 64
        FilterSramSzkB: 64
        OfmapSramSzkB: 64
        IfmapOffset: 0
        FilterOffset: 10000000
        OfmapOffset: 20000000
        Bandwidth: {bandwidth}
        Dataflow: {dataflow}
        MemoryBanks: 1
        ReadRequestBuffer: 32
        WriteRequestBuffer: 32
        [layout]
        IfmapCustomLayout: False
        IfmapSRAMBankBandwidth: {bandwidth}
        IfmapSRAMBankNum: 1
        IfmapSRAMBankPort: 2
        FilterCustomLayout: False
        FilterSRAMBankBandwidth: {bandwidth}
        FilterSRAMBankNum: 1
        FilterSRAMBankPort: 2
        [sparsity]
        SparsitySupport: false
        SparseRep: ellpack_block
        OptimizedMapping: false
        BlockSize: 8
        RandomNumberGeneratorSeed: 40
        [run_presets]
        InterfaceBandwidth: {mode}
        UseRamulatorTrace: False
        """)


def scalesim_subset(net, calc_arch, budget_rows: int):
    """``(network or None, demand rows)``: the layers of ``net`` in order, skipping any that would take
    the demand rows past ``budget_rows`` (0: no limit). ``calc_arch``: a scalesim-timing arch (the
    demand rows, Total - Stall + 1, are the same in both bandwidth modes)."""
    rows = (ax.simulate(calc_arch, net).layers.compute_cycles + 1).astype(int).tolist()
    layers, total = [], 0
    for layer, n in zip(net.layers, rows):
        if budget_rows == 0 or total + n <= budget_rows:
            layers.append(layer)
            total += n
    if not layers:
        return None, 0
    return network_from_dict({"name": "subset", "layers": [
        {"op": "conv2d", "name": l.name, "in_channels": l.in_channels, "out_channels": l.out_channels,
         "in_h": l.in_h, "in_w": l.in_w, "kernel": list(l.kernel), "stride": list(l.stride)} for l in layers]}), total


def run_scalesim(cfg: Path, net, workdir: Path) -> tuple[float, dict[str, list[list[float]]]]:
    """SCALE-Sim 3.0.0 on ``net``'s conv layers in its venv: wall seconds of ``run_scale`` and the
    rows of its COMPUTE and DETAILED_ACCESS reports (values after LayerID, as floats)."""
    topo = workdir / "topo.csv"
    topo.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
                    + "".join(f"{l.name},{l.in_h},{l.in_w},{l.kernel[0]},{l.kernel[1]},{l.in_channels},"
                              f"{l.out_channels},{l.stride[0]},\n" for l in net.layers))
    layout = workdir / "layout.csv"
    layout.write_text("Layer name,\n")
    code = textwrap.dedent(f"""
        import time
        from scalesim.scale_sim import scalesim
        s = scalesim(save_disk_space=True, verbose=False, config={str(cfg)!r}, topology={str(topo)!r},
                     layout={str(layout)!r}, input_type_gemm=False)
        start = time.perf_counter()
        s.run_scale(top_path={str(workdir / 'out')!r})
        print(time.perf_counter() - start)
    """)
    out = subprocess.run([str(SCALESIM_PY), "-c", code], capture_output=True, text=True, check=True, cwd=workdir)
    reports = {}
    for name in ("COMPUTE", "DETAILED_ACCESS"):
        lines = (workdir / "out" / "bench" / f"{name}_REPORT.csv").read_text().splitlines()[1:]
        reports[name] = [[float(x) for x in line.split(",")[1:] if x.strip()] for line in lines if line.strip()]
    return float(out.stdout.split()[-1]), reports


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scalesim", action="store_true", help="also run SCALE-Sim 3.0.0 on a subset")
    parser.add_argument("--skip-table", action="store_true", help="skip the accelsim-only table")
    parser.add_argument("--repeats", type=int, default=5, help="warm runs per figure; the fastest is reported")
    parser.add_argument("--zoo-archs", nargs="+", default=list(ZOO_ARCHS),
                        help="shipped archs (arch_configs/<name>.yaml) of the zoo's ResNet-50 batch table")
    parser.add_argument("--scalesim-rows", type=int, default=150_000,
                        help="demand-row budget per SCALE-Sim run (0: the whole network)")
    parser.add_argument("--scalesim-network", choices=sorted(NETWORKS), default="ResNet-18",
                        help="network whose layers SCALE-Sim runs")
    parser.add_argument("--scalesim-sizes", type=int, nargs="+", default=[32, 128], help="array sizes to run")
    parser.add_argument("--scalesim-dataflows", nargs="+", choices=["os", "ws", "is"], default=["os", "ws", "is"],
                        help="dataflows to run")
    args = parser.parse_args()

    print(f"numba compile (fresh process, empty cache, both timing models): {compile_seconds():.2f} s")
    _zoo_table(args.zoo_archs, args.repeats)
    for name, path in ({} if args.skip_table else NETWORKS).items():
        _table_header(name == "ResNet-18")
        _table(name, path, args.repeats)
    if not args.scalesim:
        return 0
    return _versus_scalesim(args.scalesim_network, args.scalesim_sizes, args.scalesim_dataflows, args.scalesim_rows,
                            args.repeats)


def _zoo_table(archs: list[str], repeats: int) -> None:
    """The zoo's ResNet-50 (with its 67 vector layers) on shipped archs, warm, at batch 1 and 256:
    the batch ratio shows whether a run's cost grows with the batch (it should not: the folds do not)."""
    print(f"\nResNet-50 (workloads/resnet50.yaml), fold fidelity, warm simulate() (best of {repeats}), "
          f"load average {os.getloadavg()[0]:.1f}:")
    print(f"{'arch':20s} {'batch 1 ms':>10s} {'batch 256 ms':>12s} {'256 / 1':>8s}")
    for name in archs:
        arch = ax.load_arch(ROOT / "arch_configs" / f"{name}.yaml")
        one, many = alternate_warm_seconds(arch, [ax.load_workload(ROOT / "workloads" / "resnet50.yaml", batch=batch)
                                                  for batch in (1, 256)], repeats)
        print(f"{name:20s} {one * 1e3:10.1f} {many * 1e3:12.1f} {many / one:8.2f}", flush=True)


def _table_header(first: bool) -> None:
    if first:
        print(f"\n{'network':10s} {'array':8s} {'df':3s} {'timing':9s} {'warm ms':>9s} {'+frames ms':>10s} {'model ms':>9s} "
              f"{'peak MiB':>9s} {'cycles':>12s}")


def _table(name: str, path: Path, repeats: int) -> None:
    net = ax.load_workload(path)
    for size in (32, 128):
        for dataflow in ("os", "ws", "is"):
            for timing in ("native", "scalesim"):
                arch = make_arch(size, dataflow, timing)
                seconds = warm_seconds(arch, net, repeats)
                framed = warm_seconds(arch, net, repeats, frames=True)
                model = model_seconds(arch, net.layers, repeats)
                peak = peak_bytes(arch, net) / 2**20
                cycles = ax.simulate(arch, net).cycles
                print(f"{name:10s} {size}x{size:<5d} {dataflow:3s} {timing:9s} {seconds * 1e3:9.1f} {framed * 1e3:10.1f} "
                      f"{model * 1e3:9.1f} {peak:9.2f} {cycles:12,d}", flush=True)


def _versus_scalesim(network: str, sizes: list[int], dataflows: list[str], budget_rows: int, repeats: int) -> int:
    if not SCALESIM_PY.exists():
        print(f"\n{SCALESIM_PY} is missing. Create SCALE-Sim's venv with:\n"
              "  python3 -m venv /tmp/venv-scalesim && /tmp/venv-scalesim/bin/pip install scalesim==3.0.0 numpy==2.3.5")
        return 1
    scope = "all layers" if budget_rows == 0 else f"layers up to {budget_rows:,} demand rows per run"
    print(f"\nSCALE-Sim 3.0.0 (CALC) vs accelsim scalesim timing, {network}, {scope}:")
    print(f"{'array':8s} {'df':3s} {'layers':>6s} {'rows':>9s} {'SCALE-Sim s':>11s} {'accelsim ms':>11s} "
          f"{'ratio':>9s} {'model ms':>9s} {'ratio':>9s} cycles")
    full = ax.load_workload(NETWORKS[network])
    for size in sizes:
        for dataflow in dataflows:
            with tempfile.TemporaryDirectory() as tmp:
                cfg = Path(tmp) / "arch.cfg"
                cfg.write_text(scalesim_cfg(size, dataflow))
                arch = ax.load_arch(cfg)
                net, rows = scalesim_subset(full, arch, budget_rows)
                if net is None:
                    continue
                ours = warm_seconds(arch, net, repeats)
                model = model_seconds(arch, net.layers, repeats)
                our_cycles = [int(c) for c in ax.simulate(arch, net).layers.cycles]
                theirs, reports = run_scalesim(cfg, net, Path(tmp))
            their_cycles = [int(row[1]) for row in reports["COMPUTE"]]     # Total Cycles
            same = "identical" if our_cycles == their_cycles else f"DIFFER {our_cycles} vs {their_cycles}"
            print(f"{size}x{size:<5d} {dataflow:3s} {len(net.layers):6d} {rows:9,d} {theirs:11.1f} {ours * 1e3:11.2f} "
                  f"{theirs / ours:9,.0f}x {model * 1e3:9.2f} {theirs / model:9,.0f}x {same}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
