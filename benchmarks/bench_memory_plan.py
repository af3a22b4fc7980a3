"""DRAM traffic and throughput with and without the network-level memory plan (docs/memory_plan.md).

    python benchmarks/bench_memory_plan.py

Each row: one shipped arch and zoo network, ``fold`` fidelity, the fixed and the searched
mapping, with ``memory_plan=False`` (every layer reads its inputs from DRAM and writes its
output back) and with the plan (the default in native timing). TOPS = 2 x MACs / time.
Published figures to hold them against: TPU v1 runs CNN0 at about 86 TOPS (Jouppi et al.,
ISCA 2017, Table 3 / Figure 5 roofline); Eyeriss moves the data of AlexNet's five CONV layers
through DRAM in the difference between its total and processing latencies (JSSC 2017,
Table V; see benchmarks/bench_published.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's accelsim, not an installed one

import accelsim as ax

CASES = (("tpu_v1_like", "resnet50", 8), ("eyeriss_like", "alexnet", 4), ("tpu_v1_like", "gpt2_decode_kv512", 1),
         ("edge_32x32", "mobilenet_v2", 1))


def row(arch, net, mapping: str, plan: bool) -> dict:
    result = ax.simulate(arch, net, mapping=mapping, memory_plan=plan, progress=False)
    layers = result.layers[result.layers.costed]
    dram = int(layers.dram_read_bytes.sum() + layers.dram_write_bytes.sum())
    seconds = int(layers.cycles.sum()) / arch.clock_hz
    return {"arch": arch.name, "network": f"{net.name} b{net.batch}", "mapping": mapping,
            "memory_plan": "on" if plan else "off", "dram_MB": round(dram / 1e6, 1),
            "cycles": int(layers.cycles.sum()), "TOPS": float(f"{2 * int(layers.macs.sum()) / seconds / 1e12:.3g}")}


def main() -> None:
    rows = []
    for arch_name, net_name, batch in CASES:
        arch = ax.load_arch(ROOT / "arch_configs" / f"{arch_name}.yaml")
        net = ax.load_workload(ROOT / "workloads" / f"{net_name}.yaml").with_batch(batch)
        for mapping in ("fixed", "search"):
            for plan in (False, True):
                rows.append(row(arch, net, mapping, plan))
    print_markdown(pd.DataFrame(rows))


def print_markdown(frame: pd.DataFrame) -> None:
    """``frame`` as a markdown table on stdout (integers with thousands separators)."""
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(f"{v:,}" if isinstance(v, int) else str(v) for v in r) + " |"
              for r in frame.itertuples(index=False)]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
