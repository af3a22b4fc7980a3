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
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import accelsim as ax  # noqa: E402
from accelsim.spec.load import network_from_dict  # noqa: E402
from bench_systolic import SCALESIM_PY, model_seconds, warm_seconds  # noqa: E402

RESNET18 = ROOT / "workloads" / "scalesim" / "Resnet18.csv"
REPEATS = 5   # warm runs timed; the fastest is printed
# accelsim column -> (SCALE-Sim report, column index after LayerID)
EXACT = {"cycles": ("COMPUTE", 1), "stall_cycles": ("COMPUTE", 2), "cycles_incl_prefetch": ("COMPUTE", 0),
         "ifmap_dram_reads": ("DETAILED_ACCESS", 11), "filter_dram_reads": ("DETAILED_ACCESS", 14),
         "ofmap_dram_writes": ("DETAILED_ACCESS", 17)}


def cfg_text(size: int, dataflow: str, mode: str, bw: int) -> str:
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
        Bandwidth: {bw}
        Dataflow: {dataflow}
        MemoryBanks: 1
        ReadRequestBuffer: 32
        WriteRequestBuffer: 32
        [layout]
        IfmapCustomLayout: False
        IfmapSRAMBankBandwidth: {bw}
        IfmapSRAMBankNum: 1
        IfmapSRAMBankPort: 2
        FilterCustomLayout: False
        FilterSRAMBankBandwidth: {bw}
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


def subset(net, arch, budget_rows: int):
    """Layers of ``net`` in order, skipping any that would take the demand rows past ``budget_rows``.

    ``arch``: a CALC-mode arch (the demand rows, Total - Stall + 1, are the same in both modes).
    """
    res = ax.simulate(arch, net).layers
    rows = (res.compute_cycles + 1).astype(int).tolist()
    layers, total = [], 0
    for layer, n in zip(net.layers, rows):
        if total + n <= budget_rows:
            layers.append(layer)
            total += n
    return network_from_dict({"name": "subset", "layers": [
        {"op": "conv2d", "name": l.name, "in_channels": l.in_channels, "out_channels": l.out_channels,
         "in_h": l.in_h, "in_w": l.in_w, "kernel": list(l.kernel), "stride": list(l.stride)} for l in layers]}), total


def run_scalesim(cfg: Path, net, workdir: Path) -> tuple[float, dict[str, list[int]]]:
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
    columns = {ours: [int(row[index]) for row in reports[report]] for ours, (report, index) in EXACT.items()}
    return float(out.stdout.split()[-1]), columns


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
                paths[mode].write_text(cfg_text(args.size, dataflow, mode, args.bw))
            user, calc = ax.load_arch(paths["USER"]), ax.load_arch(paths["CALC"])
            net, rows = subset(resnet, calc, args.rows)
            ours = warm_seconds(user, net, REPEATS)
            model = model_seconds(user, net.layers, REPEATS)
            calc_model = model_seconds(calc, net.layers, REPEATS)
            got = ax.simulate(user, net).layers
            theirs, want = run_scalesim(paths["USER"], net, work)
        mismatched = [c for c in EXACT if [int(v) for v in got[c]] != want[c]]
        verdict = "all equal" if not mismatched else f"DIFFER in {mismatched}"
        print(f"{dataflow:3s} {len(net.layers):6d} {rows:7,d} {int(got.stall_cycles.sum()):8,d} {theirs:11.1f} "
              f"{ours * 1e3:11.1f} {theirs / ours:6,.0f}x {model * 1e3:9.1f} {theirs / model:6,.0f}x "
              f"{calc_model * 1e3:8.1f} {model / calc_model:8.1f}x {verdict}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
