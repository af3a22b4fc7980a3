"""In ``pe`` fidelity sparse compute is functional: the array's result on masked operands is
the dense product of the masked operands, computed independently by numpy."""

import numpy as np
import pytest

from accelsim.engine.functional import run_gemm

# run_gemm loads the cycle and pe engines on use; the cycle engine (issue #4) is still being written.
pytest.importorskip("accelsim.engine.cycle", reason="accelsim.engine.cycle (issue #4) not there yet")
from accelsim.spec.arch import ArchSpec, ArraySpec, BuffersSpec, BufferSpec, Dataflow, SparsityMode, SparsitySpec


@pytest.mark.parametrize("dataflow", list(Dataflow))
@pytest.mark.parametrize("mode", [SparsityMode.GATE, SparsityMode.SKIP])
def test_pe_result_equals_masked_dense_product(dataflow, mode, rng):
    arch = ArchSpec(name="t", array=ArraySpec(rows=3, cols=4, dataflow=dataflow),
                    buffers=BuffersSpec(unified=BufferSpec(size_bytes=1 << 16)),
                    sparsity=SparsitySpec(mode=mode, structured=("2:4",), activations=True))
    m, k, n = 7, 8, 5
    a = rng.integers(-128, 128, (m, k)) * (rng.random((m, k)) < 0.4)
    b = rng.integers(-128, 128, (k, n))
    b[rng.random((k, n)) < 0.6] = 0
    out, _ = run_gemm(arch, a, b, fidelity="pe")
    assert np.array_equal(out, a.astype(np.int64) @ b.astype(np.int64))


def test_pe_result_on_2of4_weights(rng):
    """2:4 weights: keep the 2 largest of every 4 along K, the array still returns A @ B."""
    arch = ArchSpec(name="t", array=ArraySpec(rows=4, cols=4, dataflow=Dataflow.WS),
                    buffers=BuffersSpec(unified=BufferSpec(size_bytes=1 << 16)),
                    sparsity=SparsitySpec(mode=SparsityMode.SKIP, structured=("2:4",)))
    a = rng.integers(-8, 8, (6, 12))
    b = rng.integers(-8, 8, (12, 3))
    groups = np.abs(b).reshape(3, 4, 3)
    drop = np.argsort(groups, axis=1)[:, :2, :]          # the 2 smallest of each group of 4
    np.put_along_axis(groups, drop, 0, axis=1)
    b = np.where(groups.reshape(12, 3) > 0, b, 0)
    out, _ = run_gemm(arch, a, b, fidelity="pe")
    assert np.array_equal(out, a @ b)
