"""Vector-unit costs: hand-counted cycles and ops, scaling with elements and lanes, memory bounds,
and the overlap a pipelined unit gets."""

from dataclasses import replace

import numpy as np
import pytest

from accelsim import units
from accelsim.engine.vector import exposed_cycles, split_exposed, vector_layer_counts
from accelsim.spec.arch import VectorUnitSpec
from accelsim.frontend.load import load_arch
from accelsim.spec.workload import Eltwise, ImplKind, Nonlinear, NonlinearImpl, Op, Pool

LUT = NonlinearImpl(kind=ImplKind.LUT)


@pytest.fixture
def edge(root):
    """edge_32x32: 1 GHz, 256-bit SRAM ports (32 int8 elements per cycle); unlimited DRAM here."""
    arch = load_arch(root / "arch_configs" / "edge_32x32.yaml")
    return replace(arch, dram=replace(arch.dram, bandwidth=None, latency_cycles=0))


def with_unit(arch, **fields):
    return replace(arch, vector_unit=VectorUnitSpec(**{"lanes": 32, **fields}))


def gelu(elements):
    return Nonlinear(op=Op.GELU, name="gelu", shape=(elements,))


def test_lut_gelu_hand_count(edge):
    """LUT GELU: 2 range compares + index (add, mul, convert) + 1 table read = 6 slots per element.
    3200 elements on 32 lanes: 100 waves x 6 cycles; SRAM needs only 3200 B / 32 B = 100 cycles."""
    counts = vector_layer_counts(with_unit(edge), gelu(3200), LUT)
    assert counts["vector_cycles"] == 600
    assert counts["vector_table_ops"] == 3200
    assert counts["vector_fcmp_ops"] == 6400
    assert counts["vector_sram_reads"] == counts["vector_sram_writes"] == 3200


def test_cycles_scale_with_elements_over_lanes(edge):
    base = vector_layer_counts(with_unit(edge, lanes=32), gelu(3200), LUT)["vector_cycles"]
    assert vector_layer_counts(with_unit(edge, lanes=32), gelu(6400), LUT)["vector_cycles"] == 2 * base
    assert vector_layer_counts(with_unit(edge, lanes=64), gelu(3200), LUT)["vector_cycles"] == base // 2
    assert vector_layer_counts(with_unit(edge, lanes=32, ops_per_lane_per_cycle=2), gelu(3200), LUT)[
        "vector_cycles"] == base // 2


def test_softmax_hand_count(edge):
    """One row of 128 on 32 lanes (4 waves, 5-step tree), exp and divide 4 slots:
    max: 4 + 5 = 9; exp pass (sub, exp, add: 6 slots): 24 + 5 + 4 (1/sum) = 33; scale: 4. Total 46.
    Without a scratchpad the row is streamed 3 times and the exponentials written once in between."""
    row = Nonlinear(op=Op.SOFTMAX, name="sm", shape=(128,))
    counts = vector_layer_counts(with_unit(edge), row, NonlinearImpl())
    assert counts["vector_cycles"] == 46
    assert counts["vector_sram_reads"] == 3 * 128 and counts["vector_sram_writes"] == 2 * 128
    assert counts["vector_fexp_ops"] == 128 and counts["vector_fdiv_ops"] == 1
    assert counts["vector_fcmp_ops"] == 128 + 31  # per-element compares, then the tree's 31
    kept = vector_layer_counts(with_unit(edge, buffer_bytes=512), row, NonlinearImpl())
    assert kept["vector_cycles"] == 46
    assert kept["vector_sram_reads"] == 128 and kept["vector_sram_writes"] == 128
    assert kept["vector_local_reads"] == 2 * 128 and kept["vector_local_writes"] == 128


def test_short_rows_pack_into_the_lanes(edge):
    """16 rows of 8 on 32 lanes: 4 rows per wave, 4 groups; the max pass is 1 + 3 tree steps."""
    layer = Nonlinear(op=Op.SOFTMAX, name="sm", shape=(16, 8))
    counts = vector_layer_counts(with_unit(edge), layer, NonlinearImpl())
    # per group: max 1 + 3; exp 6 + 3 + 4; scale 1  -> 18; four groups
    assert counts["vector_cycles"] == 4 * 18


def test_approximation_changes_cost(edge):
    """Exact GELU (tanh form): 6 mul + 4 add + exp (4 slots) + divide (4 slots) = 18 slots vs the LUT's 6."""
    arch = with_unit(edge)
    exact = vector_layer_counts(arch, gelu(3200), NonlinearImpl())["vector_cycles"]
    lut = vector_layer_counts(arch, gelu(3200), LUT)["vector_cycles"]
    assert exact == 3 * lut


def test_dram_bound_layer_takes_the_transfer_time(edge):
    """1 GB/s at 1 GHz = 1 byte/cycle: reading and writing 3200 int8 elements takes 6400 cycles + latency."""
    arch = with_unit(edge)
    arch = replace(arch, dram=replace(arch.dram, bandwidth=units.parse_bandwidth("1GB/s"), latency_cycles=100))
    counts = vector_layer_counts(arch, gelu(3200), LUT)
    assert counts["dram_cycles"] == 6500
    assert counts["cycles"] == 6500 > counts["vector_cycles"]


def test_residual_add_reads_both_inputs(edge):
    add = Eltwise(name="add", shape=(64, 50))
    counts = vector_layer_counts(with_unit(edge), add)
    assert counts["vector_fadd_ops"] == 3200
    assert counts["vector_sram_reads"] == 6400 and counts["dram_read_bytes"] == 6400


def test_max_pool_compares_every_tap(edge):
    """2x2 max pooling of 4x8x8: 64 windows of 4 taps, one per row: a compare per tap (256), then a
    tree of 3 compares per window (4 lanes hold partials); one value written per window."""
    pool = Pool(name="p", channels=4, in_h=8, in_w=8, kernel=(2, 2), stride=(2, 2))
    counts = vector_layer_counts(with_unit(edge), pool)
    assert counts["vector_fcmp_ops"] == 64 * 4 + 64 * 3
    assert counts["vector_sram_writes"] == 64


def test_exposed_cycles_share_the_producer_slack():
    cycles = np.array([100, 30, 90, 50, 20], dtype=np.int64)
    vector = np.array([False, True, True, False, True])
    assert exposed_cycles(cycles, vector, pipelined=False).tolist() == [100, 30, 90, 50, 20]
    # 30 hidden under 100, then 70 of the next 90; the last 20 fully under the 50
    assert exposed_cycles(cycles, vector, pipelined=True).tolist() == [100, 0, 20, 50, 0]


@pytest.mark.parametrize("pipelined", [False, True])
def test_vector_rows_account_for_hidden_time(root, pipelined):
    """cycles == compute_cycles + stall_cycles on every costed row (no dispatch overhead here),
    and hiding happens only on a pipelined unit, never beyond the preceding array layer's cycles."""
    from accelsim import load_workload, simulate

    arch = load_arch(root / "arch_configs" / "tpu_v1_like.yaml")
    arch = replace(arch, vector_unit=replace(arch.vector_unit, pipelined_with_array=pipelined))
    layers = simulate(arch, load_workload(root / "workloads" / "tiny_cnn.yaml")).layers
    rows = layers[layers.costed]
    assert (rows.cycles == rows.compute_cycles + rows.stall_cycles).all()
    assert (rows.hidden_cycles > 0).any() == pipelined
    array = layers.op.isin(["conv2d", "gemm"])
    assert (layers.hidden_cycles[array] == 0).all()
    # relu1 follows conv1 directly: it hides at most conv1's cycles
    relu = layers.set_index("layer")
    assert relu.hidden_cycles["relu1"] <= relu.cycles["conv1"]


def test_split_exposed_hides_stalls_first():
    # 10 + 30 with 25 hidden: 25 of the 30 stall cycles; 5 + 10 all hidden; 7 + 0 with 3 hidden: 3 compute
    compute, stall = split_exposed(np.array([10, 5, 7]), np.array([30, 10, 0]), np.array([25, 15, 3]))
    assert compute.tolist() == [10, 0, 4]
    assert stall.tolist() == [5, 0, 0]
