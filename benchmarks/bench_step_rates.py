"""Steps per second of the ``cycle`` and ``pe`` fidelities, in the units ``max_steps`` counts.

Run: ``python benchmarks/bench_step_rates.py``. ``accelsim.engine.work`` estimates a layer's
steps before it runs (``cycle``: its cycles; ``pe``: PEs x compute cycles, its one PE run) and tells the user the expected time at ``STEPS_PER_SECOND``; this measures those
rates on GEMMs on edge_32x32 (warm kernels, best of 3) and prints them next to the constants.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accelsim import load_arch, simulate  # noqa: E402
from accelsim.engine import work  # noqa: E402
from accelsim.spec.load import network_from_dict  # noqa: E402


def rate(arch, fidelity: str, m: int) -> float:
    net = network_from_dict({"name": "g", "layers": [{"op": "gemm", "name": "g", "m": m, "n": 256, "k": 256}]})
    fold = simulate(arch, net, "fold").layers.iloc[0]
    steps = work.step_estimate(int(fold.cycles), int(fold.compute_cycles), arch, fidelity)
    simulate(arch, net, fidelity, progress=False)  # warm-up
    best = min(_timed(arch, net, fidelity) for _ in range(3))
    return steps / best


def _timed(arch, net, fidelity: str) -> float:
    start = time.perf_counter()
    simulate(arch, net, fidelity, progress=False)
    return time.perf_counter() - start


def main() -> None:
    arch = load_arch(ROOT / "arch_configs" / "edge_32x32.yaml")
    for fidelity, m in (("cycle", 4096), ("pe", 512)):
        print(f"{fidelity:5s} gemm {m}x256x256: {rate(arch, fidelity, m):.3g} {work.STEP_UNITS[fidelity]}/s "
              f"(STEPS_PER_SECOND: {work.STEPS_PER_SECOND[fidelity]:.3g})")


if __name__ == "__main__":
    main()
