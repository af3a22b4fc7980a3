"""Bad and extreme inputs named in issue 16: each ends in a clear accelsim error or a correct result."""

from __future__ import annotations

import dataclasses
import os
import threading
import time

import numpy as np
import pytest

from accelsim import load_arch, load_workload, simulate
from accelsim.compress.scheme import load_scheme
from accelsim.dse.spec import load_sweep_spec
from accelsim.engine.functional import run_gemm
from accelsim.engine.work import WorkLimitError
from accelsim.errors import AccelsimError, ConfigError, WorkloadError
from accelsim.spec.limits import ARRAY_LIMIT, INT_LIMIT, TENSOR_LIMIT
from accelsim.spec.load import arch_from_dict, network_from_dict

EDGE = "arch_configs/edge_32x32.yaml"
ARCH = {"name": "a", "array": {"rows": 8, "cols": 8}, "buffers": {"unified": {"size": "64KiB"}}}
BOMB = "".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9 if i else ["1"] * 9) + "]\n" for i in range(9))


def gemm(**dims):
    return network_from_dict({"name": "g", "layers": [{"op": "gemm", "name": "g", **dims}]})


@pytest.mark.parametrize("loader", [load_arch, load_workload, load_scheme, load_sweep_spec])
@pytest.mark.parametrize("text, message", [
    ("x: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested more than"),
    ("x: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n", "nested more than"),
    (BOMB, "aliases"),
    ("x: " + "9" * 5000 + "\n", "malformed YAML"),
])
def test_yaml_refused_the_same_way_by_every_loader(tmp_path, loader, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    start = time.perf_counter()
    with pytest.raises(ConfigError, match=message):
        loader(path)
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("loader, name", [(load_arch, "a.yaml"), (load_arch, "a.cfg"), (load_workload, "w.yaml"),
                                          (load_workload, "w.csv"), (load_scheme, "s.yaml")])
def test_fifo_refused_without_blocking(tmp_path, loader, name):
    fifo = tmp_path / name
    os.mkfifo(fifo)
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(pytest.raises(ConfigError, loader, fifo)), daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # unblock the reader before failing
        with open(fifo, "w"):
            pass
        pytest.fail("reading a FIFO blocked")
    assert "not a regular file" in str(outcome[0].value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("name: a\n")
    path.chmod(0)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_arch(path)


@pytest.mark.parametrize("dram, message", [
    ({"latency": "1e400"}, "not a finite number"),
    ({"latency": float("nan")}, "not a finite number"),
    ({"bandwidth": -1e20}, "bytes per cycle"),
    ({"bandwidth": "0B/s"}, "bytes per cycle"),
    ({"bandwidth": "1e-9B/cycle"}, "bytes per cycle"),
    ({"latency": 2**40}, r"2\^32"),
])
def test_dram_quantities_out_of_range(dram, message):
    with pytest.raises(ConfigError, match=message):
        arch_from_dict({**ARCH, "dram": dram})


@pytest.mark.parametrize("array, message", [({"rows": 2**63, "cols": 8}, "array.rows"),
                                            ({"rows": 8, "cols": ARRAY_LIMIT + 1}, "array.cols"),
                                            ({"rows": 2**70, "cols": 8}, "2\\^20")])
def test_array_size_limit(array, message):
    with pytest.raises(ConfigError, match=message):
        arch_from_dict({**ARCH, "array": array})


def test_infinite_buffer_size():
    with pytest.raises(ConfigError, match="buffers.unified.size.*finite"):
        arch_from_dict({**ARCH, "buffers": {"unified": {"size": float("-inf")}}})


@pytest.mark.parametrize("layer, message", [
    ({"op": "conv2d", "in_channels": 3, "out_channels": 2**63, "in_h": 8, "in_w": 8, "kernel": 1}, "out_channels"),
    ({"op": "conv2d", "in_channels": 3, "out_channels": 8, "in_h": 1e30, "in_w": 8, "kernel": 1}, "in_h"),
    ({"op": "gemm", "m": 1e18, "n": 4, "k": 4}, "layers\\[0\\].m"),
    ({"op": "gemm", "m": 2**40, "n": 2**40, "k": 2**40}, "MACs"),
    ({"op": "gelu", "shape": [8, -2, 14]}, "every dimension >= 1"),
    ({"op": "gelu", "shape": [8, 0, 14]}, "every dimension >= 1"),
    ({"op": "gemm", "m": 4, "n": 4, "k": 4, "compression": {"sparsity": {"pattern": "unstructured",
                                                                            "density": float("nan")}}}, "finite"),
    ({"op": "pool", "channels": 1, "in_h": 4, "in_w": 4, "kernel": 2, "stride": 2**70}, "2\\^48"),
])
def test_layer_values_out_of_range(layer, message):
    with pytest.raises(WorkloadError, match=message):
        network_from_dict({"name": "n", "layers": [{"name": "x", **layer}]})


def test_limits_are_consistent():
    assert INT_LIMIT**1 < TENSOR_LIMIT < 2**62 and ARRAY_LIMIT**2 <= 2**40


@pytest.mark.parametrize("batch", [0, -3, 2**60])
def test_batch_override_validated(batch):
    with pytest.raises(WorkloadError, match="batch"):
        load_workload("workloads/tiny_cnn.yaml", batch=batch)


def test_cfg_has_no_interpolation(tmp_path):
    source = open("tests/data/scalesim/cases/ws_4x4_conv.cfg").read()
    lines = [("run_name = %(foo)s" if line.strip().lower().startswith("run_name") else line)
             for line in source.splitlines()]
    path = tmp_path / "a.cfg"
    path.write_text("\n".join(lines) + "\n")
    assert load_arch(path).name == "%(foo)s"


def test_cfg_huge_integer(tmp_path):
    source = open("tests/data/scalesim/cases/ws_4x4_conv.cfg").read()
    lines = [("ArrayHeight : 99999999999999999999999" if line.strip().startswith("ArrayHeight") else line)
             for line in source.splitlines()]
    path = tmp_path / "a.cfg"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match="array.rows"):
        load_arch(path)


def test_long_gemm_counts_grow_linearly_in_m():
    """Edge 32x32 (ws), n = k = 32: one fold streams all of m, so the ifmap is read once (m*k
    bytes at 8 bits), the filter once (k*n), the outputs written once (m*n); cycles and traffic
    are affine in m with the same slope from m = 8e3 to 8e12 (the old int64 products collapsed)."""
    arch = load_arch(EDGE)
    ms = [8 * 10**3, 8 * 10**6, 8 * 10**9, 8 * 10**12]
    rows = [simulate(arch, gemm(m=m, n=32, k=32), mapping="fixed").layers.iloc[0] for m in ms]
    for m, row in zip(ms, rows):
        assert row.ifmap_dram_reads == m * 32 and row.filter_dram_reads == 32 * 32
        assert row.ofmap_dram_writes == m * 32
        assert row.dram_read_bytes == m * 32 + 32 * 32
    for column in ("cycles", "ifmap_sram_reads", "ofmap_sram_writes", "dram_write_bytes"):
        values = [int(row[column]) for row in rows]
        slopes = {(b - a) // (mb - ma) for (a, ma), (b, mb) in zip(zip(values, ms), zip(values[1:], ms[1:]))}
        exact = {(b - a) % (mb - ma) for (a, ma), (b, mb) in zip(zip(values, ms), zip(values[1:], ms[1:]))}
        assert len(slopes) == 1 and exact == {0}, (column, values)
    utilization = [row.utilization for row in rows[1:]]
    assert max(utilization) - min(utilization) < 1e-3


def test_scalesim_row_with_huge_height_is_an_error_or_exact(tmp_path):
    """The SCALE-Sim row of issue 16 (IFMAP height 1e9): SCALE-Sim's CALC model keeps a table per
    ifmap address, so it is refused with the memory it would need; native timing answers."""
    path = tmp_path / "t.csv"
    path.write_text("Layer,IFMAP Height,IFMAP Width,Filter Height,Filter Width,Channels,Num Filter,Strides,\n"
                    "Conv2_2b,1000000000,56,3,3,64,64,1,\n")
    net = load_workload(path)
    with pytest.raises(WorkLimitError, match="GiB"):
        simulate(load_arch("arch_configs/scalesim_32x32_ws.yaml"), net)
    row = simulate(load_arch(EDGE), net).layers.iloc[0]
    assert row.ifmap_dram_reads >= 10**9 * 56 * 64  # every ifmap word at least once
    assert min(row.ifmap_dram_reads, row.cycles, row.dram_read_bytes) > 0


def test_cycle_fidelity_refuses_big_work_with_estimate():
    arch = load_arch(EDGE)
    with pytest.raises(WorkLimitError, match=r"cycle fidelity would step about .* cycles \(roughly .*max_steps.*'fold'"):
        simulate(arch, gemm(m=4096, n=4096, k=4096), "cycle")
    slow = dataclasses.replace(arch, dram=dataclasses.replace(arch.dram, latency_cycles=10**9))
    with pytest.raises(WorkLimitError, match="max_steps"):
        simulate(slow, gemm(m=64, n=64, k=64), "cycle")
    with pytest.raises(WorkLimitError, match="PE-cycles"):
        simulate(arch, gemm(m=4096, n=4096, k=4096), "pe")
    small = gemm(m=64, n=64, k=64)
    with pytest.raises(WorkLimitError, match="max_steps=100"):
        simulate(arch, small, "cycle", max_steps=100)
    assert simulate(arch, small, "cycle", max_steps=10**7).layers.cycles.iloc[0] > 0
    a = np.ones((64, 64), np.int64)
    with pytest.raises(WorkLimitError, match="max_steps"):
        run_gemm(arch, a, a, "pe", max_steps=10)
    assert (run_gemm(arch, a, a, "pe")[0] == 64).all()


def test_every_error_here_is_an_accelsim_error():
    assert issubclass(WorkLimitError, AccelsimError) and issubclass(WorkloadError, AccelsimError)


def _masked(path) -> object:
    from accelsim.spec.workload import Compression, Gemm, Sparsity

    return Gemm(name="g", m=4, n=3, k=8, compression=Compression(sparsity=Sparsity(pattern="unstructured", mask=path)))


def test_masks_only_from_numpy_files_and_messages_quote_nothing(tmp_path):
    from accelsim.compress.masks import load_mask

    secret = "root:x:0:0:very-secret-line"
    (tmp_path / "passwd").write_text(secret)
    (tmp_path / "passwd.npy").write_text(secret)
    os.mkfifo(tmp_path / "fifo.npy")
    header = tmp_path / "huge.npy"
    np.save(header, np.ones((3, 8), bool))
    header.write_bytes(header.read_bytes().replace(b"(3, 8)", b"(1000000, 1000000)"))
    np.save(tmp_path / "objects.npy", np.array([None] * 24, dtype=object).reshape(8, 3), allow_pickle=True)
    for name, reason in [("passwd", "expected a .npy file"), ("passwd.npy", "not a numpy array file"),
                         ("fifo.npy", "not a regular file"), ("huge.npy", "mask of shape \\(1000000, 1000000\\)"),
                         ("objects.npy", "boolean or numeric")]:
        with pytest.raises(WorkloadError, match=reason) as caught:
            load_mask(_masked(name), tmp_path)
        assert "very-secret-line" not in str(caught.value) and "x:0:0" not in str(caught.value)
    kept = np.arange(24).reshape(8, 3) % 3 == 0
    np.save(tmp_path / "ok.npy", np.asfortranarray(kept))
    np.savez(tmp_path / "ok.npz", kept)
    assert (load_mask(_masked("ok.npy"), tmp_path) == kept).all()
    assert (load_mask(_masked("ok.npz"), tmp_path) == kept).all()
