#!/usr/bin/env python3
"""Mapper benchmark: search time per network and what the searched mapping gains over the fixed one.

    python benchmarks/bench_mapper.py                       # the zoo on edge_32x32 and tpu_v1_like
    python benchmarks/bench_mapper.py --archs edge_32x32 --workloads resnet50 --objective edp

For each (arch, network): the mapper's time for the whole network with an empty memo (cold, the
median of ``--repeats`` runs, each after clearing the memo; numba is compiled beforehand), and,
as the baseline in the same run, the same branch and bound with every candidate evaluated by
the engine (``mapped_schedule`` then ``schedule_counts``, the path before the mapper's kernels):
their ratio, and whether both chose the same mapping with the same cycles and energy for every
layer ("same"). Then ``simulate(..., mapping="fixed")`` vs ``mapping="search"``: total cycles and
energy and their ratios (search / fixed), mappings evaluated / mappings in the space, and how
many array layers' fixed mapping does not fit the buffers (the searched one always does).

The cycle and energy ratios compare the fixed mapping's numbers even where its tiles exceed the
buffers: that mapping is not physically realisable, so its numbers are optimistic about capacity
(``docs/mapper.md``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import accelsim as ax  # noqa: E402
from accelsim.engine.fold import schedule_counts  # noqa: E402
from accelsim.lower.gemm import lower_layer  # noqa: E402
from accelsim.mapper.gemm import clear_search_memos, search  # noqa: E402
from accelsim.lower.tiling import fixed_schedule  # noqa: E402
from accelsim.spec.options import Objective  # noqa: E402
from accelsim.simulate import hardware_rate  # noqa: E402

WORKLOADS = ("resnet18", "resnet50", "mobilenet_v2", "vgg16", "alexnet", "bert_base", "vit_b16")
ARCHS = ("edge_32x32", "tpu_v1_like")


def engine_counts(schedule, arch):
    """``schedule_counts`` under another name: the search then builds and runs every candidate's schedule."""
    return schedule_counts(schedule, arch)


def map_network(arch, net, objective: Objective, evaluate=schedule_counts) -> tuple[int, int, dict]:
    """Search every array layer (memo kept within the network): (evaluated, space, choices by layer)."""
    evaluated = space = 0
    choices = {}
    for layer in net.layers:
        problem = lower_layer(layer, arch.timing_model)
        if problem is None:
            continue
        hits = search.cache_info().hits
        choice = search(problem, arch, evaluate, objective=objective, rate=hardware_rate(layer, arch),
                        weight_bits=layer.compression.weight_bits, act_bits=layer.compression.act_bits)
        if search.cache_info().hits == hits:
            evaluated, space = evaluated + choice.evaluated, space + choice.candidates
        choices[layer.name] = (choice.mapping, choice.cycles, choice.energy_pj)
    return evaluated, space, choices


def cold_seconds(arch, net, objective: Objective, evaluate, repeats: int) -> tuple[float, tuple]:
    """Median time of :func:`map_network` with an empty memo, and its result."""
    times = []
    for _ in range(repeats):
        clear_search_memos()
        start = time.perf_counter()
        result = map_network(arch, net, objective, evaluate)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def unfit_fixed(arch, net) -> int:
    """Array layers whose fixed mapping exceeds a buffer."""
    unfit = 0
    for layer in net.layers:
        problem = lower_layer(layer, arch.timing_model)
        if problem is not None:
            unfit += not fixed_schedule(problem, arch, rate=hardware_rate(layer, arch),
                                        weight_bits=layer.compression.weight_bits,
                                        act_bits=layer.compression.act_bits).fits_buffers
    return unfit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archs", nargs="+", default=list(ARCHS))
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS))
    parser.add_argument("--objective", choices=[o.value for o in Objective], default="cycles")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    objective = Objective(args.objective)

    warm_arch = ax.load_arch(ROOT / "arch_configs" / "edge_32x32.yaml")
    ax.simulate(warm_arch, ax.load_workload(ROOT / "workloads" / "tiny_cnn.yaml"), mapping="search")  # compile

    header = (f"{'arch':<12} {'network':<13} {'layers':>6} {'map ms':>7} {'engine ms':>9} {'ratio':>6} {'same':>4} "
              f"{'fixed sim ms':>12} {'evaluated':>13} {'unfit fixed':>11} {'cycles fixed':>14} {'cycles search':>14} "
              f"{'cyc x':>6} {'energy x':>8}")
    print(f"objective: {objective.value}; load average {os.getloadavg()[0]:.1f}\n{header}\n{'-' * len(header)}")
    for arch_name in args.archs:
        arch = ax.load_arch(ROOT / "arch_configs" / f"{arch_name}.yaml")
        for workload in args.workloads:
            net = ax.load_workload(ROOT / "workloads" / f"{workload}.yaml")
            map_s, (evaluated, space, choices) = cold_seconds(arch, net, objective, schedule_counts, args.repeats)
            engine_s, (_, _, engine_choices) = cold_seconds(arch, net, objective, engine_counts, 1)
            start = time.perf_counter()
            fixed = ax.simulate(arch, net, mapping="fixed")
            fixed_s = time.perf_counter() - start
            searched = ax.simulate(arch, net, mapping="search", objective=objective.value)
            f, s = fixed.summary.iloc[0], searched.summary.iloc[0]
            array_layers = int(searched.layers["mapping"].notna().sum())
            same = "yes" if choices == engine_choices else "NO"
            print(f"{arch_name:<12} {workload:<13} {array_layers:>6} {map_s * 1e3:>7.0f} {engine_s * 1e3:>9.0f} "
                  f"{map_s / engine_s:>6.3f} {same:>4} {fixed_s * 1e3:>12.0f} {f'{evaluated}/{space}':>13} "
                  f"{unfit_fixed(arch, net):>11} {int(f['cycles']):>14,} {int(s['cycles']):>14,} "
                  f"{s['cycles'] / f['cycles']:>6.3f} {s['energy_pj'] / f['energy_pj']:>8.3f}")


if __name__ == "__main__":
    main()
