#!/usr/bin/env python3
"""Cold start: the numba compile time of each kernel family, in a fresh process with an empty cache.

    python benchmarks/bench_compile.py      # ~1-2 min

Runs one tiny ``simulate()`` per family in a subprocess whose numba cache starts empty, in the
order below (each step compiles only its own kernels: the earlier ones are cached by then), and
prints the seconds each first call took beyond a warm one, and the load average. These are the
estimates ``accelsim.engine.kernel_cache.FAMILIES`` holds for the "compiling kernels, once: ~N s"
notice; the cold start of a whole run is checked at the end (ResNet-50 on edge_32x32, fold).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, ROOT)
    import accelsim as ax
    from accelsim.spec.load import arch_from_dict, network_from_dict

    def arch(**extra):
        spec = {"name": "a", "array": {"rows": 4, "cols": 4},
                "buffers": {op: {"size": "64KiB"} for op in ("ifmap", "filter", "ofmap")},
                "vector_unit": {"lanes": 8}}
        return arch_from_dict(spec | extra)

    gemm = network_from_dict({"name": "g", "layers": [{"op": "gemm", "name": "g", "m": 8, "n": 8, "k": 8}]})
    relu = network_from_dict({"name": "r", "layers": [{"op": "relu", "name": "r", "shape": [8, 8]}]})
    user = {"timing_model": "scalesim", "scalesim": {"bandwidth_mode": "user"}, "dram": {"bandwidth": "10B/cycle"}}
    steps = [
        ("fold_native", arch(), gemm, "fold"),
        ("vector", arch(), relu, "fold"),
        ("scalesim_calc", arch(timing_model="scalesim"), gemm, "fold"),
        ("scalesim_user", arch(**user), gemm, "fold"),
        ("cycle", arch(), gemm, "cycle"),
        ("pe_stationary", arch(), gemm, "pe"),
        ("pe_os", arch(array={"rows": 4, "cols": 4, "dataflow": "os"}), gemm, "pe"),
    ]
    out = {}
    for name, a, net, fidelity in steps:
        start = time.perf_counter()
        ax.simulate(a, net, fidelity, progress=False)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        ax.simulate(a, net, fidelity, progress=False)
        out[name] = cold - (time.perf_counter() - start)
    print(json.dumps(out))
""")

WHOLE = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, ROOT)
    import accelsim as ax
    arch, net = ax.load_arch(ROOT + "/arch_configs/edge_32x32.yaml"), ax.load_workload(ROOT + "/workloads/resnet50.yaml")
    start = time.perf_counter()
    ax.simulate(arch, net)
    print(time.perf_counter() - start)
""")


def fresh(code: str) -> str:
    with tempfile.TemporaryDirectory() as cache:
        run = subprocess.run([sys.executable, "-c", f"ROOT = {str(ROOT)!r}\n" + code], capture_output=True,
                             text=True, check=True, env={**os.environ, "NUMBA_CACHE_DIR": cache})
    return run.stdout.split("\n")[-2]


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.2f}")
    for name, seconds in json.loads(fresh(CHILD)).items():
        print(f"{name:15s} {seconds:6.1f} s")
    print(f"ResNet-50 on edge_32x32, fold, first simulate() with an empty cache: {float(fresh(WHOLE)):.1f} s "
          f"(load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
