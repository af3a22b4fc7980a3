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
    """2x2 max pooling of 4x8x8: 64 windows of 4 taps, one per row, on 32 lanes. Across the lanes:
    8 windows per group, a compare per tap, then a tree of 3 compares per window (4 lanes hold
    partials): 8 groups x (1 + 2) = 24 cycles. One window per lane: 2 groups x 4 taps = 8 cycles,
    the cheaper: a compare per tap (256) and no tree; one value written per window."""
    pool = Pool(name="p", channels=4, in_h=8, in_w=8, kernel=(2, 2), stride=(2, 2))
    counts = vector_layer_counts(with_unit(edge), pool)
    assert counts["vector_rows_in_time"] == 1 and counts["vector_compute_cycles"] == 8
    assert counts["vector_fcmp_ops"] == 64 * 4
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


@pytest.fixture
def tpu(root):
    """tpu_v1_like: 256 lanes, 1 op per lane per cycle, 2048-bit unified-buffer ports (256 int8 elements
    per cycle); unlimited DRAM here."""
    arch = load_arch(root / "arch_configs" / "tpu_v1_like.yaml")
    return replace(arch, dram=replace(arch.dram, bandwidth=None, latency_cycles=0))


def test_max_pool_walks_its_window_in_time_on_tpu_v1_like(tpu):
    """ResNet-50's 3x3/2 max pool, batch 1: 64 x 56 x 56 = 200,704 windows of 9 taps.
    Across the lanes: 256 // 9 = 28 windows per group, 1 compare + a ceil(log2 9) = 4-step tree:
    200,704 / 28 = 7,168 groups x 5 = 35,840 cycles. One window per lane, taps in time:
    200,704 / 256 = 784 groups x 9 compares = 7,056 cycles, no tree (one partial per window);
    a group reads 256 x 9 bytes over the 256-byte port in 9 cycles, as fast as it compares."""
    pool = Pool(name="maxpool", channels=64, in_h=112, in_w=112, kernel=(3, 3), stride=(2, 2), padding=(1, 1, 1, 1))
    counts = vector_layer_counts(tpu, pool)
    assert counts["vector_rows_in_time"] == 1
    assert counts["vector_compute_cycles"] == counts["vector_cycles"] == 784 * 9
    assert counts["vector_fcmp_ops"] == 200_704 * 9 == counts["vector_lane_slots"]
    assert counts["vector_sram_reads"] == 200_704 * 9 and counts["vector_sram_writes"] == 200_704


@pytest.mark.parametrize("windows, across, in_time", [(28, 5, 9), (29, 10, 9), (300, 55, 18)])
def test_the_cheaper_mapping_wins(tpu, windows, across, in_time):
    """3x3 windows, one per channel: across the lanes ceil(n / 28) groups x 5 cycles, in time
    ceil(n / 256) x 9. 28 windows fit one group across the lanes (5 < 9); the 29th needs a second (10 > 9)."""
    pool = Pool(name="p", channels=windows, in_h=3, in_w=3, kernel=(3, 3))
    counts = vector_layer_counts(tpu, pool)
    assert counts["vector_cycles"] == min(across, in_time)
    assert counts["vector_rows_in_time"] == int(in_time < across)
    tree = 0 if in_time < across else windows * 8
    assert counts["vector_fcmp_ops"] == windows * 9 + tree


def test_softmax_rows_stay_across_the_lanes(edge):
    """One softmax row of 128 on 32 lanes: 46 cycles across the lanes (test_softmax_hand_count); in time
    its lane would take 128 (max) + 128 x 6 + 4 (exp, sum, 1/sum) + 128 (scale) = 1,028. Rows along the
    last axis are contiguous, so they are never mapped in time (accelsim.engine.vector.row_mappings),
    even where many rows would make that cheaper."""
    from accelsim.engine.vector import vector_problem
    from accelsim.kernels.codes import VECTOR_STAT_CYCLES
    from accelsim.kernels.vector import run_vector

    arch = with_unit(edge)
    row = Nonlinear(op=Op.SOFTMAX, name="sm", shape=(128,))
    problem = vector_problem(arch, row, NonlinearImpl())
    assert run_vector(problem, 1)[0][VECTOR_STAT_CYCLES] == 1028  # one row per lane
    assert run_vector(problem, 32)[0][VECTOR_STAT_CYCLES] == 46  # across the 32 lanes
    rows = Nonlinear(op=Op.SOFTMAX, name="sm", shape=(64, 128))
    counts = vector_layer_counts(arch, rows, NonlinearImpl())
    assert counts["vector_rows_in_time"] == 0 and counts["vector_cycles"] == 64 * 46
    # in time: 2 groups of 32 rows x 1,028 cycles < 64 x 46, had the layout allowed it
    assert run_vector(vector_problem(arch, rows, NonlinearImpl()), 1)[0][VECTOR_STAT_CYCLES] == 2 * 1028


def test_simulate_reports_the_mapping_per_layer(root):
    """tiny_cnn on tpu_v1_like: pool1 (16 x 16 x 16 windows of 2 x 2) takes 16 groups x 4 cycles in time
    against 64 groups x (1 + 2) across the lanes; ReLU and softmax keep their rows across the lanes."""
    from accelsim import load_workload, simulate

    result = simulate(load_arch(root / "arch_configs" / "tpu_v1_like.yaml"),
                      load_workload(root / "workloads" / "tiny_cnn.yaml"))
    layers = result.layers.set_index("layer")
    assert layers.vector_rows_in_time["pool1"] == 1
    assert layers.vector_rows_in_time["relu1"] == layers.vector_rows_in_time["softmax"] == 0
    assert result.summary["vector_rows_in_time"].item() == 1


def test_a_fused_layer_picks_by_issue_cycles_and_a_tie_stays_across_the_lanes(edge):
    """256 lanes, SRAM ports of 8 bits (one int8 element per cycle); 7,168 3x3 windows (one per channel).
    Across the lanes: 256 groups of 28, each reading 252 taps (252 cycles) while issuing 1 + 4:
    64,512 cycles, 1,280 issued. In time: 28 groups of 256, each reading 2,304 taps while issuing 9:
    64,512 cycles, 252 issued. Standalone the port-bound totals tie (the rows stay across the lanes);
    fused on the array's output path the layer costs its issue cycles, and in time issues fewer."""
    from accelsim.lower.memory_plan import LayerTraffic

    narrow = replace(edge.buffers.ifmap, width_bits=8, banks=1)
    arch = replace(with_unit(edge, lanes=256), buffers=replace(edge.buffers, ifmap=narrow, ofmap=narrow))
    pool = Pool(name="p", channels=7168, in_h=3, in_w=3, kernel=(3, 3))
    alone = vector_layer_counts(arch, pool)
    assert alone["vector_rows_in_time"] == 0
    assert alone["vector_cycles"] == 64_512 and alone["vector_compute_cycles"] == 1_280
    fused = LayerTraffic(operand_dram_bytes=(0,), operand_chip_bytes=(0,), operand_path=(True,),
                         operand_bytes=(pool.input_elements,), output_dram_bytes=0, output_kept_bytes=0,
                         output_bytes=pool.output_elements, fused=True)
    on_path = vector_layer_counts(arch, pool, traffic=fused)
    assert on_path["vector_rows_in_time"] == 1
    assert on_path["vector_cycles"] == on_path["vector_compute_cycles"] == 252


def test_vector_layers_counted_once_per_group_each_as_alone(root, monkeypatch):
    """ResNet-50 at batch 256 on tpu_v1_like under its memory plan: every vector layer's row of
    :func:`vector_work` equals its own :func:`vector_layer_counts` under its own traffic, and the
    unit counts each group once, layers whose traffic differs only where the counts do not read
    it (sources, kept bytes) sharing one count: fewer counts than distinct (layer, traffic) pairs."""
    from accelsim.engine import vector
    from accelsim.frontend.load import load_workload
    from accelsim.lower.memory_plan import plan_memory
    from accelsim.spec.workload import work_ids

    arch = load_arch(root / "arch_configs" / "tpu_v1_like.yaml")
    net = load_workload(root / "workloads" / "resnet50.yaml", batch=256)
    plan = plan_memory(net, arch)
    calls = []
    counted = vector.vector_layer_counts
    monkeypatch.setattr(vector, "vector_layer_counts", lambda *a, **kw: calls.append(a[1].name) or counted(*a, **kw))
    work = vector.vector_work(arch, net, plan)
    names = list(vector.OP_COLUMNS.values())
    for slot, index in enumerate(work.rows):
        alone = counted(arch, net.layers[index], traffic=plan[index])
        assert work.stats[slot, 0] == alone["cycles"] and work.stats[slot, 2] == alone["vector_compute_cycles"]
        assert work.stats[slot, 8:].tolist() == [alone["dram_read_bytes"], alone["dram_write_bytes"]]
        assert work.op_counts[slot].tolist() == [alone[name] for name in names]
    vector_layers = [i for i, layer in enumerate(net.layers) if isinstance(layer, vector.VECTOR_LAYERS)]
    assert sorted(work.rows.tolist()) == vector_layers
    pairs = {(work_ids(net)[i], plan[i]) for i in vector_layers}
    assert len(calls) < len(pairs)
