"""Sweeps end to end with a small fake evaluator: resume after kills, corruption, executors agree.

The fake evaluator is a test double for the simulator (not an oracle of it): a deterministic
function of the arch and network, so every run of a sweep must produce the same table.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from accelsim.dse.executors import DaskExecutor, LocalExecutor
from accelsim.dse.sweep import read_results, run_sweep
from accelsim.errors import UnsupportedError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

BASE = {
    "name": "base", "clock": "1GHz",
    "array": {"rows": 4, "cols": 4},
    "buffers": {"ifmap": {"size": "8KiB"}, "filter": {"size": "8KiB"}, "ofmap": {"size": "8KiB"}},
    "dram": {"bandwidth": "16B/cycle"},
}


def fake_evaluate(arch, net):
    """cycles = ceil(MACs / PEs) + rows + cols per layer; energy grows with MACs and SRAM."""
    layers = pd.DataFrame([{
        "layer": layer.name, "macs": layer.macs,
        "cycles": -(-layer.macs // arch.pes) + arch.array.rows + arch.array.cols,
        "energy_pj": 0.5 * layer.macs + 1e-3 * arch.buffers.total_bytes,
    } for layer in net.layers])
    return {"cycles": int(layers["cycles"].sum()), "macs": int(layers["macs"].sum()),
            "energy_pj": float(layers["energy_pj"].sum())}, layers


class SlowFake:
    """The fake evaluator taking ``seconds`` per point, so a sweep can be killed half way."""

    def __init__(self, seconds=0.004):
        self.seconds = seconds

    def __call__(self, arch, net):
        time.sleep(self.seconds)
        return fake_evaluate(arch, net)


def picky_evaluate(arch, net):
    """Refuses arrays with more rows than columns (as a model refuses an unsupported design)."""
    if arch.array.rows > arch.array.cols:
        raise UnsupportedError(f"{arch.array.rows}x{arch.array.cols}: rows > cols not supported")
    return fake_evaluate(arch, net)


def write_spec(tmp_path, rows=(1, 2, 4, 8), cols=(1, 2, 4, 8), sizes=("4KiB", "8KiB"), **extra):
    (tmp_path / "arch.yaml").write_text(yaml.safe_dump(BASE))
    spec = {"name": "t", "arch": "arch.yaml", "workloads": [str(ROOT / "workloads" / "tiny_cnn.yaml")],
            "axes": {"array.rows": list(rows), "array.cols": list(cols), "buffers.ifmap.size": list(sizes)},
            **extra}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_table_has_one_row_per_point_with_hand_checked_values(tmp_path):
    spec = write_spec(tmp_path, rows=(2, 4), cols=(4,), sizes=("4KiB",))
    out = run_sweep(spec, tmp_path / "out", executor="serial", evaluator=fake_evaluate)
    table = out.points
    assert out.planned == out.computed == 2 and out.reused == 0
    assert table["design"].tolist() == [0, 1] and table["array.rows"].tolist() == [2, 4]
    assert table["buffers.ifmap.size"].tolist() == [4096, 4096]  # "4KiB" in bytes
    assert table["sram_bytes"].tolist() == [4096 + 2 * 8192] * 2 and table["pes"].tolist() == [8, 16]
    # a GEMM layer of the tiny CNN: fc is 1x10x4096 = 40960 MACs; on 8 PEs: 5120 + 2 + 4 cycles
    assert table.loc[0, "cycles"] == sum(-(-m // 8) + 6 for m in (442368, 0, 0, 294912, 18432, 131072, 40960, 0))
    assert table.loc[0, "latency_s"] == pytest.approx(table.loc[0, "cycles"] / 1e9)
    assert table.loc[0, "edp_pj_s"] == pytest.approx(table.loc[0, "energy_pj"] * table.loc[0, "latency_s"])
    assert table["dram_bytes_per_cycle"].tolist() == [16.0, 16.0]
    # 16 PEs: fewer cycles, same energy (SRAM equal) -> only design 1 is on the front
    assert table["pareto"].tolist() == [False, True]


def test_rerun_computes_nothing_and_returns_the_same_table(tmp_path):
    spec = write_spec(tmp_path)
    first = run_sweep(spec, tmp_path / "out", executor="serial", evaluator=fake_evaluate)
    again = run_sweep(spec, tmp_path / "out", executor="serial", evaluator=fake_evaluate)
    assert first.computed == 32 and again.computed == 0 and again.reused == 32
    pd.testing.assert_frame_equal(first.points, again.points)
    points, layers, meta = read_results(tmp_path / "out")
    pd.testing.assert_frame_equal(points, first.points)
    assert layers is None and meta["axes"]["buffers.ifmap.size"] == "bytes"


def test_growing_the_sweep_computes_only_new_points(tmp_path):
    run_sweep(write_spec(tmp_path, rows=(1, 2)), tmp_path / "out", executor="serial", evaluator=fake_evaluate)
    grown = run_sweep(write_spec(tmp_path, rows=(1, 2, 4)), tmp_path / "out", executor="serial",
                      evaluator=fake_evaluate)
    assert (grown.reused, grown.computed) == (16, 8)


def test_another_evaluator_does_not_reuse_results(tmp_path):
    spec = write_spec(tmp_path)
    run_sweep(spec, tmp_path / "out", executor="serial", evaluator=fake_evaluate)
    assert run_sweep(spec, tmp_path / "out", executor="serial", evaluator=SlowFake(0)).reused == 0


def test_per_layer_rows_survive_resume(tmp_path):
    spec = write_spec(tmp_path, rows=(2, 4), cols=(2,), sizes=("4KiB",))
    out = run_sweep(spec, tmp_path / "out", executor="serial", evaluator=fake_evaluate, per_layer=True)
    assert len(out.layers) == 2 * 8 and out.layers["layer_index"].tolist() == list(range(8)) * 2
    assert (out.layers.groupby("key")["cycles"].sum().sort_index()
            == out.points.set_index("key")["cycles"].sort_index()).all()
    again = run_sweep(spec, tmp_path / "out", executor="serial", evaluator=fake_evaluate, per_layer=True)
    assert again.computed == 0
    pd.testing.assert_frame_equal(out.layers, again.layers)


def test_failed_points_are_kept_with_their_error_and_not_retried(tmp_path):
    spec = write_spec(tmp_path, rows=(2, 4), cols=(2, 4), sizes=("4KiB",))
    out = run_sweep(spec, tmp_path / "out", executor="serial", evaluator=picky_evaluate)
    failed = out.points[out.points["error"] != ""]
    assert failed["array.rows"].tolist() == [4] and failed["array.cols"].tolist() == [2]
    assert "rows > cols" in failed["error"].iloc[0] and not failed["pareto"].any()
    assert run_sweep(spec, tmp_path / "out", executor="serial", evaluator=picky_evaluate).computed == 0


def test_corrupt_part_is_recomputed_to_the_same_table(tmp_path):
    spec = write_spec(tmp_path)
    straight = run_sweep(spec, tmp_path / "out", executor="serial", evaluator=fake_evaluate).points
    part = next((tmp_path / "out" / "parts").glob("points-*.parquet"))
    part.write_bytes(part.read_bytes()[:-20])
    again = run_sweep(spec, tmp_path / "out", executor="serial", evaluator=fake_evaluate)
    assert again.computed == 32
    pd.testing.assert_frame_equal(straight, again.points)


KILLED_RUN = """
import sys
sys.path.insert(0, {here!r})
from test_dse_sweep import SlowFake
from accelsim.dse.sweep import run_sweep
run_sweep({spec!r}, {out!r}, executor="serial", evaluator=SlowFake(), flush_seconds=0.02)
"""


def run_and_kill(spec, out, seed):
    """Start the sweep in a subprocess and SIGKILL it a little after it first commits a part."""
    parts = Path(out) / "parts"
    before = len(list(parts.glob("points-*"))) if parts.exists() else 0
    code = textwrap.dedent(KILLED_RUN).format(here=str(HERE), spec=str(spec), out=str(out))
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if parts.exists() and len(list(parts.glob("points-*"))) > before:
            break
        time.sleep(0.005)
    time.sleep(0.05 * (seed % 4))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.mark.parametrize("kills", [2, pytest.param(6, marks=pytest.mark.slow)])
def test_killed_and_resumed_sweep_equals_straight_run(tmp_path, kills):
    spec = write_spec(tmp_path, rows=(1, 2, 3, 4, 5, 6), cols=(1, 2, 4, 8, 16), sizes=("2KiB", "4KiB", "8KiB", "16KiB"))
    straight = run_sweep(spec, tmp_path / "straight", executor="serial", evaluator=SlowFake(0)).points
    for seed in range(kills):
        run_and_kill(spec, tmp_path / "killed", seed)
    resumed = run_sweep(spec, tmp_path / "killed", executor="serial", evaluator=SlowFake(0))
    assert resumed.planned == 120 and resumed.reused > 0  # the kills kept their committed work
    assert resumed.points["key"].is_unique and len(resumed.points) == 120
    pd.testing.assert_frame_equal(straight, resumed.points)


def test_local_processes_match_serial(tmp_path):
    spec = write_spec(tmp_path)
    serial = run_sweep(spec, tmp_path / "a", executor="serial", evaluator=fake_evaluate).points
    pool = LocalExecutor(2)
    try:
        local = run_sweep(spec, tmp_path / "b", executor=pool, evaluator=fake_evaluate).points
    finally:
        pool.close()
    pd.testing.assert_frame_equal(serial, local)


def test_a_pool_the_sweep_made_is_closed_when_it_returns(tmp_path):
    """``executor="local"``: the sweep's own pool stops its worker while it commits and writes the
    tables (on a background thread), and every worker has exited by the time it returns; the
    tables are the serial run's."""
    import multiprocessing

    spec = write_spec(tmp_path)
    serial = run_sweep(spec, tmp_path / "a", executor="serial", evaluator=fake_evaluate).points
    local = run_sweep(spec, tmp_path / "b", executor="local", workers=2, evaluator=fake_evaluate).points
    assert multiprocessing.active_children() == []
    pd.testing.assert_frame_equal(serial, local)


def test_outcome_says_where_the_time_went(tmp_path):
    """``SweepOutcome.phases``: wall seconds of planning, computing (``seconds``), assembling and
    writing, each >= 0 and together within the run's own wall time."""
    start = time.perf_counter()
    outcome = run_sweep(write_spec(tmp_path), tmp_path / "a", executor="serial", evaluator=fake_evaluate)
    wall = time.perf_counter() - start
    assert list(outcome.phases) == ["plan", "compute", "assemble", "write"]
    assert all(seconds >= 0 for seconds in outcome.phases.values())
    assert outcome.phases["compute"] == outcome.seconds and sum(outcome.phases.values()) <= wall


def slow_pid(value):
    """The value and the process that computed it, after 50 ms (long enough that the local
    executor's own process takes tasks while its worker is busy)."""
    time.sleep(0.05)
    return value, os.getpid()


def test_local_executor_computes_in_this_process_and_its_workers():
    """``LocalExecutor(2)``: one worker process and this one share the tasks, every result once;
    ``LocalExecutor(1)`` runs every task here."""
    pool = LocalExecutor(2)
    try:
        results = list(pool.map_unordered(slow_pid, range(12)))
    finally:
        pool.close()
    assert sorted(value for value, _ in results) == list(range(12))
    pids = {pid for _, pid in results}
    assert os.getpid() in pids and len(pids) == 2
    alone = LocalExecutor(1)
    assert list(alone.map_unordered(slow_pid, range(3))) == [(i, os.getpid()) for i in range(3)]
    alone.close()


@pytest.mark.parametrize("size", [1, 3, 4, 7, 100])
def test_chunks_hold_whole_designs_in_plan_order(tmp_path, size):
    """Two workloads: each design has two tasks, which go to one chunk (they share the design's
    memos in one worker); a chunk holds as many designs as ``size`` tasks hold, at least one;
    every task once, in order."""
    from accelsim.dse.sweep import _chunks, plan
    from accelsim.dse.spec import load_sweep_spec

    spec = load_sweep_spec(write_spec(tmp_path, rows=(1, 2, 4), cols=(2,), sizes=("4KiB",),
                                      workloads=[str(ROOT / "workloads" / "tiny_cnn.yaml"),
                                                 str(ROOT / "workloads" / "resnet18.yaml")]))
    _, nets, tasks, _ = plan(spec, fake_evaluate)
    chunks = list(_chunks(tasks, nets, fake_evaluate, False, size))
    keys = [[key for key, _, _ in chunk[2]] for chunk in chunks]
    assert sum(keys, []) == [t.key for t in tasks]
    design_of = {t.key: t.point.index for t in tasks}
    for chunk in keys:
        assert [t.key for t in tasks if design_of[t.key] in {design_of[k] for k in chunk}] == chunk
        assert len(chunk) == 2 * min(max(1, size // 2), 3) or chunk == keys[-1]
    assert len(chunks) == math.ceil(3 / max(1, size // 2))


def uneven_evaluate(arch, net):
    """The fake evaluator with one more column (summary and layers) for arrays of more than 2 rows."""
    summary, layers = fake_evaluate(arch, net)
    if arch.array.rows > 2:
        return {**summary, "big_only": 1.0}, layers.assign(big_only=1.0)
    return summary, layers


class LastFirstExecutor:
    """Runs every chunk in this process and hands the results back last chunk first (as workers
    may finish them)."""

    workers = 2

    def map_unordered(self, fn, tasks):
        return reversed([fn(task) for task in tasks])

    def close(self):
        pass


def test_tables_do_not_depend_on_the_order_chunks_finish_in(tmp_path):
    """Points whose designs give different columns: the tables (their columns' order too) are the
    serial run's when the chunks come back in reverse."""
    spec = write_spec(tmp_path, rows=(1, 2, 4, 8), cols=(2,), sizes=("4KiB",))
    serial = run_sweep(spec, tmp_path / "a", executor="serial", evaluator=uneven_evaluate, per_layer=True)
    reverse = run_sweep(spec, tmp_path / "b", executor=LastFirstExecutor(), evaluator=uneven_evaluate, per_layer=True)
    pd.testing.assert_frame_equal(serial.points, reverse.points)
    pd.testing.assert_frame_equal(serial.layers, reverse.layers)
    assert (tmp_path / "a" / "layers.csv").read_bytes() == (tmp_path / "b" / "layers.csv").read_bytes()


def test_dask_local_cluster_matches_serial(tmp_path):
    pytest.importorskip("distributed")
    spec = write_spec(tmp_path)
    serial = run_sweep(spec, tmp_path / "a", executor="serial", evaluator=fake_evaluate).points
    cluster = DaskExecutor(workers=2, processes=False)
    try:
        dask = run_sweep(spec, tmp_path / "b", executor=cluster, evaluator=fake_evaluate).points
    finally:
        cluster.close()
    pd.testing.assert_frame_equal(serial, dask)


def test_random_and_lhs_sweeps_draw_the_requested_points(tmp_path):
    for kind in ("random", "lhs"):
        spec = write_spec(tmp_path, sampler={"kind": kind, "samples": 10, "seed": 3})
        out = run_sweep(spec, tmp_path / kind, executor="serial", evaluator=fake_evaluate)
        assert 0 < out.planned <= 10 and out.points["key"].is_unique
        assert out.planned == 10 or kind == "lhs"
    assert math.isfinite(out.seconds)


def test_model_fingerprint_follows_code_and_tables(tmp_path):
    from accelsim.version import model_fingerprint
    (tmp_path / "cost").mkdir()
    (tmp_path / "cost" / "design.yaml").write_text("control: 0.10\n")
    (tmp_path / "model.py").write_text("X = 1\n")
    first = model_fingerprint(tmp_path)
    assert model_fingerprint(tmp_path) == first  # deterministic
    (tmp_path / "notes.txt").write_text("not the model\n")
    assert model_fingerprint(tmp_path) == first
    (tmp_path / "cost" / "design.yaml").write_text("control: 0.12\n")
    changed = model_fingerprint(tmp_path)
    assert changed != first
    (tmp_path / "cost" / "design.yaml").rename(tmp_path / "design.yaml")  # same content, other place
    assert model_fingerprint(tmp_path) not in (first, changed)


def test_results_of_another_model_are_not_reused(tmp_path, monkeypatch):
    sweep_module = sys.modules["accelsim.dse.sweep"]  # the package exports a function of that name
    spec = write_spec(tmp_path, rows=(2, 4), cols=(2,), sizes=("4KiB",))
    out = run_sweep(spec, tmp_path / "out", executor="serial", evaluator=fake_evaluate)
    assert out.computed == 2
    assert run_sweep(spec, tmp_path / "out", executor="serial", evaluator=fake_evaluate).computed == 0
    monkeypatch.setattr(sweep_module, "model_fingerprint", lambda: "another model")
    again = run_sweep(spec, tmp_path / "out", executor="serial", evaluator=fake_evaluate)
    assert again.computed == 2 and len(again.points) == 2
