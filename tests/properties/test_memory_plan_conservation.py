"""Conservation of the network-level memory plan over the zoo (docs/memory_plan.md).

* Every operand is read whole (from chip, from DRAM or on the output path) and every stored
  tensor is written once (kept on chip, spilled to DRAM, or both in parts).
* DRAM traffic is at least weights + network inputs + network outputs, and exactly that on an
  arch whose buffers hold everything.

The reference for "network inputs" walks the graph rule of docs/memory_plan.md here, on its own:
an operand named ``dram``, with no producer, or beyond its producer's output comes from DRAM;
a tensor nobody reads is a network output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from accelsim import load_arch, load_workload, simulate
from accelsim.lower.memory_plan import plan_memory
from accelsim.spec.load import arch_from_dict

ROOT = Path(__file__).resolve().parents[2]
ZOO = ["resnet18", "resnet50", "mobilenet_v2", "vgg16", "alexnet", "vit_b16", "bert_base", "gpt2_decode_kv512"]


def nbytes(elements: int, layer) -> int:
    return -(-elements * layer.compression.act_precision.bits // 8)


def external_bytes(net) -> tuple[int, int]:
    """(network input bytes, network output bytes) by the graph rule, walked independently."""
    index = {layer.name: i for i, layer in enumerate(net.layers)}
    read = [False] * len(net.layers)
    inputs = 0
    for j, layer in enumerate(net.layers):
        for o, elements in enumerate(layer.operand_elements):
            available = None
            if o < len(layer.producers):
                name, _, part = layer.producers[o].partition("[")
                source = None if name == "dram" else index[name]
                if part:  # "qkv[1/3]": a third of qkv's output
                    num, den = part.rstrip("]").split("/")
                    available = net.layers[source].output_elements * int(num) // int(den)
            else:
                chained = not layer.producers and o == 0 and j > 0
                source = j - 1 if chained and net.layers[j - 1].output_elements == elements else None
            if source is None:
                inputs += nbytes(elements, layer)
                continue
            read[source] = True
            available = net.layers[source].output_elements if available is None else available
            inputs += nbytes(max(0, elements - available), layer)
    outputs = sum(nbytes(layer.output_elements, layer) for layer, r in zip(net.layers, read) if not r)
    return inputs, outputs


def weight_bytes(net) -> int:
    return sum(-(-layer.weight_elements * layer.compression.weight_precision.bits // 8) for layer in net.layers)


def huge_arch(fused: tuple[str, ...]):
    return arch_from_dict({
        "name": "huge", "array": {"rows": 128, "cols": 128, "dataflow": "ws", "accumulators": "1GiB"},
        "buffers": {"unified": {"size": "4GiB", "word_bits": 8}},
        "vector_unit": {"lanes": 128, "pipelined_with_array": True, "fused_ops": list(fused)},
    })


@pytest.mark.parametrize("name", ZOO)
@pytest.mark.parametrize("fused", [(), ("relu", "gelu", "add", "pool")], ids=["unfused", "fused"])
def test_dram_is_weights_inputs_outputs_when_everything_fits(name, fused):
    net = load_workload(ROOT / "workloads" / f"{name}.yaml")
    inputs, outputs = external_bytes(net)
    layers = simulate(huge_arch(fused), net, progress=False).layers
    assert int(layers.dram_read_bytes.sum()) == weight_bytes(net) + inputs
    assert int(layers.dram_write_bytes.sum()) == outputs
    assert int(layers.ofmap_dram_reads.sum()) == 0  # no partial sum left the array


@pytest.mark.parametrize("name", ZOO)
@pytest.mark.parametrize("arch_file", ["tpu_v1_like.yaml", "edge_32x32.yaml", "eyeriss_like.yaml"])
def test_every_tensor_written_once_and_read_whole(name, arch_file):
    net = load_workload(ROOT / "workloads" / f"{name}.yaml")
    plan = plan_memory(net, load_arch(ROOT / "arch_configs" / arch_file))
    for layer, traffic in zip(net.layers, plan):
        for chip, dram, path, total in zip(traffic.operand_chip_bytes, traffic.operand_dram_bytes,
                                           traffic.operand_path, traffic.operand_bytes):
            assert (chip, dram) == (0, 0) if path else chip + dram == total, layer.name
        if traffic.fused:
            assert (traffic.output_dram_bytes, traffic.output_kept_bytes) == (0, 0)
    stored = [i for i, t in enumerate(plan) if not (i + 1 < len(plan) and plan[i + 1].fused)]
    # a chain's array layer writes (or keeps) its last fused op's output, once
    for i in stored:
        start = i
        while plan[start].fused:
            start -= 1
        assert plan[start].output_dram_bytes + plan[start].output_kept_bytes == nbytes(net.layers[i].output_elements,
                                                                                        net.layers[i]), net.layers[i].name


@pytest.mark.parametrize("name", ["resnet50", "alexnet", "bert_base"])
@pytest.mark.parametrize("arch_file", ["edge_32x32.yaml", "tpu_v1_like.yaml"])
def test_dram_never_below_weights_inputs_outputs(name, arch_file):
    """On small buffers tensors spill and the fixed mapping refetches: never less than the floor."""
    net = load_workload(ROOT / "workloads" / f"{name}.yaml")
    inputs, outputs = external_bytes(net)
    layers = simulate(load_arch(ROOT / "arch_configs" / arch_file), net, progress=False).layers
    assert layers.costed.all()
    total = int(layers.dram_read_bytes.sum() + layers.dram_write_bytes.sum())
    assert total >= weight_bytes(net) + inputs + outputs


def test_transformer_decode_stays_bound_by_weights_and_kv_cache():
    """GPT-2 decode on tpu_v1_like: the plan removes only activation traffic; what remains is the
    weights (read once) and the KV cache, 12 blocks x (K + V) x 512 cached tokens x 768 int8,
    plus the embeddings and the logits (2 x 768 in, 50,257 out): exactly, everything else fits."""
    net = load_workload(ROOT / "workloads" / "gpt2_decode_kv512.yaml")
    arch = load_arch(ROOT / "arch_configs" / "tpu_v1_like.yaml")
    kv_cache = 12 * 2 * 512 * 768
    floor = weight_bytes(net) + kv_cache
    layers = simulate(arch, net, progress=False).layers
    total = int(layers.dram_read_bytes.sum() + layers.dram_write_bytes.sum())
    assert total == floor + 2 * 768 + 50257
    off = simulate(arch, net, progress=False, memory_plan=False).layers
    assert total < int(off.dram_read_bytes.sum() + off.dram_write_bytes.sum())
