"""Does each layer's mapping fit next to what the memory plan keeps on chip? (docs/memory_plan.md)

    python benchmarks/bench_plan_space.py [--archs tpu_v1_like eyeriss_like]

For every array layer of every zoo network (``workloads/*.yaml`` at batch 1, ResNet-50 also at
batch 8 as in docs/memory_plan.md), ``fold`` fidelity, the default run (searched mappings for
cycles, memory plan on): the bytes of other tensors the plan keeps in the activation pool
across the layer (tensors the layer neither reads nor writes; counted here from the plan's
``LayerTraffic`` and the graph, independently of ``LayerTraffic.resident_other_bytes``), plus
the rooms of the mapping the layer ran (``lower.tiling.buffer_rooms`` on the arch the layer ran
on, each doubled when double-buffered, in bytes at the operand's width; only the operands that
live in the pool), against the pool's capacity. A layer *overflows* when the sum exceeds it.

Columns: array layers; ``kept>0``: layers with other tensors resident; ``over``: overflowing
layers (``over joint``: of them, mappings that allocate a unified buffer jointly; the others
run equal shares, whose rooms are the whole shares); ``max over kB`` / ``sum over kB``: by how
much; ``over in place``: layers that overflow when the layer's own tensors the plan keeps on
chip (its input, a matmul's second operand, its output) are counted at their full size where
that exceeds the operand's room (the plan reads and writes them in place; the mapper sizes only
its rooms). Runs this checkout's accelsim: copy it into an older checkout to compare (there,
without ``memory_plan.resident_arch``, every layer ran on the whole arch).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's accelsim

import accelsim as ax  # noqa: E402
from bench_memory_plan import print_markdown  # noqa: E402  (this folder is on sys.path: run as a script)
from accelsim.lower import memory_plan as mp  # noqa: E402
from accelsim.lower.gemm import lower_layer  # noqa: E402
from accelsim.lower.tiling import LoopOrder, Mapping, buffer_rooms, fixed_mapping  # noqa: E402
from accelsim.simulate import hardware_rate  # noqa: E402
from accelsim.spec.arch import OPERANDS, Dataflow  # noqa: E402
from accelsim.spec.workload import MatMul  # noqa: E402


def resident_other(net, arch, plan) -> list[int]:
    """Per layer: bytes of stored tensors kept on chip across it that it neither reads nor writes."""
    sources = mp.operand_sources(net)
    producers = [tuple(s for s, _ in operands) for operands in sources]
    fused = mp.fused_layers(net, arch, producers)
    count = len(net.layers)
    out = [0] * count
    for last in range(count):
        if last + 1 < count and fused[last + 1]:
            continue  # not stored: its value rides on to the next fused op
        start = last
        while fused[start]:
            start -= 1
        readers = {j for j in range(count) for o, s in enumerate(producers[j])
                   if s == last and not (o == 0 and fused[j])}
        kept = plan[start].output_kept_bytes
        if not readers or not kept:
            continue
        for layer in range(start, max(readers) + 1):
            if not start <= layer <= last and layer not in readers:
                out[layer] += kept
    return out


def parse_mapping(text: str) -> Mapping:
    """A :class:`Mapping` from its ``describe()`` string (``ws tcr t=392 db=if ub=joint``)."""
    parts = text.split()
    tile = parts[2].removeprefix("t=")
    db = parts[3].removeprefix("db=")
    return Mapping(Dataflow(parts[0]), LoopOrder(parts[1]), None if tile == "T" else int(tile),
                   tuple(name[0] in db for name in OPERANDS), "ub=joint" in parts)


def pool(arch) -> tuple[int, tuple[bool, bool, bool]]:
    """The activation pool's bytes and which operands live in it."""
    buffers = {id(arch.buffers.for_operand(op)): arch.buffers.for_operand(op) for op in ("ifmap", "ofmap")}
    ids = set(buffers)
    inside = tuple(id(arch.buffers.for_operand(op)) in ids for op in OPERANDS)
    return sum(b.size_bytes for b in buffers.values()), inside


def room_bytes(layer, arch, mapping) -> list[int]:
    """Per operand (ifmap, filter, ofmap), bytes of the pool its room takes (doubled when
    double-buffered; 0 for an operand outside the pool)."""
    problem = lower_layer(layer, arch.timing_model)
    bits = layer.compression
    weight, act = bits.weight_precision.bits, bits.act_precision.bits
    rooms = buffer_rooms(problem, arch, mapping, rate=hardware_rate(layer, arch), weight_bits=weight, act_bits=act)
    _, inside = pool(arch)
    per = (rooms.ifmap * act, rooms.filter * weight, max(rooms.out * act, rooms.psum * arch.mac.accumulator_bits))
    return [-(-need // 8) * (2 if db else 1) if held else 0
            for need, db, held in zip(per, mapping.double_buffered, inside)]


def own_kept(layer, traffic) -> list[int]:
    """Per operand (ifmap, filter, ofmap), bytes of the layer's own tensors the plan keeps on chip:
    its input, a matmul's second operand, its output."""
    second = traffic.operand_chip_bytes[1] if isinstance(layer, MatMul) else 0
    return [traffic.operand_chip_bytes[0], second, traffic.output_kept_bytes]


def layer_arch(arch, held: int):
    """The arch a layer ran on: the plan's reduced arch where this checkout has one."""
    reduce = getattr(mp, "resident_arch", None)
    return arch if reduce is None else reduce(arch, held)


def measure(arch, net) -> dict:
    result = ax.simulate(arch, net, progress=False)
    plan = mp.plan_memory(net, arch)
    held = resident_other(net, arch, plan)
    if hasattr(plan[0], "resident_other_bytes"):
        assert held == [t.resident_other_bytes for t in plan], "LayerTraffic.resident_other_bytes disagrees"
    capacity, _ = pool(arch)
    over, layers, kept, joint, in_place = [], 0, 0, 0, 0
    for i, layer in enumerate(net.layers):
        if not mp.is_array_layer(layer, arch):
            continue
        layers += 1
        kept += held[i] > 0
        text = result.layers["mapping"].iloc[i] if "mapping" in result.layers else None
        mapping = parse_mapping(text) if isinstance(text, str) else fixed_mapping(arch)
        rooms = room_bytes(layer, layer_arch(arch, held[i]), mapping)
        excess = held[i] + sum(rooms) - capacity
        if excess > 0:
            over.append(excess)
            joint += mapping.joint_buffer
        in_place += held[i] + sum(map(max, rooms, own_kept(layer, plan[i]))) > capacity
    costed = result.layers[result.layers.costed]
    dram = int(costed.dram_read_bytes.sum() + costed.dram_write_bytes.sum())
    return {"arch": arch.name, "network": f"{net.name} b{net.batch}", "array layers": layers, "kept>0": kept,
            "over": len(over), "over joint": joint, "max over kB": round(max(over, default=0) / 1e3, 1),
            "sum over kB": round(sum(over) / 1e3, 1), "over in place": in_place,
            "cycles": int(costed.cycles.sum()), "DRAM MB": round(dram / 1e6, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", nargs="+", default=["tpu_v1_like", "eyeriss_like"])
    args = parser.parse_args()
    rows = []
    for arch_name in args.archs:
        arch = ax.load_arch(ROOT / "arch_configs" / f"{arch_name}.yaml")
        for path in sorted((ROOT / "workloads").glob("*.yaml")):
            if path.stem == "tiny_cnn":
                continue
            net = ax.load_workload(path)
            rows.append(measure(arch, net))
            if path.stem == "resnet50":
                rows.append(measure(arch, net.with_batch(8)))
    print_markdown(pd.DataFrame(rows))


if __name__ == "__main__":
    main()
