"""The mapper knows what the memory plan keeps on chip (docs/memory_plan.md, "What the mapper
leaves alone"): ``LayerTraffic.resident_other_bytes``, ``resident_arch`` and a layer mapped on
the pool less the tensors kept across it, by hand."""

from __future__ import annotations

import pytest

from pathlib import Path

from accelsim import load_arch, simulate
from accelsim.engine.arrays import array_arch
from accelsim.engine.fold import schedule_counts
from accelsim.lower.gemm import lower_layer
from accelsim.lower.memory_plan import plan_memory, resident_arch
from accelsim.lower.tiling import LoopOrder, Mapping, buffer_rooms, mapped_schedule
from accelsim.mapper.gemm import mapping_energy_pj, search
from accelsim.mapper.layer import search_layer
from accelsim.spec.arch import Dataflow
from accelsim.spec.load import arch_from_dict, network_from_dict
from accelsim.spec.options import Objective

# A 4x4 weight-stationary array, one double-buffered 192 B unified buffer (int8 words), 4 KiB of
# accumulators (no partial sum leaves the array), 1 B/cycle of DRAM, an (unfused) vector unit.
ARCH = arch_from_dict({
    "name": "space", "array": {"rows": 4, "cols": 4, "dataflow": "ws", "accumulators": "4KiB"},
    "buffers": {"unified": {"size": "192B", "word_bits": 8, "double_buffered": True}},
    "dram": {"bandwidth": "1B/cycle", "latency": "0cycles"},
    "vector_unit": {"lanes": 4, "pipelined_with_array": True},
})
# a makes X (8x8 = 64 B), b (the middle layer) reads its own input from DRAM and makes Y, the
# add joins X and Y: X is kept across b, which neither reads nor writes it.
NET = network_from_dict({"name": "branches", "layers": [
    {"op": "gemm", "name": "a", "m": 8, "n": 8, "k": 4},
    {"op": "gemm", "name": "b", "m": 8, "n": 8, "k": 8, "producers": ["dram"]},
    {"op": "eltwise", "name": "add", "shape": [64], "producers": ["a", "b"]},
]})
# b's GEMM on the 4x4 ws array: rows K = 8 (2 row folds), columns N = 8 (2 column folds), stream M = 8.
ONE_TILE = Mapping(Dataflow.WS, LoopOrder.TRC, None, (True, True, True), joint_buffer=True)
TILES_OF_4 = Mapping(Dataflow.WS, LoopOrder.RTC, 4, (True, True, True), joint_buffer=True)


def pool_bytes(rooms) -> int:
    """Bytes of the unified buffer the rooms take, int8 operands, every operand double-buffered."""
    return 2 * (rooms.ifmap + rooms.filter + rooms.out)


def test_plan_keeps_x_across_the_middle_layer_by_hand():
    """Shares: 192 // 3 = 64 B per operand, staging x 2 (double-buffered). a: weights min(64, 2 x 32)
    + input min(64, 2 x 32) = 128 B; b: 64 + 64 = 128 B; add: staging for the network output
    min(64, 2 x 64) = 64 B. X (64 B, live a..add) fits the 192 - 128 = 64 B left: kept whole. Y
    (live b..add) finds 0 B at b: spills. Only b holds a tensor it does not touch: X."""
    plan = plan_memory(NET, ARCH)
    assert [t.output_kept_bytes for t in plan] == [64, 0, 0]
    assert [t.output_dram_bytes for t in plan] == [0, 64, 64]
    assert [t.resident_other_bytes for t in plan] == [0, 64, 0]
    assert resident_arch(ARCH, 64).buffers.unified.size_bytes == 192 - 64
    assert resident_arch(ARCH, 0) is ARCH


def test_middle_layer_mapping_leaves_the_kept_tensor_alone_by_hand():
    """Without the plan's knowledge b is searched on all 192 B and takes ws trc t=T (one stream
    tile, 4 folds): ifmap tile M 8 x K 4 = 32 words (its reuse loop c innermost: the footprint is
    the tile), filter tile 4 x 4 = 16 words (streamed: one stream tile, nothing to reuse), output
    tile 8 x 4 = 32 words; doubled, 2 x (32 + 16 + 32) = 160 B <= 192 B, but 160 + X's 64 = 224 B
    > 192 B: it uses 32 B of X's space. Every one-tile mapping with all operands double-buffered
    needs those 160 B, more than the 128 B left. On 128 B, b runs ws rtc t=4: ifmap tile 4 x 4 =
    16 words, filter kept across the stream tiles (loop c inside t: K 4 x N 8 = 32 words), output
    tile 4 x 4 = 16 words: 2 x (16 + 32 + 16) = 128 B, exactly what is left."""
    problem = lower_layer(NET.layers[1])
    full = buffer_rooms(problem, ARCH, ONE_TILE)
    assert (full.ifmap, full.filter, full.out, full.fits) == (32, 16, 32, True)
    assert pool_bytes(full) == 160 and pool_bytes(full) + 64 > 192
    assert search_layer(NET.layers[1], ARCH) == ONE_TILE  # what simulate ran before the plan was known
    assert not buffer_rooms(problem, resident_arch(ARCH, 64), ONE_TILE).fits
    reduced = buffer_rooms(problem, resident_arch(ARCH, 64), TILES_OF_4)
    assert (reduced.ifmap, reduced.filter, reduced.out, reduced.fits) == (16, 32, 16, True)
    assert pool_bytes(reduced) == 128


@pytest.mark.parametrize("fidelity", ["fold", "cycle"])
def test_simulate_maps_and_runs_the_middle_layer_on_what_is_left(fidelity):
    """b runs ws rtc t=4 in both fidelities; its DRAM traffic by hand: the filter (64 B) is read
    once (kept), the ifmap (64 B) once (reuse loop c innermost), Y (64 B) spills. SRAM accesses
    are priced on the real 192 B buffer: b's pJ per ifmap read equals a's (a runs on the whole buffer)."""
    result = simulate(ARCH, NET, fidelity)
    layers = result.layers.set_index("layer")
    assert layers.loc["b", "mapping"] == TILES_OF_4.describe()
    assert (layers.loc["b", "dram_read_bytes"], layers.loc["b", "dram_write_bytes"]) == (128, 64)
    per_read = layers.energy_ifmap_sram_pj / layers.ifmap_sram_reads
    assert per_read["b"] == pytest.approx(per_read["a"], rel=1e-12)
    off = simulate(ARCH, NET, fidelity, memory_plan=False).layers.set_index("layer")
    assert off.loc["b", "mapping"] == ONE_TILE.describe()  # no plan: nothing else resident, the whole buffer


def test_search_in_a_reduced_buffer_prices_energy_on_the_real_one():
    """The energy objective's figure for b's mapping on the 128 B that are left equals the energy
    model on the 192 B buffer, not on a 128 B one (a smaller SRAM costs less per access)."""
    problem = lower_layer(NET.layers[1])
    small = resident_arch(ARCH, 64)
    choice = search(problem, small, schedule_counts, objective=Objective.ENERGY, energy_arch=ARCH)
    counts = schedule_counts(mapped_schedule(problem, small, choice.mapping), small)
    real = mapping_energy_pj(ARCH, choice.mapping.dataflow, problem.macs, counts, weight_bits=8, act_bits=8)
    cheaper = mapping_energy_pj(small, choice.mapping.dataflow, problem.macs, counts, weight_bits=8, act_bits=8)
    assert choice.energy_pj == pytest.approx(real, rel=1e-12) and cheaper < real


def test_separate_activation_buffers_lose_shares_in_proportion():
    """ifmap 64 KiB + ofmap 32 KiB pool 96 KiB; 3000 B kept elsewhere: the ifmap buffer loses
    ceil(3000 x 2/3) = 2000 B, the ofmap buffer ceil(3000 x 1/3) = 1000 B; 1000 B: ceil(666.7) = 667
    and ceil(333.3) = 334. The filter buffer holds no activations and keeps its size. A unified
    buffer that holds the activations next to a filter buffer of its own loses exactly the bytes."""
    separate = arch_from_dict({"name": "sep", "array": {"rows": 4, "cols": 4},
                               "buffers": {"ifmap": {"size": "64KiB"}, "filter": {"size": "16KiB"},
                                           "ofmap": {"size": "32KiB"}}})
    sizes = [(b.ifmap.size_bytes, b.filter.size_bytes, b.ofmap.size_bytes)
             for b in (resident_arch(separate, held).buffers for held in (3000, 1000))]
    assert sizes == [(65536 - 2000, 16384, 32768 - 1000), (65536 - 667, 16384, 32768 - 334)]
    mixed = arch_from_dict({"name": "mix", "array": {"rows": 4, "cols": 4},
                            "buffers": {"filter": {"size": "16KiB"}, "unified": {"size": "48KiB"}}})
    reduced = resident_arch(mixed, 1000).buffers
    assert (reduced.unified.size_bytes, reduced.filter.size_bytes) == (49152 - 1000, 16384)


def test_several_arrays_share_what_the_kept_tensors_leave():
    """tpu_v5e_like: four MXUs share the 128 MiB VMEM. 10 MiB kept across a layer leave 118 MiB,
    29.5 MiB per array: the arrays' rooms and the kept tensors fit the VMEM together."""
    v5e = load_arch(Path(__file__).resolve().parents[2] / "arch_configs" / "tpu_v5e_like.yaml")
    per_array = array_arch(resident_arch(v5e, 10 * 2**20)).buffers.unified.size_bytes
    assert per_array == (128 - 10) * 2**20 // 4
