"""Each searched layer's mapping fits next to what the memory plan keeps on chip across it
(docs/memory_plan.md, "What the mapper leaves alone"), on the shipped single-array archs whose
operands share a unified buffer x the zoo, ``fold`` fidelity, default run (searched mappings).

For every array layer: the bytes of other tensors kept across it (walked here from the graph and
the plan's kept outputs, and equal to ``LayerTraffic.resident_other_bytes``) plus the rooms of the
mapping it ran (``buffer_rooms`` on the arch it ran on, each doubled when double-buffered, in bytes
at the operand's width, for the operands that live in the activation pool) fit the pool.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from accelsim import load_arch, load_workload, simulate
from accelsim.lower.gemm import lower_layer
from accelsim.lower.memory_plan import fused_layers, is_array_layer, operand_producers, plan_memory, resident_arch
from accelsim.lower.tiling import LoopOrder, Mapping, buffer_rooms
from accelsim.simulate import hardware_rate
from accelsim.spec.arch import OPERANDS, Dataflow

ROOT = Path(__file__).resolve().parents[2]
ARCHS = ["tpu_v1_like", "eyeriss_like", "bit_serial_like"]
ZOO = ["resnet18", "resnet50", "mobilenet_v2", "vgg16", "alexnet", "vit_b16", "bert_base", "gpt2_decode_kv512"]
CASES = [(arch, net, 1) for arch in ARCHS for net in ZOO] + [(arch, "resnet50", 8) for arch in ARCHS]


def held_across(net, arch, plan) -> list[int]:
    """Per layer: bytes of stored tensors kept on chip across it that it neither produces nor reads."""
    producers = operand_producers(net)
    fused = fused_layers(net, arch, producers)
    held = [0] * len(net.layers)
    for last in range(len(net.layers)):
        if last + 1 < len(net.layers) and fused[last + 1]:
            continue  # rides on the output path to the next op: not stored
        start = last
        while fused[start]:
            start -= 1
        readers = {j for j, sources in enumerate(producers) for o, s in enumerate(sources)
                   if s == last and not (o == 0 and fused[j])}
        for layer in range(last + 1, max(readers, default=last) + 1):
            held[layer] += 0 if layer in readers else plan[start].output_kept_bytes
    return held


def parse_mapping(text: str) -> Mapping:
    """The :class:`Mapping` printed as ``ws tcr t=392 db=if ub=joint``."""
    dataflow, order, tile, db, *joint = text.split()
    tile = tile.removeprefix("t=")
    return Mapping(Dataflow(dataflow), LoopOrder(order), None if tile == "T" else int(tile),
                   tuple(name[0] in db.removeprefix("db=") for name in OPERANDS), joint == ["ub=joint"])


def pool(arch) -> tuple[int, list[bool]]:
    """The activation pool's bytes and, per operand, whether it lives there."""
    buffers = {id(arch.buffers.for_operand(op)): arch.buffers.for_operand(op) for op in ("ifmap", "ofmap")}
    return sum(b.size_bytes for b in buffers.values()), [id(arch.buffers.for_operand(op)) in buffers for op in OPERANDS]


def room_bytes(layer, arch, mapping: Mapping) -> int:
    bits = layer.compression
    weight, act = bits.weight_precision.bits, bits.act_precision.bits
    rooms = buffer_rooms(lower_layer(layer), arch, mapping, rate=hardware_rate(layer, arch), weight_bits=weight,
                         act_bits=act)
    need = (rooms.ifmap * act, rooms.filter * weight, max(rooms.out * act, rooms.psum * arch.mac.accumulator_bits))
    return sum(-(-b // 8) * (2 if db else 1) for b, db, inside in zip(need, mapping.double_buffered, pool(arch)[1])
               if inside)


@pytest.mark.parametrize("arch_name, net_name, batch", CASES)  # all 27 cases: about 8 s
def test_searched_mapping_and_what_stays_fit_the_pool(arch_name, net_name, batch):
    arch = load_arch(ROOT / "arch_configs" / f"{arch_name}.yaml")
    net = load_workload(ROOT / "workloads" / f"{net_name}.yaml").with_batch(batch)
    plan = plan_memory(net, arch)
    held = held_across(net, arch, plan)
    assert held == [t.resident_other_bytes for t in plan]
    capacity = pool(arch)[0]
    mappings = simulate(arch, net, progress=False).layers["mapping"]
    for layer, resident, text in zip(net.layers, held, mappings):
        if not is_array_layer(layer, arch):
            continue
        assert resident < capacity
        rooms = room_bytes(layer, resident_arch(arch, resident), parse_mapping(text))
        assert resident + rooms <= capacity, (layer.name, resident, rooms, capacity)
