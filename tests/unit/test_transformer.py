"""Transformers of the model zoo end to end (first block only, for speed): memory-bound decode
attention, costed vector layers, and a GEMM / nonlinear / data-movement breakdown that moves with
the nonlinear implementation a scheme chooses."""

from dataclasses import replace

import pytest

from accelsim import units
from accelsim.compress.scheme import apply_scheme, scheme_from_dict
from accelsim.simulate import simulate
from accelsim.frontend.load import load_arch, load_workload
from accelsim.spec.workload import ImplKind, NonlinearImpl
from accelsim.analysis.breakdown import breakdown, layer_breakdown

SECOND_BLOCK = ("layer.1.", "h.1.", "encoder_layer_1.")


def first_block(root, name):
    net = load_workload(root / "workloads" / f"{name}.yaml")
    end = next(i for i, layer in enumerate(net.layers) if any(tag in layer.name for tag in SECOND_BLOCK))
    return replace(net, layers=net.layers[:end])


def with_impl(net, kind):
    return apply_scheme(net, scheme_from_dict({"rules": [{"nonlinear_impl": {"kind": kind}}]}))


@pytest.fixture
def edge(root):
    """edge_32x32, 12.8 GB/s LPDDR4 at 1 GHz: 12.8 bytes per cycle."""
    return load_arch(root / "arch_configs" / "edge_32x32.yaml")


def test_decode_attention_is_memory_bound(root, edge):
    """A GPT-2 decode step over a 513-token context: QK^T and AV read the K and V caches from
    DRAM (12 heads x 64 x 512 cached tokens int8 = 393216 bytes each; the new token's key and
    value come from the projection kept on chip by the memory plan) for only one MAC per byte,
    so they wait on DRAM longer than they compute, and take at least the channel's transfer time."""
    decode = simulate(edge, first_block(root, "gpt2_decode_kv512")).layers.set_index("layer")
    for name in ("transformer.h.0.attn.qk", "transformer.h.0.attn.av"):
        row = decode.loc[name]
        assert row.dram_read_bytes >= 12 * 64 * 512
        assert row.stall_cycles > row.compute_cycles
        assert row.cycles >= row.dram_read_bytes / 12.8  # never faster than the DRAM channel
        assert row.macs <= row.dram_read_bytes + row.onchip_read_bytes  # at most one MAC per byte read


def test_more_bandwidth_shortens_decode_attention(root, edge):
    net = first_block(root, "gpt2_decode_kv512")
    qk = "transformer.h.0.attn.qk"
    slow = simulate(edge, net).layers.set_index("layer").loc[qk, "cycles"]
    fast_arch = replace(edge, dram=replace(edge.dram, bandwidth=units.parse_bandwidth("128GB/s")))
    fast = simulate(fast_arch, net).layers.set_index("layer").loc[qk, "cycles"]
    assert fast < slow


@pytest.mark.parametrize("name", ["bert_base", "vit_b16", "gpt2_prefill512"])
def test_vector_layers_are_costed(root, edge, name):
    layers = simulate(edge, first_block(root, name)).layers
    vector = layers[layers.op.isin(["softmax", "gelu", "layernorm", "eltwise"])]
    assert vector.costed.all() and (vector.compute_cycles > 0).all()


def test_breakdown_nonlinear_share_moves_with_the_approximation(root, edge):
    """The three categories add up to the simulated total; the nonlinear share is non-zero and
    differs between exact GELU/softmax and LUT ones (18 vs 6 slots per GELU element on this unit)."""
    net = first_block(root, "bert_base")
    shares = {}
    for kind in ImplKind:
        result = simulate(edge, with_impl(net, kind.value))
        table = breakdown(result).set_index("category")
        assert table.cycles.sum() == pytest.approx(result.cycles)
        assert table.loc["nonlinear", "cycles"] > 0 and table.loc["nonlinear", "energy_pj"] > 0
        shares[kind] = table.loc["nonlinear", "cycles_share"]
    assert shares[ImplKind.LUT] != shares[ImplKind.EXACT]
    assert shares[ImplKind.IBERT] != shares[ImplKind.EXACT]


def test_layer_breakdown_puts_gemm_work_on_gemm_layers(root, edge):
    per_layer = layer_breakdown(simulate(edge, first_block(root, "bert_base"))).set_index("layer")
    fc, gelu = "encoder.layer.0.intermediate.dense", "encoder.layer.0.intermediate.gelu"
    assert per_layer.loc[fc, "nonlinear_energy_pj"] == 0 and per_layer.loc[fc, "gemm_energy_pj"] > 0
    assert per_layer.loc[gelu, "gemm_energy_pj"] == 0 and per_layer.loc[gelu, "nonlinear_energy_pj"] > 0


def test_nonlinear_impl_loads_from_yaml():
    from accelsim.spec.fields import from_dict
    from accelsim.spec.workload import Compression

    problems = []
    compression = from_dict(Compression, {"nonlinear_impl": {"kind": "pwl", "segments": 8}}, "c", problems)
    assert not problems and compression.nonlinear_impl == NonlinearImpl(kind=ImplKind.PWL, segments=8)
    from_dict(Compression, {"nonlinear_impl": {"kind": "lutt"}}, "c", problems)
    assert problems and problems[0].path == "c.nonlinear_impl.kind" and "lut" in problems[0].message
