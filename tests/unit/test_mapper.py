"""Mappings and the mapper: a tiled schedule counted by hand, the space, simulate's mapping option."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest

import accelsim as ax
from accelsim.engine.fold import schedule_counts
from accelsim.errors import ConfigError, UnsupportedError
from accelsim.lower.gemm import GemmProblem
from accelsim.mapper.gemm import mapping_space, search, stream_tiles
from accelsim.spec.options import Objective
from accelsim.lower.schedule import FILTER, IFMAP, OFMAP_READ, OFMAP_WRITE
from accelsim.lower.tiling import (
    LoopOrder, Mapping, buffer_rooms, fixed_mapping, hardware_double_buffering, mapped_schedule, spatial_mapping,
)
from accelsim.spec.arch import Dataflow
from accelsim.spec.load import arch_from_dict
from accelsim.spec.workload import Gemm, Network
from conftest import ROOT

GEMM_6x5x7 = GemmProblem(m=6, n=5, k=7, repeats=1, ifmap_words=42)


def small_ifmap_arch(**array):
    """4x4 ws; ifmap 32 B double-buffered (16 usable words); filter and ofmap 1 KiB."""
    return arch_from_dict({"name": "t", "array": {"rows": 4, "cols": 4, "dataflow": "ws", **array},
                           "buffers": {"ifmap": {"size": "32B"}, "filter": {"size": "1KiB"},
                                       "ofmap": {"size": "1KiB"}}})


def test_stream_tiles_of_ws_gemm_counted_by_hand():
    """GEMM 6x5x7 on 4x4 ws, T = M = 6 cut into tiles of 2 rows, loops t (outer), c, r (inner).

    Folds per tile: (c0, r0) r=4 c=4, (c0, r1) r=3 c=4, (c1, r0) r=4 c=1, (c1, r1) r=3 c=1.
    ifmap tile A[2 rows of M, K block]: 42 words * 2/6 = 14 per M tile, split 4:3 along K ->
    8 and 6 words. Its reuse loop is c; the footprint (inner loop r: all of K) is 14 <= 16
    usable words, so it comes in at c0 only. The whole weight tensor (35 words) fits 512 usable
    words, so the reuse loop t (outermost) fetches it in tile 0 only. Outputs: 2 x c partial
    sums per fold, no accumulators, so every fold writes them and the r1 fold reads them back.
    """
    mapping = Mapping(Dataflow.WS, LoopOrder.TCR, 2, (True, True, True))
    s = mapped_schedule(GEMM_6x5x7, small_ifmap_arch(), mapping)
    assert s.folds == 12 and s.t_tiles == 3
    assert s.rows_used.tolist() == [4, 3, 4, 3] * 3
    assert s.cols_used.tolist() == [4, 4, 1, 1] * 3
    assert s.stream_cycles.tolist() == [2] * 12
    assert s.dram_words[:, IFMAP].tolist() == [8, 6, 0, 0] * 3
    assert s.dram_words[:, FILTER].tolist() == [16, 12, 4, 3] + [0] * 8
    assert s.sram_words[:, IFMAP].tolist() == [8, 6, 8, 6] * 3          # 2 * r
    assert s.sram_words[:, FILTER].tolist() == [16, 12, 4, 3] * 3       # r * c, reloaded per tile
    assert s.sram_words[:, OFMAP_WRITE].tolist() == [8, 8, 2, 2] * 3    # 2 * c every fold
    assert s.sram_words[:, OFMAP_READ].tolist() == [0, 8, 0, 2] * 3
    assert s.dram_words[:, OFMAP_WRITE].tolist() == [0, 8, 0, 2] * 3    # finals only: psums stay on chip
    assert s.fits_buffers
    # the fixed mapping refetches the 42-word ifmap for the second column fold (84 words)
    fixed = mapped_schedule(GEMM_6x5x7, small_ifmap_arch(), fixed_mapping(small_ifmap_arch()))
    assert fixed.dram_words[:, IFMAP].sum() == 84 and not fixed.fits_buffers  # a 24-word tile > 16


def unified_arch(size: str):
    """4x4 ws, one double-buffered unified buffer of ``size`` shared by all operands, 64 psums of
    accumulators (every output tile of GEMM_6x5x7 accumulates), no DRAM limit."""
    return arch_from_dict({"name": "u", "array": {"rows": 4, "cols": 4, "dataflow": "ws", "accumulators": "256B"},
                           "buffers": {"unified": {"size": size, "double_buffered": True}}})


def test_joint_unified_buffer_keeps_what_saves_most_counted_by_hand():
    """GEMM 6x5x7, int8, ws tcr t=2, all double-buffered, on a 104 B (832-bit) unified buffer.

    Needs per half, in bits: ifmap tile ceil(ceil(42*2/6)*4/7) = 8 words (64 bits), kept footprint
    (all of K for 2 rows) 14 words (112); filter tile ceil(7*4/7)*4 = 16 words (128), kept (all of
    it) 35 words (280); output tile 2x4 = 8 words (64, accumulated). Doubled: streaming everything
    512, ifmap kept 608, filter kept 816, both 912 > 832. Keeping the ifmap saves 1 refetch of 42
    words (336 bits), the filter 2 of 35 (560): the filter is kept. Equal shares (34 B each, 17
    words per half) keep the ifmap (14 <= 17) and refetch the filter (35 > 17) instead. The
    output accumulates (2 x 4 <= 64 partial sums) with the row-fold loop innermost.
    """
    arch = unified_arch("104B")
    joint = Mapping(Dataflow.WS, LoopOrder.TCR, 2, (True, True, True), joint_buffer=True)
    rooms = buffer_rooms(GEMM_6x5x7, arch, joint)
    assert (rooms.ifmap, rooms.filter, rooms.out, rooms.fits) == (8, 35, 8, True)
    s = mapped_schedule(GEMM_6x5x7, arch, joint)
    # folds per t tile: (c0, r0), (c0, r1), (c1, r0), (c1, r1); the ifmap's 14 words per M tile split 8:6 along K
    assert s.dram_words[:, IFMAP].tolist() == [8, 6, 8, 6] * 3            # refetched at c1: 84 words
    assert s.dram_words[:, FILTER].tolist() == [16, 12, 4, 3] + [0] * 8   # fetched once: 35 words
    # the double-buffered output drains each finished tile (8, 2, 8, 2, 8, 2 words, in order) over the
    # next tile's 2 folds, 4 + 4 or 1 + 1; the last tile leaves after its own last fold
    assert s.dram_words[:, OFMAP_WRITE].tolist() == [0, 0, 4, 4, 1, 1, 4, 4, 1, 1, 4, 4 + 2]
    assert s.dram_bytes.sum() == 84 + 35 + 30 and s.fits_buffers
    equal = mapped_schedule(GEMM_6x5x7, arch, dataclasses.replace(joint, joint_buffer=False))
    assert equal.dram_words[:, IFMAP].sum() == 42 and equal.dram_words[:, FILTER].sum() == 105
    # cycles without a DRAM limit: r + T + R + c - 2 per fold: 12 + 11 + 9 + 8 per tile
    assert schedule_counts(s, arch)["cycles"] == 3 * (12 + 11 + 9 + 8)
    # a buffer too small to stream everything (512 bits = 64 B) has no joint allocation
    assert not buffer_rooms(GEMM_6x5x7, unified_arch("63B"), joint).fits
    assert not mapped_schedule(GEMM_6x5x7, unified_arch("63B"), joint).fits_buffers


def test_kept_double_buffered_input_prefetches_the_next_period_counted_by_hand():
    """The same GEMM and mapping on 120 B (960 bits): keeping both inputs (912 bits) fits, so both
    are kept. The ifmap's reuse loop c sits inside t: each t tile (period) of 4 folds uses one
    14-word footprint. Period 0 fetches its tiles when first used (8 and 6 words at c0); each
    period brings the next one's 14 words in shares floor(14 (j+1) / 4) - floor(14 j / 4) =
    3, 4, 3, 4; the last period brings nothing. The filter's reuse loop t is outermost: one
    period, fetched as before."""
    arch = unified_arch("120B")
    joint = Mapping(Dataflow.WS, LoopOrder.TCR, 2, (True, True, True), joint_buffer=True)
    rooms = buffer_rooms(GEMM_6x5x7, arch, joint)
    assert (rooms.ifmap, rooms.filter, rooms.prefetch) == (14, 35, (True, True))
    s = mapped_schedule(GEMM_6x5x7, arch, joint)
    assert s.dram_words[:, IFMAP].tolist() == [8 + 3, 6 + 4, 3, 4] + [3, 4, 3, 4] + [0] * 4   # 42 words in all
    assert s.dram_words[:, FILTER].tolist() == [16, 12, 4, 3] + [0] * 8
    # single-buffered inputs keep the footprint without a second one: fetched when first used
    single = mapped_schedule(GEMM_6x5x7, arch, dataclasses.replace(joint, double_buffered=(False, False, True)))
    assert single.dram_words[:, IFMAP].tolist() == [8, 6, 0, 0] * 3


def test_searched_mappings_of_a_shared_unified_buffer_are_joint_and_the_fixed_one_is_not():
    arch = unified_arch("104B")
    space = mapping_space(GEMM_6x5x7, arch)
    assert not space[0].joint_buffer and all(m.joint_buffer for m in space[1:])
    separate = small_ifmap_arch()
    assert not any(m.joint_buffer for m in mapping_space(GEMM_6x5x7, separate))
    assert search(GEMM_6x5x7, arch, schedule_counts).mapping.describe().endswith(" ub=joint")


def test_row_fold_major_order_keeps_the_input_tile():
    """Loops r (outer), t, c (inner): the ifmap's reuse loop c is innermost, so its footprint is
    one tile (8 or 6 words <= 16): fetched at c0, kept for c1."""
    mapping = Mapping(Dataflow.WS, LoopOrder.RTC, 2, (True, True, True))
    s = mapped_schedule(GEMM_6x5x7, small_ifmap_arch(), mapping)
    # order r, t, c: for r0: (t0,c0) (t0,c1) (t1,c0) ... the tile is fetched at c0 and kept for c1
    assert s.dram_words[:, IFMAP].tolist() == [8, 0] * 3 + [6, 0] * 3
    # partial sums of all of C (6 x 5 = 30) are live across the r loop: 30 <= 128 usable psums
    assert s.dram_words[:, OFMAP_READ].sum() == 0


def test_space_lists_fixed_first_and_merges_orders_of_one_iteration_loops():
    arch = small_ifmap_arch()
    space = mapping_space(GEMM_6x5x7, arch)
    assert space[0] == fixed_mapping(arch)
    assert len(set(space)) == len(space)
    untiled = [m for m in space if m.t_tile is None]
    # one stream tile: only column-fold-major and row-fold-major differ, times 2 x 2 buffering choices
    assert len(untiled) == 2 * 4
    assert stream_tiles(6) == [6, 4, 3, 2, 1]   # 6; ceil(6/n) = 3, 2, 1; powers of two 1, 2, 4
    assert stream_tiles(1) == [1]


def test_flexible_array_searches_every_listed_dataflow():
    arch = small_ifmap_arch(dataflows=["os", "is"])
    assert {m.dataflow for m in mapping_space(GEMM_6x5x7, arch)} == {Dataflow.WS, Dataflow.OS, Dataflow.IS}


def test_bad_dataflows_entry_names_the_key():
    with pytest.raises(ConfigError, match=r"array\.dataflows"):
        small_ifmap_arch(dataflows=["rs"])


def test_search_never_reports_a_mapping_that_does_not_fit():
    arch = small_ifmap_arch()
    for objective in Objective:
        choice = search(GEMM_6x5x7, arch, schedule_counts, objective=objective)
        assert mapped_schedule(GEMM_6x5x7, arch, choice.mapping).fits_buffers


def test_search_raises_when_nothing_fits():
    tiny = arch_from_dict({"name": "t", "array": {"rows": 4, "cols": 4},
                           "buffers": {"ifmap": {"size": "1B", "width_bits": 8}, "filter": {"size": "1KiB"},
                                       "ofmap": {"size": "1KiB"}}})
    with pytest.raises(UnsupportedError, match="no mapping fits"):
        search(GEMM_6x5x7, tiny, schedule_counts)


def net_6x5x7():
    return Network(name="n", layers=(Gemm(name="g", m=6, n=5, k=7),))


def brute_force_cycles(problem: GemmProblem, arch) -> dict[str, int]:
    """Cycles of every mapping of docs/mapper.md's space that fits the buffers, by its description,
    enumerated here from the documented rules (not by the mapper's ``mapping_space``): each
    dataflow of the array; stream tiles ``T``, ``ceil(T/n)`` for n = 2..8 and the powers of two
    below ``T``; all six loop orders; double buffering of both inputs on or off together and of
    the output on or off, where the arch has it, plus the arch's own setting. Counted by the fold
    kernel (``schedule_counts``), which is tested against its reference elsewhere."""
    hw = hardware_double_buffering(arch)
    inputs = {hw[0] and hw[1], False}
    buffering = {(i, i, o) for i in inputs for o in {hw[2], False}} | {hw}
    out = {}
    for dataflow in {arch.array.dataflow, *arch.array.dataflows}:
        _, _, t = spatial_mapping(dataflow, problem.m, problem.n, problem.k)
        tiles = {t} | {math.ceil(t / n) for n in range(2, 9)} | {2**e for e in range(8) if 2**e < t}
        for tile, order, db in itertools.product(tiles, LoopOrder, buffering):
            mapping = Mapping(dataflow, order, None if tile == t else tile, db)
            schedule = mapped_schedule(problem, arch, mapping)
            if schedule.fits_buffers:
                out[mapping.describe()] = schedule_counts(schedule, arch)["cycles"]
    return out


@pytest.mark.parametrize("m, n, k, dataflows", [(6, 5, 7, []), (9, 3, 12, ["os", "is"]), (16, 8, 5, ["os"]),
                                                (3, 17, 10, ["is"])])
def test_simulate_search_finds_the_brute_force_optimum(m, n, k, dataflows):
    arch = small_ifmap_arch(dataflows=dataflows)
    net = Network(name="n", layers=(Gemm(name="g", m=m, n=n, k=k),))
    row = ax.simulate(arch, net, mapping="search").layers.iloc[0]
    every = brute_force_cycles(GemmProblem(m=m, n=n, k=k, repeats=1, ifmap_words=m * k), arch)
    assert len(every) > 10
    assert row["cycles"] == min(every.values())
    assert every[row["mapping"]] == row["cycles"]  # the reported mapping is one of the optima
    assert "mapping" not in ax.simulate(arch, net, mapping="fixed").layers
    assert ax.simulate(arch, net).layers.iloc[0]["mapping"] == row["mapping"]  # native timing searches by default


def test_simulate_search_cycle_fidelity_follows_the_schedule():
    arch = small_ifmap_arch()   # no DRAM bandwidth: no stalls, so cycle and fold agree
    fold = ax.simulate(arch, net_6x5x7(), mapping="search")
    cyc = ax.simulate(arch, net_6x5x7(), "cycle", mapping="search")
    assert cyc.layers.iloc[0]["cycles"] == fold.layers.iloc[0]["cycles"]


@pytest.mark.parametrize("kwargs, match", [
    ({"mapping": "best"}, "mapping: expected one of fixed, search, got 'best'"),
    ({"mapping": "search", "objective": "power"}, "objective: expected one of cycles, energy, edp, got 'power'"),
])
def test_simulate_rejects_unknown_mapping_options(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ax.simulate(small_ifmap_arch(), net_6x5x7(), **kwargs)


def test_search_is_refused_where_the_mapping_is_fixed():
    scalesim = ax.load_arch(ROOT / "arch_configs" / "scalesim_32x32_ws.yaml")
    with pytest.raises(UnsupportedError, match="timing_model: native"):
        ax.simulate(scalesim, net_6x5x7(), mapping="search")
    with pytest.raises(UnsupportedError, match="pe fidelity"):
        ax.simulate(small_ifmap_arch(), net_6x5x7(), "pe", mapping="search")


def test_search_is_deterministic():
    arch = ax.load_arch(ROOT / "arch_configs" / "edge_32x32.yaml")
    problem = GemmProblem(m=3136, n=64, k=576, repeats=1, ifmap_words=56 * 56 * 64)
    first = search.__wrapped__(problem, arch, schedule_counts, objective=Objective.EDP)
    second = search.__wrapped__(problem, arch, schedule_counts, objective=Objective.EDP)
    assert first == second
    assert np.isfinite(first.energy_pj)


def test_cli_run_with_mapping_search(tmp_path):
    from accelsim import cli
    out = tmp_path / "layers.csv"
    code = cli.main(["run", str(ROOT / "arch_configs" / "edge_32x32.yaml"), str(ROOT / "workloads" / "tiny_cnn.yaml"),
                     "--mapping", "search", "--objective", "energy", "-o", str(out)])
    assert code == 0
    import pandas as pd
    layers = pd.read_csv(out)
    assert layers.loc[layers["op"] == "conv2d", "mapping"].str.match(r"^(os|ws|is) [rct]{3} t=").all()
